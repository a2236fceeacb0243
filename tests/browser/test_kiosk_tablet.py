"""The entrance kiosk in Chromium: set up once with a door API token, then a delegate shows their badge (to a
scanner plugged in, or to the camera) and sees their own welcome, in their language, and nothing of anyone else."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from browser.conftest import CHROMIUM, CHROMIUM_ARGS
from browser.test_scanner import _PART_BOXES, _badge_video
from pdf_tools import pdf_text
from playwright.sync_api import expect

from attendance.api.tokens import create_api_token
from attendance.auth import Actor
from attendance.checkin.rule import check_in
from attendance.extensions import db

SOMEONE_ELSE = Actor("user:0", "door@example.org", False)


@pytest.fixture
def entrance(make_session, make_registration, app_ctx):
    """A session running today; Amélie registered in French; someone else already in."""
    meeting = make_session(first_day=datetime.now(ZoneInfo("Europe/Brussels")).date())
    amelie = make_registration(meeting, full_name="Amélie Dubois", organisation="Bureau régional Europe", locale="fr")
    other = make_registration(meeting, full_name="Kwame Asante", organisation="RILO West Africa")
    check_in(actor=SOMEONE_ELSE, token=other.badge_token, door="Main entrance")
    token = create_api_token("Entrance kiosk", session_id=meeting.id)[1]
    db.session.commit()  # what the app's other threads read is committed
    return meeting, amelie, token


def _set_up_kiosk(page, live_server, meeting, token: str) -> None:
    page.goto(f"{live_server}/sessions/{meeting.slug}/kiosk")
    page.get_by_label("API token for this session").fill("att_wrong")
    page.get_by_role("button", name="Use this token").click()
    expect(page.locator("#kiosk-setup-status")).to_have_text("Unknown API token.")
    page.get_by_label("API token for this session").fill(token)
    page.get_by_role("button", name="Use this token").click()
    expect(page.get_by_role("button", name="Start the kiosk")).to_be_visible()  # the server said yes
    page.reload()  # the token stays in this browser: after a reload, staff only start the kiosk again
    page.get_by_role("button", name="Start the kiosk").click()


def _expect_only_amelies_welcome(page, amelie) -> None:
    expect(page.locator("#kiosk-welcome")).to_have_text("Bienvenue, \u2068Amélie Dubois\u2069")
    assert page.locator("#kiosk-answer").get_attribute("lang") == "fr"
    expect(page.locator("#kiosk-message")).to_contain_text("Votre arrivée est enregistrée")
    shown = page.locator("body").inner_text()
    for private in ("Kwame", "Asante", "RILO", "Bureau régional", "Main entrance", amelie.badge_token):
        assert private not in shown
    assert not any(ch.isdigit() for ch in shown.replace(page.locator(".kiosk-title").inner_text(), ""))  # no counts
    badge = page.request.get(page.get_by_role("link", name="Imprimer mon badge").evaluate("link => link.href"))
    assert badge.headers["content-type"] == "application/pdf"
    assert "Amélie Dubois" in pdf_text(badge.body())


def test_a_badge_scanner_at_the_kiosk_welcomes_its_holder_only(live_server, new_page, entrance):
    meeting, amelie, token = entrance
    page = new_page(viewport={"width": 1024, "height": 768}, has_touch=True)
    _set_up_kiosk(page, live_server, meeting, token)
    page.clock.install()
    page.keyboard.type(amelie.badge_token)  # a USB scanner types into the hidden field that keeps the focus
    page.keyboard.press("Enter")
    _expect_only_amelies_welcome(page, amelie)
    page.clock.run_for(16_000)  # the next person in the queue steps up: Amélie's name is gone from the page
    expect(page.locator("#kiosk-answer")).to_be_hidden()
    assert "Amélie" not in page.content()
    expect(page.locator("#kiosk-prompt")).to_be_visible()


def test_the_kiosk_camera_reads_a_badge(live_server, playwright, entrance, tmp_path):
    meeting, amelie, token = entrance
    video = str(tmp_path / "badge.y4m")
    _badge_video(video, amelie.badge_token)
    browser = playwright.chromium.launch(
        executable_path=CHROMIUM,
        args=CHROMIUM_ARGS
        + [
            "--use-fake-device-for-media-stream",
            "--use-fake-ui-for-media-stream",
            f"--use-file-for-fake-video-capture={video}",
        ],
    )
    try:
        page = browser.new_context(permissions=["camera"], viewport={"width": 1024, "height": 768}).new_page()
        _set_up_kiosk(page, live_server, meeting, token)
        _expect_only_amelies_welcome(page, amelie)
    finally:
        browser.close()


def test_a_latin_name_keeps_its_full_stop_in_an_arabic_welcome(live_server, new_page, entrance, make_registration):
    """The welcome reads right to left in Arabic; the name in it stays whole: "John Smith Jr." does not lose its
    full stop to the far left of the line."""
    meeting, _, token = entrance
    john = make_registration(meeting, full_name="John Smith Jr.", organisation="ROCB Europe", locale="ar")
    db.session.commit()
    page = new_page(viewport={"width": 1024, "height": 768})
    _set_up_kiosk(page, live_server, meeting, token)
    page.keyboard.type(john.badge_token)
    page.keyboard.press("Enter")
    expect(page.locator("#kiosk-welcome")).to_contain_text("John Smith Jr.")
    john_box, jr, stop = page.evaluate(_PART_BOXES, ["#kiosk-welcome", ["John", "Jr", "."]])
    assert john_box["left"] < jr["left"] <= stop["left"], page.locator("#kiosk-welcome").inner_text()

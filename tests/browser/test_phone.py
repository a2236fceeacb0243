"""Phones: at 360 px wide, the registration form, the delegate's page, the door scanner and the organiser's pages
fit the screen (no sideways scrolling) and their main buttons are on screen and big enough to tap (40 px tall at
least)."""

import re
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from browser.test_accessibility import log_in_as_door
from helpers import PASSWORD

from attendance.auth import Actor, ensure_staff
from attendance.certificates.service import issue
from attendance.checkin.rule import check_in
from attendance.extensions import db
from attendance.models import Mode, StaffRole

WIDTH = 360
MIN_TAP_HEIGHT = 40
# A long name and organisation with long words: what makes narrow layouts overflow.
LONG_NAME = "Zoë Nørgaard-Łukasiewicz-Wolańska-Christiansen"
LONG_ORGANISATION = "Regional Intelligence Liaison Office for Western Europe (RILO-WE) / Bundeszollverwaltung"


@pytest.fixture
def phone(new_page):
    return new_page(viewport={"width": WIDTH, "height": 740}, is_mobile=True, has_touch=True, device_scale_factor=2)


def assert_fits(page, where: str) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= WIDTH, f"{where} is {width} px wide: it scrolls sideways on a {WIDTH} px phone"


def assert_tappable(page, locator, where: str) -> None:
    locator.scroll_into_view_if_needed()
    assert locator.is_visible(), f"{where}: not visible"
    box = locator.bounding_box()
    assert box is not None, f"{where}: not laid out"
    assert box["height"] >= MIN_TAP_HEIGHT, f"{where}: {box['height']:.0f} px tall"
    assert box["x"] >= 0 and box["x"] + box["width"] <= WIDTH, f"{where}: off screen ({box})"


def test_registration_form_fits_a_phone(live_server, phone, make_session):
    meeting = make_session(title="20th Session of the Global Meeting of the Regional Entities")
    phone.goto(f"{live_server}/sessions/{meeting.slug}/register")
    assert_fits(phone, "the registration form")
    assert_tappable(phone, phone.get_by_role("button", name="Register"), "Register")

    phone.get_by_role("button", name="Register").click()  # errors make the form longer, and wider if anything
    phone.get_by_role("alert").wait_for()
    assert_fits(phone, "the registration form with errors")
    assert_tappable(phone, phone.get_by_role("button", name="Register"), "Register after errors")


@pytest.mark.parametrize("mode", [Mode.IN_PERSON, Mode.ONLINE])
def test_delegate_page_fits_a_phone(live_server, phone, app, make_session, make_registration, mode):
    # Its second day is today, and its hours are over: the page shows the certificate (ready once the last day has
    # ended) and, as the day is still today, the join link.
    meeting = make_session(first_day=datetime.now(ZoneInfo("Europe/Brussels")).date() - timedelta(days=1))
    meeting.days[1].starts_at, meeting.days[1].ends_at = time(0, 0), time(0, 1)
    db.session.commit()
    registration = make_registration(meeting, full_name=LONG_NAME, organisation=LONG_ORGANISATION, mode=mode)
    with app.test_request_context():
        for day in meeting.days:
            check_in(
                actor=Actor("user:0", "t", True),
                registration_id=registration.id,
                session_slug=meeting.slug,
                day=day.date,
            )
        issue(registration)
        db.session.commit()  # what the app's other threads read is committed
    phone.goto(f"{live_server}/me/{registration.access_key}")
    assert_fits(phone, "the delegate's page")
    for name in ("Download your certificate (PDF)", "Download your badge (PDF, A6)", "Join the meeting online"):
        assert_tappable(phone, phone.get_by_role("link", name=name), name)
    qr = phone.locator("svg.qr").bounding_box()
    assert qr["x"] >= 0 and qr["x"] + qr["width"] <= WIDTH


def test_door_scanner_fits_a_phone(live_server, phone, app_ctx, make_session, make_registration):
    meeting = make_session(
        first_day=datetime.now(ZoneInfo("Europe/Brussels")).date(),
        title="20th Session of the Global Meeting of the Regional Entities",
    )
    make_registration(meeting, full_name=LONG_NAME, organisation=LONG_ORGANISATION)
    log_in_as_door(phone, live_server)
    phone.goto(f"{live_server}/sessions/{meeting.slug}/checkin")
    assert_fits(phone, "the scanner, asking for the door")
    assert_tappable(phone, phone.get_by_role("button", name="Save door"), "Save door")
    phone.get_by_label("Which door is this device at?").fill("Main entrance")
    phone.get_by_role("button", name="Save door").click()

    assert_fits(phone, "the scanner")
    for name in ("Check in", "Start camera", "Search"):
        assert_tappable(phone, phone.get_by_role("button", name=name, exact=True), name)
    # The badge field is wide enough to read a whole 26-character code.
    assert phone.locator("#badge-input").bounding_box()["width"] >= 200

    phone.get_by_label("Name: 3 letters at least").fill("Zoë")
    phone.get_by_role("button", name="Search").click()
    check_in_button = phone.get_by_role("button", name=re.compile("^Check in Zoë"))
    check_in_button.wait_for()
    assert_fits(phone, "the scanner's search results")
    assert_tappable(phone, check_in_button, "Check in (search result)")

    check_in_button.click()
    phone.locator("#result.result-ok").wait_for()
    assert_fits(phone, "the scanner's result")
    assert_tappable(phone, phone.get_by_role("button", name="Next (Enter)"), "Next")
    assert_tappable(phone, phone.get_by_role("button", name="Undo this check-in"), "Undo")
    assert phone.locator("#result-name").text_content() == LONG_NAME


def test_organiser_pages_fit_a_phone(live_server, phone, app, make_session, make_registration):
    """Wide tables scroll by themselves; the page keeps the phone's width."""
    meeting = make_session(first_day=datetime.now(ZoneInfo("Europe/Brussels")).date() - timedelta(days=1))
    for mode in (Mode.IN_PERSON, Mode.ONLINE):
        registration = make_registration(meeting, full_name=LONG_NAME, organisation=LONG_ORGANISATION, mode=mode)
        with app.test_request_context():
            check_in(
                actor=Actor("user:0", "t", True),
                registration_id=registration.id,
                session_slug=meeting.slug,
                day=meeting.days[0].date,
                door="Main entrance, north side",
            )
    user, _ = ensure_staff("organiser.phone@example.org", StaffRole.ORGANISER, PASSWORD)
    meeting.organisers.append(user)
    db.session.commit()
    phone.goto(f"{live_server}/login")
    phone.get_by_label("Email").fill("organiser.phone@example.org")
    phone.get_by_label("Password").fill(PASSWORD)
    phone.get_by_role("button", name="Log in").click()
    phone.wait_for_url(re.compile(r"^(?!.*/login)"))
    for path in (
        "/sessions/new",
        f"/sessions/{meeting.slug}/edit",
        f"/sessions/{meeting.slug}/attendance",
        f"/sessions/{meeting.slug}/scans",
        f"/sessions/{meeting.slug}/reports/headcount",
        f"/sessions/{meeting.slug}/certificates",
        f"/sessions/{meeting.slug}/online",
        "/staff/audit",
    ):
        assert phone.goto(live_server + path).status == 200, path
        assert_fits(phone, path)

"""Accessibility in real Chromium: axe-core finds no serious or critical violation on the public pages, the staff
login and the door scanner; a delegate registers with the keyboard alone; the scanner keeps the badge field focused
and says each result in words, not colour alone.

axe-core is vendored in tests/vendor/axe-core (see its VERSION). The app's Content-Security-Policy allows only its
own scripts, so the pages are opened in a browser context that bypasses CSP to let the tests inject axe.
"""

import json
import re
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from helpers import PASSWORD
from playwright.sync_api import expect

from attendance.auth import Actor, ensure_staff
from attendance.certificates.service import issue
from attendance.checkin.rule import check_in
from attendance.extensions import db
from attendance.models import StaffRole

AXE = Path(__file__).resolve().parents[1] / "vendor" / "axe-core" / "axe.min.js"
BLOCKING = ("serious", "critical")
DOOR_EMAIL = "door.a11y@example.org"


@pytest.fixture
def axe_page(new_page):
    """A page whose context bypasses CSP, so that axe can be injected."""
    return new_page(bypass_csp=True)


def axe_violations(page) -> list[dict]:
    """Runs axe-core on the page as it is now; returns the serious and critical violations."""
    if not page.evaluate("typeof window.axe === 'object'"):
        page.add_script_tag(path=str(AXE))
    results = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    return [v for v in results["violations"] if v["impact"] in BLOCKING]


def assert_accessible(page, where: str) -> None:
    violations = axe_violations(page)
    summary = [
        {"rule": v["id"], "impact": v["impact"], "help": v["help"], "nodes": [n["target"] for n in v["nodes"]][:5]}
        for v in violations
    ]
    assert not violations, f"axe on {where}:\n{json.dumps(summary, indent=2, ensure_ascii=False)}"


def log_in_as_door(page, live_server) -> None:
    ensure_staff(DOOR_EMAIL, StaffRole.DOOR, PASSWORD)
    db.session.commit()
    page.goto(live_server + "/login")
    page.get_by_label("Email").fill(DOOR_EMAIL)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(re.compile(r"^(?!.*/login)"))


def today_session(make_session):
    return make_session(first_day=datetime.now(ZoneInfo("Europe/Brussels")).date())


# ---- axe ----


def test_public_pages_have_no_serious_violations(live_server, axe_page, app, make_session, make_registration):
    meeting = make_session()
    page = axe_page
    page.goto(live_server + "/")
    assert_accessible(page, "the start page")

    page.goto(f"{live_server}/sessions/{meeting.slug}/register")
    assert_accessible(page, "the registration form")

    page.get_by_role("button", name="Register").click()
    page.get_by_role("alert").wait_for()
    assert_accessible(page, "the registration form after a failed submit")

    page.goto(live_server + "/login")
    assert_accessible(page, "the staff login")


def test_delegate_and_verify_pages_have_no_serious_violations(
    live_server, axe_page, app, make_session, make_registration
):
    meeting = make_session(first_day=date(2024, 2, 19))
    registration = make_registration(meeting, full_name="محمد العلي", organisation="RILO MENA")
    with app.test_request_context():
        check_in(
            actor=Actor("user:0", "t", True),
            registration_id=registration.id,
            session_slug=meeting.slug,
            day=meeting.days[0].date,
        )
        certificate, _ = issue(registration)
        db.session.commit()  # what the app's other threads read is committed
    page = axe_page
    page.goto(f"{live_server}/me/{registration.access_key}")
    assert page.get_by_role("link", name="Download your certificate (PDF)").is_visible()
    assert_accessible(page, "the delegate's page")

    page.goto(f"{live_server}/verify/{certificate.public_id}")
    assert page.get_by_text("VALID", exact=True).is_visible()
    assert_accessible(page, "the verification page")


def test_door_scanner_has_no_serious_violations_in_any_state(
    live_server, axe_page, app_ctx, make_session, make_registration
):
    meeting = today_session(make_session)
    registration = make_registration(meeting, full_name="Ngozi Okonkwo")
    page = axe_page
    log_in_as_door(page, live_server)
    page.goto(f"{live_server}/sessions/{meeting.slug}/checkin")
    assert page.locator("#door-form").is_visible()
    assert_accessible(page, "the scanner, asking for the door")

    page.get_by_label("Which door is this device at?").fill("Door 2")
    page.get_by_role("button", name="Save door").click()
    assert_accessible(page, "the scanner")

    for token, kind in (
        (registration.badge_token, "ok"),
        (registration.badge_token, "already"),
        ("NOT-A-BADGE", "refused"),
    ):
        page.locator("#badge-input").fill(token)
        page.locator("#badge-input").press("Enter")
        page.locator(f"#result.result-{kind}").wait_for()
        assert_accessible(page, f"the scanner's {kind} result")
        page.keyboard.press("Enter")
        page.locator("#result").wait_for(state="hidden")

    page.get_by_label("Name: 3 letters at least").fill("Ngozi")
    page.get_by_role("button", name="Search").click()
    page.get_by_role("button", name="Check in Ngozi Okonkwo").wait_for()
    assert_accessible(page, "the scanner's search results")


# ---- the keyboard alone ----


def press_tab_until(page, predicate_js: str, limit: int = 60) -> None:
    """Presses Tab until the focused element matches; fails if it never does."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate(f"(() => {{ const e = document.activeElement; return Boolean({predicate_js}); }})()"):
            return
    raise AssertionError(f"Tab never reached an element where {predicate_js}")


def focused_id(page) -> str:
    return page.evaluate("document.activeElement && document.activeElement.id")


def test_a_delegate_registers_with_the_keyboard_alone(live_server, page, make_session):
    meeting = make_session()
    page.goto(live_server + "/")
    press_tab_until(page, f"e.textContent.trim() === 'Register for {meeting.title}' && e.tagName === 'A'")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/register$"))

    # The skip link comes first and moves focus to the content.
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent.trim()") == "Skip to content"
    page.keyboard.press("Enter")

    press_tab_until(page, "e.id === 'full_name'")
    page.keyboard.type("Ingrid Østergaard")
    page.keyboard.press("Tab")
    assert focused_id(page) == "email"
    page.keyboard.type("ingrid@example.org")
    page.keyboard.press("Tab")
    assert focused_id(page) == "organisation"
    page.keyboard.type("ROCB Europe")
    page.keyboard.press("Tab")
    assert focused_id(page) == "country"
    page.keyboard.type("Denmark")  # a focused select picks the option typed
    page.keyboard.press("Tab")
    assert focused_id(page) == "entity_type"
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Tab")
    assert focused_id(page) == "region"
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Tab")
    # The mode radios: Tab reaches the group, the arrow keys choose.
    assert page.evaluate("document.activeElement.name") == "mode"
    page.keyboard.press("ArrowDown")
    assert page.evaluate("document.activeElement.id") == "mode-1"
    assert page.evaluate("document.activeElement.checked")
    press_tab_until(page, "e.id === 'consent'")
    page.keyboard.press("Space")
    press_tab_until(page, "e.tagName === 'BUTTON' && e.textContent.trim() === 'Register'")
    page.keyboard.press("Enter")

    page.wait_for_url(re.compile(r"/me/[A-Za-z0-9_-]+(#main)?$"))  # the skip link's #main stays through the redirect
    assert page.get_by_role("heading", name="Ingrid Østergaard").is_visible()
    assert page.get_by_text("Regional Office for Capacity Building (ROCB)").is_visible()
    assert page.locator(".facts .mode").text_content() == "Online"


def test_failed_submit_with_the_keyboard_leads_to_each_field_in_error(live_server, page, make_session):
    meeting = make_session()
    page.goto(f"{live_server}/sessions/{meeting.slug}/register")
    press_tab_until(page, "e.tagName === 'BUTTON' && e.textContent.trim() === 'Register'")
    page.keyboard.press("Enter")
    page.get_by_role("alert").wait_for()
    # The summary's first link is the next stop for Tab after the skip link, and takes focus to its field.
    press_tab_until(page, "e.closest('.error-summary')")
    assert page.evaluate("document.activeElement.getAttribute('href')") == "#full_name"
    links = page.locator(".error-summary a")
    assert links.count() == 8
    for i in range(links.count()):
        link = links.nth(i)
        link.focus()
        page.keyboard.press("Enter")
        # The fragment's navigation moves focus a moment after the key press: wait for it to leave the link.
        expect(link).not_to_be_focused()
        # Focus lands on a form control (the first option of a group of radios), with its error read out with it.
        focused = page.evaluate("""() => {
            const e = document.activeElement;
            const described = (e.closest('fieldset') || e).getAttribute('aria-describedby') || '';
            return {tag: e.tagName, described: described.split(' ').map(id => document.getElementById(id))
                                                          .filter(Boolean).map(n => n.textContent).join(' ')};
        }""")
        assert focused["tag"] in ("INPUT", "SELECT", "TEXTAREA"), (link.get_attribute("href"), focused)
        assert link.text_content() in focused["described"]


def test_scanner_keeps_the_badge_field_focused_and_says_results_in_words(
    live_server, page, app_ctx, make_session, make_registration
):
    meeting = today_session(make_session)
    registration = make_registration(meeting, full_name="Ngozi Okonkwo")
    log_in_as_door(page, live_server)
    page.goto(f"{live_server}/sessions/{meeting.slug}/checkin")
    page.get_by_label("Which door is this device at?").fill("Door 1")
    page.keyboard.press("Enter")  # saves the door
    assert focused_id(page) == "badge-input"

    page.reload()  # the door is remembered: the page opens ready for the scanner
    page.locator("#door-name").wait_for()
    assert focused_id(page) == "badge-input"

    expected = [
        (registration.badge_token, "result-ok", "CHECKED IN"),
        (registration.badge_token, "result-already", "ALREADY CHECKED IN"),
        ("NOT-A-BADGE", "result-refused", "REFUSED: UNKNOWN BADGE"),
    ]
    for token, kind, title in expected:
        page.keyboard.type(token)  # a keyboard-wedge scanner types into the focused field and presses Enter
        page.keyboard.press("Enter")
        page.locator(f"#result.{kind}").wait_for()
        # The state is in the words, not only the colour; the panel has focus and is announced.
        assert page.locator("#result-title").text_content() == title
        assert page.locator("#result").get_attribute("role") == "alert"
        assert focused_id(page) == "result"
        page.keyboard.press("Enter")
        page.locator("#result").wait_for(state="hidden")
        assert focused_id(page) == "badge-input"
        assert page.locator("#badge-input").input_value() == ""

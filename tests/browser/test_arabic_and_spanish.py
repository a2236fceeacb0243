"""Arabic and Spanish in real Chromium: the registration form, the delegate's page, the verification page and the
door scanner render in the reader's language, Arabic right to left with the layout mirrored, and axe-core finds no
serious problem. Screenshots of the Arabic pages are kept in test-artifacts/ for a person to look at."""

import re
from datetime import date
from pathlib import Path

import pytest
from helpers import PASSWORD
from test_accessibility import assert_accessible, today_session

from attendance.auth import Actor, ensure_staff
from attendance.certificates.service import issue
from attendance.checkin.rule import check_in
from attendance.extensions import db
from attendance.models import StaffRole

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"

WORDS = {  # a heading or button each page shows in the language
    "ar": {"register": "تسجيل", "own_page": "شارتكم", "valid": "صالحة", "scanner": "امسحوا رمز الشارة أو اكتبوه"},
    "es": {
        "register": "Inscribirse",
        "own_page": "Su credencial",
        "valid": "VÁLIDO",
        "scanner": "Escanee o escriba el código de una credencial",
    },
}


def _keep(page, language: str, name: str) -> None:
    if language == "ar":
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"arabic-{name}.png"), full_page=True)


def _direction(page) -> tuple[str, str]:
    return tuple(page.evaluate("[document.documentElement.lang, document.documentElement.dir]"))


def _starts_on_the_reading_side(page, selector: str, language: str) -> bool:
    """Whether an element sits on the side a reader starts from: the right for Arabic, the left otherwise."""
    box = page.locator(selector).first.bounding_box()
    width = page.viewport_size["width"]
    return box["x"] + box["width"] > width * 0.6 if language == "ar" else box["x"] < width * 0.4


@pytest.mark.parametrize("language", ["ar", "es"])
def test_delegate_pages_in_arabic_and_spanish(live_server, new_page, app, make_session, make_registration, language):
    meeting = make_session(first_day=date(2024, 2, 19), title="الدورة التاسعة عشرة 19th")
    registration = make_registration(meeting, full_name="ليلى حداد 9f3c2e1a", organisation="ROCB MENA", locale=language)
    with app.test_request_context():
        check_in(
            actor=Actor("user:0", "t", True),
            registration_id=registration.id,
            session_slug=meeting.slug,
            day=meeting.days[0].date,
        )
        certificate, _ = issue(registration)
        db.session.commit()  # what the app's other threads read is committed
    page = new_page(bypass_csp=True, locale=language)

    open_meeting = make_session(title="الدورة العشرون 20th", venue="Bruxelles")
    page.goto(f"{live_server}/sessions/{open_meeting.slug}/register")
    assert _direction(page) == (language, "rtl" if language == "ar" else "ltr")
    assert page.get_by_role("button", name=WORDS[language]["register"], exact=True).is_visible()
    assert _starts_on_the_reading_side(page, "main h1", language)
    assert_accessible(page, f"the registration form in {language}")
    _keep(page, language, "registration-form")
    page.get_by_role("button", name=WORDS[language]["register"], exact=True).click()
    page.get_by_role("alert").wait_for()
    assert_accessible(page, f"the registration form with errors in {language}")
    _keep(page, language, "registration-form-errors")

    page.goto(f"{live_server}/me/{registration.access_key}")
    assert page.get_by_role("heading", name=WORDS[language]["own_page"]).is_visible()
    name = page.locator("main h1 bdi")
    assert name.text_content() == "ليلى حداد 9f3c2e1a"
    assert name.evaluate("e => getComputedStyle(e).unicodeBidi") == "isolate"
    assert_accessible(page, f"the delegate's page in {language}")
    _keep(page, language, "delegate-page")

    page.goto(f"{live_server}/verify/{certificate.public_id}")
    assert page.get_by_text(WORDS[language]["valid"], exact=True).is_visible()
    assert_accessible(page, f"the verification page in {language}")
    _keep(page, language, "verify-page")


@pytest.mark.parametrize("language", ["ar", "es"])
def test_door_scanner_in_arabic_and_spanish(live_server, new_page, app_ctx, make_session, make_registration, language):
    meeting = today_session(make_session)
    registration = make_registration(meeting, full_name="ليلى حداد 9f3c2e1a", organisation="RILO MENA")
    email = f"door.{language}@example.org"
    ensure_staff(email, StaffRole.DOOR, PASSWORD)
    db.session.commit()
    page = new_page(bypass_csp=True, locale=language)
    page.goto(live_server + "/login")
    assert _direction(page)[0] == language
    page.locator("#email").fill(email)
    page.locator("#password").fill(PASSWORD)
    page.locator("main button[type=submit]").click()
    page.wait_for_url(re.compile(r"^(?!.*/login)"))

    page.goto(f"{live_server}/sessions/{meeting.slug}/checkin")
    page.locator("#door-input").fill("الباب 2")
    page.locator("#door-form button[type=submit]").click()
    assert page.get_by_label(WORDS[language]["scanner"]).is_visible()
    assert_accessible(page, f"the scanner in {language}")
    _keep(page, language, "scanner")

    page.locator("#badge-input").fill(registration.badge_token)
    page.locator("#badge-input").press("Enter")
    page.locator("#result.result-ok").wait_for()
    assert page.locator("#result-name").text_content() == "ليلى حداد 9f3c2e1a"
    assert_accessible(page, f"the scanner's result in {language}")
    _keep(page, language, "scanner-result")

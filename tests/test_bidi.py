"""Text in several directions: a user-given name keeps its parts in order on pages, in e-mails and in PDFs, and
marks typed into it cannot reorder what surrounds it."""

import subprocess
import tempfile
from datetime import timedelta
from pathlib import Path

import pytest

from attendance.auth import Actor
from attendance.clock import utcnow
from attendance.extensions import db

NAME = "ليلى حداد 9f3c2e1a"


def pdftotext(pdf: bytes) -> str:
    """The text as poppler reads it off the page, in visual order."""
    with tempfile.TemporaryDirectory() as folder:
        source = Path(folder) / "doc.pdf"
        source.write_bytes(pdf)
        return subprocess.run(
            ["pdftotext", "-layout", str(source), "-"], check=True, capture_output=True, text=True
        ).stdout


@pytest.mark.parametrize("locale", ["en", "ar"])
def test_a_badge_keeps_a_latin_part_of_an_arabic_name_whole(make_session, make_registration, locale):
    from attendance.registration.badges import badge_pdf

    meeting = make_session()
    registration = make_registration(meeting, full_name=NAME, organisation="ROCB 9f3c الشرق الأوسط", locale=locale)
    text = pdftotext(badge_pdf(registration))
    print(text)
    assert "9f3c2e1a" in text


@pytest.mark.parametrize("locale", ["en", "ar"])
def test_a_certificate_keeps_a_latin_part_of_an_arabic_name_whole(app, make_session, make_registration, locale):
    from attendance.certificates.render import certificate_pdf
    from attendance.certificates.service import issue
    from attendance.checkin.rule import check_in

    meeting = make_session(first_day=utcnow().date() - timedelta(days=400))  # over: its certificates are issued
    registration = make_registration(meeting, full_name=NAME, locale=locale)
    check_in(  # an organiser records a day gone by
        actor=Actor("user:0", "test", True),
        registration_id=registration.id,
        session_slug=meeting.slug,
        day=meeting.days[0].date,
    )
    db.session.commit()
    with app.test_request_context():
        certificate, result = issue(registration)
        db.session.commit()  # committed before rendering, as the download does
        text = pdftotext(certificate_pdf(certificate, result))
    print(text)
    assert "9f3c2e1a" in text


def test_direction_marks_typed_into_a_name_stay_out_of_its_search_key():
    from attendance.text import search_key

    assert search_key("\u202eليلى\u202c \u200fحداد\u2069") == search_key("ليلى حداد")
    assert search_key("Am\u200eélie\u2066 Dubois") == "amelie dubois"


def test_the_door_finds_a_name_with_direction_marks_by_its_letters(client, make_session, make_registration):
    from attendance.api.tokens import create_api_token

    meeting = make_session()
    make_registration(meeting, full_name="\u202bليلى حداد\u202c 9f3c2e1a")
    token = create_api_token("Door 2 scanner")[1]
    found = client.get(
        f"/api/v1/sessions/{meeting.slug}/delegates?q=حداد", headers={"Authorization": f"Bearer {token}"}
    ).get_json()["delegates"]
    assert [d["name"] for d in found] == ["\u202bليلى حداد\u202c 9f3c2e1a"]


def test_isolate_sets_apart_only_what_needs_it():
    from attendance.text import direction, isolate

    assert isolate(NAME) == f"\u2068{NAME}\u2069"
    assert isolate("Amélie Dubois") == "Amélie Dubois"
    assert isolate("Ann \u202eSmith") == "\u2068Ann \u202eSmith\u2069"  # a typed override ends with the name
    assert direction(NAME) == "rtl" and direction("\u200f9 Amélie") == "ltr" and direction("123") == "ltr"


def test_an_override_typed_into_a_name_cannot_reorder_the_delegates_page_or_email(app, client, make_session):
    """The name "Ann <RLO>Smith" would print everything after it backwards, up to the end of its paragraph; set apart,
    its override ends with it."""
    import email
    import os
    from email import policy

    import sqlalchemy as sa
    from helpers import csrf_token, registration_form

    from attendance.models import Registration

    meeting = make_session(title="Session 20")
    url = f"/sessions/{meeting.slug}/register"
    data = registration_form(meeting, csrf_token=csrf_token(client, url), full_name="Ann \u202eSmith")
    assert client.post(url, data=data).status_code == 302
    registration = db.session.scalar(sa.select(Registration))
    page = client.get(f"/me/{registration.access_key}").get_data(as_text=True)
    assert "<bdi>Ann \u202eSmith</bdi>" in page
    assert "<title>\u2068Ann \u202eSmith\u2069" in page
    [name] = os.listdir(app.config["OUTBOX_DIR"])
    message = email.message_from_bytes((Path(app.config["OUTBOX_DIR"]) / name).read_bytes(), policy=policy.default)
    assert "\u2068Ann \u202eSmith\u2069," in message.get_body(("plain",)).get_content()


def test_session_words_on_public_pages_are_set_apart(client, make_session):
    meeting = make_session(title="الدورة 20", venue="Bruxelles 1000")
    page = client.get(f"/sessions/{meeting.slug}/register").get_data(as_text=True)
    assert "<bdi>الدورة 20</bdi>" in page and "<bdi>Bruxelles 1000</bdi>" in page

"""Badges and certificates served from their stored copy, and rendered anew whenever what they show changes."""

import io
import logging
import shutil
import threading
import urllib.request
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from helpers import csrf_token
from pdf_tools import pdf_text, qr_codes

from attendance.certificates.service import certificate_of, reinstate, revoke
from attendance.clock import utcnow
from attendance.documents import pdf, stored_pdfs
from attendance.extensions import db
from attendance.models import Attendance, Mode, PdfKind, Registration, StoredPdf
from attendance.online.intervals import day_window
from attendance.organiser.service import delete_session
from attendance.privacy import purge_session
from attendance.registration.badges import badge_pdf
from attendance.registration.service import reissue_badge


@pytest.fixture
def renders(monkeypatch):
    """The templates WeasyPrint lays out, in order; the real renderer still does the work."""
    calls = []
    real = pdf.html_to_pdf

    def counting(html: str, template: str = "") -> bytes:
        calls.append(template)
        return real(html, template)

    monkeypatch.setattr(pdf, "html_to_pdf", counting)
    return calls


def stored(registration: Registration, kind: PdfKind):
    return db.session.execute(
        sa.select(StoredPdf.fingerprint, StoredPdf.pdf, StoredPdf.created_at).filter_by(
            registration_id=registration.id, kind=kind
        )
    ).one_or_none()


def badge(client, registration: Registration) -> bytes:
    response = client.get(f"/me/{registration.access_key}/badge.pdf")
    assert response.status_code == 200
    return response.data


def certificate(client, registration: Registration) -> bytes:
    response = client.get(f"/me/{registration.access_key}/certificate.pdf")
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.data


def attended(registration: Registration, *days) -> None:
    """Checked in at each day's opening, never checked out: in person the whole scheduled day."""
    for day in days:
        db.session.add(
            Attendance(
                registration=registration, day=day, mode=Mode.IN_PERSON, source="scan", first_seen_at=day_window(day)[0]
            )
        )
    db.session.commit()


def test_second_badge_download_is_the_stored_copy_without_rendering(client, make_session, make_registration, renders):
    registration = make_registration(make_session(), full_name="Amélie Dubois")
    first = badge(client, registration)
    assert renders == ["badges/badge.html"]
    row = stored(registration, PdfKind.BADGE)
    assert row.pdf == first and len(row.fingerprint) == 64

    second = badge(client, registration)
    assert second == first
    assert renders == ["badges/badge.html"]  # not laid out again
    db.session.expire_all()
    assert stored(registration, PdfKind.BADGE) == row  # nor stored again


def test_second_certificate_download_is_the_stored_copy_without_rendering(
    client, make_session, make_registration, renders
):
    meeting = make_session(first_day=date(2024, 2, 19))
    registration = make_registration(meeting, full_name="Анна Смирнова")
    attended(registration, meeting.days[0])
    first = certificate(client, registration)
    row = stored(registration, PdfKind.CERTIFICATE)
    assert row.pdf == first and "Анна Смирнова" in pdf_text(first)
    assert certificate(client, registration) == first
    assert renders == ["certificates/certificate.html"]
    db.session.expire_all()
    assert stored(registration, PdfKind.CERTIFICATE) == row


def test_a_certificate_is_in_its_own_language_whoever_asks_so_one_stored_copy_serves_all(
    client, make_session, make_registration, renders
):
    """The delegate reads the site in English, an organiser in French: the PDF is the one the delegate registered
    in French for, title and all, and it is laid out once."""
    from pypdf import PdfReader

    meeting = make_session(first_day=date(2024, 2, 19))
    registration = make_registration(meeting, full_name="Amélie Dubois", locale="fr")
    attended(registration, meeting.days[0])
    client.set_cookie("lang", "en")
    first = certificate(client, registration)
    client.set_cookie("lang", "fr")
    assert certificate(client, registration) == first
    assert renders == ["certificates/certificate.html"]
    document = PdfReader(io.BytesIO(first))
    assert document.metadata.title == "Certificat de participation"
    assert document.trailer["/Root"]["/Lang"] == "fr"


def test_the_organisers_edit_of_a_name_shows_on_the_next_badge(client, login, make_session, make_registration, renders):
    meeting = make_session()
    registration = make_registration(meeting, full_name="Jon Smiht")
    assert "Jon Smiht" in pdf_text(badge(client, registration))
    login("organiser")
    form = {
        "full_name": "John Smith",
        "email": registration.email,
        "organisation": registration.organisation,
        "country": registration.country,
        "entity_type": str(registration.entity_type_id),
        "region": str(registration.region_id),
        "mode": registration.mode.value,
        "role": registration.role.value,
        "csrf_token": csrf_token(client),
    }
    assert client.post(f"/sessions/{meeting.slug}/registrations/{registration.id}", data=form).status_code == 302

    text = pdf_text(badge(client, registration))
    assert "John Smith" in text and "Jon Smiht" not in text
    assert len(renders) == 2
    assert "John Smith" in pdf_text(stored(registration, PdfKind.BADGE).pdf)


@pytest.mark.parametrize(
    "change, shown",
    [
        (lambda r: setattr(r, "organisation", "RILO West Africa"), "RILO West Africa"),
        (
            lambda r: setattr(r.entity_type, "name", "Regional Dog Training Centre (RDTC)"),
            "Regional Dog Training Centre (RDTC)",
        ),
        (lambda r: setattr(r.session, "title", "20th Session"), "20th Session"),
        (lambda r: setattr(r, "mode", Mode.ONLINE), "ONLINE"),
        (lambda r: setattr(r, "locale", "fr"), "EN PERSONNE"),
    ],
    ids=["organisation", "entity type", "session title", "mode", "language"],
)
def test_any_change_to_what_the_badge_shows_renders_it_anew(client, make_session, make_registration, change, shown):
    registration = make_registration(make_session())
    before = badge(client, registration)
    assert shown not in pdf_text(before)
    change(registration)
    db.session.commit()
    after = badge(client, registration)
    assert shown in pdf_text(after)
    assert stored(registration, PdfKind.BADGE).pdf == after


def test_a_reissued_badge_prints_the_new_token(client, make_session, make_registration):
    registration = make_registration(make_session())
    old_token = registration.badge_token
    assert qr_codes(badge(client, registration)) == [old_token]
    new_token = reissue_badge(registration)
    assert qr_codes(badge(client, registration)) == [new_token] != [old_token]


def test_no_certificate_during_the_meeting_and_the_refusal_says_when(client, make_session, make_registration):
    meeting = make_session(first_day=datetime.now(ZoneInfo("Europe/Brussels")).date())  # today and tomorrow
    registration = make_registration(meeting)
    attended(registration, meeting.days[0])
    later = make_session(first_day=date.today() + timedelta(days=30))
    absent = make_registration(later)
    clicked = make_registration(later, mode=Mode.ONLINE)  # clicked the join link; the platform's report is not in
    db.session.add(Attendance(registration=clicked, day=later.days[0], mode=Mode.ONLINE, source="link"))
    db.session.commit()
    for person in (registration, absent, clicked):
        refused = client.get(f"/me/{person.access_key}/certificate.pdf")
        refusal = refused.get_data(as_text=True)
        assert refused.status_code == 403 and "will be ready when the meeting ends" in refusal
        assert "not attended" not in refusal and "no record" not in refusal


def test_the_certificate_follows_attendance_and_revocation(client, make_session, make_registration, renders):
    meeting = make_session(first_day=date(2024, 2, 19))  # two days of 09:30-17:00
    registration = make_registration(meeting)
    attended(registration, meeting.days[0])
    one_day = pdf_text(certificate(client, registration))
    assert "Total time measured · 7 h 30 min" in one_day and "did not attend" in one_day

    attended(registration, meeting.days[1])
    two_days = pdf_text(certificate(client, registration))
    assert "Total time measured · 15 h 00 min" in two_days and "did not attend" not in two_days
    assert len(renders) == 2

    revoke(certificate_of(registration), "Signed in for a colleague", "organiser@example.org")
    refused = client.get(f"/me/{registration.access_key}/certificate.pdf")
    assert refused.status_code == 403 and not refused.data.startswith(b"%PDF")
    reinstate(certificate_of(registration))
    assert "Total time measured · 15 h 00 min" in pdf_text(certificate(client, registration))
    assert len(renders) == 2  # valid again, and printed as before: the stored copy serves


def test_purge_deletes_the_sessions_stored_pdfs(client, make_session, make_registration):
    past = make_session(first_day=utcnow().date() - timedelta(days=100))
    other = make_session()
    purged = make_registration(past, full_name="Private Person")
    kept = make_registration(other, full_name="Still Here")
    attended(purged, past.days[0])
    badge(client, purged), certificate(client, purged), badge(client, kept)
    assert stored(purged, PdfKind.BADGE) and stored(purged, PdfKind.CERTIFICATE)

    purge_session(past, 90)
    db.session.commit()  # as the purge command does, before anything renders again
    assert db.session.scalars(sa.select(StoredPdf.registration_id)).all() == [kept.id]
    assert "Private Person" not in pdf_text(badge_pdf(purged))


def test_deleting_a_registration_or_a_session_deletes_their_stored_pdfs(client, make_session, make_registration):
    meeting = make_session()
    first, second = make_registration(meeting), make_registration(meeting)
    badge(client, first), badge(client, second)
    db.session.execute(sa.delete(Registration).where(Registration.id == first.id))
    db.session.commit()
    assert db.session.scalars(sa.select(StoredPdf.registration_id)).all() == [second.id]
    delete_session(meeting)
    assert db.session.scalar(sa.select(sa.func.count(StoredPdf.id))) == 0


def test_two_first_requests_at_once_both_get_the_badge(live_server, make_session, make_registration, monkeypatch):
    registration = make_registration(make_session(), full_name="Zoë Nørgaard-Mensah")
    both_rendering = threading.Barrier(2, timeout=20)
    real = pdf.html_to_pdf

    def render_when_both_missed(html: str, template: str = "") -> bytes:
        # Neither lays out until both have looked for a stored copy and found none: both will store one.
        both_rendering.wait()
        return real(html, template)

    monkeypatch.setattr(pdf, "html_to_pdf", render_when_both_missed)
    url, answers = f"{live_server}/me/{registration.access_key}/badge.pdf", []

    def download() -> None:
        with urllib.request.urlopen(url, timeout=60) as response:
            answers.append((response.status, response.read()))

    threads = [threading.Thread(target=download) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [status for status, _ in answers] == [200, 200]
    assert answers[0][1] == answers[1][1]
    assert "Zoë Nørgaard-Mensah" in pdf_text(answers[0][1])
    db.session.expire_all()
    assert db.session.scalar(sa.select(sa.func.count(StoredPdf.id))) == 1
    assert stored(registration, PdfKind.BADGE).pdf == answers[0][1]


def test_a_failure_to_store_still_serves_the_badge_and_is_logged(
    app, client, make_session, make_registration, monkeypatch, caplog
):
    registration = make_registration(make_session(), full_name="Ana Silva")

    def broken_store(*args):
        raise sa.exc.OperationalError("INSERT INTO stored_pdfs", {}, Exception("disk I/O error"))

    monkeypatch.setattr(stored_pdfs, "_store", broken_store)
    with pytest.raises(sa.exc.OperationalError):  # tests see the failure
        badge_pdf(registration)

    monkeypatch.setitem(app.config, "TESTING", False)
    with caplog.at_level(logging.ERROR, logger="attendance.documents.stored_pdfs"):
        assert "Ana Silva" in pdf_text(badge(client, registration))
    [record] = caplog.records
    assert "Could not write the stored badge PDF of registration" in record.getMessage()
    assert stored(registration, PdfKind.BADGE) is None


def test_a_stylesheet_change_renders_the_badge_anew(
    app, client, tmp_path, monkeypatch, make_session, make_registration
):
    static = tmp_path / "static"
    shutil.copytree(app.static_folder, static, ignore=shutil.ignore_patterns("vendor"))
    monkeypatch.setattr(app, "static_folder", str(static))
    registration = make_registration(make_session(), full_name="Amélie Dubois")
    assert "Amélie Dubois" in pdf_text(badge(client, registration))
    with open(static / "badge.css", "a") as css:
        css.write("\n.name { text-transform: uppercase; }\n")
    assert "AMÉLIE DUBOIS" in pdf_text(badge(client, registration))

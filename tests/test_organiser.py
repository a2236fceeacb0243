"""Organisers set up sessions and manage registrations; door staff and strangers cannot."""

import csv
import io
import math
import re
from datetime import date

import openpyxl
import pytest
import sqlalchemy as sa
from helpers import csrf_token, export
from pdf_tools import A4_POINTS, page_sizes, pdf_text, qr_codes
from pypdf import PdfReader

from attendance.extensions import db
from attendance.models import (
    Attendance,
    AuditEvent,
    EntityType,
    MeetingSession,
    Mode,
    Registration,
    RegistrationStatus,
    Role,
)

ORGANISER_PAGES = [
    ("GET", "/staff"),
    ("GET", "/sessions/new"),
    ("POST", "/sessions/new"),
    ("GET", "/sessions/{slug}/edit"),
    ("GET", "/sessions/{slug}/entity-types"),
    ("POST", "/sessions/{slug}/regions"),
    ("POST", "/sessions/{slug}/entity-types/{type_id}/delete"),
    ("GET", "/sessions/{slug}/registrations"),
    ("GET", "/sessions/{slug}/registrations.csv"),
    ("GET", "/sessions/{slug}/badges.pdf"),
    ("GET", "/sessions/{slug}/registrations/{registration_id}"),
    ("POST", "/sessions/{slug}/registrations/{registration_id}/cancel"),
    ("POST", "/sessions/{slug}/registrations/{registration_id}/reinstate"),
    ("POST", "/sessions/{slug}/registrations/{registration_id}/reissue-badge"),
    ("GET", "/sessions/{slug}/registrations/{registration_id}/reissue-badge"),
    ("GET", "/sessions/{slug}/registrations/new"),
    ("POST", "/sessions/{slug}/registrations/new"),
]


@pytest.fixture
def meeting(make_session, make_registration):
    meeting = make_session()
    make_registration(meeting)
    return meeting


def _url(template: str, meeting: MeetingSession) -> str:
    registration = db.session.scalar(sa.select(Registration).filter_by(session_id=meeting.id))
    return template.format(slug=meeting.slug, type_id=meeting.entity_types[-1].id, registration_id=registration.id)


@pytest.mark.parametrize("method, template", ORGANISER_PAGES)
def test_organiser_pages_send_anonymous_users_to_login(client, meeting, method, template):
    response = client.open(_url(template, meeting), method=method, data={"csrf_token": csrf_token(client)})
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")


@pytest.mark.parametrize("method, template", ORGANISER_PAGES)
def test_organiser_pages_refuse_door_staff(client, login, meeting, method, template):
    login("door")
    token = csrf_token(client)
    before = db.session.scalar(sa.select(sa.func.count(EntityType.id)))
    response = client.open(
        _url(template, meeting), method=method, data={"csrf_token": token, "name": "X", "reason": "x"}
    )
    assert response.status_code == 403
    assert db.session.scalar(sa.select(sa.func.count(EntityType.id))) == before


def test_wrong_password_is_refused_with_a_message(client, login):
    email = login("organiser")
    client.post("/logout", data={"csrf_token": csrf_token(client, "/staff")})
    response = client.post("/login", data={"email": email, "password": "wrong", "csrf_token": csrf_token(client)})
    assert response.status_code == 200
    assert "Wrong email or password." in response.get_data(as_text=True)
    assert client.get("/staff").status_code == 302


def test_login_does_not_redirect_to_another_host(client, login, app_ctx):
    from attendance.auth import ensure_staff
    from attendance.models import StaffRole

    ensure_staff("o@example.org", StaffRole.ORGANISER, "long enough password")
    db.session.commit()
    response = client.post(
        "/login?next=//evil.example.com/x",
        data={"email": "o@example.org", "password": "long enough password", "csrf_token": csrf_token(client)},
    )
    assert response.headers["Location"] == "/staff"


def _session_form(client, **overrides) -> dict:
    data = {
        "series_name": "Global Meeting of the Regional Entities",
        "number": "21",
        "title": "21st Session",
        "slug": "global-meeting-21",
        "venue": "Brussels",
        "timezone": "Europe/Brussels",
        "online_meeting_url": "https://meet.example.org/21",
        "in_person_capacity": "100",
        "registration_opens_at": "2030-01-01T09:00",
        "registration_closes_at": "2030-02-01T17:00",
        "days-0-date": "2030-02-18",
        "days-0-starts_at": "09:30",
        "days-0-ends_at": "17:00",
        "days-1-date": "2030-02-19",
        "days-1-starts_at": "09:00",
        "days-1-ends_at": "13:00",
        "chair_name": "Director, ROCB Asia Pacific",
        "certificate_online_percent": "60",
        "certificate_days_required": "2",
        "certificate_language": "fr",
        "csrf_token": csrf_token(client),
    }
    data.update(overrides)
    return data


def test_organiser_creates_and_edits_a_session_with_days_and_hours(client, login, make_session):
    previous = make_session()  # same series: its vocabularies are copied to the new session
    previous.series.name = "Global Meeting of the Regional Entities"
    db.session.commit()
    login("organiser")
    response = client.post("/sessions/new", data=_session_form(client))
    assert response.status_code == 302, response.get_data(as_text=True)
    meeting = db.session.scalar(sa.select(MeetingSession).filter_by(slug="global-meeting-21"))
    assert [(d.date.isoformat(), d.starts_at.isoformat(), d.ends_at.isoformat()) for d in meeting.days] == [
        ("2030-02-18", "09:30:00", "17:00:00"),
        ("2030-02-19", "09:00:00", "13:00:00"),
    ]
    assert meeting.registration_opens_at.isoformat() == "2030-01-01T08:00:00+00:00"  # Brussels winter time is UTC+1
    assert [t.name for t in meeting.entity_types] == [t.name for t in previous.entity_types]
    [created] = db.session.scalars(sa.select(AuditEvent).filter_by(action="session.create")).all()
    assert (created.session_id, created.target) == (meeting.id, "global-meeting-21")  # recorded with its id

    assert (meeting.certificate_online_percent, meeting.certificate_days_required) == (60, 2)
    assert meeting.certificate_language == "fr"
    edit = _session_form(
        client,
        **{"days-0-date": "", "days-1-ends_at": "12:00", "in_person_capacity": "", "certificate_days_required": "1"},
    )
    assert client.post("/sessions/global-meeting-21/edit", data=edit).status_code == 302
    db.session.refresh(meeting)
    assert [(d.date.isoformat(), d.ends_at.isoformat()) for d in meeting.days] == [("2030-02-19", "12:00:00")]
    assert meeting.in_person_capacity is None


def test_a_session_in_an_older_zone_name_keeps_it_when_edited(client, login, make_session):
    meeting = make_session(timezone="Singapore")  # not offered for new sessions, but valid
    login("organiser")
    page = client.get(f"/sessions/{meeting.slug}/edit").get_data(as_text=True)
    assert '<option selected value="Singapore">' in page or '<option value="Singapore" selected>' in page


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"slug": "Not A Slug"}, "Use lowercase letters"),
        ({"days-0-date": "", "days-1-date": ""}, "Give the session at least one day."),
        ({"days-1-date": "2030-02-18"}, "A date is listed twice."),
        ({"days-0-ends_at": "08:00"}, "The day must end after it starts (09:30)."),
        # an empty time is its default (09:00-17:00), which must fit the time given: these were a 500
        ({"days-0-starts_at": "", "days-0-ends_at": "08:00"}, "The day must end after it starts (09:00)."),
        ({"days-0-starts_at": "18:00", "days-0-ends_at": ""}, "The day must end after it starts (18:00)."),
        ({"registration_opens_at": "0001-01-01T00:00", "timezone": "Asia/Tokyo"}, "Give a date between 1970 and 2200."),
        (
            {"registration_closes_at": "9999-12-31T23:00", "timezone": "America/New_York"},
            "Give a date between 1970 and 2200.",
        ),
        ({"days-1-date": "0001-01-01"}, "Give a date between 1970 and 2200."),
        ({"number": "99999999999999999999"}, "Number must be between 1 and 10000."),
        (
            {"registration_opens_at": "2030-03-01T09:00", "registration_closes_at": "2030-03-02T09:00"},
            "Registration would open after the session&#39;s last day (19 February 2030).",
        ),
        ({"title": "21st\x00Session"}, "Remove the control characters from this field."),
        ({"venue": "Brussels\x07"}, "Remove the control characters from this field."),
        ({"online_meeting_url": "meet.example.org/21"}, "Enter a full link, like https://"),
        ({"registration_closes_at": "2029-12-01T09:00"}, "Registration must close after it opens."),
        ({"in_person_capacity": "-1"}, "Enter a number of seats from 0 up"),
        ({"timezone": "Mars/Olympus"}, "Not a valid choice"),
        ({"timezone": "localtime"}, "Not a valid choice"),  # the server's own zone, not a place
        ({"timezone": "Etc/GMT+3"}, "Not a valid choice"),  # three hours behind UTC, whatever its name says
        ({"timezone": "US/Eastern"}, "Not a valid choice"),  # an old alias: America/New_York is offered
        ({"certificate_online_percent": "120"}, "Give a share from 0 to 100."),
        ({"certificate_days_required": "3"}, "The session has only 2 days."),
        ({"zoom_meeting_id": "abc"}, "Zoom meeting ids are digits."),
        ({"number": "²"}, "Write the number with the digits 0-9."),
        ({"number": "٢١"}, "Write the number with the digits 0-9."),  # Arabic-Indic digits: int() would read 21
        ({"in_person_capacity": "１００"}, "Write the number with the digits 0-9."),
        ({"certificate_online_percent": "5⁰"}, "Write the number with the digits 0-9."),
        ({"zoom_meeting_id": "٨٥٠"}, "Zoom meeting ids are digits."),
    ],
)
def test_bad_session_input_is_explained_and_saves_nothing(client, login, overrides, message):
    login("organiser")
    response = client.post("/sessions/new", data=_session_form(client, **overrides))
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count(MeetingSession.id))) == 0


def test_a_taken_slug_is_refused(client, login, make_session):
    taken = make_session()
    login("organiser")
    response = client.post("/sessions/new", data=_session_form(client, slug=taken.slug))
    assert "Another session already uses this short name." in response.get_data(as_text=True)


def test_a_series_is_found_whatever_the_case_it_is_typed_in(client, login, make_session):
    previous = make_session(number=21)
    previous.series.name = "Global Meeting of the Regional Entities"
    db.session.commit()
    login("organiser")
    form = _session_form(client, series_name="global meeting of the REGIONAL entities")
    assert "This series already has a session with this number." in client.post("/sessions/new", data=form).get_data(
        as_text=True
    )
    assert '<datalist id="series-names"><option value="Global Meeting of the Regional Entities">' in client.get(
        "/sessions/new"
    ).get_data(as_text=True)
    form = _session_form(client, series_name="global meeting of the REGIONAL entities", number="22")
    assert client.post("/sessions/new", data=form).status_code == 302
    meeting = db.session.scalar(sa.select(MeetingSession).filter_by(slug="global-meeting-21"))
    assert meeting.series is previous.series and [t.name for t in meeting.entity_types] == [
        t.name for t in previous.entity_types
    ]


def test_the_time_zone_stays_once_attendance_is_recorded(client, login, make_session, make_registration):
    meeting = make_session(first_day=date(2030, 2, 18))
    login("organiser")
    edit = _session_form(
        client, slug=meeting.slug, number=str(meeting.number), series_name=meeting.series.name, timezone="Asia/Tokyo"
    )
    assert client.post(f"/sessions/{meeting.slug}/edit", data=edit).status_code == 302  # nothing recorded yet
    db.session.refresh(meeting)
    assert meeting.timezone == "Asia/Tokyo"
    db.session.add(
        Attendance(registration=make_registration(meeting), day=meeting.days[0], mode=Mode.IN_PERSON, source="scan")
    )
    db.session.commit()
    edit = _session_form(
        client,
        slug=meeting.slug,
        number=str(meeting.number),
        series_name=meeting.series.name,
        timezone="America/New_York",
    )
    response = client.post(f"/sessions/{meeting.slug}/edit", data=edit)
    assert response.status_code == 400
    assert "has recorded attendance, so its time zone stays Asia/Tokyo" in response.get_data(as_text=True)
    db.session.refresh(meeting)
    assert meeting.timezone == "Asia/Tokyo"


def test_entity_types_are_added_renamed_and_deleted_only_when_unused(client, login, meeting):
    login("organiser")
    url = f"/sessions/{meeting.slug}/entity-types"
    client.post(
        url, data={"name": "Regional Customs Laboratory (RCL)", "position": "9", "csrf_token": csrf_token(client)}
    )
    added = db.session.scalar(sa.select(EntityType).filter_by(session_id=meeting.id, position=9))
    assert added.name == "Regional Customs Laboratory (RCL)"

    client.post(url, data={"term_id": added.id, "name": "RCL", "position": "9", "csrf_token": csrf_token(client)})
    db.session.refresh(added)
    assert added.name == "RCL"

    for same in ("RCL", "rcl"):  # in any case
        duplicate = client.post(url, data={"name": same, "csrf_token": csrf_token(client)}, follow_redirects=True)
        assert "is already in the list" in duplicate.get_data(as_text=True)
    assert (
        db.session.scalar(
            sa.select(sa.func.count()).where(
                EntityType.session_id == meeting.id, sa.func.lower(EntityType.name) == "rcl"
            )
        )
        == 1
    )
    client.post(url, data={"term_id": added.id, "name": "Rcl", "position": "9", "csrf_token": csrf_token(client)})
    db.session.refresh(added)
    assert added.name == "Rcl"  # a term may change its own case

    in_use = meeting.entity_types[0]
    response = client.post(f"{url}/{in_use.id}/delete", data={"csrf_token": csrf_token(client)}, follow_redirects=True)
    assert "is used by 1 registration, so it stays" in response.get_data(as_text=True)
    client.post(f"{url}/{added.id}/delete", data={"csrf_token": csrf_token(client)})
    assert db.session.get(EntityType, added.id) is None
    assert db.session.get(EntityType, in_use.id) is not None


@pytest.mark.parametrize("term_id", ["²", "٣", "1e3"])
def test_an_entity_type_named_by_a_non_ascii_number_is_refused_and_nothing_changes(client, login, meeting, term_id):
    login("organiser")
    before = [(t.id, t.name) for t in meeting.entity_types]
    response = client.post(
        f"/sessions/{meeting.slug}/entity-types",
        data={"term_id": term_id, "name": "Renamed", "position": "1", "csrf_token": csrf_token(client)},
    )
    assert response.status_code == 400 and "digits 0-9" in response.get_data(as_text=True)
    db.session.expire_all()
    assert [(t.id, t.name) for t in db.session.get(MeetingSession, meeting.id).entity_types] == before


def test_a_forged_entry_id_is_refused_in_the_organisers_language(client, login, meeting):
    login("organiser")
    client.set_cookie("lang", "fr")
    response = client.post(
        f"/sessions/{meeting.slug}/regions",
        data={"term_id": "٣", "name": "Renamed", "position": "1", "csrf_token": csrf_token(client)},
    )
    assert response.status_code == 400
    assert "L’entrée à modifier est désignée par son identifiant, écrit avec les chiffres 0-9." in response.get_data(
        as_text=True
    )


@pytest.mark.parametrize(
    "path, current",
    [
        ("registrations", "Registrations"),
        ("regions", "Regions"),
        ("entity-types", "Entity types"),
        ("reports/headcount", "Headcount"),
    ],
)
def test_the_session_tabs_mark_the_page_you_are_on(client, login, make_session, path, current):
    meeting = make_session()
    login("organiser")
    html = client.get(f"/sessions/{meeting.slug}/{path}").get_data(as_text=True)
    assert re.findall(r'aria-current="page">([^<]+)</a>', html) == [current]


def test_registrations_are_searched_and_filtered(client, login, make_session, make_registration):
    meeting = make_session()
    make_registration(meeting, full_name="Анна Смирнова", email="anna@example.org")
    make_registration(meeting, full_name="Kofi Mensah", mode=Mode.ONLINE, region=meeting.regions[1])
    make_registration(meeting, full_name="Kofi Annan-Traoré", status=RegistrationStatus.CANCELLED)
    login("organiser")
    base = f"/sessions/{meeting.slug}/registrations"

    def names(query: str) -> set[str]:
        html = client.get(base + query).get_data(as_text=True)
        return {n for n in ("Анна Смирнова", "Kofi Mensah", "Kofi Annan-Traoré") if n in html}

    assert names("") == {"Анна Смирнова", "Kofi Mensah", "Kofi Annan-Traoré"}
    assert names("?q=kofi") == {"Kofi Mensah", "Kofi Annan-Traoré"}
    assert names("?q=ANNA%40") == {"Анна Смирнова"}
    assert names("?q=АННА") == names("?q=Смирнова") == {"Анна Смирнова"}  # SQLite's own lower() is ASCII only
    assert names("?q=TRAORÉ") == {"Kofi Annan-Traoré"}
    assert names("?q=traore") == names("?q=traore%20kofi") == {"Kofi Annan-Traoré"}  # no accents, any order
    assert names("?q=mensah%20traore") == set()
    assert names("?mode=online") == {"Kofi Mensah"}
    assert names(f"?region={meeting.regions[1].id}") == {"Kofi Mensah"}
    assert names("?status=cancelled") == {"Kofi Annan-Traoré"}
    assert names("?q=%25") == set()  # a LIKE wildcard is searched for, not obeyed
    assert names("?page=1") == names("")
    for page in ("2", "abc", "-1", "0", "٣", "99999999999999999999"):  # beyond the last, or no page number at all
        assert client.get(f"{base}?page={page}").status_code == 404, page


def test_csv_export_has_every_registration_and_escapes_formulas(client, login, make_session, make_registration):
    meeting = make_session()
    make_registration(meeting, full_name='=HYPERLINK("http://evil")', organisation="+ROCB")
    make_registration(meeting, full_name="Ana Silva", mode=Mode.ONLINE)
    login("organiser")
    response = client.get(f"/sessions/{meeting.slug}/registrations.csv")
    assert response.headers["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert len(rows) == 2
    by_name = {row["full_name"]: row for row in rows}
    assert by_name['\'=HYPERLINK("http://evil")']["organisation"] == "'+ROCB"
    assert by_name["Ana Silva"]["mode"] == "online"
    assert by_name["Ana Silva"]["country_name"] == "Belgium"
    only_online = client.get(f"/sessions/{meeting.slug}/registrations.csv?mode=online").get_data(as_text=True)
    assert "Ana Silva" in only_online and "HYPERLINK" not in only_online


def test_exports_drop_direction_overrides_that_would_show_a_cell_reversed(
    client, login, make_session, make_registration
):
    """A name with a right-to-left override shows reversed in a spreadsheet cell; a formula hidden behind one is
    still escaped. Arabic letters and the marks Arabic text needs stay."""
    meeting = make_session()
    make_registration(meeting, full_name="Zero\u200bWidth\u202eOLR", organisation="\u2067=SUM(A1)\u2069")
    make_registration(meeting, full_name="ليلى حداد\u200f", email="layla@example.org")
    login("organiser")
    rows = list(
        csv.DictReader(io.StringIO(client.get(f"/sessions/{meeting.slug}/registrations.csv").data.decode("utf-8-sig")))
    )
    names = {row["full_name"]: row for row in rows}
    assert names["Zero\u200bWidthOLR"]["organisation"] == "'=SUM(A1)"
    assert "ليلى حداد\u200f" in names
    sheet = openpyxl.load_workbook(io.BytesIO(client.get(f"/sessions/{meeting.slug}/registrations.xlsx").data)).active
    cells = [cell.value for row in sheet.iter_rows() for cell in row]
    assert "Zero\u200bWidthOLR" in cells and "=SUM(A1)" in cells and not any("\u202e" in str(c) for c in cells)


def test_badge_sheet_prints_four_badges_per_a4_page(client, login, make_session, make_registration):
    meeting = make_session()
    registrations = [make_registration(meeting, full_name=f"Person {n}") for n in range(6)]
    make_registration(meeting, full_name="Cancelled Person", status=RegistrationStatus.CANCELLED)
    login("organiser")
    pdf = export(client, f"/sessions/{meeting.slug}/badges.pdf").data
    assert page_sizes(pdf) == [A4_POINTS] * math.ceil(6 / 4)
    text = pdf_text(pdf)
    assert all(f"Person {n}" in text for n in range(6)) and "Cancelled Person" not in text
    assert sorted(qr_codes(pdf)) == sorted(r.badge_token for r in registrations)


def test_a_badge_sheet_longer_than_a_batch_keeps_every_badge_in_order(
    client, login, make_session, make_registration, monkeypatch
):
    """Sheets are laid out a batch at a time and concatenated, so that memory holds one batch."""
    from attendance.registration import badges

    monkeypatch.setattr(badges, "SHEET_BATCH", 8)
    meeting = make_session()
    registrations = [make_registration(meeting, full_name=f"Person {n:02d}") for n in range(13)]
    login("organiser")
    response = export(client, f"/sessions/{meeting.slug}/badges.pdf")
    assert response.headers["Content-Disposition"].startswith("inline")
    pdf = response.data
    assert page_sizes(pdf) == [A4_POINTS] * 4  # 4 + 4 | 4 + 1: no blank page where the batches meet
    pages = [page.extract_text() for page in PdfReader(io.BytesIO(pdf), strict=True).pages]
    assert [n for n in range(13) if f"Person {n:02d}" in pages[n // 4]] == list(range(13))
    assert sorted(qr_codes(pdf)) == sorted(r.badge_token for r in registrations)


def test_organiser_fixes_a_registration_and_cannot_duplicate_an_email(client, login, make_session, make_registration):
    meeting = make_session()
    registration = make_registration(meeting)
    other = make_registration(meeting)
    login("organiser")
    url = f"/sessions/{meeting.slug}/registrations/{registration.id}"
    form = {
        "full_name": "Corrected Name",
        "email": registration.email,
        "organisation": "RILO WCA",
        "country": "SN",
        "entity_type": str(meeting.entity_types[1].id),
        "region": str(meeting.regions[1].id),
        "mode": "online",
        "role": "chair",
        "csrf_token": csrf_token(client),
    }
    assert client.post(url, data=form).status_code == 302
    db.session.refresh(registration)
    assert (registration.full_name, registration.mode, registration.role, registration.country) == (
        "Corrected Name",
        Mode.ONLINE,
        Role.CHAIR,
        "SN",
    )

    response = client.post(url, data={**form, "email": other.email.upper()})
    assert response.status_code == 400
    assert "already uses this email" in response.get_data(as_text=True)
    db.session.refresh(registration)
    assert registration.email != other.email


def test_cancel_needs_a_reason_and_stops_the_badge(client, login, make_session, make_registration):
    meeting = make_session()
    registration = make_registration(meeting)
    login("organiser")
    base = f"/sessions/{meeting.slug}/registrations/{registration.id}"
    response = client.post(
        base + "/cancel", data={"reason": "", "csrf_token": csrf_token(client)}, follow_redirects=True
    )
    assert "Say why the registration is cancelled." in response.get_data(as_text=True)
    db.session.refresh(registration)
    assert registration.status is RegistrationStatus.REGISTERED

    asked = client.post(base + "/cancel", data={"reason": "Duplicate of #12", "csrf_token": csrf_token(client)})
    assert asked.status_code == 200 and "Yes, cancel the registration" in asked.get_data(as_text=True)
    db.session.refresh(registration)
    assert registration.status is RegistrationStatus.REGISTERED  # not before the organiser confirms
    client.post(
        base + "/cancel", data={"reason": "Duplicate of #12", "confirmed": "yes", "csrf_token": csrf_token(client)}
    )
    db.session.refresh(registration)
    assert registration.status is RegistrationStatus.CANCELLED and registration.cancel_reason == "Duplicate of #12"
    assert client.get(f"/me/{registration.access_key}/badge.pdf").status_code == 403

    client.post(base + "/reinstate", data={"csrf_token": csrf_token(client)})
    db.session.refresh(registration)
    assert registration.status is RegistrationStatus.REGISTERED


def test_reissued_badge_replaces_the_old_token(client, login, make_session, make_registration):
    meeting = make_session()
    registration = make_registration(meeting)
    old_token = registration.badge_token
    login("organiser")
    client.post(
        f"/sessions/{meeting.slug}/registrations/{registration.id}/reissue-badge",
        data={"csrf_token": csrf_token(client)},
    )
    db.session.refresh(registration)
    assert registration.badge_token != old_token
    assert db.session.scalar(sa.select(Registration).filter_by(badge_token=old_token)) is None
    assert qr_codes(client.get(f"/me/{registration.access_key}/badge.pdf").data) == [registration.badge_token]


def test_registration_of_another_session_is_404(client, login, make_session, make_registration):
    meeting, other = make_session(), make_session()
    registration = make_registration(other)
    login("organiser")
    assert client.get(f"/sessions/{meeting.slug}/registrations/{registration.id}").status_code == 404


def test_an_organiser_of_another_session_is_refused(client, login, make_session, make_registration, app_ctx):
    from helpers import PASSWORD

    from attendance.auth import ensure_staff
    from attendance.models import StaffRole

    mine, theirs = make_session(), make_session()
    make_registration(theirs)
    other, _ = ensure_staff("other.organiser@example.org", StaffRole.ORGANISER, PASSWORD)
    theirs.organisers = [other]
    db.session.commit()
    login("organiser")  # runs both test sessions...
    mine.organisers, theirs.organisers = mine.organisers, [other]  # ...until theirs is taken back
    db.session.commit()
    for path in (
        "/registrations",
        "/registrations.csv",
        "/edit",
        "/attendance",
        "/online",
        "/certificates",
        "/reports/headcount",
        "/reports/headcount.xlsx",
        "/imports",
        "/scans",
        "/badges.pdf",
    ):
        assert client.get(f"/sessions/{theirs.slug}{path}").status_code == 403, path
        assert client.get(f"/sessions/{mine.slug}{path}").status_code in (200, 302), path
    assert (
        client.get(f"/api/v1/sessions/{theirs.slug}/headcount", headers={"X-CSRFToken": "unused-for-get"}).status_code
        == 403
    )
    dashboard = client.get("/staff").get_data(as_text=True)
    assert mine.title in dashboard and theirs.title not in dashboard


def test_the_creator_runs_a_new_session_and_can_add_organisers(client, login, app_ctx):
    from helpers import PASSWORD

    from attendance.auth import ensure_staff
    from attendance.models import StaffRole

    colleague, _ = ensure_staff("colleague@example.org", StaffRole.ORGANISER, PASSWORD)
    db.session.commit()
    me = login("organiser")
    client.post("/sessions/new", data=_session_form(client))
    meeting = db.session.scalar(sa.select(MeetingSession).filter_by(slug="global-meeting-21"))
    assert [u.email for u in meeting.organisers] == [me]
    client.post(
        f"/sessions/{meeting.slug}/organisers",
        data={"email": "Colleague@example.org", "csrf_token": csrf_token(client)},
    )
    db.session.refresh(meeting)
    assert sorted(u.email for u in meeting.organisers) == sorted([me, "colleague@example.org"])
    refused = client.post(
        f"/sessions/{meeting.slug}/organisers",
        data={"email": "nobody@example.org", "csrf_token": csrf_token(client)},
        follow_redirects=True,
    )
    assert "No organiser account has the email" in refused.get_data(as_text=True)


def test_user_add_can_name_the_sessions_an_organiser_runs(runner, make_session):
    meeting = make_session()
    result = runner.invoke(
        args=[
            "user",
            "add",
            "chair@example.org",
            "--role",
            "organiser",
            "--password",
            "long enough",
            "--session",
            meeting.slug,
        ]
    )
    assert result.exit_code == 0, result.output
    db.session.refresh(meeting)
    assert "chair@example.org" in [u.email for u in meeting.organisers]
    assert (
        runner.invoke(
            args=[
                "user",
                "add",
                "x@example.org",
                "--role",
                "organiser",
                "--password",
                "long enough",
                "--session",
                "no-such",
            ]
        ).exit_code
        != 0
    )

"""Staff add registrations by one rule: the organiser's page, the desk's walk-in form and the JSON API; the desk's
look-up, reprint and lost badge; cancelling and reissuing ask first and tell the delegate; the secretariat contact."""

import csv
import email
import email.policy
import io
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from helpers import csrf_token
from pdf_tools import qr_codes
from test_cli_and_mail import smtp_server  # noqa: F401  (the local SMTP server, a fixture)

from attendance.api.tokens import create_api_token
from attendance.auth import Actor
from attendance.clock import utcnow
from attendance.extensions import db
from attendance.models import (
    Attendance,
    AuditEvent,
    MeetingSession,
    Registration,
    RegistrationSource,
    RegistrationStatus,
)
from attendance.registration.staff_entry import InvalidEntry, StaffEntry, add_registration
from attendance.reports.headcount import headcount

ORGANISER = Actor("user:901", "organiser@example.org", True)
DOOR = Actor("user:903", "door@example.org", False, frozenset())


def brussels_today():
    return datetime.now(ZoneInfo("Europe/Brussels")).date()


@pytest.fixture
def meeting(make_session):
    """A session running today, taking walk-ins, with a secretariat contact."""
    return make_session(
        first_day=brussels_today(),
        allows_walk_ins=True,
        secretariat_email="secretariat@example.org",
        secretariat_phone="+32 2 209 92 11",
    )


def entry(meeting, **overrides) -> dict:
    values = {
        "full_name": "Ольга Петрова",
        "organisation": "ROCB Europe",
        "country": "BE",
        "entity_type": meeting.entity_types[1].name,
        "region": meeting.regions[0].name,
        "mode": "in_person",
        "email": "",
    }
    values.update(overrides)
    return values


def registrations() -> list[Registration]:
    return db.session.scalars(sa.select(Registration).order_by(Registration.id)).all()


# ---- the rule ----


def test_a_walk_in_is_registered_without_email_and_checked_in_in_one_go(meeting):
    added = add_registration(
        meeting,
        StaffEntry(**entry(meeting)),
        source=RegistrationSource.DESK,
        actor=ORGANISER,
        check_in_now=True,
        door="Desk",
    )
    [registration] = registrations()
    assert (registration.full_name, registration.email, registration.email_key, registration.source) == (
        "Ольга Петрова",
        "",
        None,
        RegistrationSource.DESK,
    )
    assert added.checkin.payload["status"] == "ok"
    [attendance] = db.session.scalars(sa.select(Attendance)).all()
    assert attendance.registration_id == registration.id
    assert headcount(meeting).session.total.counts["attended_in_person"] == 1  # counted like any other
    [event] = db.session.scalars(sa.select(AuditEvent).filter_by(action="registration.add")).all()
    assert event.target == f"registration {registration.id}" and "desk" in event.details


def test_two_walk_ins_without_email_do_not_collide(meeting):
    for name in ("Walk In One", "Walk In Two"):
        add_registration(
            meeting,
            StaffEntry(**entry(meeting, full_name=name)),
            source=RegistrationSource.DESK,
            actor=ORGANISER,
            check_in_now=True,
        )
    assert len(registrations()) == 2


def test_the_public_forms_window_and_seats_do_not_apply(make_session, make_registration):
    closed = make_session(
        first_day=brussels_today(),
        in_person_capacity=1,
        registration_opens_at=utcnow() - timedelta(days=9),
        registration_closes_at=utcnow() - timedelta(days=3),
    )
    make_registration(closed)
    assert closed.registration_state() == "closed"
    add_registration(
        closed,
        StaffEntry(**entry(closed, email="late@example.org")),
        source=RegistrationSource.ORGANISER,
        actor=ORGANISER,
    )
    assert len(registrations()) == 2


def test_a_session_already_over_can_be_recorded_afterwards(make_session):
    past = make_session(first_day=brussels_today() - timedelta(days=60))
    add_registration(
        past,
        StaffEntry(**entry(past, email="zoom.only@example.org", mode="online")),
        source=RegistrationSource.ORGANISER,
        actor=ORGANISER,
    )
    [registration] = registrations()
    assert registration.source is RegistrationSource.ORGANISER


@pytest.mark.parametrize(
    "overrides, field",
    [
        ({"full_name": ""}, "full_name"),
        ({"full_name": "\u200b "}, "full_name"),  # only invisible characters
        ({"full_name": "x" * 201}, "full_name"),
        ({"full_name": "Bad\x07Name"}, "full_name"),
        ({"organisation": ""}, "organisation"),
        ({"country": "XX"}, "country"),
        ({"country": "ＢＥ"}, "country"),  # full-width letters
        ({"entity_type": "No such type"}, "entity_type"),
        ({"region": ""}, "region"),
        ({"mode": "hybrid"}, "mode"),
        ({"email": "not-an-address"}, "email"),
        ({"email": "a@" + "b" * 260 + ".org"}, "email"),
    ],
)
def test_bad_answers_are_refused_per_field_and_change_nothing(meeting, overrides, field):
    with pytest.raises(InvalidEntry) as refused:
        add_registration(
            meeting,
            StaffEntry(**entry(meeting, **overrides)),
            source=RegistrationSource.DESK,
            actor=ORGANISER,
            check_in_now=True,
        )
    assert field in refused.value.errors
    assert registrations() == [] and db.session.scalar(sa.select(sa.func.count(AuditEvent.id))) == 0


def test_another_sessions_entity_type_is_refused(meeting, make_session):
    other = make_session()
    other.entity_types[0].name = "Only in the other session"
    db.session.commit()
    with pytest.raises(InvalidEntry) as refused:
        add_registration(
            meeting,
            StaffEntry(**entry(meeting, entity_type="Only in the other session")),
            source=RegistrationSource.DESK,
            actor=ORGANISER,
            check_in_now=True,
        )
    assert set(refused.value.errors) == {"entity_type"}


def test_door_staff_need_an_email_unless_the_person_is_checked_in_now(meeting):
    with pytest.raises(InvalidEntry) as refused:
        add_registration(meeting, StaffEntry(**entry(meeting)), source=RegistrationSource.DESK, actor=DOOR)
    assert set(refused.value.errors) == {"email"} and registrations() == []


def test_an_organiser_records_someone_seen_only_online_without_an_email(meeting, smtp_server):  # noqa: F811
    added = add_registration(
        meeting, StaffEntry(**entry(meeting, mode="online")), source=RegistrationSource.ORGANISER, actor=ORGANISER
    )
    [registration] = registrations()
    assert (registration.email, registration.email_key, added.checkin) == ("", None, None)
    assert not smtp_server.received.wait(0.5)  # nobody to mail


def test_an_organiser_of_another_session_still_needs_an_email(meeting):
    other_organiser = Actor("user:902", "other@example.org", True, frozenset({meeting.id + 1}))
    with pytest.raises(InvalidEntry) as refused:
        add_registration(
            meeting, StaffEntry(**entry(meeting)), source=RegistrationSource.ORGANISER, actor=other_organiser
        )
    assert set(refused.value.errors) == {"email"}


def test_a_duplicate_email_is_refused(meeting, make_registration):
    taken = make_registration(meeting, email="Taken@Example.org")
    with pytest.raises(InvalidEntry) as refused:
        add_registration(
            meeting,
            StaffEntry(**entry(meeting, email="taken@example.org")),
            source=RegistrationSource.ORGANISER,
            actor=ORGANISER,
        )
    assert set(refused.value.errors) == {"email"} and registrations() == [taken]


def test_nobody_is_checked_in_on_a_day_that_is_not_a_meeting_day(make_session):
    later = make_session(allows_walk_ins=True)  # starts in 30 days
    with pytest.raises(InvalidEntry) as refused:
        add_registration(
            later, StaffEntry(**entry(later)), source=RegistrationSource.DESK, actor=ORGANISER, check_in_now=True
        )
    assert set(refused.value.errors) == {"check_in"} and registrations() == []


# ---- the JSON API ----


def api_post(client, meeting, body, token=None):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return client.post(f"/api/v1/sessions/{meeting.slug}/registrations", json=body, headers=headers)


def test_api_registers_and_checks_in_a_walk_in_with_a_door_token(client, meeting):
    token = create_api_token("Desk laptop")[1]
    response = api_post(client, meeting, entry(meeting) | {"check_in": True}, token)
    assert response.status_code == 201, response.get_json()
    answer = response.get_json()
    [registration] = registrations()
    assert (answer["id"], answer["full_name"], answer["status"]) == (registration.id, "Ольга Петрова", "registered")
    assert answer["checkin"]["status"] == "ok" and registration.source is RegistrationSource.DESK
    assert answer["badge_pdf"].endswith(f"/sessions/{meeting.slug}/registrations/{registration.id}/badge.pdf")


def test_api_refuses_door_staff_where_walk_ins_are_off(client, make_session):
    meeting = make_session(first_day=brussels_today())
    token = create_api_token("Desk laptop")[1]
    response = api_post(client, meeting, entry(meeting) | {"check_in": True}, token)
    assert response.status_code == 403 and registrations() == []


def test_api_lets_an_organiser_token_add_with_email(client, make_session, smtp_server, app):  # noqa: F811
    meeting = make_session()
    token = create_api_token("Secretariat", organiser=True)[1]
    response = api_post(client, meeting, entry(meeting, email="olga@example.org"), token)
    assert response.status_code == 201 and response.get_json()["checkin"] is None
    assert registrations()[0].source is RegistrationSource.ORGANISER
    assert smtp_server.received.wait(5)
    assert smtp_server.messages[0].rcpt_tos == ["olga@example.org"]


def test_api_lets_an_organiser_token_add_without_email(client, make_session):
    meeting = make_session(first_day=brussels_today() - timedelta(days=3))
    token = create_api_token("Secretariat", organiser=True)[1]
    response = api_post(client, meeting, entry(meeting, mode="online"), token)
    assert response.status_code == 201, response.get_json()
    assert registrations()[0].email == "" and response.get_json()["checkin"] is None


def test_api_door_token_needs_an_email_unless_checking_in(client, meeting):
    token = create_api_token("Desk laptop")[1]
    response = api_post(client, meeting, entry(meeting), token)
    assert response.status_code == 422 and set(response.get_json()["errors"]) == {"email"}
    assert registrations() == []


@pytest.mark.parametrize(
    "body, field",
    [
        ({"full_name": 12}, "full_name"),
        ({"full_name": None}, "full_name"),
        ({"entity_type": ["x"]}, "entity_type"),
        ({"check_in": "yes"}, "check_in"),
        ({"country": "B\x00"}, "country"),
        ({"email": "taken@example.org"}, "email"),
    ],
)
def test_api_answers_422_with_a_reason_per_field(client, meeting, make_registration, body, field):
    make_registration(meeting, email="taken@example.org")
    token = create_api_token("Secretariat", organiser=True)[1]
    response = api_post(client, meeting, entry(meeting) | {"check_in": True} | body, token)
    assert response.status_code == 422
    assert field in response.get_json()["errors"]
    assert len(registrations()) == 1


def test_api_names_every_wrong_field_at_once(client, meeting):
    """Wrong types and wrong values together: one answer lists them all, not only the types."""
    token = create_api_token("Secretariat", organiser=True)[1]
    body = {
        "full_name": 123,
        "organisation": None,
        "country": "XX",
        "entity_type": "Nope",
        "region": 5,
        "mode": "hybrid",
        "email": "bad",
        "check_in": "yes",
    }
    response = api_post(client, meeting, body, token)
    assert response.status_code == 422
    errors = response.get_json()["errors"]
    assert set(errors) == {"full_name", "organisation", "country", "entity_type", "region", "mode", "email", "check_in"}
    assert errors["full_name"] == "Must be a string." and errors["country"].startswith("Choose a country")
    assert registrations() == []


def test_api_refuses_a_logged_in_browser_without_the_csrf_token(client, login, meeting):
    login("door")
    response = api_post(client, meeting, entry(meeting) | {"check_in": True})
    assert response.status_code == 400 and registrations() == []


def test_api_refuses_anonymous_callers(client, meeting):
    assert api_post(client, meeting, entry(meeting) | {"check_in": True}).status_code == 401


# ---- the desk page ----


def test_desk_walk_in_form_checks_in_and_opens_the_badge(client, login, meeting):
    login("door")
    url = f"/sessions/{meeting.slug}/desk/walk-in"
    response = client.post(url, data=entry(meeting) | {"csrf_token": csrf_token(client, url)})
    assert response.status_code == 302
    [registration] = registrations()
    assert registration.source is RegistrationSource.DESK
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Checked in today at" in page and f"/registrations/{registration.id}/badge.pdf" in page
    badge = client.get(f"/sessions/{meeting.slug}/registrations/{registration.id}/badge.pdf")
    assert badge.status_code == 200 and qr_codes(badge.data) == [registration.badge_token]
    assert db.session.scalar(sa.select(sa.func.count(Attendance.id))) == 1


def test_desk_walk_in_form_shows_reasons_and_changes_nothing(client, login, meeting):
    login("door")
    url = f"/sessions/{meeting.slug}/desk/walk-in"
    response = client.post(
        url, data=entry(meeting, full_name="", entity_type="Forged") | {"csrf_token": csrf_token(client, url)}
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "Enter the person&#39;s full name." in page and "this session&#39;s entity types" in page
    assert registrations() == []


def test_desk_walk_in_form_refuses_a_forged_csrf_token(client, login, meeting):
    login("door")
    response = client.post(f"/sessions/{meeting.slug}/desk/walk-in", data=entry(meeting) | {"csrf_token": "forged"})
    assert response.status_code == 400 and registrations() == []


def test_desk_has_no_walk_in_form_where_walk_ins_are_off(client, login, make_session):
    meeting = make_session(first_day=brussels_today())
    login("door")
    assert client.get(f"/sessions/{meeting.slug}/desk/walk-in").status_code == 403
    assert "Register a walk-in" not in client.get(f"/sessions/{meeting.slug}/desk").get_data(as_text=True)


def test_desk_finds_a_delegate_and_reprints_the_same_badge(client, login, meeting, make_registration):
    registration = make_registration(meeting, full_name="Amélie Dubois")
    login("door")
    page = client.get(f"/sessions/{meeting.slug}/desk?q=amelie").get_data(as_text=True)
    assert "Amélie Dubois" in page and f"/desk/people/{registration.id}" in page
    badge = client.get(f"/sessions/{meeting.slug}/registrations/{registration.id}/badge.pdf")
    assert qr_codes(badge.data) == [registration.badge_token]
    assert db.session.scalar(sa.select(AuditEvent.action)) == "registration.reprint_badge"
    short = client.get(f"/sessions/{meeting.slug}/desk?q=am").get_data(as_text=True)
    assert "at least 3 characters" in short


def test_desk_reprint_of_another_sessions_registration_is_404(client, login, meeting, make_session, make_registration):
    stranger = make_registration(make_session())
    login("door")
    assert client.get(f"/sessions/{meeting.slug}/registrations/{stranger.id}/badge.pdf").status_code == 404


def test_lost_badge_asks_first_then_reissues_audits_and_mails(client, login, meeting, make_registration, smtp_server):  # noqa: F811
    registration = make_registration(meeting, email="amelie@example.org")
    old_token = registration.badge_token
    login("door")
    url = f"/sessions/{meeting.slug}/desk/people/{registration.id}/new-badge"
    assert "Yes, issue a new badge" in client.get(url).get_data(as_text=True)
    db.session.refresh(registration)
    assert registration.badge_token == old_token  # asking changes nothing
    client.post(url, data={"csrf_token": csrf_token(client, url)})
    db.session.refresh(registration)
    assert registration.badge_token != old_token
    assert db.session.scalar(sa.select(AuditEvent.action)) == "registration.reissue_badge"
    assert smtp_server.received.wait(5)
    message = email.message_from_bytes(smtp_server.messages[0].content, policy=email.policy.default)
    assert message["To"] == "amelie@example.org" and "new badge" in message["Subject"]
    [attachment] = [part for part in message.iter_attachments()]
    assert qr_codes(attachment.get_content()) == [registration.badge_token]


def test_door_staff_may_not_export(client, login, meeting):
    login("door")
    assert client.get(f"/sessions/{meeting.slug}/registrations.csv").status_code == 403


def test_scanner_page_links_to_the_desk(client, login, meeting):
    login("door")
    assert f"/sessions/{meeting.slug}/desk" in client.get(f"/sessions/{meeting.slug}/checkin").get_data(as_text=True)


# ---- the organiser's pages ----


def test_organiser_adds_a_registration_after_the_meeting(client, login, make_session):
    past = make_session(first_day=brussels_today() - timedelta(days=10))
    login("organiser")
    url = f"/sessions/{past.slug}/registrations/new"
    response = client.post(
        url, data=entry(past, email="late@example.org", mode="online") | {"csrf_token": csrf_token(client, url)}
    )
    assert response.status_code == 302
    [registration] = registrations()
    assert registration.source is RegistrationSource.ORGANISER
    listing = client.get(f"/sessions/{past.slug}/registrations").get_data(as_text=True)
    assert "Added by an organiser" in listing
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "source: Added by an organiser" in page


def test_organiser_adds_someone_seen_only_on_zoom_without_an_email_after_the_meeting(client, login, make_session):
    past = make_session(first_day=brussels_today() - timedelta(days=10))
    login("organiser")
    url = f"/sessions/{past.slug}/registrations/new"
    form = client.get(url).get_data(as_text=True)
    assert "Email (optional: without one, the person gets no mail)" in form and "they get no mail at all" in form
    response = client.post(url, data=entry(past, mode="online") | {"csrf_token": csrf_token(client, url)})
    assert response.status_code == 302
    [registration] = registrations()
    assert (registration.email, registration.mode.value) == ("", "online")
    assert "No email address: they get no mail." in client.get(response.headers["Location"]).get_data(as_text=True)


def test_organiser_add_form_still_refuses_a_bad_email(client, login, meeting):
    login("organiser")
    url = f"/sessions/{meeting.slug}/registrations/new"
    response = client.post(url, data=entry(meeting, email="not an address") | {"csrf_token": csrf_token(client, url)})
    assert response.status_code == 400 and "Enter a valid email address" in response.get_data(as_text=True)
    assert registrations() == []


def test_cancelling_asks_first_and_mails_a_notice_with_the_secretariat(
    client, login, meeting, make_registration, smtp_server
):  # noqa: F811
    registration = make_registration(meeting, email="amelie@example.org")
    login("organiser")
    url = f"/sessions/{meeting.slug}/registrations/{registration.id}/cancel"
    asked = client.post(url, data={"reason": "Registered twice", "csrf_token": csrf_token(client)})
    assert "Yes, cancel the registration" in asked.get_data(as_text=True) and not smtp_server.messages
    client.post(url, data={"reason": "Registered twice", "confirmed": "yes", "csrf_token": csrf_token(client)})
    db.session.refresh(registration)
    assert registration.status is RegistrationStatus.CANCELLED
    assert smtp_server.received.wait(5)
    message = email.message_from_bytes(smtp_server.messages[0].content, policy=email.policy.default)
    body = message.get_body(("plain",)).get_content()
    assert "cancelled" in message["Subject"] and "Registered twice" in body
    assert "secretariat@example.org" in body and "+32 2 209 92 11" in body
    assert not list(message.iter_attachments())


def test_reissuing_asks_first_and_mails_the_new_badge(client, login, meeting, make_registration, smtp_server):  # noqa: F811
    registration = make_registration(meeting, email="amelie@example.org")
    old_token = registration.badge_token
    login("organiser")
    url = f"/sessions/{meeting.slug}/registrations/{registration.id}/reissue-badge"
    assert "Yes, issue a new badge" in client.get(url).get_data(as_text=True)
    client.post(url, data={"csrf_token": csrf_token(client)})
    db.session.refresh(registration)
    assert registration.badge_token != old_token
    assert smtp_server.received.wait(5)
    message = email.message_from_bytes(smtp_server.messages[0].content, policy=email.policy.default)
    [attachment] = list(message.iter_attachments())
    assert qr_codes(attachment.get_content()) == [registration.badge_token]


# ---- the secretariat contact ----


def test_delegate_pages_show_the_secretariat_contact(client, meeting, make_registration):
    registration = make_registration(meeting)
    page = client.get(f"/me/{registration.access_key}").get_data(as_text=True)
    assert "mailto:secretariat@example.org" in page and "+32 2 209 92 11" in page


@pytest.mark.parametrize(
    "email_value, phone, message",
    [
        ("not-an-address", "", "Enter a valid email address"),
        ("secretariat@example.org", "+32 ٢٠٩ 92 11", "digits 0-9"),  # Arabic-Indic digits
        ("secretariat@example.org", "call us", "digits 0-9"),
        ("secretariat@example.org", "1" * 41, "at most 40"),
    ],
)
def test_session_form_validates_the_secretariat_contact(client, login, email_value, phone, message):
    from test_organiser import _session_form

    login("organiser")
    response = client.post(
        "/sessions/new", data=_session_form(client, secretariat_email=email_value, secretariat_phone=phone)
    )
    assert response.status_code == 400 and message in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count(MeetingSession.id))) == 0


def test_session_form_saves_the_contact_and_the_walk_in_setting(client, login):
    from test_organiser import _session_form

    login("organiser")
    response = client.post(
        "/sessions/new",
        data=_session_form(
            client, secretariat_email="sec@example.org", secretariat_phone="+32 (2) 209-92.11", allows_walk_ins="y"
        ),
    )
    assert response.status_code == 302
    meeting = db.session.scalar(sa.select(MeetingSession))
    assert (meeting.secretariat_email, meeting.secretariat_phone, meeting.allows_walk_ins) == (
        "sec@example.org",
        "+32 (2) 209-92.11",
        True,
    )
    assert db.session.scalar(sa.select(MeetingSession)).allows_walk_ins
    assert not make_default_session_allow_walk_ins()


def make_default_session_allow_walk_ins() -> bool:
    from attendance.models import MeetingSession as Model

    return Model.__table__.c.allows_walk_ins.default.arg  # off unless an organiser turns it on


# ---- CSV downloads open right in Excel ----


@pytest.mark.parametrize("path", ["/registrations.csv", "/reports/headcount.csv"])
def test_csv_downloads_start_with_a_bom_and_keep_any_script(client, login, meeting, make_registration, path):
    make_registration(meeting, full_name="Ольга Петрова", organisation="=cmd|' /C calc'!A0")
    make_registration(meeting, full_name="فاطمة الزهراء")
    meeting.entity_types[0].name = "Регіональний офіс"
    db.session.commit()
    login("organiser")
    body = client.get(f"/sessions/{meeting.slug}{path}").data
    assert body.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    text = "\n".join(",".join(row) for row in rows)
    if path == "/registrations.csv":
        assert rows[0][0] == "id" and rows[0][-1] == "source"
        assert {"Ольга Петрова", "فاطمة الزهراء"} <= {row[1] for row in rows}
        assert "'=cmd|' /C calc'!A0" in text  # still formula-escaped
        assert {row[-1] for row in rows[1:]} == {"form"}
    else:
        assert "Регіональний офіс" in text


def test_the_migration_marks_existing_registrations_as_from_the_form_and_goes_back(tmp_path):
    from test_registration import database_before

    with database_before(
        "ea83f5909e5d", tmp_path, [dict(full_name="Old", email="old@example.org", email_key="old@example.org")]
    ) as (upgrade, downgrade):
        upgrade()
        assert db.session.execute(sa.text("SELECT source FROM registrations")).scalars().all() == ["form"]
        # a walk-in without an address, then the way back: its key gets a placeholder, nothing is lost
        db.session.execute(sa.text("UPDATE registrations SET email = '', email_key = NULL"))
        db.session.commit()
        downgrade(revision="ea83f5909e5d")
        keys = db.session.execute(sa.text("SELECT email_key FROM registrations")).scalars().all()
        counts = [
            db.session.scalar(sa.text(f"SELECT count(*) FROM {table}"))
            for table in ("registrations", "attendances", "certificates", "scan_events")
        ]
    assert keys[0].startswith("no-email-") and counts == [1, 1, 1, 1]


def test_certificate_mailing_skips_a_walk_in_without_an_address(app, make_session, make_registration):
    from attendance.certificates.mailing import email_certificates
    from attendance.models import Mode, Source

    finished = make_session(first_day=utcnow().date() - timedelta(days=8))
    walk_in = make_registration(finished, email="")
    db.session.add(Attendance(registration=walk_in, day=finished.days[0], mode=Mode.IN_PERSON, source=Source.MANUAL))
    db.session.commit()
    from attendance import transaction

    job = email_certificates(finished)
    transaction.commit()  # as the request that asked for it: the job starts then
    db.session.refresh(job)
    assert job.status.value == "done" and job.summary.startswith("0 sent.")
    assert "1 registered without an email address" in job.summary


def test_session_api_says_whether_walk_ins_are_allowed(client, meeting):
    token = create_api_token("Desk laptop")[1]
    answer = client.get(f"/api/v1/sessions/{meeting.slug}", headers={"Authorization": f"Bearer {token}"}).get_json()
    assert answer["allows_walk_ins"] is True


def test_organiser_edits_a_walk_in_who_has_no_email(client, login, meeting, make_registration):
    walk_in = make_registration(meeting, email="", source=RegistrationSource.DESK)
    someone = make_registration(meeting)
    login("organiser")
    url = f"/sessions/{meeting.slug}/registrations/{walk_in.id}"
    data = {
        "full_name": walk_in.full_name,
        "email": "",
        "organisation": "RILO Western Europe",
        "country": "BE",
        "entity_type": str(meeting.entity_types[0].id),
        "region": str(meeting.regions[0].id),
        "mode": "in_person",
        "role": "delegate",
        "csrf_token": csrf_token(client, url),
    }
    assert client.post(url, data=data).status_code == 302
    db.session.refresh(walk_in)
    assert walk_in.organisation == "RILO Western Europe" and walk_in.email_key is None
    other = f"/sessions/{meeting.slug}/registrations/{someone.id}"  # one who has an address must keep one
    response = client.post(other, data=data | {"csrf_token": csrf_token(client, other)})
    assert response.status_code == 400


@pytest.mark.parametrize(
    "method, path",
    [
        ("GET", "/desk"),
        ("GET", "/desk/walk-in"),
        ("POST", "/desk/walk-in"),
        ("GET", "/desk/people/{id}"),
        ("GET", "/desk/people/{id}/new-badge"),
        ("POST", "/desk/people/{id}/new-badge"),
        ("GET", "/registrations/{id}/badge.pdf"),
    ],
)
def test_desk_pages_send_anonymous_users_to_login(client, meeting, make_registration, method, path):
    registration = make_registration(meeting)
    response = client.open(
        f"/sessions/{meeting.slug}" + path.format(id=registration.id),
        method=method,
        data={"csrf_token": csrf_token(client)},
    )
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")


@pytest.mark.parametrize(
    "path", ["/registrations/new", "/registrations/{id}/cancel", "/registrations/{id}/reissue-badge"]
)
def test_organiser_changes_refuse_a_forged_csrf_token(client, login, meeting, make_registration, path):
    registration = make_registration(meeting)
    token = registration.badge_token
    login("organiser")
    response = client.post(
        f"/sessions/{meeting.slug}" + path.format(id=registration.id),
        data=entry(meeting, email="x@example.org") | {"reason": "r", "confirmed": "yes", "csrf_token": "forged"},
    )
    assert response.status_code == 400
    db.session.refresh(registration)
    assert registrations() == [registration] and registration.badge_token == token and not registration.is_cancelled

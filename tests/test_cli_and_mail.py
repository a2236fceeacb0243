"""The command line (staff accounts, demo data) and mail over a real SMTP server."""

import email
import email.policy
import threading
import unicodedata
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from aiosmtpd.controller import Controller
from helpers import csrf_token, free_port, registration_form

from attendance.extensions import db
from attendance.models import (
    Attendance,
    MeetingSession,
    Mode,
    Registration,
    RegistrationStatus,
    Role,
    ScanEvent,
    ScanResult,
    StaffRole,
    StaffUser,
)


def test_user_add_creates_a_staff_account_that_can_log_in(runner, client, app_ctx):
    result = runner.invoke(
        args=["user", "add", "Chief@Example.org", "--role", "organiser", "--password", "a long password"]
    )
    assert result.exit_code == 0, result.output
    user = db.session.scalar(sa.select(StaffUser))
    assert (user.email, user.role) == ("chief@example.org", StaffRole.ORGANISER)
    assert "a long password" not in user.password_hash
    response = client.post(
        "/login", data={"email": "chief@example.org", "password": "a long password", "csrf_token": csrf_token(client)}
    )
    assert response.headers["Location"] == "/staff"


@pytest.mark.parametrize(
    "args, message",
    [
        (["user", "add", "door@example.org", "--role", "admin", "--password", "long enough"], "admin"),
        (["user", "add", "not-an-email", "--role", "door", "--password", "long enough"], "email"),
        (["user", "add", "door@example.org", "--role", "door", "--password", "short"], "8 characters"),
    ],
)
def test_user_add_refuses_bad_input(runner, app_ctx, args, message):
    result = runner.invoke(args=args)
    assert result.exit_code != 0
    assert message in result.output
    assert db.session.scalar(sa.select(sa.func.count(StaffUser.id))) == 0


def test_seed_demo_is_idempotent_and_realistic(runner, app_ctx):
    first = runner.invoke(args=["seed-demo"])
    assert first.exit_code == 0, first.output
    assert "organiser@example.org / demo-organiser" in first.output
    count = db.session.scalar(sa.select(sa.func.count(Registration.id)))
    assert runner.invoke(args=["seed-demo"]).exit_code == 0
    assert db.session.scalar(sa.select(sa.func.count(Registration.id))) == count

    past = db.session.scalar(sa.select(MeetingSession).filter_by(slug="global-meeting-19"))
    assert [d.date.isoformat() for d in past.days] == ["2024-02-19", "2024-02-20"]
    assert past.timezone == "Europe/Brussels"
    people = db.session.scalars(sa.select(Registration).filter_by(session_id=past.id)).all()
    assert 165 <= len(people) <= 180
    assert all(p.email.endswith("@example.org") for p in people)
    assert {p.entity_type.name for p in people} == {t.name for t in past.entity_types}
    assert len({p.region_id for p in people}) == 6
    assert {Mode.IN_PERSON, Mode.ONLINE} <= {p.mode for p in people}
    assert {Role.CHAIR, Role.VICE_CHAIR} <= {p.role for p in people}
    assert any(p.status is RegistrationStatus.CANCELLED for p in people)
    scripts = {unicodedata.name(ch).split()[0] for p in people for ch in p.full_name if ch.isalpha()}
    assert {"LATIN", "CYRILLIC", "ARABIC", "CJK"} <= scripts
    assert len({p.full_name for p in people}) == len(people)  # made-up people, each their own name
    for person in people:  # a Korean name is Hangul alone, never a Chinese or Japanese family name with it
        kinds = {unicodedata.name(ch).split()[0] for ch in person.full_name if ch.isalpha()}
        assert not ("HANGUL" in kinds and kinds & {"CJK", "HIRAGANA", "KATAKANA"}), person.full_name

    # Door check-ins on both days: most in-person delegates, not all; one online registrant walked in.
    in_person = [p for p in people if p.mode is Mode.IN_PERSON and p.status is RegistrationStatus.REGISTERED]
    for day in past.days:
        came = db.session.scalars(sa.select(Attendance).filter_by(day_id=day.id, mode=Mode.IN_PERSON)).all()
        assert 0.75 * len(in_person) < len(came) < len(in_person)
        assert {a.recorded_by for a in came} == {"door1@example.org", "door2@example.org"}
    walked_in = db.session.scalars(
        sa.select(Attendance)
        .join(Registration)
        .where(Registration.session_id == past.id, Registration.mode == Mode.ONLINE, Attendance.mode == Mode.IN_PERSON)
    ).all()
    assert len(walked_in) == 1 and walked_in[0].mode is Mode.IN_PERSON
    assert db.session.scalar(sa.select(sa.func.count(ScanEvent.id)).filter_by(result=ScanResult.INVALID)) > 0

    # Online on both days: platform intervals (some rejoined), clicks alone, one unmatched guest.
    from attendance.models import OnlineInterval, UnmatchedPresence
    from attendance.online.service import online_day

    for day in past.days:
        rows = online_day(past, day)
        assert any(r.link_only for r in rows) and any(len(r.attendance.intervals) > 1 for r in rows)
        assert any(r.minutes.minutes > 400 for r in rows) and any(0 < r.minutes.minutes < 60 for r in rows)
    assert db.session.scalar(sa.select(sa.func.count(OnlineInterval.id))) > 50
    assert {u.display_name for u in db.session.scalars(sa.select(UnmatchedPresence))} == {"Guest (iPhone)"}

    upcoming = db.session.scalar(sa.select(MeetingSession).filter_by(slug="global-meeting-20"))
    assert upcoming.registration_state() == "open"


class _Inbox:
    def __init__(self):
        self.messages, self.received = [], threading.Event()

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(envelope)
        self.received.set()
        return "250 OK"


@pytest.fixture
def smtp_server(app):
    inbox = _Inbox()
    port = free_port()  # aiosmtpd checks its own port with a connection, so 0 won't do
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    saved = {k: app.config[k] for k in ("SMTP_HOST", "SMTP_PORT", "SMTP_STARTTLS")}
    app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=port, SMTP_STARTTLS=False)
    yield inbox
    app.config.update(saved)
    controller.stop()


def test_confirmation_goes_out_over_smtp_when_configured(app, client, make_session, smtp_server):
    meeting = make_session()
    url = f"/sessions/{meeting.slug}/register"
    response = client.post(url, data=registration_form(meeting, full_name="王伟", csrf_token=csrf_token(client, url)))
    assert response.status_code == 302
    assert smtp_server.received.wait(5)
    [envelope] = smtp_server.messages
    assert envelope.rcpt_tos == ["amelie.dubois@example.org"]
    raw = envelope.content.decode()
    assert "badge.pdf" in raw
    message = email.message_from_string(raw, policy=email.policy.default)
    assert abs((message["Date"].datetime - datetime.now(UTC)).total_seconds()) < 60
    assert message["Message-ID"].endswith("@example.org>")  # the sender's domain (MAIL_FROM)
    registration = db.session.scalar(sa.select(Registration))
    assert registration.access_key in raw.replace("=\r\n", "")


def test_registration_stands_when_the_mail_server_is_down(app, client, make_session):
    meeting = make_session()
    app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=1, SMTP_STARTTLS=False)
    try:
        url = f"/sessions/{meeting.slug}/register"
        response = client.post(url, data=registration_form(meeting, csrf_token=csrf_token(client, url)))
    finally:
        app.config.update(SMTP_HOST="")
    assert response.status_code == 302
    assert db.session.scalar(sa.select(sa.func.count(Registration.id))) == 1
    page = client.get(response.headers["Location"]).get_data(as_text=True)  # told to keep the link themselves
    assert "Your confirmation email is delayed" in page  # told to keep the link themselves


def test_a_sender_with_an_internationalised_domain_gets_an_ascii_message_id(app, monkeypatch):
    from attendance.mail import build_message

    monkeypatch.setitem(app.config, "MAIL_FROM", "Secrétariat <noreply@münchen.de>")
    with app.app_context():
        message = build_message("a@example.org", "Subject", "Body")
    assert message["Message-ID"].endswith("@xn--mnchen-3ya.de>") and bytes(message).isascii()

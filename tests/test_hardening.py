"""Hardening: lock-out, audit log, confirmed deletion, production settings, privacy, and no 500s on junk."""

import io
import json
import os
import re
import subprocess
import sys
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from flask import g
from helpers import PASSWORD, csrf_token
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from attendance.auth import ensure_staff
from attendance.clock import utcnow
from attendance.extensions import db
from attendance.models import (
    Attendance,
    AuditEvent,
    Certificate,
    LoginFailure,
    MeetingSession,
    Message,
    Mode,
    OnlineInterval,
    OutboxMail,
    Registration,
    ReportImport,
    Role,
    Source,
    StaffRole,
    StaffUser,
)
from attendance.reports.headcount import headcount


def _login(client, email, password):
    return client.post("/login", data={"email": email, "password": password, "csrf_token": csrf_token(client)})


def _as_another_client() -> None:
    """The test's app context outlives requests: what Flask-WTF and Flask-Login cache in `g` for one client is
    not another's."""
    g.pop("csrf_token", None)
    g.pop("_login_user", None)


def _login_from(client, address, email, password):
    _as_another_client()
    return client.post(
        "/login",
        data={"email": email, "password": password, "csrf_token": csrf_token(client)},
        environ_base={"REMOTE_ADDR": address},
    )


def test_five_failed_logins_pause_that_client_only_so_a_stranger_cannot_lock_door_staff_out(client, app, app_ctx):
    ensure_staff("door9@example.org", StaffRole.DOOR, PASSWORD)
    db.session.commit()
    for _ in range(5):
        refused = _login_from(client, "203.0.113.9", "door9@example.org", "guess").get_data(as_text=True)
        assert "Wrong email or password." in refused
    locked = _login_from(client, "203.0.113.9", "door9@example.org", PASSWORD)
    assert locked.status_code == 200 and "Too many failed attempts from this device" in locked.get_data(as_text=True)
    # The door staff member, on their own phone, logs in as usual.
    assert _login_from(app.test_client(), "198.51.100.7", "door9@example.org", PASSWORD).status_code == 302

    failures = db.session.scalar(sa.select(LoginFailure).filter_by(email="door9@example.org", address="203.0.113.9"))
    failures.locked_until = utcnow() - timedelta(seconds=1)
    db.session.commit()
    assert _login_from(client, "203.0.113.9", "door9@example.org", PASSWORD).status_code == 302


def test_an_unknown_email_gets_the_same_answer_and_the_same_work_as_a_wrong_password(client, app, app_ctx, monkeypatch):
    import attendance.auth as auth

    ensure_staff("door10@example.org", StaffRole.DOOR, PASSWORD)
    db.session.commit()
    checked = []
    real_check = auth.check_password_hash
    monkeypatch.setattr(auth, "check_password_hash", lambda *args: checked.append(args) or real_check(*args))

    def answer(email: str) -> str:
        _as_another_client()
        page = _login_from(app.test_client(), "192.0.2.1", email, "guess").get_data(as_text=True)
        return re.sub(r'(name="csrf_token"[^>]*value=")[^"]+', r"\1", page.replace(email, "EMAIL"))

    assert answer("door10@example.org") == answer("nobody@example.org")
    assert len(checked) == 2  # a password hash was checked for the unknown address too
    for _ in range(5):
        _login_from(client, "192.0.2.1", "nobody@example.org", "guess")
    assert "Too many failed attempts" in _login_from(client, "192.0.2.1", "nobody@example.org", "x").get_data(
        as_text=True
    )  # unknown addresses pause alike: the pause does not tell which accounts exist


def test_login_and_pause_messages_are_translated(client, app_ctx):
    french = {"Accept-Language": "fr"}
    page = client.post(
        "/login", headers=french, data={"email": "x@example.org", "password": "guess", "csrf_token": csrf_token(client)}
    ).get_data(as_text=True)
    assert "Adresse e-mail ou mot de passe incorrect." in page and "Connexion du personnel" in page
    for _ in range(5):
        client.post(
            "/login",
            headers=french,
            data={"email": "x@example.org", "password": "guess", "csrf_token": csrf_token(client)},
        )
    assert "Trop de tentatives" in client.post(
        "/login", headers=french, data={"email": "x@example.org", "password": "guess", "csrf_token": csrf_token(client)}
    ).get_data(as_text=True)
    asked = client.get("/staff", headers=french, follow_redirects=True).get_data(as_text=True)
    assert "Connectez-vous avec un compte du personnel pour voir cette page." in asked


def test_logout_ends_the_session_everywhere_even_for_a_saved_cookie(app, client, login):
    email = login("organiser")
    version = db.session.scalar(sa.select(StaffUser.session_version).filter_by(email=email))
    other_device = app.test_client()
    for cookie in client._cookies.values():  # the same login cookie, copied before the logout
        other_device.set_cookie(cookie.key, cookie.value, domain=cookie.domain)
    _as_another_client()
    assert other_device.get("/staff").status_code == 200
    _as_another_client()
    client.post("/logout", data={"csrf_token": csrf_token(client, "/staff")})
    _as_another_client()
    replayed = other_device.get("/staff")
    assert replayed.status_code == 302 and replayed.headers["Location"].startswith("/login")
    db.session.expire_all()
    assert db.session.scalar(sa.select(StaffUser.session_version).filter_by(email=email)) == version + 1


def test_a_password_change_ends_other_sessions_and_keeps_this_one(app, client, login):
    email = login("door")
    other_device = app.test_client()
    assert _login_from(other_device, "192.0.2.5", email, PASSWORD).status_code == 302
    url = "/account/password"

    def change(current: str, new: str, confirm: str | None = None, token: str | None = None):
        _as_another_client()
        return client.post(
            url,
            follow_redirects=True,
            data={
                "current_password": current,
                "new_password": new,
                "confirm": new if confirm is None else confirm,
                "csrf_token": token or csrf_token(client, url),
            },
        )

    def still_in(device, address: str = "127.0.0.1") -> bool:
        _as_another_client()
        return device.get("/checkin", environ_base={"REMOTE_ADDR": address}).status_code == 200

    wrong = change("nope", "a new long passphrase")
    assert wrong.status_code == 400 and "That is not your current password." in wrong.get_data(as_text=True)
    short = change(PASSWORD, "short")
    assert short.status_code == 400 and "Use from 12 to 200 characters." in short.get_data(as_text=True)
    differ = change(PASSWORD, "a new long passphrase", "another long passphrase")
    assert differ.status_code == 400 and "The two new passwords differ." in differ.get_data(as_text=True)
    assert change(PASSWORD, "a new long passphrase", token="forged").status_code == 400
    assert change(PASSWORD, "x" * 201).status_code == 400
    assert still_in(other_device, "192.0.2.5")  # a refused change ends nothing

    changed = change(PASSWORD, "a new long passphrase")
    assert "Your password is changed" in changed.get_data(as_text=True)
    assert still_in(client) and not still_in(other_device, "192.0.2.5")
    assert _login_from(app.test_client(), "192.0.2.6", email, "a new long passphrase").status_code == 302


def test_user_add_with_a_new_password_ends_the_accounts_sessions(app, client, login, runner):
    email = login("door")
    result = runner.invoke(args=["user", "add", email, "--role", "door", "--password", "another long password"])
    assert result.exit_code == 0, result.output
    _as_another_client()
    assert client.get("/checkin").status_code == 302


def test_organiser_actions_are_audited_in_the_same_transaction(client, login, make_session, make_registration):
    meeting = make_session()
    registration, other = make_registration(meeting), make_registration(meeting)
    me = login("organiser")
    base = f"/sessions/{meeting.slug}/registrations/{registration.id}"
    client.post(base + "/cancel", data={"reason": "Duplicate", "confirmed": "yes", "csrf_token": csrf_token(client)})
    [event] = db.session.scalars(sa.select(AuditEvent)).all()
    assert (event.actor, event.action, event.session_id, event.details) == (
        me,
        "registration.cancel",
        meeting.id,
        "Duplicate",
    )

    refused = {
        "full_name": "X",
        "email": other.email,
        "organisation": "O",
        "country": "BE",
        "entity_type": str(meeting.entity_types[0].id),
        "region": str(meeting.regions[0].id),
        "mode": "online",
        "role": "delegate",
        "csrf_token": csrf_token(client),
    }
    assert client.post(base, data=refused).status_code == 400
    assert len(db.session.scalars(sa.select(AuditEvent)).all()) == 1  # the refused change left no audit line
    page = client.get("/staff/audit").get_data(as_text=True)
    assert "registration.cancel" in page and f"<td>{meeting.slug}</td>" in page  # the session by name, not number


def test_deleting_a_session_needs_its_name_typed_and_is_audited(client, login, make_session, make_registration):
    meeting = make_session()
    make_registration(meeting)
    slug, meeting_id = meeting.slug, meeting.id
    login("organiser")
    page = client.get(f"/sessions/{slug}/delete").get_data(as_text=True)
    assert "1 registration<" in page  # one, in the singular
    wrong = client.post(f"/sessions/{slug}/delete", data={"confirm": "yes", "csrf_token": csrf_token(client)})
    assert wrong.status_code == 400
    assert db.session.get(MeetingSession, meeting_id) is not None
    client.post(f"/sessions/{slug}/delete", data={"confirm": slug, "csrf_token": csrf_token(client)})
    db.session.expire_all()
    assert db.session.get(MeetingSession, meeting_id) is None
    assert db.session.scalars(sa.select(Registration)).all() == []
    [event] = db.session.scalars(sa.select(AuditEvent).filter_by(action="session.delete")).all()
    assert event.target == slug and "1 registrations" in event.details
    g.pop("_login_user", None)  # the test's app context outlives requests: Flask-Login's cached user is stale
    assert f"#{meeting_id} (deleted)" in client.get("/staff/audit").get_data(as_text=True)


def test_an_organiser_never_sees_the_history_of_a_deleted_session_that_had_the_same_id(client, login, make_session):
    meeting = make_session()
    # SQLite gives a deleted session's id to the next session created; the deleted one's lines stay in the log.
    db.session.add(
        AuditEvent(
            actor="someone-else@example.org",
            action="entity-types.save",
            session_id=meeting.id,
            target="Confidential partner list",
            at=meeting.created_at - timedelta(minutes=5),
        )
    )
    db.session.add(
        AuditEvent(
            actor="someone-else@example.org",
            action="registration.cancel",
            session_id=meeting.id,
            target="this session's own line",
            at=utcnow(),
        )
    )
    db.session.commit()
    login("organiser")
    page = client.get("/staff/audit").get_data(as_text=True)
    assert "Confidential partner list" not in page
    assert "this session&#39;s own line" in page and f"<td>{meeting.slug}</td>" in page


def test_production_marks_cookies_secure_and_sends_hsts(tmp_path):
    code = (
        "from attendance import create_app; app = create_app(); c = app.test_client();"
        "r = c.get('/login'); print(app.config['SESSION_COOKIE_SECURE'], r.headers.get('Strict-Transport-Security'))"
    )
    env = {
        **os.environ,
        "ATTENDANCE_ENV": "production",
        "SECRET_KEY": "x" * 40,
        "DATABASE_URL": f"sqlite:///{tmp_path}/p.db",
    }
    env.pop("TEST_DATABASE_URL", None)
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True).stdout
    assert out.strip() == "True max-age=31536000; includeSubDomains"


def test_a_delegate_downloads_their_own_data_and_nobody_elses(client, make_session, make_registration):
    meeting = make_session()
    me, other = make_registration(meeting, full_name="Me Myself"), make_registration(meeting, full_name="Someone")
    response = client.get(f"/me/{me.access_key}/data.json")
    assert response.headers["Referrer-Policy"] == "no-referrer"
    data = response.get_json()
    assert data["registration"]["full_name"] == "Me Myself" and data["registration"]["email"] == me.email
    assert "Someone" not in response.get_data(as_text=True) and other.email not in response.get_data(as_text=True)
    assert client.get("/me/not-a-key-of-the-right-length-x/data.json").status_code == 404


def test_purge_anonymises_a_past_session_and_keeps_its_counts_and_certificates(
    runner, client, make_session, make_registration
):
    from attendance.certificates.service import issue

    meeting = make_session(first_day=utcnow().date() - timedelta(days=100))
    keeper = make_registration(meeting, full_name="Keeps Name", keep_name_on_certificate=True)
    private = make_registration(meeting, full_name="Private Person")
    for registration in (keeper, private):
        db.session.add(Attendance(registration=registration, day=meeting.days[0], mode=Mode.IN_PERSON, source="scan"))
    db.session.commit()
    with client.application.test_request_context():
        ids = [issue(r)[0].public_id for r in (keeper, private)]
    old_key = private.access_key
    before = headcount(meeting).as_dict()

    too_soon = runner.invoke(args=["purge", meeting.slug, "--older-than", "365"])
    assert too_soon.exit_code != 0 and "can be purged 365 days after" in too_soon.output
    result = runner.invoke(args=["purge", meeting.slug, "--older-than", "90"])
    assert result.exit_code == 0, result.output
    db.session.expire_all()

    assert headcount(meeting).as_dict() == before
    names = db.session.execute(sa.select(Registration.full_name, Registration.name_key)).all()
    assert not {"Keeps Name", "Private Person", "keeps name", "private person"} & {n for row in names for n in row}
    assert client.get(f"/me/{old_key}").status_code == 404
    assert "Keeps Name" in client.get(f"/verify/{ids[0]}").get_data(as_text=True)
    withheld = client.get(f"/verify/{ids[1]}").get_data(as_text=True)
    assert "Private Person" not in withheld and "withheld" in withheld and "VALID" in withheld


ZEBULON = {
    "full_name": "Zébulon Quaternion",
    "email": "zebulon.quaternion@example.org",
    "organisation": "Office of the Vice-Chair, Americas region",
    "role": Role.VICE_CHAIR,
}
#: what would tell who Zébulon was, as it may be written anywhere (folded for comparison)
ZEBULON_TRACES = ("zébulon", "zebulon", "quaternion", "office of the vice-chair")


def _all_text_in_the_database() -> str:
    texts = []
    for table in db.metadata.sorted_tables:
        for row in db.session.execute(sa.select(table)):
            texts += [
                v.decode("utf-8", "ignore") if isinstance(v, bytes) else v for v in row if isinstance(v, (str, bytes))
            ]
    return "\n".join(texts).casefold()


def test_purge_leaves_no_trace_of_a_delegate_in_any_table(runner, client, login, make_session, make_registration):
    """Their organisation, role, reasons typed about them, the platform's name for them, what the door logged."""
    meeting = make_session(first_day=utcnow().date() - timedelta(days=100))
    zebulon, other = make_registration(meeting, **ZEBULON), make_registration(meeting)
    day = meeting.days[0]
    online = Attendance(registration=zebulon, day=meeting.days[1], mode=Mode.ONLINE, source=Source.ZOOM_REPORT)
    online.intervals = [
        OnlineInterval(
            joined_at=utcnow() - timedelta(days=99),
            source=Source.ZOOM_REPORT,
            left_at=utcnow() - timedelta(days=99) + timedelta(hours=5),
            source_key=f"email:{zebulon.email}|2024-02-19T09:00:00|",
        )
    ]
    db.session.add(online)
    db.session.commit()
    login("organiser")
    base, token = f"/sessions/{meeting.slug}", csrf_token(client)
    client.post(
        f"{base}/attendance/{zebulon.id}",
        data={"day": day.date.isoformat(), "csrf_token": token, "reason": "Zébulon Quaternion forgot his badge"},
    )
    sent = client.post(
        f"{base}/messages",
        data={
            "status": "registered",
            "subject": "Zébulon Quaternion's talk moves",
            "body": "The Office of the Vice-Chair, Americas region speaks at 10:00.",
            "action": "send",
            "expected": "2",
            "csrf_token": token,
        },
    )
    assert sent.status_code == 302, sent.get_data(as_text=True)
    client.post(
        f"{base}/registrations/{other.id}/cancel",
        data={"reason": "Registered Zébulon Quaternion twice", "confirmed": "yes", "csrf_token": token},
    )
    client.post(
        f"{base}/online/map",
        data={"registration_id": zebulon.id, "csrf_token": token, "identity_key": "name:zébulon quaternion (iphone)"},
    )
    client.get(f"/me/{zebulon.access_key}/certificate.pdf")
    client.post(
        f"{base}/certificates/{zebulon.id}/revoke",
        data={"reason": "Zébulon Quaternion asked for another spelling", "csrf_token": token},
    )
    public_id = db.session.scalar(sa.select(Certificate.public_id))
    assert all(trace in _all_text_in_the_database() for trace in ZEBULON_TRACES)  # the test plants what it seeks
    before = headcount(meeting).as_dict()

    result = runner.invoke(args=["purge", meeting.slug, "--older-than", "90"])
    assert result.exit_code == 0, result.output
    db.session.expire_all()

    left = _all_text_in_the_database()
    assert [trace for trace in ZEBULON_TRACES if trace in left] == []
    assert db.session.get(Registration, zebulon.id).role is Role.DELEGATE  # one person held it
    assert headcount(meeting).as_dict() == before
    events = db.session.execute(
        sa.select(AuditEvent.action, AuditEvent.target, AuditEvent.details).order_by(AuditEvent.id)
    ).all()
    assert (
        ("attendance.check_in", f"registration {zebulon.id}", f"{day.date.isoformat()}: (purged)") in events
        and ("registration.cancel", f"registration {other.id}", "(purged)") in events
        and ("online.map_identity", "(purged)", f"registration {zebulon.id}") in events
        and ("certificate.revoke", public_id, "(purged)") in events
    )
    verification = client.get(f"/verify/{public_id}").get_data(as_text=True)
    assert "REVOKED" in verification and "withheld" in verification
    # The message stays as a record that names nobody: to whom, how many, by whom.
    message = db.session.scalar(sa.select(Message))
    assert (message.subject, message.body, message.recipients) == ("(purged)", "", 2)
    assert ("message.send", f"message {message.id}", "(purged)") in events


def test_a_message_still_queued_when_its_session_is_purged_is_not_sent(
    app, runner, client, login, make_session, make_registration
):
    from attendance import transaction
    from attendance.jobs import kinds
    from attendance.jobs import runner as job_runner
    from attendance.mailings.service import Group, send_message

    meeting = make_session(first_day=utcnow().date() - timedelta(days=100))
    make_registration(meeting, full_name="Zébulon Quaternion")
    message, _new = send_message(meeting, Group(), "Zébulon's table", "Text", recipients=1, sent_by="o@example.org")
    job = message.job
    db.session.commit()
    db.session.info.pop(transaction.JOBS_TO_START)  # no worker has taken it yet
    assert runner.invoke(args=["purge", meeting.slug, "--older-than", "90"]).exit_code == 0
    db.session.expire_all()
    with pytest.raises(job_runner.JobGone, match="purged"):
        kinds.KINDS["messages.send"](db.session.get(type(job), job.id))
    assert db.session.scalar(sa.select(sa.func.count(OutboxMail.id))) == 0


def test_after_a_purge_certificates_are_neither_downloaded_nor_emailed(
    app, runner, client, login, make_session, make_registration, tmp_path
):
    from attendance.certificates.service import issue

    meeting = make_session(first_day=utcnow().date() - timedelta(days=100))
    delegate = make_registration(meeting, full_name="Keeps Name", keep_name_on_certificate=True)
    db.session.add(Attendance(registration=delegate, day=meeting.days[0], mode=Mode.IN_PERSON, source="scan"))
    db.session.commit()
    with client.application.test_request_context():
        public_id = issue(delegate)[0].public_id
    old_key = delegate.access_key
    assert runner.invoke(args=["purge", meeting.slug, "--older-than", "90"]).exit_code == 0
    db.session.expire_all()
    login("organiser")
    base = f"/sessions/{meeting.slug}/certificates"

    page = client.get(base).get_data(as_text=True)
    assert "was purged on" in page and "certificates.zip" not in page and "not yet sent" not in page
    for kind in ("zip", "pdf"):
        refused = client.get(f"{base}.{kind}", follow_redirects=True)
        assert refused.mimetype == "text/html"
        assert "Nothing was downloaded: this session was purged." in refused.get_data(as_text=True)
    mailed = client.post(f"{base}/email", data={"csrf_token": csrf_token(client)}, follow_redirects=True)
    assert "Nothing was sent: this session was purged." in mailed.get_data(as_text=True)
    assert os.listdir(app.config["OUTBOX_DIR"]) == []
    exported = runner.invoke(args=["certificates", "export", meeting.slug, "--out", str(tmp_path / "out")])
    assert exported.exit_code != 0 and "was purged on" in exported.output and not (tmp_path / "out").exists()
    assert not any(e.action == "certificates.export" for e in db.session.scalars(sa.select(AuditEvent)))

    assert client.get(f"/me/{old_key}/certificate.pdf").status_code == 404  # the delegate's link is dead
    new_key = db.session.get(Registration, delegate.id).access_key
    own = client.get(f"/me/{new_key}/certificate.pdf")
    assert own.status_code == 403 and "personal data was deleted" in own.get_data(as_text=True)
    verification = client.get(f"/verify/{public_id}").get_data(as_text=True)
    assert "VALID" in verification and "Keeps Name" in verification


def test_after_a_purge_no_badges_are_printed_and_no_reports_imported(client, login, make_session, make_registration):
    meeting = make_session(first_day=utcnow().date() - timedelta(days=100))
    make_registration(meeting)
    meeting.purged_at = utcnow()
    db.session.commit()
    login("organiser")
    badges = client.get(f"/sessions/{meeting.slug}/badges.pdf", follow_redirects=True)
    assert badges.mimetype == "text/html" and "was purged on" in badges.get_data(as_text=True)
    report = b"email,joined,left\na@example.org,2024-02-19 09:00,2024-02-19 10:00\n"
    upload = client.post(
        f"/sessions/{meeting.slug}/imports",
        data={"report": (io.BytesIO(report), "report.csv"), "csrf_token": csrf_token(client)},
        content_type="multipart/form-data",
    )
    assert upload.status_code == 400 and "nobody left to match a report to" in upload.get_data(as_text=True)
    assert db.session.scalars(sa.select(ReportImport)).all() == []
    assert not any(e.action == "badges.export" for e in db.session.scalars(sa.select(AuditEvent)))


# ---- junk in, no 500s out ----


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=st.binary(max_size=600))
def test_arbitrary_bytes_to_the_check_in_api_never_crash_it(client, app_ctx, body):
    from attendance.api.tokens import create_api_token

    _, token = create_api_token("fuzz")
    for content_type in ("application/json", "text/plain"):
        response = client.post(
            "/api/v1/checkins", data=body, content_type=content_type, headers={"Authorization": f"Bearer {token}"}
        )
        assert response.status_code < 500 and response.is_json


# Text as JSON may carry it: any character, lone surrogates ("\ud800", which no database stores) among them
# (st.text never draws those).
ANY_TEXT = st.lists(st.characters() | st.characters(categories=["Cs"]), max_size=20).map("".join)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(fields=st.fixed_dictionaries({name: ANY_TEXT for name in ("token", "door", "nonce")}))
def test_arbitrary_text_in_a_check_in_never_crashes_it(client, app_ctx, fields):
    from attendance.api.tokens import create_api_token

    _, token = create_api_token("fuzz")
    response = client.post(
        "/api/v1/checkins",
        data=json.dumps(fields),
        content_type="application/json",
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code < 500 and response.is_json


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    payload=st.one_of(
        st.binary(max_size=400),
        st.fixed_dictionaries(
            {
                # shaped like Zoom's participant events, so that the arbitrary text reaches the look-ups
                "event": st.sampled_from(["meeting.participant_joined", "meeting.participant_left"]) | ANY_TEXT,
                "payload": st.fixed_dictionaries(
                    {
                        "object": st.fixed_dictionaries(
                            {
                                "id": ANY_TEXT,
                                "participant": st.dictionaries(
                                    st.sampled_from(["user_name", "email", "registrant_id", "join_time", "leave_time"]),
                                    ANY_TEXT,
                                ),
                            }
                        )
                    }
                ),
            }
        ).map(lambda value: json.dumps(value).encode()),
        st.recursive(
            st.none() | st.booleans() | st.integers() | ANY_TEXT,
            lambda children: st.lists(children, max_size=4) | st.dictionaries(ANY_TEXT, children, max_size=4),
            max_leaves=12,
        ).map(lambda value: json.dumps(value).encode()),
    )
)
def test_arbitrary_webhook_deliveries_never_crash_it(client, app_ctx, payload):
    import time

    response = client.post(
        "/integrations/zoom/webhook",
        data=payload,
        headers={"x-zm-request-timestamp": str(int(time.time())), "x-zm-signature": "v0=00"},
    )
    assert response.status_code < 500


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(content=st.binary(max_size=800) | st.text(max_size=400).map(lambda t: ("email,joined,left\n" + t).encode()))
def test_arbitrary_report_uploads_never_crash_the_import(client, make_session, app_ctx, content):
    import io

    meeting = db.session.scalar(sa.select(MeetingSession)) or make_session()  # examples share the test's database
    user, _ = ensure_staff("fuzz.organiser@example.org", StaffRole.ORGANISER, PASSWORD)
    if user not in meeting.organisers:
        meeting.organisers.append(user)
    db.session.commit()
    _login(client, "fuzz.organiser@example.org", PASSWORD)
    response = client.post(
        f"/sessions/{meeting.slug}/imports",
        data={
            "report": (io.BytesIO(content), "report.csv"),
            "csrf_token": csrf_token(client, f"/sessions/{meeting.slug}/imports"),
        },
        content_type="multipart/form-data",
    )
    assert response.status_code in (302, 400)
    if response.status_code == 302:
        assert client.get(response.headers["Location"]).status_code == 200


def test_a_nul_in_a_typed_reason_or_a_search_changes_nothing_and_is_no_500(
    client, login, make_session, make_registration
):
    """PostgreSQL cannot store a NUL: a reason holding one is refused with a message, a search ignores it."""
    from datetime import date

    from attendance.certificates.service import issue

    meeting = make_session(first_day=date(2024, 3, 4))
    registration = make_registration(meeting, full_name="Nul Reason")
    db.session.add(
        Attendance(
            registration=registration,
            day=meeting.days[0],
            mode=Mode.IN_PERSON,
            source=Source.SCAN,
            first_seen_at=datetime(2024, 3, 4, 9, tzinfo=UTC),
        )
    )
    db.session.commit()
    certificate, _ = issue(registration)
    login("organiser")
    revoked = client.post(
        f"/sessions/{meeting.slug}/certificates/{registration.id}/revoke",
        data={"reason": "typo\x00here", "csrf_token": csrf_token(client)},
        follow_redirects=True,
    )
    assert revoked.status_code == 200 and "remove the control characters" in revoked.get_data(as_text=True)
    assert db.session.get(Certificate, certificate.id).revoked_at is None
    checked = client.post(
        f"/sessions/{meeting.slug}/attendance/{registration.id}?day=2024-03-05",
        data={"action": "check_in", "reason": "forgot\x00badge", "csrf_token": csrf_token(client)},
        follow_redirects=True,
    )
    assert checked.status_code == 200 and "remove the control characters" in checked.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count(Attendance.id))) == 1
    listing = client.get(f"/sessions/{meeting.slug}/registrations?q=nul%00reason")
    assert listing.status_code == 200 and "Nul Reason" in listing.get_data(as_text=True)

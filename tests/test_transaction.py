"""One transaction per request, CLI command and job: what fails halfway leaves the database as it was; the mails
a delegate asks for go through the outbox; export files expire."""

import email
import email.policy
import os
from datetime import timedelta

import click
import pytest
import sqlalchemy as sa
from helpers import csrf_token, registration_form

from attendance import outbox, transaction
from attendance.clock import utcnow
from attendance.extensions import db
from attendance.jobs.kinds import delete_expired_exports, exports_dir, request_job
from attendance.models import (
    Attendance,
    AuditEvent,
    Job,
    JobStatus,
    MailStatus,
    Mode,
    OutboxMail,
    Registration,
    Source,
    StaffUser,
)
from attendance.registration.service import AlreadyRegistered


def committed(model) -> int:
    """Rows of `model` that another connection sees: what was committed, whatever this session still holds."""
    with db.engine.connect() as connection:
        return connection.scalar(sa.select(sa.func.count()).select_from(model))


def post_registration(client, meeting):
    url = f"/sessions/{meeting.slug}/register"
    return client.post(url, data=registration_form(meeting, csrf_token=csrf_token(client, url)))


def register_then(monkeypatch, failure: Exception) -> None:
    """The registration view's service does its whole work (the registration and its mail, flushed), then fails."""
    from attendance.registration import views

    real = views.register

    def register_and_fail(*args, **kwargs):
        real(*args, **kwargs)
        raise failure

    monkeypatch.setattr(views, "register", register_and_fail)


def test_a_view_that_raises_after_its_service_flushed_leaves_nothing(client, make_session, monkeypatch):
    meeting = make_session()
    register_then(monkeypatch, RuntimeError("the view failed after the service's work"))
    with pytest.raises(RuntimeError):
        post_registration(client, meeting)
    assert committed(Registration) == 0 and committed(OutboxMail) == 0


def test_a_form_shown_again_with_errors_after_a_flush_keeps_nothing(client, make_session, monkeypatch):
    meeting = make_session()
    register_then(monkeypatch, AlreadyRegistered())
    response = post_registration(client, meeting)
    assert response.status_code == 400 and "already registered" in response.get_data(as_text=True)
    assert committed(Registration) == 0 and committed(OutboxMail) == 0
    assert db.session.scalar(sa.select(sa.func.count(Registration.id))) == 0  # rolled back, not merely uncommitted


def test_a_commit_that_fails_answers_an_error_not_a_success(app, client, make_session, monkeypatch):
    meeting = make_session()
    monkeypatch.setitem(app.config, "PROPAGATE_EXCEPTIONS", False)  # as in production: the error page

    def refuse(session):
        if any(isinstance(row, Registration) for row in session.new) or session.info.get(outbox.SCHEDULED):
            raise sa.exc.OperationalError("COMMIT", {}, Exception("disk I/O error"))

    sa.event.listen(sa.orm.Session, "before_commit", refuse)
    try:
        response = post_registration(client, meeting)
    finally:
        sa.event.remove(sa.orm.Session, "before_commit", refuse)
    assert response.status_code == 500
    assert committed(Registration) == 0 and committed(OutboxMail) == 0


def test_a_cli_command_that_fails_halfway_leaves_nothing(runner, app_ctx, make_session, monkeypatch):
    from attendance import cli

    meeting = make_session()

    def assign_then_fail(*args, **kwargs):
        cli_assign(*args, **kwargs)  # the account exists and is assigned, flushed
        raise click.ClickException("the door assignment failed")

    cli_assign = cli.assign_door_staff
    monkeypatch.setattr(cli, "assign_door_staff", assign_then_fail)
    result = runner.invoke(
        args=[
            "user",
            "add",
            "door@example.org",
            "--role",
            "door",
            "--password",
            "long enough",
            "--session",
            meeting.slug,
        ]
    )
    assert result.exit_code != 0 and "the door assignment failed" in result.output
    assert committed(StaffUser) == 0 and committed(AuditEvent) == 0
    assert db.session.scalar(sa.select(sa.func.count(StaffUser.id))) == 0


def test_a_cli_command_that_succeeds_is_committed(runner, app_ctx, make_session):
    meeting = make_session()
    result = runner.invoke(
        args=[
            "user",
            "add",
            "door@example.org",
            "--role",
            "door",
            "--password",
            "long enough",
            "--session",
            meeting.slug,
        ]
    )
    assert result.exit_code == 0, result.output
    assert committed(StaffUser) == 1 and committed(AuditEvent) == 1  # the account and its assignment's audit line


@pytest.fixture
def finished(make_session, make_registration):
    meeting = make_session(first_day=utcnow().date() - timedelta(days=8))
    people = [make_registration(meeting, email=f"person{n}@example.org") for n in range(2)]
    for person in people:
        db.session.add(Attendance(registration=person, day=meeting.days[0], mode=Mode.IN_PERSON, source=Source.SCAN))
    db.session.commit()
    return meeting, people


def test_a_job_that_fails_halfway_leaves_nothing_of_its_work(app, finished, monkeypatch):
    from attendance import audit
    from attendance.registration import badges

    meeting, _ = finished

    def write_then_fail(rows, out, progress):
        audit.record("badges.export", session_id=meeting.id, details="half done", actor="worker")
        out.write(b"%PDF-1.7 half")
        raise OSError("disk full")

    monkeypatch.setattr(badges, "write_badge_sheets", write_then_fail)
    files_before = set(os.listdir(exports_dir()))
    job, new = request_job(meeting, "badges.pdf", requested_by="organiser@example.org")
    job_id = job.id
    db.session.commit()  # asked, not started: the test runs it as the queue would
    app.extensions["jobs.tasks"]["run_job"](job_id)
    db.session.rollback()
    job = db.session.get(Job, job_id)
    assert new and job.status is JobStatus.QUEUED and job.error == "OSError: disk full"  # tried again later
    assert job.result_file == "" and committed(AuditEvent) == 0
    assert set(os.listdir(exports_dir())) == files_before  # not even the half-written file


def test_a_job_asked_in_a_request_starts_only_once_the_request_committed(app, client, login, finished):
    meeting, _ = finished
    login("organiser")
    response = client.get(f"/sessions/{meeting.slug}/certificates.zip")
    job = db.session.scalar(sa.select(Job))
    assert response.headers["Location"] == f"/sessions/{meeting.slug}/jobs/{job.id}"
    db.session.refresh(job)
    assert job.status is JobStatus.DONE and job.summary == "2 certificates"


# ---- mails a delegate asks for: through the outbox, sent by a worker ----


def test_email_me_my_link_again_goes_through_the_outbox_once_per_click(
    app, client, make_session, make_registration, monkeypatch
):
    registration = make_registration(make_session())
    asked_at = utcnow()
    monkeypatch.setattr(outbox, "utcnow", lambda: asked_at)  # a double click: the same minute
    for _ in range(2):
        answer = client.post(
            f"/sessions/{registration.session.slug}/resend",
            data={"email": registration.email, "csrf_token": csrf_token(client)},
        )
        assert answer.status_code == 200
    [mail] = db.session.scalars(sa.select(OutboxMail)).all()
    assert (mail.purpose, mail.status, mail.registration_id) == (outbox.LINK_AGAIN, MailStatus.SENT, registration.id)
    [name] = os.listdir(app.config["OUTBOX_DIR"])
    with open(os.path.join(app.config["OUTBOX_DIR"], name), encoding="utf-8") as sent:
        assert f"/me/{registration.access_key}" in sent.read().replace("=\n", "")


def test_find_my_registration_mails_through_the_outbox_in_the_language_asked_in(
    app, client, make_session, make_registration
):
    first = make_registration(make_session(), email="ana.lima@example.org")
    latest = make_registration(make_session(), email="ana.lima@example.org")
    keys, latest_id = (first.access_key, latest.access_key), latest.id  # the mail's unit of work ends this session
    response = client.post(
        "/me",
        data={"email": "ana.lima@example.org", "csrf_token": csrf_token(client, "/me")},
        headers={"Accept-Language": "fr"},
    )
    response.close()  # as a server does once the answer is sent: the mail is scheduled then
    db.session.rollback()
    [mail] = db.session.scalars(sa.select(OutboxMail)).all()
    assert (mail.purpose, mail.status, mail.registration_id) == (outbox.LINKS, MailStatus.SENT, latest_id)
    assert outbox.asked_locale(mail) == "fr"
    [name] = os.listdir(app.config["OUTBOX_DIR"])
    with open(os.path.join(app.config["OUTBOX_DIR"], name), "rb") as sent:
        message = email.message_from_binary_file(sent, policy=email.policy.default)
    assert all(key in message.get_content() for key in keys) and message["Subject"] == "Vos liens d’inscription"


# ---- export files expire ----


def test_an_export_older_than_its_retention_is_deleted_and_shown_expired(app, client, login, finished):
    meeting, _ = finished
    login("organiser")
    old = client.get(f"/sessions/{meeting.slug}/certificates.zip").headers["Location"]
    recent = client.get(f"/sessions/{meeting.slug}/certificates.pdf").headers["Location"]
    old_job, recent_job = db.session.scalars(sa.select(Job).order_by(Job.id)).all()
    old_file = exports_dir() / old_job.result_file
    assert old_file.is_file() and client.get(old + "/download").status_code == 200
    old_job.finished_at = utcnow() - timedelta(days=app.config["EXPORTS_KEPT_DAYS"], minutes=1)
    transaction.commit()

    assert delete_expired_exports() == 1
    transaction.commit()
    assert not old_file.exists() and (exports_dir() / recent_job.result_file).is_file()
    page = client.get(old).get_data(as_text=True)
    assert "Expired" in page and "/download" not in page
    assert client.get(old + "/download").headers["Location"] == old  # back to the page that says so
    assert "/download" in client.get(recent).get_data(as_text=True)
    listing = client.get(f"/sessions/{meeting.slug}/jobs").get_data(as_text=True)
    assert listing.count(">expired<") == 1 and listing.count(">done<") == 1
    assert delete_expired_exports() == 0  # done once


def test_the_periodic_sweep_deletes_expired_exports(app, client, login, finished):
    meeting, _ = finished
    login("organiser")
    client.get(f"/sessions/{meeting.slug}/certificates.zip")
    job = db.session.scalar(sa.select(Job))
    path = exports_dir() / job.result_file
    job.finished_at = utcnow() - timedelta(days=30)
    db.session.commit()
    with app.test_request_context():
        app.extensions["jobs.tasks"]["sweep"]()
    db.session.rollback()
    assert not path.exists() and db.session.get(Job, job.id).expired

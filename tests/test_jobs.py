"""Jobs off the request: real Huey workers (separate processes) against the test database, a real SMTP server,
and Redis; each mail sent once per person and purpose even when a worker dies mid-batch or two workers race."""

import asyncio
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from aiosmtpd.controller import Controller
from helpers import free_port, redis_is_up, registration_form

from attendance import create_app
from attendance.clock import utcnow
from attendance.extensions import db
from attendance.jobs import delivery, runner
from attendance.jobs.kinds import request_job
from attendance.models import (
    Attendance,
    Job,
    JobStatus,
    MailStatus,
    MeetingSession,
    Mode,
    OutboxMail,
    Registration,
    Source,
)
from attendance.organiser.service import delete_session

ROOT = Path(__file__).resolve().parent.parent


needs_redis = pytest.mark.skipif(not redis_is_up(), reason="no Redis on 127.0.0.1:6379 (apt-get install redis-server)")


class Inbox:
    """An SMTP server's handler that counts what it accepted. With `hold_at`, the hold_at-th message waits until
    `release` is set (a worker can be killed meanwhile), then is refused: the client never got its 250."""

    def __init__(self, hold_at: int | None = None):
        self.accepted: list[str] = []
        self.seen = 0
        self.hold_at = hold_at
        self.holding, self.release = threading.Event(), threading.Event()

    async def handle_DATA(self, server, session, envelope):
        self.seen += 1
        if self.seen == self.hold_at:
            self.holding.set()
            while not self.release.is_set():
                await asyncio.sleep(0.05)
            return "451 try again later"
        self.accepted.extend(envelope.rcpt_tos)
        return "250 OK"


@pytest.fixture
def smtp(request):
    inbox = Inbox(getattr(request, "param", None))
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    inbox.port = port
    yield inbox
    inbox.release.set()
    controller.stop()


@pytest.fixture
def queue_app(app, tmp_path):
    """An app on the test database that queues jobs for real workers instead of running them (JOBS_URL)."""
    apps = []

    def make(jobs_url: str, **config):
        queued = create_app(
            {
                "TESTING": True,
                "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
                "OUTBOX_DIR": app.config["OUTBOX_DIR"],
                "EXPORTS_DIR": app.config["EXPORTS_DIR"],
                "RATELIMIT_ENABLED": False,
                "WTF_CSRF_ENABLED": False,
                "SMTP_HOST": "",
                "JOBS_IMMEDIATE": False,
                "JOBS_URL": jobs_url,
                **config,
            }
        )
        apps.append(queued)
        return queued

    yield make
    for queued in apps:
        with queued.app_context():
            db.session.remove()
            db.engine.dispose()


@pytest.fixture
def workers(app):
    """Starts worker processes (`huey_consumer`, as in production); kills any still running at the end."""
    started = []

    def start(jobs_url: str, smtp_port: int, *, periodic: bool = True, **env) -> subprocess.Popen:
        """With `periodic=False`, no sweep at start: the batch under test is the only one sending (a kill test)."""
        environment = {
            **os.environ,
            "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
            "JOBS_URL": jobs_url,
            "SMTP_HOST": "127.0.0.1",
            "SMTP_PORT": str(smtp_port),
            "SMTP_STARTTLS": "off",
            "OUTBOX_DIR": app.config["OUTBOX_DIR"],
            "EXPORTS_DIR": app.config["EXPORTS_DIR"],
            "JOBS_RETRY_DELAY": "1",
            **env,
        }
        environment.pop("TEST_DATABASE_URL", None)
        process = subprocess.Popen(
            [
                str(Path(sys.executable).parent / "huey_consumer"),
                "attendance.jobs.worker.huey",
                "--workers",
                "2",
                "--worker-type",
                "thread",
                "--quiet",
                *([] if periodic else ["--no-periodic"]),
            ],
            cwd=ROOT,
            env=environment,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        started.append(process)
        return process

    yield start
    for process in started:
        if process.poll() is None:
            process.kill()
        process.wait()


def wait_for(condition, what: str, seconds: float = 90) -> None:
    """Waits for the workers: polls the database; fails with `what` if it never comes."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        db.session.rollback()  # a fresh snapshot at each look
        if condition():
            return
        time.sleep(0.1)
    pytest.fail(f"still waiting after {seconds} s: {what}")


@pytest.fixture
def finished(make_session, make_registration):
    """A session that ended last week; five delegates came, so five certificates to mail."""
    meeting = make_session(first_day=utcnow().date() - timedelta(days=8))
    people = [make_registration(meeting, full_name=f"Person {n}", email=f"person{n}@example.org") for n in range(5)]
    for person in people:
        db.session.add(Attendance(registration=person, day=meeting.days[0], mode=Mode.IN_PERSON, source=Source.SCAN))
    db.session.commit()
    return meeting, people


def job_status(job_id: int) -> JobStatus:
    return db.session.scalar(sa.select(Job.status).where(Job.id == job_id))


@pytest.mark.parametrize("smtp", [3], indirect=True)  # the third mail is in flight when the worker is killed
def test_a_mailing_whose_worker_is_killed_mid_batch_sends_each_certificate_once(
    app, finished, smtp, queue_app, workers, tmp_path
):
    meeting, people = finished
    jobs_url = f"sqlite:///{tmp_path / 'jobs.sqlite3'}"
    queued = queue_app(jobs_url)
    with queued.app_context():
        job, new = request_job(
            db.session.get(MeetingSession, meeting.id),
            "certificates.email",
            requested_by="organiser@example.org",
            options={"everyone": False},
        )
        job_id = job.id
        db.session.commit()  # as the request that asked for it
        assert new and queued.extensions["jobs.tasks"]["run_job"](job_id) is None  # queued, not run here
        db.session.remove()
    assert job_status(job_id) is JobStatus.QUEUED

    first = workers(jobs_url, smtp.port, periodic=False)
    assert smtp.holding.wait(90), "the worker never reached the third mail"
    first.send_signal(signal.SIGKILL)  # killed while the server holds the third mail
    first.wait()
    smtp.release.set()
    db.session.rollback()
    assert smtp.accepted == [people[0].email, people[1].email]
    assert job_status(job_id) is JobStatus.RUNNING  # as the dead worker left it

    # Later, once the leases of the dead worker's claims have run out, a worker's sweep takes the job back.
    an_hour_ago = utcnow() - timedelta(hours=1)
    db.session.execute(sa.update(Job).values(started_at=an_hour_ago))
    db.session.execute(
        sa.update(OutboxMail).where(OutboxMail.status == MailStatus.SENDING).values(claimed_at=an_hour_ago)
    )
    db.session.commit()
    workers(jobs_url, smtp.port)
    with queued.app_context():
        queued.extensions["jobs.tasks"]["run_job"](job_id)
        db.session.remove()
    wait_for(lambda: job_status(job_id) is JobStatus.DONE, "the mailing to finish")
    # (The worker's sweep, at its start, may send some of the job's mails itself: the job then waits for them and
    # runs once more, so it may count three attempts; each mail is still claimed and sent once.)
    assert Counter(smtp.accepted) == Counter(p.email for p in people)  # each once
    assert db.session.scalars(sa.select(OutboxMail.status)).all() == [MailStatus.SENT] * 5
    job = db.session.get(Job, job_id)
    assert job.attempts >= 2 and job.summary.startswith("5 sent.") and job.active_key is None


def test_a_mail_refused_mid_batch_is_retried_alone_and_a_batch_shares_one_connection(app, finished, smtp, monkeypatch):
    """The mail server drops the connection at the third mail: the others still go (over a new connection), the
    job records who got theirs and, run again as the queue retries it, sends only the one missing."""
    meeting, people = finished
    app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=smtp.port, SMTP_STARTTLS=False)
    real_open = delivery.mail._open_smtp
    opened = []

    def dropping_the_third():
        opened.append(1)
        smtp_connection = real_open()
        real_send = smtp_connection.send_message

        def send_message(message):
            if smtp.seen == 2 and len(opened) == 1:
                raise OSError("421 service not available")
            return real_send(message)

        smtp_connection.send_message = send_message
        return smtp_connection

    monkeypatch.setattr(delivery.mail, "_open_smtp", dropping_the_third)
    try:
        job, _ = request_job(meeting, "certificates.email", requested_by="organiser@example.org")
        db.session.commit()  # as the request that asked for it
        app.extensions["jobs.tasks"]["run_job"](job.id)
        db.session.rollback()
        assert job_status(job.id) is JobStatus.QUEUED
        assert smtp.accepted == [p.email for p in people if p is not people[2]] and len(opened) == 2
        assert db.session.get(Job, job.id).error.startswith("MailsWaiting")
        db.session.execute(sa.update(OutboxMail).values(next_attempt_at=utcnow()))  # the back-off has passed
        db.session.commit()
        app.extensions["jobs.tasks"]["run_job"](job.id)
    finally:
        app.config.update(SMTP_HOST="")
    db.session.rollback()
    assert job_status(job.id) is JobStatus.DONE
    assert Counter(smtp.accepted) == Counter(p.email for p in people)
    assert len(opened) == 3  # one connection per batch (and one more after the server dropped it), not per mail


@needs_redis
def test_two_workers_on_redis_send_each_confirmation_once(app, make_session, smtp, queue_app, workers):
    meeting = make_session()
    jobs_url = "redis://127.0.0.1:6379/7"
    name = f"attendance-test-{uuid.uuid4().hex}"  # a key prefix of this run's own
    queued = queue_app(jobs_url, JOBS_NAME=name)
    client = queued.test_client()
    for n in range(12):
        response = client.post(
            f"/sessions/{meeting.slug}/register",
            data=registration_form(meeting, full_name=f"Delegate {n}", email=f"delegate{n}@example.org"),
        )
        assert response.status_code == 302
    with queued.app_context():
        mail_ids = db.session.scalars(sa.select(OutboxMail.id)).all()
        deliver_mail = queued.extensions["jobs.tasks"]["deliver_mail"]
        deliver_mail(mail_ids)  # the same mails queued again, all of them at once: both workers race for them
        deliver_mail(mail_ids)
        db.session.remove()
    assert len(mail_ids) == 12 and smtp.accepted == []  # the requests sent nothing themselves

    workers(jobs_url, smtp.port, JOBS_NAME=name)
    workers(jobs_url, smtp.port, JOBS_NAME=name)
    wait_for(
        lambda: db.session.scalar(sa.select(sa.func.count()).where(OutboxMail.status == MailStatus.SENT)) == 12,
        "both workers to send the 12 confirmations",
    )
    assert Counter(smtp.accepted) == Counter(f"delegate{n}@example.org" for n in range(12))


def test_with_redis_down_registration_succeeds_and_its_mail_waits(app, make_session, queue_app):
    meeting = make_session()
    queued = queue_app(f"redis://127.0.0.1:{free_port()}/0")  # nothing listens there
    client = queued.test_client()
    response = client.post(f"/sessions/{meeting.slug}/register", data=registration_form(meeting))
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "our email is delayed" in page and "Your confirmation email is delayed" in page
    mail = db.session.scalar(sa.select(OutboxMail))
    assert mail.status is MailStatus.PENDING and "queue was unavailable" in mail.error
    assert os.listdir(app.config["OUTBOX_DIR"]) == []

    with app.test_request_context():  # the queue is back: the worker's sweep sends it
        assert delivery.deliver().sent == 1
    db.session.rollback()
    assert db.session.scalar(sa.select(OutboxMail.status)) is MailStatus.SENT
    assert len(os.listdir(app.config["OUTBOX_DIR"])) == 1
    assert "Your confirmation email is delayed" not in client.get(response.headers["Location"]).get_data(as_text=True)


def test_an_export_asked_twice_while_it_waits_is_one_job(app, client, login, finished, queue_app):
    meeting, _ = finished
    login("organiser")
    first = client.get(f"/sessions/{meeting.slug}/certificates.zip")
    job = db.session.scalar(sa.select(Job))
    db.session.execute(
        sa.update(Job).values(status=JobStatus.QUEUED, active_key=f"certificates.zip:{meeting.id}:{{}}", result_file="")
    )  # as if no worker had taken it yet
    db.session.commit()
    again = client.get(f"/sessions/{meeting.slug}/certificates.zip")
    assert again.headers["Location"] == first.headers["Location"] == f"/sessions/{meeting.slug}/jobs/{job.id}"
    assert db.session.scalar(sa.select(sa.func.count(Job.id))) == 1
    page = client.get(again.headers["Location"]).get_data(as_text=True)
    assert "Waiting for a worker" in page and 'http-equiv="refresh"' in page


def test_a_job_whose_session_was_deleted_ends_gone_without_retry(app, finished):
    meeting, _ = finished
    job, _ = request_job(meeting, "certificates.zip", requested_by="organiser@example.org")
    job_id = job.id
    delete_session(meeting)
    runner.run(job_id)  # returns: nothing raised, so the queue does not retry
    db.session.rollback()
    job = db.session.get(Job, job_id)
    assert (job.status, job.error, job.active_key) == (JobStatus.GONE, "its session was deleted", None)


def test_a_mail_to_a_deleted_registration_is_dropped(app, make_session, make_registration):
    registration = make_registration(make_session())
    from attendance import outbox

    mail_id = outbox.schedule(registration, outbox.CONFIRMATION)
    db.session.commit()
    db.session.delete(db.session.get(Registration, registration.id))
    db.session.commit()
    with app.test_request_context():
        result = delivery.deliver([mail_id])
    assert (result.sent, result.failed) == (0, [])
    assert os.listdir(app.config["OUTBOX_DIR"]) == []


def test_the_jobs_page_lists_failed_jobs_with_their_error(app, client, login, finished):
    meeting, _ = finished
    job = Job(
        kind="certificates.pdf",
        session=meeting,
        status=JobStatus.FAILED,
        attempts=5,
        error="OSError: disk full",
        requested_by="organiser@example.org",
    )
    db.session.add(job)
    db.session.commit()
    login("organiser")
    for url in (f"/sessions/{meeting.slug}/jobs", "/jobs"):
        page = client.get(url).get_data(as_text=True)
        assert "Certificates (one merged PDF)" in page and "OSError: disk full" in page and ">5<" in page
    job_page = client.get(f"/sessions/{meeting.slug}/jobs/{job.id}").get_data(as_text=True)
    assert "Failed after 5 attempts: OSError: disk full" in job_page

    # An organiser who works in French reads the page in French, the error as it was logged.
    client.set_cookie("lang", "fr")
    page = client.get(f"/sessions/{meeting.slug}/jobs").get_data(as_text=True)
    assert "Certificats (un seul PDF fusionné)" in page and "échoué" in page and "Mails not sent" not in page
    assert "Échec après 5 tentatives : OSError: disk full" in client.get(
        f"/sessions/{meeting.slug}/jobs/{job.id}"
    ).get_data(as_text=True)


def test_purging_a_session_deletes_its_mails(app, finished):
    from attendance import outbox
    from attendance.privacy import purge_session

    meeting, people = finished
    outbox.schedule(people[0], outbox.CERTIFICATE, "first")
    db.session.execute(sa.update(OutboxMail).values(error="550 <person0@example.org> mailbox unavailable"))
    db.session.commit()
    purge_session(meeting, 0)
    assert db.session.scalar(sa.select(sa.func.count(OutboxMail.id))) == 0

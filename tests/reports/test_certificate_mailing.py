"""Emailing certificates: each once by default, to everyone again only when confirmed, a failed mail left unsent."""

import email
import os
from collections import Counter
from datetime import timedelta

import pytest
import sqlalchemy as sa
from helpers import csrf_token

from attendance import mail
from attendance.certificates.mailing import email_certificates
from attendance.clock import utcnow
from attendance.extensions import db
from attendance.models import Attendance, AuditEvent, Certificate, Job, JobStatus, Mode, OutboxMail, Source


def attended(meeting, registration) -> None:
    db.session.add(Attendance(registration=registration, day=meeting.days[0], mode=Mode.IN_PERSON, source=Source.SCAN))
    db.session.commit()


@pytest.fixture
def finished(make_session, make_registration):
    """A session that ended last week: three delegates came (eligible), one did not."""
    meeting = make_session(first_day=utcnow().date() - timedelta(days=8))
    people = [make_registration(meeting, full_name=f"Person {n}", email=f"person{n}@example.org") for n in range(3)]
    make_registration(meeting, full_name="Never Came", email="never@example.org")
    for person in people:
        attended(meeting, person)
    return meeting, people


def recipients(app) -> Counter:
    outbox = app.config["OUTBOX_DIR"]
    return Counter(
        email.message_from_bytes(open(os.path.join(outbox, name), "rb").read())["To"] for name in os.listdir(outbox)
    )


def post(client, meeting, **form) -> str:
    return client.post(
        f"/sessions/{meeting.slug}/certificates/email",
        follow_redirects=True,
        data={"csrf_token": csrf_token(client), **form},
    ).get_data(as_text=True)


def overview(client, meeting) -> str:
    return client.get(f"/sessions/{meeting.slug}/certificates").get_data(as_text=True)


def mailing_audit() -> list[str]:
    return db.session.scalars(
        sa.select(AuditEvent.details).filter_by(action="certificates.email").order_by(AuditEvent.id)
    ).all()


def test_emailing_again_sends_only_the_certificates_not_yet_sent(app, client, login, finished, make_registration):
    meeting, people = finished
    login("organiser")
    assert "Email the 3 certificates not yet sent" in overview(client, meeting)
    assert "3 sent." in post(client, meeting)
    assert "All 3 eligible delegates have been emailed their certificate." in overview(client, meeting)

    assert "0 sent; 3 had theirs already." in post(client, meeting)  # posted twice: nobody gets a second mail
    assert recipients(app) == Counter(p.email for p in people)

    late = make_registration(meeting, full_name="Late Comer", email="late@example.org")
    attended(meeting, late)
    page = overview(client, meeting)
    assert "Email the 1 certificate not yet sent" in page and "3 of the 4 eligible delegates had theirs" in page
    assert "1 sent; 3 had theirs already." in post(client, meeting)
    assert recipients(app) == Counter(p.email for p in people + [late])
    assert mailing_audit() == [
        "not yet sent: 3 sent, 0 failed, 0 had theirs already",
        "not yet sent: 0 sent, 0 failed, 3 had theirs already",
        "not yet sent: 1 sent, 0 failed, 3 had theirs already",
    ]


def test_sending_again_to_everyone_needs_its_confirmation(app, client, login, finished):
    meeting, people = finished
    login("organiser")
    post(client, meeting)
    page = post(client, meeting, everyone="1")
    assert "Nothing was sent: tick the box" in page
    assert recipients(app) == Counter(p.email for p in people)

    assert "Sent again to everyone: 3 sent." in post(client, meeting, everyone="1", confirm="yes")
    assert recipients(app) == Counter({p.email: 2 for p in people})
    assert mailing_audit()[-1] == "everyone again: 3 sent, 0 failed, 0 had theirs already"


def test_a_mail_that_fails_stays_unsent_and_the_others_still_go(app, client, login, finished, monkeypatch):
    meeting, people = finished
    real_send = mail.Mailer.send

    def send(mailer, message):
        if message["To"] == people[1].email:
            raise OSError("550 mailbox unavailable")
        real_send(mailer, message)

    monkeypatch.setattr(mail.Mailer, "send", send)
    login("organiser")
    page = post(client, meeting)
    assert "2 sent." in page and "1 could not be sent yet" in page and "550 mailbox unavailable" not in page
    assert recipients(app) == Counter([people[0].email, people[2].email])
    emailed = dict(db.session.execute(sa.select(Certificate.registration_id, Certificate.emailed_at)).all())
    assert emailed[people[1].id] is None and emailed[people[0].id] and emailed[people[2].id]
    assert mailing_audit() == [
        f"not yet sent: 2 sent, 1 failed, 0 had theirs already; failed: registrations {people[1].id}"
    ]
    assert "Email the 1 certificate not yet sent" in overview(client, meeting)
    jobs_page = client.get(f"/sessions/{meeting.slug}/jobs").get_data(as_text=True)
    assert "550 mailbox unavailable" in jobs_page and "pending" in jobs_page  # the mail, with its error

    monkeypatch.setattr(mail.Mailer, "send", real_send)  # the mail server is back, and the retry is due
    db.session.execute(sa.update(OutboxMail).values(next_attempt_at=utcnow() - timedelta(seconds=1)))
    db.session.commit()
    [job] = db.session.scalars(sa.select(Job)).all()
    assert job.status is JobStatus.QUEUED and job.attempts == 1
    app.extensions["jobs.tasks"]["run_job"](job.id)  # what the queue does after the back-off
    db.session.rollback()  # the test's own transaction still saw the database before the run
    assert "Done: 3 sent." in client.get(f"/sessions/{meeting.slug}/jobs/{job.id}").get_data(as_text=True)
    assert recipients(app) == Counter(p.email for p in people)


def test_a_second_mailing_during_the_first_is_the_first(app, client, login, finished, monkeypatch):
    """A double click: the second request arrives while the first one is still sending."""
    meeting, people = finished
    real_send, sent, second = mail.Mailer.send, [], []

    def send(mailer, message):
        sent.append(message["To"])
        if len(sent) == 1:
            second.append(email_certificates(meeting))
        real_send(mailer, message)

    monkeypatch.setattr(mail.Mailer, "send", send)
    login("organiser")
    first = post(client, meeting)
    assert recipients(app) == Counter(p.email for p in people)
    [job] = db.session.scalars(sa.select(Job)).all()
    assert second[0].id == job.id and "3 sent." in first

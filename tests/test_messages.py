"""Messages to registrants through the job queue: the reminder before the first day (badge for those in person,
join link for those online) and an organiser's message to a group, each once per person, also when run again or
when a worker is killed mid-batch."""

import email
import email.policy
import os
import re
import signal
from collections import Counter
from datetime import timedelta

import pytest
import sqlalchemy as sa
from helpers import csrf_token
from test_jobs import queue_app, smtp, wait_for, workers  # noqa: F401  (fixtures: real workers, a real SMTP server)

from attendance import outbox, transaction
from attendance.clock import utcnow
from attendance.extensions import db
from attendance.jobs import kinds
from attendance.mailings.reminders import reminders_begin
from attendance.mailings.service import Group, count
from attendance.models import (
    Attendance,
    AuditEvent,
    Job,
    MailStatus,
    Message,
    Mode,
    OutboxMail,
    Registration,
    RegistrationStatus,
    Source,
)
from attendance.registration.approval import decide
from attendance.registration.service import Delegate, cancel, register, reinstate


def outbox_mails(app) -> list[email.message.EmailMessage]:
    folder = app.config["OUTBOX_DIR"]
    return [
        email.message_from_bytes(open(os.path.join(folder, name), "rb").read(), policy=email.policy.default)
        for name in sorted(os.listdir(folder))
    ]


def send_reminders(app) -> int:
    """The worker's periodic task, run here and now (JOBS_IMMEDIATE); how many mails went."""
    before = len(os.listdir(app.config["OUTBOX_DIR"]))
    app.extensions["jobs.tasks"]["send_reminders"]()
    db.session.expire_all()
    return len(os.listdir(app.config["OUTBOX_DIR"])) - before


def body(mail) -> str:
    return mail.get_body(("plain",)).get_content()


def test_a_reminder_carries_the_badge_in_person_and_the_join_link_online_once_each(
    app, make_session, make_registration
):
    meeting = make_session(first_day=utcnow().date() + timedelta(days=3), reminder_days_before=7)
    in_person = make_registration(meeting, mode=Mode.IN_PERSON)
    online = make_registration(meeting, mode=Mode.ONLINE, locale="fr")
    make_registration(meeting, status=RegistrationStatus.CANCELLED)
    make_registration(meeting, email="")  # a walk-in without an address

    assert send_reminders(app) == 2
    mails = {m["To"]: m for m in outbox_mails(app)}
    assert set(mails) == {in_person.email, online.email}
    assert [p.get_filename() for p in mails[in_person.email].iter_attachments()] == ["badge.pdf"]
    assert "You attend in person" in body(mails[in_person.email])
    assert list(mails[online.email].iter_attachments()) == []
    assert f"/join/{online.access_key}" in body(mails[online.email])
    assert mails[online.email]["Subject"].startswith("Rappel")  # in the delegate's language

    assert send_reminders(app) == 0 and len(outbox_mails(app)) == 2  # run again: nobody gets a second one

    for day in meeting.days:  # the meeting moves two days later: one reminder more for the new days
        day.date += timedelta(days=2)
    db.session.commit()
    assert send_reminders(app) == 2 and len(outbox_mails(app)) == 4


def test_no_reminder_before_its_day_or_when_off(app, make_session, make_registration):
    make_registration(make_session(first_day=utcnow().date() + timedelta(days=30), reminder_days_before=7))
    make_registration(make_session(first_day=utcnow().date() + timedelta(days=1), reminder_days_before=None))
    make_registration(make_session(first_day=utcnow().date() + timedelta(days=1), reminder_days_before=0))
    assert send_reminders(app) == 0 and outbox_mails(app) == []


def test_no_reminder_follows_a_confirmation_approval_or_reinstatement_mailed_a_day_before_the_reminders_or_since(
    app, make_session, make_registration
):
    meeting = make_session(first_day=utcnow().date() + timedelta(days=3), reminder_days_before=7)
    begin = reminders_begin(meeting)

    def confirmed(name: str, when) -> Registration:
        registration = register(
            meeting,
            Delegate(
                name,
                f"{name}@example.org",
                "RILO",
                "BE",
                meeting.entity_types[0].id,
                meeting.regions[0].id,
                Mode.ONLINE,
            ),
        )
        db.session.get(OutboxMail, outbox.mail_of(registration, outbox.CONFIRMATION).id).created_at = when
        return registration

    long_ago = confirmed("long.ago", begin - timedelta(days=3))
    confirmed("the.day.before", begin - timedelta(hours=12))
    confirmed("just.now", utcnow())  # inside the window: the confirmation said it all minutes ago
    approved = make_registration(meeting, status=RegistrationStatus.PENDING, email="approved.now@example.org")
    outbox.schedule(approved, outbox.CONFIRMATION)  # "received, awaiting approval", long before
    db.session.get(OutboxMail, outbox.mail_of(approved, outbox.CONFIRMATION).id).created_at = begin - timedelta(days=5)
    decide(approved, approve=True)  # the approval mail with badge and links goes now
    reinstated = confirmed("reinstated.now", begin - timedelta(days=3))
    cancel(reinstated, "By mistake")
    reinstate(reinstated)  # the reinstatement mail, with badge and links, goes now
    transaction.commit()

    assert send_reminders(app) == 1
    assert [m["To"] for m in outbox_mails(app) if m["Subject"].startswith("Reminder")] == [long_ago.email]


def test_the_organiser_sets_the_reminder_on_the_session_page(client, login, make_session):
    meeting = make_session()
    login()
    page = client.get(f"/sessions/{meeting.slug}/edit").get_data(as_text=True)
    assert 'name="reminder_days_before"' in page


@pytest.mark.parametrize("smtp", [3], indirect=True)  # the third mail is in flight when the worker is killed
def test_a_reminder_batch_whose_worker_is_killed_sends_each_reminder_once(
    app, make_session, make_registration, smtp, queue_app, workers, tmp_path
):
    meeting = make_session(first_day=utcnow().date() + timedelta(days=2), reminder_days_before=3)
    people = [
        make_registration(meeting, full_name=f"Person {n}", email=f"person{n}@example.org", mode=Mode.ONLINE)
        for n in range(5)
    ]
    jobs_url = f"sqlite:///{tmp_path / 'jobs.sqlite3'}"
    queued = queue_app(jobs_url)
    with queued.app_context():
        queued.extensions["jobs.tasks"]["send_reminders"]()  # queued for a worker, as its clock would
        db.session.remove()

    # No sweep beside the reminder task: a second sender could be killed between the server's 250 and its mark,
    # the one window no mailer closes, and send that mail twice.
    first = workers(jobs_url, smtp.port, periodic=False)
    assert smtp.holding.wait(90), "the worker never reached the third mail"
    first.send_signal(signal.SIGKILL)  # killed while the server holds the third mail
    first.wait()
    smtp.release.set()
    assert len(smtp.accepted) == 2 and len(set(smtp.accepted)) == 2
    assert db.session.scalar(sa.select(sa.func.count()).where(OutboxMail.status == MailStatus.SENDING)) >= 1

    # Later, once the lease of the dead worker's claim has run out, the next run sends the rest.
    db.session.execute(
        sa.update(OutboxMail)
        .where(OutboxMail.status == MailStatus.SENDING)
        .values(claimed_at=utcnow() - timedelta(hours=1))
    )
    db.session.commit()
    workers(jobs_url, smtp.port)
    with queued.app_context():
        queued.extensions["jobs.tasks"]["send_reminders"]()
        db.session.remove()
    wait_for(
        lambda: db.session.scalars(sa.select(OutboxMail.status)).all() == [MailStatus.SENT] * 5, "every reminder sent"
    )
    assert Counter(smtp.accepted) == Counter(p.email for p in people)  # each once


def rilo_session(make_session, make_registration):
    meeting = make_session()
    rtc, rocb = meeting.entity_types[1], meeting.entity_types[0]
    people = {
        "online_rtc_1": make_registration(meeting, mode=Mode.ONLINE, entity_type=rtc),
        "online_rtc_2": make_registration(meeting, mode=Mode.ONLINE, entity_type=rtc),
        "in_person_rtc": make_registration(meeting, mode=Mode.IN_PERSON, entity_type=rtc),
        "online_rocb": make_registration(meeting, mode=Mode.ONLINE, entity_type=rocb),
        "cancelled_online_rtc": make_registration(
            meeting, mode=Mode.ONLINE, entity_type=rtc, status=RegistrationStatus.CANCELLED
        ),
    }
    return meeting, rtc, people


def test_an_organiser_previews_counts_and_sends_a_message_to_a_group_once_each(
    app, client, login, make_session, make_registration
):
    meeting, rtc, people = rilo_session(make_session, make_registration)
    organiser = login()
    url = f"/sessions/{meeting.slug}/messages"
    form = {
        "mode": "online",
        "entity_type": str(rtc.id),
        "region": "",
        "status": "registered",
        "checked_in": "",
        "waiting": "",
        "subject": "Room change",
        "body": "The online room opens at 8:30.",
        "csrf_token": csrf_token(client, url),
    }

    preview = client.post(url, data={**form, "action": "preview"}).get_data(as_text=True)
    assert "This message goes to 2 people." in preview and "Send to 2 people" in preview
    assert people["online_rtc_1"].email in preview and "The online room opens at 8:30." in preview
    assert people["online_rtc_1"].access_key not in preview  # staff never see a delegate's secret link
    assert outbox_mails(app) == []  # a preview sends nothing

    response = client.post(url, data={**form, "action": "send", "expected": "2"})
    assert response.status_code == 302 and "/jobs/" in response.headers["Location"]
    mails = outbox_mails(app)
    assert sorted(m["To"] for m in mails) == sorted([people["online_rtc_1"].email, people["online_rtc_2"].email])
    assert all(m["Subject"] == "Room change" and "The online room opens at 8:30." in body(m) for m in mails)
    assert all(f"/me/{p.access_key}" in body(m) for m in mails for p in people.values() if p.email == m["To"])
    message = db.session.scalar(sa.select(Message))
    assert message.recipients == 2 and message.sent_by == organiser and '"mode": "online"' in message.filters
    assert db.session.scalar(sa.select(AuditEvent.target).filter_by(action="message.send")) == f"message {message.id}"
    job_page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "2 sent" in job_page

    # The job run once more (a retry after a worker died): nobody gets a second copy.
    job = db.session.get(Job, message.job_id)
    kinds.KINDS[job.kind](job)
    assert len(outbox_mails(app)) == 2
    assert "Room change" in client.get(url).get_data(as_text=True)  # listed among the sent messages
    client.set_cookie("lang", "fr")
    assert "terminé (2/2)" in client.get(url).get_data(as_text=True)  # its job's progress, in French


def test_a_group_that_changed_since_the_preview_is_shown_again_not_sent(
    app, client, login, make_session, make_registration
):
    meeting, rtc, _people = rilo_session(make_session, make_registration)
    login()
    url = f"/sessions/{meeting.slug}/messages"
    response = client.post(
        url,
        data={
            "mode": "online",
            "entity_type": str(rtc.id),
            "status": "registered",
            "subject": "Hello",
            "body": "Text",
            "action": "send",
            "expected": "5",
            "csrf_token": csrf_token(client, url),
        },
    )
    page = response.get_data(as_text=True)
    assert "The group changed since your preview" in page and "This message goes to 2 people." in page
    assert outbox_mails(app) == [] and db.session.scalar(sa.select(Message)) is None


def test_a_message_needs_a_subject_a_body_and_someone_to_go_to(client, login, make_session):
    meeting = make_session()
    login()
    url = f"/sessions/{meeting.slug}/messages"
    response = client.post(
        url,
        data={
            "status": "registered",
            "subject": "",
            "body": "",
            "action": "preview",
            "csrf_token": csrf_token(client, url),
        },
    )
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "Write a subject." in page and "Write the message." in page
    response = client.post(
        url,
        data={
            "status": "registered",
            "subject": "Hi",
            "body": "Text",
            "action": "preview",
            "csrf_token": csrf_token(client, url),
        },
    )
    assert response.status_code == 400 and "there is no one to send to" in response.get_data(as_text=True)


def test_groups_filter_by_check_in_and_waiting_list(make_session, make_registration):
    meeting = make_session()
    came, stayed_away = make_registration(meeting), make_registration(meeting)
    waiting = make_registration(meeting, mode=Mode.ONLINE, waiting_since=utcnow())
    db.session.add(Attendance(registration=came, day=meeting.days[0], mode=Mode.IN_PERSON, source=Source.SCAN))
    db.session.commit()
    members = lambda group: set(db.session.scalars(group.query(meeting)))  # noqa: E731
    assert members(Group(checked_in=True)) == {came}
    assert members(Group(checked_in=False)) == {stayed_away, waiting}
    assert members(Group(waiting=True)) == {waiting} and count(meeting, Group(waiting=False)) == 2
    assert Group.from_json(Group(mode=Mode.ONLINE, checked_in=False).to_json()) == Group(
        mode=Mode.ONLINE, checked_in=False
    )


def test_the_waiting_group_with_any_status_is_the_people_in_line_not_pending_ones_who_asked(
    app, client, login, make_session, make_registration
):
    meeting = make_session(in_person_capacity=1)
    make_registration(meeting)
    in_line = make_registration(meeting, mode=Mode.ONLINE, waiting_since=utcnow(), email="in.line@example.org")
    asked = {  # asked to wait for a seat, but never approved into the line
        status: make_registration(
            meeting, mode=Mode.ONLINE, waiting_since=utcnow(), status=status, email=f"{status.value}@example.org"
        )
        for status in (RegistrationStatus.PENDING, RegistrationStatus.DECLINED)
    }
    login()
    url = f"/sessions/{meeting.slug}/messages"
    form = {"status": "", "waiting": "yes", "subject": "Seats", "body": "News about seats."}
    preview = client.post(url, data={**form, "action": "preview", "csrf_token": csrf_token(client, url)})
    page = preview.get_data(as_text=True)
    assert "This message goes to 1 person." in page and in_line.email in page
    client.post(url, data={**form, "action": "send", "expected": "1", "csrf_token": csrf_token(client, url)})
    assert [m["To"] for m in outbox_mails(app)] == [in_line.email]
    not_in_line = set(db.session.scalars(Group(status=None, waiting=False).query(meeting)))
    assert set(asked.values()) <= not_in_line and in_line not in not_in_line


def test_deleting_a_session_deletes_its_messages(app, client, login, make_session, make_registration):
    from attendance.organiser.service import delete_session

    meeting, rtc, _people = rilo_session(make_session, make_registration)
    login()
    url = f"/sessions/{meeting.slug}/messages"
    client.post(
        url,
        data={
            "mode": "online",
            "entity_type": str(rtc.id),
            "status": "registered",
            "subject": "Hi",
            "body": "Text",
            "action": "send",
            "expected": "2",
            "csrf_token": csrf_token(client, url),
        },
    )
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Message)) == 1
    delete_session(meeting)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Message)) == 0


def test_a_send_posted_three_times_sends_one_message_once_to_each(app, client, login, make_session, make_registration):
    meeting, rtc, people = rilo_session(make_session, make_registration)
    login()
    url = f"/sessions/{meeting.slug}/messages"
    form = {
        "mode": "online",
        "entity_type": str(rtc.id),
        "status": "registered",
        "subject": "Room change",
        "body": "The online room opens at 8:30.",
        "csrf_token": csrf_token(client, url),
    }
    preview = client.post(url, data={**form, "action": "preview"}).get_data(as_text=True)
    token = re.search(r'name="send_token" type="hidden" value="([^"]+)"', preview).group(1)

    # Double click, browser resubmit, a second tab: the same preview's Send posted three times.
    answers = [client.post(url, data={**form, "action": "send", "expected": "2", "send_token": token}) for _ in "123"]
    transaction.commit()
    assert {a.headers["Location"] for a in answers} == {answers[0].headers["Location"]}
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Message)) == 1
    assert Counter(m["To"] for m in outbox_mails(app)) == {
        people["online_rtc_1"].email: 1,
        people["online_rtc_2"].email: 1,
    }
    # A new preview is a new message.
    preview = client.post(url, data={**form, "action": "preview"}).get_data(as_text=True)
    assert token not in preview

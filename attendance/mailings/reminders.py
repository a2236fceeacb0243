"""The reminder some days before a session's first day: one mail per registered delegate, the badge attached for
those who come in person, the join link for those online.

A worker's periodic task (`jobs.queue`) runs `send_reminders`. The mail's version is the first day's date: run
again, or by two workers, it finds the rows there and sends only what is not sent yet; a meeting moved to other
days reminds once more.

A delegate whose confirmation (or approval, or reinstatement) was mailed since the reminders began, or within a day
before, gets none: that mail gave the same days, links and badge, minutes or hours before (`recently_confirmed`).
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

import sqlalchemy as sa

from .. import outbox
from ..dbutil import serialized_writes
from ..extensions import db
from ..jobs.delivery import deliver
from ..models import MeetingSession, OutboxMail, Registration, RegistrationStatus

#: a reminder never follows the mail that said the same (the confirmation, the approval, the reinstatement)
#: within this time
REMINDER_GAP = timedelta(days=1)


def is_due(meeting: MeetingSession, today: date) -> bool:
    """From `reminder_days_before` days before the first day until that day, `today` in the session's zone."""
    if not meeting.reminder_days_before or not meeting.days or meeting.purged_at is not None:
        return False
    first_day = meeting.days[0].date
    return first_day - timedelta(days=meeting.reminder_days_before) <= today <= first_day


def reminders_begin(meeting: MeetingSession) -> datetime:
    """The moment the reminders become due: the start of the day `reminder_days_before` the first, where the session
    meets."""
    day = meeting.days[0].date - timedelta(days=meeting.reminder_days_before or 0)
    return datetime.combine(day, time(0), tzinfo=meeting.zone)


def recently_confirmed(meeting: MeetingSession) -> sa.ColumnElement[bool]:
    """Whether the registration's confirmation, approval or reinstatement mail was written less than REMINDER_GAP
    before the reminders began, or since: they registered (or were approved, or reinstated) too late for a reminder
    to remind them of anything."""
    return (
        sa.select(OutboxMail.id)
        .where(
            OutboxMail.registration_id == Registration.id,
            OutboxMail.purpose.in_((outbox.CONFIRMATION, outbox.APPROVED, outbox.REINSTATED)),
            OutboxMail.created_at > reminders_begin(meeting) - REMINDER_GAP,
        )
        .exists()
    )


def reminder_version(meeting: MeetingSession) -> str:
    return meeting.days[0].date.isoformat()


def schedule_reminders(meeting: MeetingSession) -> list[int]:
    """Adds a reminder for each registered delegate who has none for these days yet and was not `recently_confirmed`
    (committed); the ids of all the session's reminders for these days, to deliver."""
    version = reminder_version(meeting)
    with serialized_writes():
        for registration in db.session.scalars(
            sa.select(Registration).where(
                Registration.session_id == meeting.id,
                Registration.status == RegistrationStatus.REGISTERED,
                Registration.email != "",
                ~recently_confirmed(meeting),
            )
        ):
            outbox.schedule(registration, outbox.REMINDER, version)
        db.session.info.pop(outbox.SCHEDULED, None)  # delivered below, by this worker
        db.session.commit()  # before delivering them below: a worker killed mid-batch finds them on its retry
    return list(
        db.session.scalars(
            sa.select(OutboxMail.id)
            .join(Registration)
            .where(
                Registration.session_id == meeting.id,
                OutboxMail.purpose == outbox.REMINDER,
                OutboxMail.version == version,
            )
            .order_by(OutboxMail.id)
        )
    )


def send_reminders() -> int:
    """Schedules and sends the reminders of every session due today; how many mails went."""
    sessions = db.session.scalars(
        sa.select(MeetingSession).where(MeetingSession.reminder_days_before > 0, MeetingSession.purged_at.is_(None))
    ).all()
    sent = 0
    for meeting in sessions:
        if is_due(meeting, meeting.today()):
            sent += deliver(schedule_reminders(meeting)).sent
    return sent

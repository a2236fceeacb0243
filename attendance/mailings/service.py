"""An organiser's message to a group of registrants: the group (filters), its count and preview, and the job that
mails it, one outbox row per person (purpose "message", version: the message's id), so a job run again or retried
after a worker died sends nobody a second copy."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass

import sqlalchemy as sa

from .. import audit
from ..extensions import db
from ..jobs.kinds import request_job
from ..models import Attendance, MeetingSession, Message, Mode, Registration, RegistrationStatus


@dataclass
class Group:
    """Whom a message is for; a field left None does not filter."""

    mode: Mode | None = None
    entity_type_id: int | None = None
    region_id: int | None = None
    status: RegistrationStatus | None = RegistrationStatus.REGISTERED
    #: checked in at the door on some day (True), or never (False)
    checked_in: bool | None = None
    #: in the line for an in-person seat (True), or not (False): `Registration.is_waiting`
    waiting: bool | None = None

    def to_json(self) -> str:
        return json.dumps({k: v for k, v in asdict(self).items() if v is not None}, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> Group:
        values = json.loads(text)
        group = cls(**{**values, "status": None})
        group.mode = Mode(values["mode"]) if values.get("mode") else None
        group.status = RegistrationStatus(values["status"]) if values.get("status") else None
        return group

    def query(self, meeting: MeetingSession) -> sa.Select:
        """The group's registrations that have an address, in a stable order."""
        query = sa.select(Registration).where(Registration.session_id == meeting.id, Registration.email != "")
        for column, value in (
            (Registration.mode, self.mode),
            (Registration.entity_type_id, self.entity_type_id),
            (Registration.region_id, self.region_id),
            (Registration.status, self.status),
        ):
            if value is not None:
                query = query.where(column == value)
        if self.checked_in is not None:
            door = sa.exists().where(Attendance.registration_id == Registration.id, Attendance.mode == Mode.IN_PERSON)
            query = query.where(door if self.checked_in else ~door)
        if self.waiting is not None:  # the people in the line: a pending delegate who asked for a seat is not yet
            query = query.where(Registration.in_line() if self.waiting else ~Registration.in_line())
        return query.order_by(Registration.id)


def count(meeting: MeetingSession, group: Group) -> int:
    return db.session.execute(sa.select(sa.func.count()).select_from(group.query(meeting).subquery())).scalar_one()


def first_recipient(meeting: MeetingSession, group: Group) -> Registration | None:
    return db.session.scalar(group.query(meeting).limit(1))


def send_message(
    meeting: MeetingSession,
    group: Group,
    subject: str,
    body: str,
    *,
    recipients: int,
    sent_by: str,
    send_token: str | None = None,
) -> tuple[Message, bool]:
    """Keeps the message with its group and count, audited, and asks for the job that mails it (flushed; the job
    starts after the commit of the unit of work, `transaction.commit()`); whether it is new. The message already
    sent with the same `send_token` (one preview's Send posted again) is returned instead of sending it twice.
    `recipients` is the count the organiser confirmed (`count(meeting, group)`), kept with the message."""
    if send_token and (sent := _sent_with(meeting, send_token)):
        return sent, False
    message = Message(
        session=meeting,
        subject=subject,
        body=body,
        filters=group.to_json(),
        recipients=recipients,
        sent_by=sent_by,
        send_token=send_token or None,
    )
    try:
        with db.session.begin_nested():  # a concurrent post with the same token committed first
            db.session.add(message)
    except sa.exc.IntegrityError:
        sent = _sent_with(meeting, send_token or "")
        if sent is None:
            raise
        return sent, False
    audit.record(
        "message.send",
        session_id=meeting.id,
        target=f"message {message.id}",
        details=f"{message.recipients} recipients; {group.to_json()}; subject: {subject}",
        actor=sent_by,
    )
    job, _new = request_job(meeting, "messages.send", requested_by=sent_by, options={"message_id": message.id})
    message.job = job
    db.session.flush()
    return message, True


def _sent_with(meeting: MeetingSession, send_token: str) -> Message | None:
    return db.session.scalar(
        sa.select(Message).where(Message.session_id == meeting.id, Message.send_token == send_token)
    )


def messages_of(meeting: MeetingSession) -> list[Message]:
    return list(
        db.session.scalars(sa.select(Message).where(Message.session_id == meeting.id).order_by(Message.id.desc()))
    )

"""In-person seats and the waiting list for them: who waits, in which order, and the promotion of the first in line.

A delegate who waits is registered online meanwhile (`mode` online, `waiting_since` set): the line is ordered by
`waiting_since`, then by id. Whatever frees a seat (a cancellation, a switch to online, more seats) promotes the
first in line in the same transaction (the request's, command's or job's one), after `lock_seats`: on PostgreSQL
the session row stays locked until that commit, so two cancellations at the same instant take turns and promote
two different people; on SQLite the transaction's first write takes the database's write lock, with the same
effect. The room is never over-filled.
"""

from __future__ import annotations

import sqlalchemy as sa

from .. import audit, outbox
from ..extensions import db
from ..models import MeetingSession, Mode, Registration, RegistrationStatus
from ..tokens import new_badge_token


def lock_seats(meeting: MeetingSession) -> None:
    """Makes the caller's transaction the only one changing the session's seats until it ends (PostgreSQL: a row
    lock; SQLite ignores FOR UPDATE, and its write lock serialises the writers already)."""
    db.session.execute(sa.select(MeetingSession.id).where(MeetingSession.id == meeting.id).with_for_update())


def in_person_count(meeting: MeetingSession) -> int:
    return db.session.execute(
        sa.select(sa.func.count(Registration.id)).where(
            Registration.session_id == meeting.id,
            Registration.mode == Mode.IN_PERSON,
            Registration.status == RegistrationStatus.REGISTERED,
        )
    ).scalar_one()


def in_person_full(meeting: MeetingSession) -> bool:
    return meeting.in_person_capacity is not None and in_person_count(meeting) >= meeting.in_person_capacity


def waiting_line(meeting: MeetingSession) -> sa.Select:
    return (
        sa.select(Registration)
        .where(Registration.session_id == meeting.id, Registration.in_line())
        .order_by(Registration.waiting_since, Registration.id)
    )


def waiting_list(meeting: MeetingSession) -> list[Registration]:
    return list(db.session.scalars(waiting_line(meeting)))


def place_in_line(registration: Registration) -> int | None:
    """1 for the first in line; None when the delegate is not waiting."""
    if not registration.is_waiting:
        return None
    return ahead_in_line(registration) + 1


def ahead_in_line(registration: Registration) -> int:
    """How many in line come before the delegate (or would, for a pending delegate who asked for a seat: approval
    puts them in line from the moment they asked, `approval.decide`)."""
    assert registration.waiting_since is not None
    return db.session.execute(
        sa.select(sa.func.count(Registration.id)).where(
            Registration.session_id == registration.session_id,
            Registration.in_line(),
            sa.or_(
                Registration.waiting_since < registration.waiting_since,
                sa.and_(Registration.waiting_since == registration.waiting_since, Registration.id < registration.id),
            ),
        )
    ).scalar_one()


def leave_waiting_list(registration: Registration) -> None:
    """The delegate stays registered online and gives up their place in line."""
    registration.waiting_since = None
    db.session.flush()


def promote_waiting(meeting: MeetingSession, *, told: Registration | None = None) -> list[Registration]:
    """Gives the free seats to the first in line: in person from now, a new badge, and a mail with it (scheduled
    in the caller's transaction), except to `told`, whom the caller's own mail tells (a reinstatement's, written
    after this). Call after `lock_seats` and after the change that freed the seats, before the commit. The
    promoted, in order."""
    waiting = waiting_line(meeting)
    if meeting.in_person_capacity is not None:
        free = meeting.in_person_capacity - in_person_count(meeting)
        if free <= 0:
            return []
        waiting = waiting.limit(free)
    promoted = list(db.session.scalars(waiting))
    for registration in promoted:
        registration.mode = Mode.IN_PERSON
        registration.waiting_since = None
        registration.badge_token = new_badge_token()  # the badge now admits them to the room: a fresh one, mailed
        if registration is not told:
            outbox.schedule(registration, outbox.PROMOTED, outbox.badge_version(registration))
        audit.record(
            "registration.promote",
            session_id=meeting.id,
            target=f"registration {registration.id}",
            actor="waiting list",
        )
    db.session.flush()
    return promoted

"""Organisers approve or decline pending registrations (sessions whose policy requires approval)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, cast

import sqlalchemy as sa

from .. import audit, outbox
from ..clock import utcnow
from ..dbutil import serialized_writes
from ..extensions import db
from ..models import MeetingSession, Mode, Registration, RegistrationStatus
from .service import InPersonFull
from .waitlist import ahead_in_line, in_person_full, lock_seats

MESSAGE_MAX = 500


class NotPending(Exception):
    """The registration is no longer pending (cancelled, or decided by someone else meanwhile): nothing changed.
    `status` is what it is now."""

    def __init__(self, status: RegistrationStatus):
        super().__init__(status)
        self.status = status


def decide(registration: Registration, *, approve: bool, message: str = "") -> None:
    """Approves (registered: badge, join link, a seat) or declines a pending registration in the caller's
    transaction, audited, with a mail to the delegate (approved: the confirmation with badge and calendar). Raises
    NotPending or InPersonFull and changes nothing otherwise. A delegate who chose the waiting list is seated when a
    seat is free, or else approved into the line (registered online meanwhile), from the moment they registered.

    The change is an UPDATE ... WHERE status = 'pending': of two organisers deciding at once, or a cancellation
    meanwhile, only one wins; the other learns what happened."""
    message = message.strip()[:MESSAGE_MAX]
    new_status = RegistrationStatus.REGISTERED if approve else RegistrationStatus.DECLINED
    meeting: MeetingSession = registration.session
    counts_seats = approve and registration.mode is Mode.IN_PERSON and meeting.in_person_capacity is not None
    wants_seat = approve and registration.waiting_since is not None
    seat: dict[str, Any] = {}
    with serialized_writes():
        if wants_seat:
            lock_seats(meeting)
            if not in_person_full(meeting):
                seat = {"mode": Mode.IN_PERSON, "waiting_since": None}
        if counts_seats:  # as `register` does: two approvals cannot both take the last seat
            lock_seats(meeting)
            if in_person_full(meeting):  # checked before any write: nothing to undo
                raise InPersonFull()
        changed = cast(  # an UPDATE's result is a CursorResult, which Session.execute's type does not say
            sa.CursorResult[Any],
            db.session.execute(
                sa.update(Registration)
                .where(Registration.id == registration.id, Registration.status == RegistrationStatus.PENDING)
                .values(status=new_status, decision_message=message, updated_at=utcnow(), **seat)
                .execution_options(synchronize_session=False)
            ),
        ).rowcount
        if not changed:  # nothing was written: the other decisions of the same request stand
            db.session.refresh(registration)
            raise NotPending(registration.status)
        db.session.expire(registration, ["status", "mode", "waiting_since"])  # as the UPDATE left them
        audit.record(
            "registration.approve" if approve else "registration.decline",
            session_id=meeting.id,
            target=f"registration {registration.id}",
            details=message,
        )
        outbox.schedule(registration, outbox.APPROVED if approve else outbox.DECLINED)
        db.session.flush()


@dataclass
class Decisions:
    done: list[Registration] = field(default_factory=list)
    #: those left as they were, with why: a NotPending or InPersonFull
    refused: list[tuple[Registration, Exception]] = field(default_factory=list)


def decide_many(registrations: Sequence[Registration], *, approve: bool, message: str = "") -> Decisions:
    """Each decided in turn, all in the caller's one transaction: one that is no longer pending (or finds the seats
    full) is refused before it writes anything, so it does not hold back the others, and is reported."""
    decisions = Decisions()
    for registration in registrations:
        try:
            decide(registration, approve=approve, message=message)
        except (NotPending, InPersonFull) as refusal:
            decisions.refused.append((registration, refusal))
        else:
            decisions.done.append(registration)
    return decisions


def pending_count(meeting: MeetingSession) -> int:
    return db.session.execute(
        sa.select(sa.func.count(Registration.id)).where(
            Registration.session_id == meeting.id, Registration.status == RegistrationStatus.PENDING
        )
    ).scalar_one()


def seat_wishes(meeting: MeetingSession, people: Sequence[Registration]) -> dict[int, int | None]:
    """Of those of `people` who asked to wait for a seat (by registration id), the place in line that approving them
    now would give (they keep the moment they asked), or None when a seat is free and approval seats them. What
    the organiser sees before deciding; `decide` counts the seats again, under the lock."""
    wishers = [r for r in people if r.status is RegistrationStatus.PENDING and r.waiting_since is not None]
    if not wishers:
        return {}
    seat_free = not in_person_full(meeting)
    return {r.id: None if seat_free else ahead_in_line(r) + 1 for r in wishers}

"""A registration's life: registering through the form, cancelling, reinstating and re-keying its badge. Staff
adding someone is `staff_entry`; the mails these changes send are `messages`."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from .. import audit, outbox
from ..clock import utcnow
from ..dbutil import serialized_writes
from ..extensions import db
from ..models import (
    EntityType,
    Invitation,
    InvitationKind,
    MeetingSession,
    Mode,
    Region,
    Registration,
    RegistrationPolicy,
    RegistrationSource,
    RegistrationStatus,
)
from ..models.registration import email_key
from ..questions.service import ForeignQuestion, add_answers
from ..tokens import new_badge_token
from .waitlist import in_person_count, in_person_full, lock_seats, place_in_line, promote_waiting

log = logging.getLogger(__name__)


class RegistrationError(Exception):
    """A registration that cannot be made; `field` names the form field at fault, if any."""

    field: str | None = None


class RegistrationClosed(RegistrationError):
    pass


class AlreadyRegistered(RegistrationError):
    field = "email"


class InPersonFull(RegistrationError):
    field = "mode"


class InvitationRequired(RegistrationError):
    """The session registers by invitation only, and none came with the form."""


class InvitationUsed(RegistrationError):
    """The invitation was used up (or revoked) meanwhile: another tab, or the focal point's N-th nominee."""


@dataclass
class Delegate:
    """What a delegate tells us about themselves."""

    full_name: str
    email: str
    organisation: str
    country: str
    entity_type_id: int
    region_id: int
    mode: Mode
    keep_name_on_certificate: bool = False
    #: the language they registered in, for their emails and PDFs
    locale: str = "en"


def find_by_email(meeting: MeetingSession, email: str) -> Registration | None:
    return db.session.scalar(sa.select(Registration).filter_by(session_id=meeting.id, email_key=email_key(email)))


def first_status(meeting: MeetingSession, source: RegistrationSource) -> RegistrationStatus:
    """Pending in a session that requires approval when the registration came by the public form or a focal point's
    nomination; registered when staff added it or a personal invitation brought it: the organiser chose that person
    already."""
    if meeting.registration_policy is RegistrationPolicy.APPROVAL and source in (
        RegistrationSource.FORM,
        RegistrationSource.NOMINATION,
    ):
        return RegistrationStatus.PENDING
    return RegistrationStatus.REGISTERED


def source_of(invitation: Invitation | None) -> RegistrationSource:
    """How a registration through the public form came: by itself, a personal invitation, or a nomination."""
    if invitation is None:
        return RegistrationSource.FORM
    return RegistrationSource.NOMINATION if invitation.is_nomination else RegistrationSource.INVITATION


def register(
    meeting: MeetingSession,
    delegate: Delegate,
    answers: dict[int, str] | None = None,
    *,
    invitation: Invitation | None = None,
    wait_for_seat: bool = False,
) -> Registration:
    """Registers a delegate with their answers to the session's questions (question id -> value, checked by
    `questions.service.clean_answers`) in one transaction; or raises a RegistrationError, or ForeignQuestion for an
    answer to another session's question, and changes nothing. Through an
    `invitation`, the same transaction takes one of its places (`take_place`): two tabs sending one personal
    invitation at once make one registration, and a focal point's N+1-th nominee is refused. With
    `wait_for_seat`, a delegate who finds the room full joins the in-person waiting list, registered online meanwhile.

    A second registration of an address is refused by the table's unique key, at the insert (AlreadyRegistered):
    no read before it, and no race. The seat check runs after the insert, in the same transaction: on SQLite the
    insert takes the write lock, and on PostgreSQL the session row is locked first, so two delegates can never
    both take the last seat.
    With `wait_for_seat`, a delegate who wants a seat takes a free one, or else joins the waiting list and is
    registered online meanwhile.
    """
    if meeting.registration_state() != "open":
        raise RegistrationClosed(meeting.registration_state())
    if meeting.registration_policy is RegistrationPolicy.INVITATION and invitation is None:
        raise InvitationRequired()
    _check_belongs_to(meeting, delegate)
    source = source_of(invitation)
    status = first_status(meeting, source)
    if wait_for_seat:
        delegate.mode = Mode.IN_PERSON
    # Pending people take no seat: the seat is counted when an organiser approves them.
    counts_seats = (
        status is RegistrationStatus.REGISTERED
        and delegate.mode is Mode.IN_PERSON
        and meeting.in_person_capacity is not None
    )
    try:
        with serialized_writes():
            if counts_seats:
                # Before the insert: the insert's foreign key takes a share lock on this row, which would deadlock.
                lock_seats(meeting)
            if invitation is not None and not take_place(invitation):
                raise InvitationUsed()
            registration = Registration(
                session=meeting,
                status=status,
                source=source,
                invitation_id=invitation.id if invitation else None,
                **vars(delegate),
            )
            db.session.add(registration)
            db.session.flush()
            if counts_seats and in_person_count(meeting) > (meeting.in_person_capacity or 0):
                if not wait_for_seat:
                    raise InPersonFull()
                registration.mode, registration.waiting_since = Mode.ONLINE, utcnow()
            if wait_for_seat and status is RegistrationStatus.PENDING:
                # The wish is kept, as a waiting delegate is: approval seats them, or else puts them in line (`decide`)
                registration.mode, registration.waiting_since = Mode.ONLINE, utcnow()
            add_answers(registration, answers or {})
            outbox.schedule(registration, outbox.CONFIRMATION)  # sent by a worker once the caller commits
    except IntegrityError:
        db.session.rollback()
        raise AlreadyRegistered() from None
    except (RegistrationError, ForeignQuestion):
        db.session.rollback()
        raise
    return registration


def take_place(invitation: Invitation) -> bool:
    """Takes one of the invitation's places in the caller's transaction; False when none is left or it was
    revoked. One conditional UPDATE: PostgreSQL's row lock makes a second one wait and then find no place."""
    return (
        cast(  # an UPDATE's result is a CursorResult, which Session.execute's type does not say
            sa.CursorResult[Any],
            db.session.execute(
                sa.update(Invitation)
                .where(
                    Invitation.id == invitation.id, Invitation.used < Invitation.places, Invitation.revoked_at.is_(None)
                )
                .values(used=Invitation.used + 1)
                .execution_options(synchronize_session=False)
            ),
        ).rowcount
        == 1
    )


def _give_back_place(invitation_id: int) -> None:
    """A cancelled nominee frees their place: the focal point may name someone else. One conditional UPDATE, as
    `take_place`. A personal invitation stays used: its link must not register anyone again."""
    db.session.execute(
        sa.update(Invitation)
        .where(Invitation.id == invitation_id, Invitation.kind == InvitationKind.NOMINATION, Invitation.used > 0)
        .values(used=Invitation.used - 1)
        .execution_options(synchronize_session=False)
    )


def _check_belongs_to(meeting: MeetingSession, delegate: Delegate) -> None:
    entity_type = db.session.get(EntityType, delegate.entity_type_id)
    region = db.session.get(Region, delegate.region_id)
    if entity_type is None or entity_type.session_id != meeting.id:
        raise ValueError("entity type of another session")
    if region is None or region.session_id != meeting.id:
        raise ValueError("region of another session")


def cancel(registration: Registration, reason: str, *, tell: bool = False) -> list[Registration]:
    """Cancels, audited with the reason. With `tell`, a notice to the delegate is scheduled in the same transaction.
    A seat freed goes to the first on the waiting list at once (`waitlist.promote_waiting`); the promoted, if any.
    Cancelling a registration cancelled meanwhile (a double click) changes nothing."""
    with serialized_writes():
        lock_seats(registration.session)
        db.session.refresh(registration, with_for_update=True)  # as it stands now, not as this request first read it
        if registration.is_cancelled:
            return []
        audit.record(
            "registration.cancel",
            session_id=registration.session_id,
            target=f"registration {registration.id}",
            details=reason,
        )
        frees_a_seat = registration.mode is Mode.IN_PERSON
        if registration.invitation_id is not None:
            _give_back_place(registration.invitation_id)
        registration.status = RegistrationStatus.CANCELLED
        registration.cancel_reason = reason.strip()
        registration.cancelled_at = utcnow()  # a wish to wait for a seat stays: reinstated, they join the line again
        if tell:
            outbox.schedule(registration, outbox.CANCELLED, registration.cancelled_at.isoformat())
        promoted = promote_waiting(registration.session) if frees_a_seat else []
        db.session.flush()
    return promoted


def status_before_cancel(registration: Registration) -> RegistrationStatus:
    """What a cancelled registration was before its cancellation, which the row does not keep: the organisers' last
    decision on it in the audit log (approved: registered; declined: declined); else what the same registration
    would be now (`first_status`): one registered through the form while the session was still open comes back
    pending in a session that requires approval now, and is approved anew; one cancelled while pending, before the
    organisers opened the session to anyone, comes back registered, as anyone registering now would be."""
    decision = audit.latest(
        registration.session_id,
        f"registration {registration.id}",
        ("registration.approve", "registration.decline"),
    )
    if decision is not None:
        return RegistrationStatus.REGISTERED if decision == "registration.approve" else RegistrationStatus.DECLINED
    return first_status(registration.session, registration.source)


def reinstate_overfills(registration: Registration) -> bool:
    """Whether reinstating the cancelled delegate with their seat would put more people in the room than it has seats:
    the organiser is asked first (`reinstate`'s `over_capacity`). A hint for the page; `reinstate` decides under the
    seats' lock. One who comes back pending (or declined) takes no seat."""
    meeting = registration.session
    return (
        registration.is_cancelled
        and registration.mode is Mode.IN_PERSON
        and in_person_full(meeting)
        and status_before_cancel(registration) is RegistrationStatus.REGISTERED
    )


def reinstate(registration: Registration, *, over_capacity: bool = False) -> int | None:
    """Undoes a cancellation: the registration is again what it was before (`status_before_cancel`): registered,
    or pending approval (no badge, no seat: approval seats them or puts them in line), or declined. A nominee takes
    back a place of their focal point's invitation (`cancel` freed it), or InvitationUsed is raised with nothing
    changed when the focal point has named someone else meanwhile. The delegate is mailed what they are now
    (`outbox.REINSTATED`, once per cancellation undone).

    A delegate who came in person finds their seat gone to the first in line when they were cancelled: when the room
    is full now they join the end of the line (online meanwhile, or no badge in a room-only session), unless the
    organiser chose `over_capacity` knowingly. One who waited for a seat joins the end of the line again (online
    meanwhile, or no badge in a room-only session), and takes a free seat at once as the first in line; one pending
    who had asked for a seat keeps the wish, from now. Their place in line, or None when they have a seat (or
    attend online, or are not registered). Race-free as `register`: the seats are counted under `lock_seats`."""
    meeting: MeetingSession = registration.session
    with serialized_writes():
        lock_seats(meeting)  # before any write, as `cancel`: the seats first, then the invitation's row
        db.session.refresh(registration, with_for_update=True)  # a reinstatement of a moment ago (a double click)
        if not registration.is_cancelled:
            return place_in_line(registration)
        status = status_before_cancel(registration)
        seated = status is RegistrationStatus.REGISTERED
        undone = registration.cancelled_at or utcnow()
        invitation = db.session.get(Invitation, registration.invitation_id) if registration.invitation_id else None
        had_seat = registration.mode is Mode.IN_PERSON and meeting.in_person_capacity is not None
        # waited for a seat: in any session (a cancel keeps the wish), or, cancelled before it did, in a room-only one
        waited = registration.waiting_since is not None or (registration.mode is Mode.ONLINE and not meeting.is_hybrid)
        if invitation is not None and invitation.is_nomination and not take_place(invitation):
            raise InvitationUsed()
        full = seated and had_seat and in_person_full(meeting)
        to_line = waited or (full and not over_capacity)
        if to_line:
            registration.mode, registration.waiting_since = Mode.ONLINE, utcnow()
        if not seated:
            details = f"{status.value}, as before its cancellation"
        else:
            details = "on the waiting list" if to_line else "over capacity, on the organiser's word" if full else ""
        audit.record(
            "registration.reinstate",
            session_id=registration.session_id,
            target=f"registration {registration.id}",
            details=details,
        )
        registration.status = status
        registration.cancel_reason = ""
        registration.cancelled_at = None
        db.session.flush()
        if waited and seated:
            promote_waiting(meeting, told=registration)
        outbox.schedule(registration, outbox.REINSTATED, undone.isoformat())
    return place_in_line(registration)


def reissue_badge(registration: Registration, *, tell: bool = False) -> str:
    """A lost or shared badge: a new code (audited), the old badge refused from now on. With `tell`, the new badge
    is mailed to the delegate (scheduled in the same transaction)."""
    audit.record(
        "registration.reissue_badge", session_id=registration.session_id, target=f"registration {registration.id}"
    )
    registration.badge_token = new_badge_token()
    if tell:
        outbox.schedule(registration, outbox.REISSUED, outbox.badge_version(registration))
    db.session.flush()
    return registration.badge_token

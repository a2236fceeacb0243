"""Registering, cancelling and re-keying registrations: every change of a registration's state happens here."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Any, cast

import sqlalchemy as sa
from email_validator import EmailNotValidError, validate_email
from flask import has_request_context, render_template
from flask_babel import force_locale, get_locale, gettext
from sqlalchemy.exc import IntegrityError

from .. import audit, mail, outbox
from ..auth import Actor
from ..checkin.rule import CheckIn, check_in
from ..clock import utcnow
from ..countries import countries
from ..dbutil import serialized_writes
from ..extensions import db
from ..links import public_url
from ..models import (
    MODE_VALUES,
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
    Source,
)
from ..models.registration import email_key
from ..questions.service import ForeignQuestion, add_answers
from ..text import strip_edges
from ..tokens import new_badge_token
from .badges import badge_pdf
from .calendar import calendar_ics, day_times
from .forms import NAME_MAX
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


def confirmation_message(
    registration: Registration, *, reminder: bool = False, approved: bool = False, reinstated: bool = False
) -> EmailMessage:
    """The delegate's personal link with the badge attached, in the language they registered in; `reinstated`:
    after an organiser undid their cancellation, saying what they are again (registered, perhaps in line, or
    pending approval, or declined). Rendering the badge here also stores it, so their first download is served
    from the stored copy."""
    with force_locale(registration.locale):
        meeting = registration.session
        body = render_template(
            "registration/confirmation.txt",
            registration=registration,
            meeting=meeting,
            reminder=reminder,
            approved=approved,
            reinstated=reinstated,
            day_times=day_times(meeting),
            place_in_line=place_in_line(registration),
            me_url=public_url("registration.me", access_key=registration.access_key),
            join_url=public_url("registration.join", access_key=registration.access_key),
        )
        if reminder:
            subject = gettext("Your link for %(title)s", title=meeting.local_title)
        elif reinstated and registration.status is RegistrationStatus.PENDING:
            subject = gettext("Registration reinstated, awaiting approval: %(title)s", title=meeting.local_title)
        elif reinstated and registration.status is RegistrationStatus.DECLINED:
            subject = gettext("Registration declined: %(title)s", title=meeting.local_title)
        elif reinstated:
            subject = gettext("Registration reinstated: %(title)s", title=meeting.local_title)
        elif approved:
            subject = gettext("Registration approved: %(title)s", title=meeting.local_title)
        elif registration.status is RegistrationStatus.PENDING:
            subject = gettext("Registration received, awaiting approval: %(title)s", title=meeting.local_title)
        else:
            subject = gettext("Registered: %(title)s", title=meeting.local_title)
        # Only a registration that counts has a badge (its page refuses one too) and days to put in a calendar.
        attachments = (
            []
            if not registration.is_registered
            else [
                ("badge.pdf", "application/pdf", badge_pdf(registration)),
                ("calendar.ics", "text/calendar", calendar_ics(registration)),
            ]
        )
        return mail.build_message(registration.email, subject, body, attachments=attachments)


# Adding a registration by staff: one rule for the organiser's page, the desk's walk-in form and the JSON API.


@dataclass
class StaffEntry:
    """What staff type in for a person, as given: entity type and region by name, mode by its value."""

    full_name: str = ""
    organisation: str = ""
    country: str = ""
    entity_type: str = ""
    region: str = ""
    mode: str = ""
    email: str = ""


class InvalidEntry(Exception):
    """A staff entry refused, with a reason per field (the entry's field names, and "check_in")."""

    def __init__(self, errors: dict[str, str]):
        super().__init__(errors)
        self.errors = errors


@dataclass
class Added:
    registration: Registration
    #: the door's answer, when the person was checked in at once
    checkin: CheckIn | None


TEXT_MAX = {"full_name": NAME_MAX, "organisation": 200, "email": 254}


def _term_named(terms: list, name: str):
    """The session's entity type or region of this name, exact or else ignoring case."""
    return next((t for t in terms if t.name == name), None) or next(
        (t for t in terms if t.name.casefold() == name.casefold()), None
    )


def entry_errors(
    meeting: MeetingSession, entry: StaffEntry, *, check_in_now: bool, by_organiser: bool = False
) -> dict[str, str]:
    """Why staff cannot add this entry to the session, per field; empty when they can. The e-mail is optional for
    a walk-in checked in now, and for the session's organisers, who record what happened (someone seen only on the
    video platform, a session recorded afterwards); such a registration gets no mail."""
    errors: dict[str, str] = {}
    for name, label in (
        ("full_name", gettext("Enter the person's full name.")),
        ("organisation", gettext("Enter the organisation they represent.")),
    ):
        value = getattr(entry, name)
        if not value:
            errors[name] = label
    for name, limit in TEXT_MAX.items():
        value = getattr(entry, name)
        if len(value) > limit:
            errors[name] = gettext("Use at most %(count)d characters.", count=limit)
        elif any(ord(ch) < 32 or ord(ch) == 127 for ch in value):
            errors[name] = gettext("Remove the control characters from this field.")
    if entry.country not in countries():
        errors["country"] = gettext("Choose a country (by its two-letter ISO code, like BE or KE).")
    if _term_named(meeting.entity_types, entry.entity_type) is None:
        errors["entity_type"] = gettext("Choose one of this session's entity types.")
    if _term_named(meeting.regions, entry.region) is None:
        errors["region"] = gettext("Choose one of this session's regions.")
    if entry.mode not in MODE_VALUES:
        errors["mode"] = gettext("Choose in_person or online.")
    if "email" not in errors:
        if not entry.email:
            if not (check_in_now or by_organiser):  # door staff: only someone standing at the desk
                errors["email"] = gettext("Enter an email address (optional only for a walk-in checked in now).")
        else:
            try:
                validate_email(entry.email, check_deliverability=False)
            except EmailNotValidError:
                errors["email"] = gettext("Enter a valid email address, like name@example.org.")
            else:
                if find_by_email(meeting, entry.email) is not None:
                    errors["email"] = gettext("This email address is already registered for this session.")
    if check_in_now:
        today = meeting.today()
        if not any(day.date == today for day in meeting.days):
            errors["check_in"] = gettext("Today is not a day of this session: nobody can be checked in.")
    return errors


def add_registration(
    meeting: MeetingSession,
    entry: StaffEntry,
    *,
    source: RegistrationSource,
    actor: Actor,
    check_in_now: bool = False,
    door: str = "",
    answers: dict[int, str] | None = None,
) -> Added:
    """Registers a person on staff's word, in one transaction: without the public form's window or seat limit,
    audited, and checked in at once when `check_in_now` (a walk-in). The e-mail is optional for a walk-in and for
    an organiser of the session (`entry_errors`). Raises InvalidEntry, with nothing changed, when an answer is
    wrong."""
    entry = StaffEntry(**{name: strip_edges(value) or "" for name, value in vars(entry).items()})
    entry.country = entry.country.upper()
    errors = entry_errors(meeting, entry, check_in_now=check_in_now, by_organiser=actor.manages(meeting.id))
    if errors:
        raise InvalidEntry(errors)
    # One transaction, and on SQLite one writer from the insert to the check-in's commit (a rival door's
    # check-in waiting for the lock cannot then hold up this one).
    with serialized_writes():
        registration = Registration(
            session=meeting,
            source=source,
            full_name=entry.full_name,
            email=entry.email,
            organisation=entry.organisation,
            country=entry.country,
            mode=Mode(entry.mode),
            entity_type=_term_named(meeting.entity_types, entry.entity_type),
            region=_term_named(meeting.regions, entry.region),
            locale=str(get_locale()) if has_request_context() else "en",
        )
        db.session.add(registration)
        try:
            db.session.flush()
        except IntegrityError:  # the same address registered meanwhile
            db.session.rollback()
            raise InvalidEntry(
                {"email": gettext("This email address is already registered for this session.")}
            ) from None
        add_answers(registration, answers or {})  # checked by the caller (`answers_from_json`)
        audit.record(
            "registration.add",
            session_id=meeting.id,
            target=f"registration {registration.id}",
            details=f"source: {source.value}" + (", checked in" if check_in_now else ""),
            actor=actor.label,
        )
        outcome = None
        outbox.schedule(registration, outbox.CONFIRMATION)
        if check_in_now:  # in the same transaction: the registration, its audit line and the check-in go together
            outcome = check_in(
                actor=actor,
                registration_id=registration.id,
                session_slug=meeting.slug,
                source=Source.MANUAL,
                note="walk-in",
                door=door,
            )
    return Added(registration, outcome)


def notice_message(registration: Registration, kind: str) -> EmailMessage:
    """Tells the delegate, in their language, that their registration was cancelled ("cancelled"), declined
    ("declined", with the organiser's message), that their badge was replaced ("reissued", with the new badge
    attached) or that a seat in the room is theirs ("promoted", with the new badge)."""
    with force_locale(registration.locale):
        meeting = registration.session
        body = render_template(
            "registration/notice.txt",
            registration=registration,
            meeting=meeting,
            kind=kind,
            me_url=public_url("registration.me", access_key=registration.access_key),
        )
        if kind == "cancelled":
            subject = gettext("Registration cancelled: %(title)s", title=meeting.local_title)
            attachments: list[tuple[str, str, bytes]] = []
        elif kind == "declined":
            subject = gettext("Registration declined: %(title)s", title=meeting.local_title)
            attachments = []
        elif kind == "promoted":
            subject = gettext("A seat in the room is yours: %(title)s", title=meeting.local_title)
            attachments = [("badge.pdf", "application/pdf", badge_pdf(registration))]
        else:
            subject = gettext("Your new badge for %(title)s", title=meeting.local_title)
            attachments = [("badge.pdf", "application/pdf", badge_pdf(registration))]
        return mail.build_message(registration.email, subject, body, attachments=attachments)

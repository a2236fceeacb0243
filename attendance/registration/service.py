"""Registering, cancelling and re-keying registrations: every change of a registration's state happens here."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from email.message import EmailMessage

import sqlalchemy as sa
from email_validator import EmailNotValidError, validate_email
from flask import has_request_context, render_template
from flask_babel import force_locale, get_locale, gettext
from sqlalchemy.exc import IntegrityError

from .. import audit, mail, outbox
from ..auth import Actor
from ..checkin.service import CheckIn, check_in, today_for
from ..countries import countries
from ..dbutil import serialized_writes
from ..extensions import db
from ..jobs.queue import send_scheduled
from ..links import public_url
from ..models import (
    EntityType,
    MeetingSession,
    Mode,
    Region,
    Registration,
    RegistrationSource,
    RegistrationStatus,
    Source,
)
from ..models.meeting import utcnow
from ..models.registration import email_key
from ..tokens import new_badge_token
from .badges import badge_pdf
from .calendar import calendar_ics, day_times
from .forms import NAME_MAX, _strip

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


def find_by_email(meeting: MeetingSession, email: str) -> Registration | None:
    return db.session.scalar(sa.select(Registration).filter_by(session_id=meeting.id, email_key=email_key(email)))


def register(meeting: MeetingSession, delegate: Delegate) -> Registration:
    """Registers a delegate in one transaction, or raises a RegistrationError and changes nothing.

    The seat check runs after the insert, in the same transaction: on SQLite the insert takes the write lock,
    and on PostgreSQL the session row is locked first, so two delegates can never both take the last seat.
    """
    if meeting.registration_state() != "open":
        raise RegistrationClosed(meeting.registration_state())
    _check_belongs_to(meeting, delegate)
    counts_seats = delegate.mode is Mode.IN_PERSON and meeting.in_person_capacity is not None
    try:
        if counts_seats:
            # Before the insert: the insert's foreign key takes a share lock on this row, which would deadlock.
            db.session.execute(sa.select(MeetingSession.id).where(MeetingSession.id == meeting.id).with_for_update())
        registration = Registration(session=meeting, **vars(delegate))
        db.session.add(registration)
        db.session.flush()
        if counts_seats and in_person_count(meeting) > (meeting.in_person_capacity or 0):
            raise InPersonFull()
        outbox.schedule(registration, outbox.CONFIRMATION)  # sent by a worker: `jobs.send_scheduled()` after this
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        raise AlreadyRegistered() from None
    except RegistrationError:
        db.session.rollback()
        raise
    return registration


def _check_belongs_to(meeting: MeetingSession, delegate: Delegate) -> None:
    entity_type = db.session.get(EntityType, delegate.entity_type_id)
    region = db.session.get(Region, delegate.region_id)
    if entity_type is None or entity_type.session_id != meeting.id:
        raise ValueError("entity type of another session")
    if region is None or region.session_id != meeting.id:
        raise ValueError("region of another session")
    if find_by_email(meeting, delegate.email) is not None:
        raise AlreadyRegistered()


def cancel(registration: Registration, reason: str, *, tell: bool = False) -> None:
    """With `tell`, a notice to the delegate is scheduled in the same transaction."""
    registration.status = RegistrationStatus.CANCELLED
    registration.cancel_reason = reason.strip()
    registration.cancelled_at = utcnow()
    if tell:
        outbox.schedule(registration, outbox.CANCELLED, registration.cancelled_at.isoformat())
    db.session.commit()


def reinstate(registration: Registration) -> None:
    registration.status = RegistrationStatus.REGISTERED
    registration.cancel_reason = ""
    registration.cancelled_at = None
    db.session.commit()


def reissue_badge(registration: Registration, *, tell: bool = False) -> str:
    """Gives the registration a new badge token; the old badge stops working at once. With `tell`, the new badge
    is mailed (scheduled in the same transaction)."""
    registration.badge_token = new_badge_token()
    if tell:
        outbox.schedule(registration, outbox.REISSUED, outbox.badge_version(registration))
    db.session.commit()
    return registration.badge_token


def send_confirmation(registration: Registration, *, reminder: bool = False) -> None:
    """Emails the delegate their personal link at once (the "find my registration" reminder)."""
    mail.send(confirmation_message(registration, reminder=reminder))


def confirmation_message(registration: Registration, *, reminder: bool = False) -> EmailMessage:
    """The delegate's personal link with the badge attached, in the language they registered in. Rendering the
    badge here also stores it, so their first download is served from the stored copy."""
    with force_locale(registration.locale):
        meeting = registration.session
        body = render_template(
            "registration/confirmation.txt",
            registration=registration,
            meeting=meeting,
            reminder=reminder,
            day_times=day_times(meeting),
            me_url=public_url("registration.me", access_key=registration.access_key),
            join_url=public_url("registration.join", access_key=registration.access_key),
        )
        subject = (
            gettext("Your link for %(title)s", title=meeting.local_title)
            if reminder
            else gettext("Registered: %(title)s", title=meeting.local_title)
        )
        # A cancelled registration has no badge (its page refuses one too), nor days to put in a calendar.
        attachments = (
            []
            if registration.is_cancelled
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
    if entry.mode not in Mode._value2member_map_:
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
        today = today_for(meeting)
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
) -> Added:
    """Registers a person on staff's word, in one transaction: without the public form's window or seat limit,
    audited, and checked in at once when `check_in_now` (a walk-in). The e-mail is optional for a walk-in and for
    an organiser of the session (`entry_errors`). Raises InvalidEntry, with nothing changed, when an answer is
    wrong."""
    entry = StaffEntry(**{name: _strip(value) or "" for name, value in vars(entry).items()})
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
        audit.record(
            "registration.add",
            session_id=meeting.id,
            target=f"registration {registration.id}",
            details=f"source: {source.value}" + (", checked in" if check_in_now else ""),
            actor=actor.label,
        )
        outcome = None
        outbox.schedule(registration, outbox.CONFIRMATION)
        if check_in_now:  # check_in commits: the registration, its audit line and the check-in go together
            outcome = check_in(
                actor=actor,
                registration_id=registration.id,
                session_slug=meeting.slug,
                source=Source.MANUAL,
                note="walk-in",
                door=door,
            )
        else:
            db.session.commit()
    send_scheduled()
    return Added(registration, outcome)


def notice_message(registration: Registration, kind: str) -> EmailMessage:
    """Tells the delegate, in their language, that their registration was cancelled ("cancelled") or that their
    badge was replaced ("reissued", with the new badge attached)."""
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
            attachments = []
        else:
            subject = gettext("Your new badge for %(title)s", title=meeting.local_title)
            attachments = [("badge.pdf", "application/pdf", badge_pdf(registration))]
        return mail.build_message(registration.email, subject, body, attachments=attachments)


def replace_badge(registration: Registration) -> bool:
    """A lost or shared badge: a new code (audited), the old badge refused from now on, and the new one mailed to
    the delegate. Whether the mail was queued (never, without an address)."""
    audit.record(
        "registration.reissue_badge", session_id=registration.session_id, target=f"registration {registration.id}"
    )
    reissue_badge(registration, tell=True)
    return bool(registration.email) and send_scheduled()


def cancel_and_tell(registration: Registration, reason: str) -> bool:
    """Cancels (audited, with the reason) and mails the delegate a short notice; whether the mail was queued."""
    audit.record(
        "registration.cancel",
        session_id=registration.session_id,
        target=f"registration {registration.id}",
        details=reason,
    )
    cancel(registration, reason, tell=True)
    return bool(registration.email) and send_scheduled()

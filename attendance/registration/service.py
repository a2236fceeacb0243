"""Registering, cancelling and re-keying registrations: every change of a registration's state happens here."""
from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from flask import render_template
from flask_babel import force_locale, gettext
from sqlalchemy.exc import IntegrityError

from .. import mail
from ..extensions import db
from ..links import public_url
from ..models import EntityType, MeetingSession, Mode, Region, Registration, RegistrationStatus
from ..models.meeting import utcnow
from ..models.registration import email_key
from ..tokens import new_badge_token
from .badges import badge_pdf


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
    return db.session.scalar(
        sa.select(sa.func.count(Registration.id)).where(
            Registration.session_id == meeting.id,
            Registration.mode == Mode.IN_PERSON,
            Registration.status == RegistrationStatus.REGISTERED,
        )
    )


def in_person_full(meeting: MeetingSession) -> bool:
    return meeting.in_person_capacity is not None and in_person_count(meeting) >= meeting.in_person_capacity


def find_by_email(meeting: MeetingSession, email: str) -> Registration | None:
    return db.session.scalar(
        sa.select(Registration).filter_by(session_id=meeting.id, email_key=email_key(email))
    )


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
        if counts_seats and in_person_count(meeting) > meeting.in_person_capacity:
            raise InPersonFull()
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


def cancel(registration: Registration, reason: str) -> None:
    registration.status = RegistrationStatus.CANCELLED
    registration.cancel_reason = reason.strip()
    registration.cancelled_at = utcnow()
    db.session.commit()


def reinstate(registration: Registration) -> None:
    registration.status = RegistrationStatus.REGISTERED
    registration.cancel_reason = ""
    registration.cancelled_at = None
    db.session.commit()


def reissue_badge(registration: Registration) -> str:
    """Gives the registration a new badge token; the old badge stops working at once."""
    registration.badge_token = new_badge_token()
    db.session.commit()
    return registration.badge_token


def send_confirmation(registration: Registration, *, reminder: bool = False) -> None:
    """Emails the delegate their personal link with the badge attached, in the language they registered in."""
    with force_locale(registration.locale):
        _send_confirmation(registration, reminder)


def _send_confirmation(registration: Registration, reminder: bool) -> None:
    meeting = registration.session
    body = render_template(
        "registration/confirmation.txt",
        registration=registration,
        meeting=meeting,
        reminder=reminder,
        me_url=public_url("registration.me", access_key=registration.access_key),
        join_url=public_url("registration.join", access_key=registration.access_key),
    )
    subject = (gettext("Your link for %(title)s", title=meeting.title) if reminder
               else gettext("Registered: %(title)s", title=meeting.title))
    # A cancelled registration has no badge (its page refuses one too).
    attachments = [] if registration.is_cancelled else [("badge.pdf", "application/pdf", badge_pdf(registration))]
    message = mail.build_message(registration.email, subject, body, attachments=attachments)
    mail.send(message)

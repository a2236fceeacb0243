"""Adding a registration on staff's word: one rule for the organiser's page, the desk's walk-in form, the JSON API
and the delegation lists an organiser imports (`entry_errors` judges each row)."""

from __future__ import annotations

from dataclasses import dataclass

from email_validator import EmailNotValidError, validate_email
from flask import has_request_context
from flask_babel import get_locale, gettext
from sqlalchemy.exc import IntegrityError

from .. import audit, outbox
from ..auth import Actor
from ..checkin.rule import CheckIn, check_in
from ..countries import countries
from ..dbutil import serialized_writes
from ..extensions import db
from ..models import MODE_VALUES, MeetingSession, Mode, Registration, RegistrationSource, Source
from ..questions.service import add_answers
from ..text import strip_edges
from .forms import NAME_MAX
from .service import find_by_email


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


def term_named(terms: list, name: str):
    """The session's entity type or region of this name, exact or else ignoring case."""
    return next((t for t in terms if t.name == name), None) or next(
        (t for t in terms if t.name.casefold() == name.casefold()), None
    )


def normalized(entry: StaffEntry) -> StaffEntry:
    """The entry as the rule judges and stores it: spaces trimmed at the edges, the country code in capitals."""
    entry = StaffEntry(**{name: strip_edges(value) or "" for name, value in vars(entry).items()})
    entry.country = entry.country.upper()
    return entry


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
    if term_named(meeting.entity_types, entry.entity_type) is None:
        errors["entity_type"] = gettext("Choose one of this session's entity types.")
    if term_named(meeting.regions, entry.region) is None:
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
    entry = normalized(entry)
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
            entity_type=term_named(meeting.entity_types, entry.entity_type),
            region=term_named(meeting.regions, entry.region),
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

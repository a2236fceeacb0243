"""Organisers invite people: one by one or from a CSV/XLSX list (previewed row by row, saved only on
confirming), and focal points, who nominate up to N delegates of their entity. Each invitation is mailed
through the outbox with its personal link; an organiser can revoke one that is not used up."""

from __future__ import annotations

import functools
import hashlib
from dataclasses import dataclass
from typing import Any, cast

import sqlalchemy as sa
from babel import Locale
from email_validator import EmailNotValidError, validate_email
from flask_babel import gettext

from .. import audit, outbox
from ..clock import utcnow
from ..dbutil import serialized_writes
from ..extensions import db
from ..i18n import LANGUAGES
from ..models import MODE_VALUES, Invitation, InvitationKind, InvitationList, MeetingSession, Mode, Registration
from ..models.registration import email_key
from ..registration.staff_entry import InvalidEntry, term_named
from ..registration.waitlist import lock_seats
from ..text import search_key, strip_edges
from .registration_import import (
    COLUMNS,
    ERROR,
    NEW,
    PreviewRow,
    StaleConfirmation,
    _mode,
    _mode_words,
    fingerprint,
    read_list,
)

#: the columns of an invitee list, by the headings it may use: each person and their address, and optionally what
#: pre-fills their form, the language of their mail, and for a focal point the number of people they may nominate
LIST_COLUMNS = {
    name: COLUMNS[name] for name in ("full_name", "email", "organisation", "entity_type", "region", "mode")
} | {
    "language": ("language", "langue", "idioma", "lang"),
    "places": ("places", "number of places", "nominees", "nombre de places", "plazas"),
}
LIST_OPTIONAL = set(LIST_COLUMNS) - {"full_name", "email"}
#: already invited, or already registered: skipped
KNOWN = "known"
MAX_PLACES = 100


@dataclass
class Invitee:
    """Whom to invite, as an organiser gives it: entity type and region by name, mode by its value (all three
    optional for a personal invitation; a nomination needs the entity type), and the language of their mail by
    its code (empty: the session's language)."""

    full_name: str = ""
    email: str = ""
    organisation: str = ""
    entity_type: str = ""
    region: str = ""
    mode: str = ""
    language: str = ""


@dataclass
class ListedInvitee(Invitee):
    """A row of an invitee list: a focal point, who nominates up to `places` people, when it gives a number."""

    places: int | None = None


def invitee_errors(meeting: MeetingSession, invitee: Invitee, *, places: int | None = None) -> dict[str, str]:
    """Why this person cannot be invited as given, per field; empty when they can. `places` makes it a nomination.
    Whether they are invited or registered already is `known_addresses`' to say."""
    errors: dict[str, str] = {}
    if not invitee.full_name:
        errors["full_name"] = gettext("Enter the person's full name.")
    for name, limit in (("full_name", 200), ("organisation", 200), ("email", 254)):
        value = getattr(invitee, name)
        if len(value) > limit:
            errors[name] = gettext("Use at most %(count)d characters.", count=limit)
        elif any(ord(ch) < 32 or ord(ch) == 127 for ch in value):
            errors[name] = gettext("Remove the control characters from this field.")
    if "email" not in errors:
        try:
            validate_email(invitee.email, check_deliverability=False)
        except EmailNotValidError:
            errors["email"] = gettext("Enter a valid email address, like name@example.org.")
    if invitee.entity_type and term_named(meeting.entity_types, invitee.entity_type) is None:
        errors["entity_type"] = gettext("Choose one of this session's entity types.")
    elif places is not None and not invitee.entity_type:
        errors["entity_type"] = gettext("Choose the entity type of the delegation the focal point nominates.")
    if invitee.region and term_named(meeting.regions, invitee.region) is None:
        errors["region"] = gettext("Choose one of this session's regions.")
    if invitee.mode and invitee.mode not in MODE_VALUES:
        errors["mode"] = gettext("Choose in_person or online.")
    if invitee.language and invitee.language not in LANGUAGES:
        errors["language"] = gettext(
            "Choose one of these languages: %(languages)s.",
            languages=", ".join(f"{name} ({code})" for code, name in LANGUAGES.items()),
        )
    if places is not None and not 1 <= places <= MAX_PLACES:
        errors["places"] = gettext("A focal point may nominate from 1 to %(count)d people.", count=MAX_PLACES)
    return errors


def session_language(meeting: MeetingSession) -> str:
    """The language of the session's invitations when the organiser names none: the language it gives its
    certificates, when it has one, else English."""
    return meeting.certificate_language or "en"


def known_addresses(meeting: MeetingSession) -> dict[str, str]:
    """Why a personal invitation to an address would be one too many, by email key: registered already, or
    invited personally (and not revoked). One statement, however many addresses a list checks."""
    registered = sa.select(Registration.email_key.label("email"), sa.literal(True).label("registered")).where(
        Registration.session_id == meeting.id, Registration.email_key.is_not(None)
    )
    invited = sa.select(Invitation.email, sa.literal(False)).filter_by(
        session_id=meeting.id, kind=InvitationKind.PERSONAL, revoked_at=None
    )
    rows: sa.Result[Any] = db.session.execute(sa.union_all(registered, invited))
    known: dict[str, str] = {}
    for row in rows:
        key = email_key(row.email)
        if row.registered:
            known[key] = gettext("This email address is already registered for this session.")
        else:
            known.setdefault(key, gettext("This person already has an invitation to this session."))
    return known


def _new_invitation(meeting: MeetingSession, invitee: Invitee, places: int | None, by: str) -> Invitation:
    entity_type = term_named(meeting.entity_types, invitee.entity_type) if invitee.entity_type else None
    region = term_named(meeting.regions, invitee.region) if invitee.region else None
    invitation = Invitation(
        session=meeting,
        kind=InvitationKind.NOMINATION if places else InvitationKind.PERSONAL,
        full_name=invitee.full_name,
        email=invitee.email,
        organisation=invitee.organisation,
        entity_type=entity_type,
        region=region,
        mode=Mode(invitee.mode) if invitee.mode else None,
        locale=invitee.language or session_language(meeting),
        places=places or 1,
        created_by=by,
    )
    db.session.add(invitation)
    db.session.flush()
    outbox.schedule_invitation(invitation)
    return invitation


def invite(meeting: MeetingSession, invitee: Invitee, *, by: str, places: int | None = None) -> Invitation:
    """One invitation (a nomination when `places` is given), audited and mailed, in one transaction; raises
    InvalidEntry, with nothing changed, when an answer is wrong."""
    invitee = Invitee(**{name: strip_edges(value) or "" for name, value in vars(invitee).items()})
    errors = invitee_errors(meeting, invitee, places=places)
    if errors:
        raise InvalidEntry(errors)
    with serialized_writes():
        # One inviter at a time per session, and the addresses read after: a double click invites once.
        lock_seats(meeting)
        known = known_addresses(meeting).get(email_key(invitee.email)) if places is None else None
        if known:
            raise InvalidEntry({"email": known})
        invitation = _new_invitation(meeting, invitee, places, by)
        audit.record(
            "invitation.nominate" if places else "invitation.create",
            session_id=meeting.id,
            target=f"invitation {invitation.id}",
            details=f"{places} places" if places else "",
            actor=by,
        )
        db.session.flush()
    return invitation


class NotRevocable(Exception):
    """Used up already (its registrations stand), or revoked before."""


def revoke(invitation: Invitation, by: str) -> None:
    """The link stops working at once; registrations it made stay."""
    with serialized_writes():
        changed = cast(  # an UPDATE's result is a CursorResult, which Session.execute's type does not say
            sa.CursorResult[Any],
            db.session.execute(
                sa.update(Invitation)
                .where(
                    Invitation.id == invitation.id, Invitation.revoked_at.is_(None), Invitation.used < Invitation.places
                )
                .values(revoked_at=utcnow())
                .execution_options(synchronize_session=False)
            ),
        ).rowcount
        if not changed:
            raise NotRevocable()
        audit.record(
            "invitation.revoke", session_id=invitation.session_id, target=f"invitation {invitation.id}", actor=by
        )
        db.session.flush()


# Invitee lists: the delegation-list import's reading and preview pattern (organiser/registration_import.py).


def upload_invitee_list(meeting: MeetingSession, filename: str, content: bytes, by: str) -> InvitationList:
    """Keeps a readable list for its preview; raises ListError, keeping nothing, when it is not one."""
    read_list(filename, content, LIST_OPTIONAL, LIST_COLUMNS)
    upload = InvitationList(
        session_id=meeting.id,
        filename=(filename or "list")[:255],
        content=content,
        sha256=hashlib.sha256(content).hexdigest(),
        uploaded_by=by,
    )
    db.session.add(upload)
    db.session.flush()
    return upload


def invitee_preview(meeting: MeetingSession, upload: InvitationList) -> list[PreviewRow[ListedInvitee]]:
    """Every row as saving it now would treat it: new, known (already invited or registered: skipped), or an
    error with its reason per field. A constant number of statements, however long the list."""
    known = known_addresses(meeting)
    first_line: dict[str, int] = {}
    result = []
    modes = _mode_words()
    for row in read_list(upload.filename, upload.content, LIST_OPTIONAL, LIST_COLUMNS):
        cells = row.cells
        places = _whole_number(cells["places"])
        invitee = ListedInvitee(
            full_name=cells["full_name"],
            email=cells["email"],
            organisation=cells["organisation"],
            entity_type=cells["entity_type"],
            region=cells["region"],
            mode=_mode(cells["mode"], modes) if cells["mode"] else "",
            language=_language(cells["language"]),
            places=places,
        )
        item = PreviewRow(row.line, invitee, "", NEW)
        result.append(item)
        errors = invitee_errors(meeting, invitee, places=places)
        if cells["places"] and places is None:
            errors["places"] = gettext(
                "“%(value)s” is not a whole number: give the number of places, like 3.", value=cells["places"][:40]
            )
        key = email_key(invitee.email) if invitee.email else ""
        # a valid address, invited or registered already (a focal point may be both, and nominate as well)
        if places is None and "email" not in errors and key in known:
            item.status, item.note = KNOWN, known[key]
            if not errors:
                continue
        for name in sorted(row.formulas):
            errors[name] = gettext(
                "“%(value)s” starts like a spreadsheet formula: type the value itself.", value=cells[name][:40]
            )
        if key and key in first_line and "email" not in errors:
            errors["email"] = gettext(
                "This email address is already on line %(line)d of this list.", line=first_line[key]
            )
        if key:
            first_line.setdefault(key, row.line)
        if errors:
            item.status, item.errors = ERROR, errors
    return result


@functools.cache
def _language_names() -> dict[str, str]:
    """How a list may name each language, by search key: its code, and its name in each of our languages."""
    names = {}
    for code in LANGUAGES:
        for reader in LANGUAGES:
            names[search_key(Locale.parse(code).get_display_name(reader) or code)] = code
        names[code] = code
    return names


def _language(text: str) -> str:
    """A list's language cell as one of our codes ("fr", "FR", "fr-BE", "French", "Français"), else as given."""
    key = search_key(text)
    return _language_names().get(key) or _language_names().get(key.replace("_", "-").split("-")[0], text)


def _whole_number(text: str) -> int | None:
    """A list's cell as a whole number ("3", or 3 from a spreadsheet's number cell), else None."""
    return int(text) if text.isdecimal() and len(text) <= 6 else None


def save_invitee_list(meeting: MeetingSession, upload: InvitationList, seen: str, by: str) -> list[Invitation]:
    """Invites every new row in one transaction, each mailed, if `seen` is the fingerprint of the preview as it
    stands now; raises StaleConfirmation otherwise, with nothing saved."""
    if upload.saved_at is not None:
        raise StaleConfirmation(gettext("This list was already saved: saving it again would invite nobody."))
    rows = invitee_preview(meeting, upload)
    if seen != fingerprint(upload, rows):
        raise StaleConfirmation(
            gettext(
                "The list or the session's invitations changed since this preview: check "
                "the preview below again, then confirm."
            )
        )
    with serialized_writes():
        # Claimed first, by a conditional write: of two confirmations at once (a double click), one saves.
        claimed = cast(  # an UPDATE's result is a CursorResult, which Session.execute's type does not say
            sa.CursorResult[Any],
            db.session.execute(
                sa.update(InvitationList)
                .where(InvitationList.id == upload.id, InvitationList.saved_at.is_(None))
                .values(saved_at=utcnow())
            ),
        ).rowcount
        if not claimed:
            raise StaleConfirmation(gettext("This list was already saved: saving it again would invite nobody."))
        invited = [_new_invitation(meeting, row.entry, row.entry.places, by) for row in rows if row.status == NEW]
        upload.summary = gettext(
            "%(new)d invited, %(known)d already invited or registered, %(errors)d with errors skipped",
            new=len(invited),
            known=sum(r.status == KNOWN for r in rows),
            errors=sum(r.status == ERROR for r in rows),
        )
        audit.record(
            "invitations.import", session_id=meeting.id, target=upload.filename, details=upload.summary, actor=by
        )
        db.session.flush()
    return invited

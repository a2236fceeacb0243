"""A delegate's registration for a session: who they are, how they will attend, and their two secrets."""

from __future__ import annotations

import enum
from datetime import datetime

import sqlalchemy as sa
from email_validator import EmailNotValidError, validate_email
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates

from ..clock import utcnow
from ..extensions import Model
from ..text import PART_SEPARATOR, search_key, search_text, word_patterns
from ..tokens import new_access_key, new_badge_token
from .meeting import EntityType, MeetingSession, Region


class Mode(enum.StrEnum):
    IN_PERSON = "in_person"
    ONLINE = "online"

    @property
    def label(self) -> str:
        return gettext("In person") if self is Mode.IN_PERSON else gettext("Online")


#: the values a form, a file or the API may give for a mode, checked without trying `Mode(value)`
MODE_VALUES = frozenset(mode.value for mode in Mode)


class RegistrationStatus(enum.StrEnum):
    REGISTERED = "registered"
    CANCELLED = "cancelled"
    #: in a session that requires approval: waiting for an organiser; no badge, no join link, not counted
    PENDING = "pending"
    #: an organiser declined it: no badge, no join link, not counted
    DECLINED = "declined"

    @property
    def label(self) -> str:
        return str(_STATUS_LABELS[self])


class RegistrationSource(enum.StrEnum):
    """How a registration came in: the public form, the door's desk, an organiser's page, an import, a personal
    invitation's link, or a focal point's nomination."""

    FORM = "form"
    DESK = "desk"
    ORGANISER = "organiser"
    IMPORT = "import"
    INVITATION = "invitation"
    NOMINATION = "nomination"

    @property
    def label(self) -> str:
        return str(_SOURCE_LABELS[self])


class Role(enum.StrEnum):
    CHAIR = "chair"
    VICE_CHAIR = "vice_chair"
    DELEGATE = "delegate"
    SPEAKER = "speaker"
    OBSERVER = "observer"
    SECRETARIAT = "secretariat"

    @property
    def label(self) -> str:
        return str(_ROLE_LABELS[self])


# Lazy: each is translated when shown, into the language of that moment.
_ROLE_LABELS = {
    Role.CHAIR: _l("Chair"),
    Role.VICE_CHAIR: _l("Vice-Chair"),
    Role.DELEGATE: _l("Delegate"),
    Role.SPEAKER: _l("Speaker"),
    Role.OBSERVER: _l("Observer"),
    Role.SECRETARIAT: _l("Secretariat"),
}

_STATUS_LABELS = {
    RegistrationStatus.REGISTERED: _l("Registered"),
    RegistrationStatus.CANCELLED: _l("Cancelled"),
    RegistrationStatus.PENDING: _l("Pending approval"),
    RegistrationStatus.DECLINED: _l("Declined"),
}

_SOURCE_LABELS = {
    RegistrationSource.FORM: _l("Public form"),
    RegistrationSource.DESK: _l("Desk (walk-in)"),
    RegistrationSource.ORGANISER: _l("Added by an organiser"),
    RegistrationSource.IMPORT: _l("Import"),
    RegistrationSource.INVITATION: _l("Personal invitation"),
    RegistrationSource.NOMINATION: _l("Nominated by a focal point"),
}


def _enum(cls: type[enum.StrEnum], name: str) -> sa.Enum:
    # Stored as the lowercase value in a VARCHAR with a CHECK constraint: portable, and readable in SQL.
    return sa.Enum(
        cls,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=20,
        values_callable=lambda members: [m.value for m in members],
    )


class Registration(Model):
    __tablename__ = "registrations"
    __table_args__ = (
        # One registration per email per session, whatever the case the delegate typed it in.
        sa.UniqueConstraint("session_id", "email_key"),
        sa.Index("ix_registrations_session_id_waiting_since", "session_id", "waiting_since"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(sa.ForeignKey("meeting_sessions.id", ondelete="RESTRICT"), index=True)
    #: as the delegate writes it, in any script
    full_name: Mapped[str] = mapped_column(sa.String(200))
    #: what the door's look-up searches: the name's `search_key` first, then the name in Latin letters, the email
    #: key and the organisation (text.search_text); kept by `_refresh_name_key`
    name_key: Mapped[str] = mapped_column(sa.Text)
    #: as typed, or "" for a walk-in who gave none; `email_key` is its lowercase form (None when there is no
    #: address, so that walk-ins without one do not collide), kept by `_set_email_key`
    email: Mapped[str] = mapped_column(sa.String(254))
    email_key: Mapped[str | None] = mapped_column(sa.String(254))
    organisation: Mapped[str] = mapped_column(sa.String(200))
    #: ISO 3166-1 alpha-2
    country: Mapped[str] = mapped_column(sa.String(2))
    entity_type_id: Mapped[int] = mapped_column(sa.ForeignKey("entity_types.id", ondelete="RESTRICT"), index=True)
    region_id: Mapped[int] = mapped_column(sa.ForeignKey("regions.id", ondelete="RESTRICT"), index=True)
    role: Mapped[Role] = mapped_column(_enum(Role, "role"), default=Role.DELEGATE)
    #: how the delegate said they would attend; how they did is recorded per day elsewhere
    mode: Mapped[Mode] = mapped_column(_enum(Mode, "mode"))
    status: Mapped[RegistrationStatus] = mapped_column(
        _enum(RegistrationStatus, "status"), default=RegistrationStatus.REGISTERED
    )
    #: how the registration came in
    source: Mapped[RegistrationSource] = mapped_column(
        _enum(RegistrationSource, "source"), default=RegistrationSource.FORM
    )
    cancel_reason: Mapped[str] = mapped_column(sa.String(500), default="")
    #: the organiser's optional message with an approval or a decline, mailed and shown on the delegate's page
    decision_message: Mapped[str] = mapped_column(sa.String(500), default="")
    #: the invitation (personal, or a focal point's nomination) it came through, if any
    invitation_id: Mapped[int | None] = mapped_column(sa.ForeignKey("invitations.id", ondelete="SET NULL"), index=True)
    cancelled_at: Mapped[datetime | None]
    #: what the badge QR holds; a door scan looks it up. Reissuing replaces it.
    badge_token: Mapped[str] = mapped_column(sa.String(32), unique=True, default=new_badge_token)
    #: the secret in the delegate's own link /me/<access_key>; never shown to staff
    access_key: Mapped[str] = mapped_column(sa.String(64), unique=True, default=new_access_key)
    #: the delegate's own link on the video platform, when the organiser has one (Zoom registrants have)
    personal_join_url: Mapped[str] = mapped_column(sa.String(1000), default="")
    #: the video platform's id for this delegate, to match its attendance data
    zoom_registrant_id: Mapped[str | None] = mapped_column(sa.String(100))
    consented_at: Mapped[datetime] = mapped_column(default=utcnow)
    #: the language they registered in: their emails, badge and certificate use it
    locale: Mapped[str] = mapped_column(sa.String(10), default="en")
    #: the delegate agreed that their name stays on their certificate's verification page after a purge
    keep_name_on_certificate: Mapped[bool] = mapped_column(default=False)
    #: since when the delegate waits for an in-person seat (registered online meanwhile); None: not waiting. The
    #: line is ordered by this moment, then by id (registration/waitlist.py)
    waiting_since: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    session: Mapped[MeetingSession] = relationship()
    entity_type: Mapped[EntityType] = relationship()
    region: Mapped[Region] = relationship()

    @validates("full_name", "organisation")
    def _set_name_or_organisation(self, key: str, value: str) -> str:
        self._refresh_name_key(**{key: value})
        return value

    @validates("email")
    def _set_email_key(self, _key: str, email: str) -> str:
        email = email.strip()
        self.email_key = email_key(email) if email else None
        self._refresh_name_key()
        return email

    def _refresh_name_key(self, **changed: str) -> None:
        values = {name: getattr(self, name) or "" for name in ("full_name", "organisation", "email_key")} | changed
        self.name_key = search_text(values["full_name"], values["organisation"], verbatim=(values["email_key"],))

    @classmethod
    def name_has_words(cls, query: str) -> sa.ColumnElement[bool]:
        """Whether every word of `query`, in any order, is in the name (in its own script or in Latin letters), the
        email or the organisation, compared by `search_key`: "garcia jose" finds "José García", "petrova" finds
        "Ольга Петрова", "haddad" finds "ليلى حداد". Nothing matches a query that has no letters left."""
        words = search_key(query).split()
        if not words:
            return sa.false()
        return sa.and_(
            *(
                sa.or_(*(cls.name_key.contains(pattern, autoescape=True) for pattern in word_patterns(word)))
                for word in words
            )
        )

    @classmethod
    def name_is(cls, name: str) -> sa.ColumnElement[bool]:
        """Whether the name is `name`, ignoring case, accents and spacing (and nothing but the name: not the
        transliteration, email or organisation that the search key holds after it)."""
        key = search_key(name)
        return sa.or_(cls.name_key == key, cls.name_key.startswith(key + PART_SEPARATOR, autoescape=True))

    @property
    def is_cancelled(self) -> bool:
        return self.status is RegistrationStatus.CANCELLED

    @property
    def is_registered(self) -> bool:
        """Whether it counts: only a registered person has a badge, a join link and a place in the headcount
        (not one cancelled, pending approval or declined, nor one waiting for a seat with no seat to wait in)."""
        return self.status is RegistrationStatus.REGISTERED and not self.waits_without_seat

    @property
    def is_waiting(self) -> bool:
        """On the in-person waiting list (a pending delegate who asked for it joins the line once approved)."""
        return self.waiting_since is not None and self.status is RegistrationStatus.REGISTERED

    @property
    def asked_for_seat(self) -> bool:
        """Asked to wait for a seat in the room but is not in line: pending, declined or cancelled. They asked to come
        in person, although `mode` says online (what they would have been in line meanwhile)."""
        return self.waiting_since is not None and self.status is not RegistrationStatus.REGISTERED

    @classmethod
    def in_line(cls) -> sa.ColumnElement[bool]:
        """`is_waiting` in SQL: the people in the line, never a pending (or declined) delegate who asked for a seat."""
        return sa.and_(cls.waiting_since.is_not(None), cls.status == RegistrationStatus.REGISTERED)

    @property
    def waits_without_seat(self) -> bool:
        """On the waiting list of a session that is not hybrid: no seat yet and no online meeting meanwhile, so
        no badge, no join link and no place in the headcount until promoted."""
        return self.is_waiting and not self.session.is_hybrid

    @classmethod
    def counted_in(cls, meeting: MeetingSession) -> sa.ColumnElement[bool]:
        """`is_registered` in SQL, for `meeting`'s registrations."""
        registered = sa.and_(cls.session_id == meeting.id, cls.status == RegistrationStatus.REGISTERED)
        return registered if meeting.is_hybrid else sa.and_(registered, cls.waiting_since.is_(None))

    def __repr__(self) -> str:
        return f"<Registration {self.id} {self.session_id}>"


def email_key(email: str) -> str:
    """How addresses are compared: ignoring case, and with an internationalised domain in its ASCII form, so that
    the same mailbox written пример.рф or xn--e1afmkfd.xn--p1ai registers once per session."""
    email = email.strip()
    if email.isascii():  # an ASCII domain is its own ASCII form: skip the validator (a report may hold 38,000)
        return email.lower()
    try:  # today's IDNA (2008), as the form's validator: faß.de and fass.de stay two domains
        domain = validate_email(email, check_deliverability=False).ascii_domain
    except EmailNotValidError:  # not an address (a platform's report may hold anything): compared as typed
        return email.lower()
    return f"{email.rpartition('@')[0]}@{domain}".lower()

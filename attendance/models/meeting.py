"""Meeting series, their sessions and days, and the vocabularies (entity types, regions) a session uses."""

from __future__ import annotations

import enum
from datetime import date, datetime, time
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask_babel import get_locale, gettext
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..clock import aware, date_in, utcnow
from ..extensions import Model

if TYPE_CHECKING:  # staff.py imports this module through registration.py
    from .staff import StaffUser


def reader_language() -> str:
    """The language being written now (a page's reader, or the delegate whose e-mail or PDF this is)."""
    return str(get_locale() or "en").split("_")[0]


def _translated(default: str, translations: dict | None, language: str | None, field: str | None = None) -> str:
    """A translation an organiser entered, or `default` when there is none (never an empty field)."""
    entry = (translations or {}).get(language or reader_language())
    text = entry.get(field) if field and isinstance(entry, dict) else entry if not field else None
    return text if isinstance(text, str) and text.strip() else default


class RegistrationPolicy(enum.StrEnum):
    """Who may register for a session."""

    #: anyone with the form's link, registered at once
    OPEN = "open"
    #: anyone may ask; an organiser approves or declines (invited people are approved at once)
    APPROVAL = "approval"
    #: only through an invitation's personal link, or a focal point's nomination
    INVITATION = "invitation"

    @property
    def label(self) -> str:
        return str(POLICY_LABELS[self])


POLICY_LABELS = {
    RegistrationPolicy.OPEN: _l("Open: anyone with the link is registered at once"),
    RegistrationPolicy.APPROVAL: _l("Approval required: an organiser approves each registration"),
    RegistrationPolicy.INVITATION: _l("Invitation only: registration through a personal invitation"),
}


class MeetingSeries(Model):
    __tablename__ = "meeting_series"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: "Global Meeting of the Regional Entities"
    name: Mapped[str] = mapped_column(sa.String(200), unique=True)
    sessions: Mapped[list[MeetingSession]] = relationship(back_populates="series", order_by="MeetingSession.number")

    @classmethod
    def matches(cls, name: str) -> sa.ColumnElement[bool]:
        """The series an organiser means by `name`, whatever its case: "Global meeting" is "Global Meeting"."""
        return sa.func.lower(cls.name) == name.lower()


class MeetingSession(Model):
    """One numbered session of a series ("19th Session"), held over one or more days."""

    __tablename__ = "meeting_sessions"
    __table_args__ = (
        sa.UniqueConstraint("series_id", "number"),
        sa.CheckConstraint("in_person_capacity IS NULL OR in_person_capacity >= 0", name="capacity_not_negative"),
        sa.CheckConstraint(
            "reminder_days_before IS NULL OR reminder_days_before >= 0", name="reminder_days_not_negative"
        ),
        sa.CheckConstraint("certificate_online_percent BETWEEN 0 AND 100", name="online_percent_range"),
        sa.CheckConstraint("certificate_days_required >= 1", name="days_required_positive"),
        sa.CheckConstraint(
            "registration_opens_at IS NULL OR registration_closes_at IS NULL "
            "OR registration_opens_at < registration_closes_at",
            name="registration_window_ordered",
        ),
    )

    __mapper_args__ = {"eager_defaults": False}

    id: Mapped[int] = mapped_column(primary_key=True)
    series_id: Mapped[int] = mapped_column(sa.ForeignKey("meeting_series.id", ondelete="RESTRICT"), index=True)
    #: the name in URLs: /sessions/<slug>/register
    slug: Mapped[str] = mapped_column(sa.String(80), unique=True)
    number: Mapped[int]
    title: Mapped[str] = mapped_column(sa.String(300))
    venue: Mapped[str] = mapped_column(sa.String(300), default="")
    #: the title and venue in other languages, {"fr": {"title": ..., "venue": ...}}; the columns above are the
    #: session's default, shown wherever a translation is missing
    translations: Mapped[dict | None] = mapped_column(sa.JSON)

    def title_in(self, language: str | None = None) -> str:
        """The title in `language` (default: the reader's), else the session's own."""
        return _translated(self.title, self.translations, language, "title")

    def venue_in(self, language: str | None = None) -> str:
        return _translated(self.venue, self.translations, language, "venue")

    @property
    def local_title(self) -> str:
        return self.title_in()

    @property
    def local_venue(self) -> str:
        return self.venue_in()

    #: IANA name; the door's "today" and the days' hours are in this zone
    timezone: Mapped[str] = mapped_column(sa.String(64), default="UTC")
    online_meeting_url: Mapped[str] = mapped_column(sa.String(1000), default="")
    #: Zoom's meeting id: webhook events for it belong to this session
    zoom_meeting_id: Mapped[str | None] = mapped_column(sa.String(40), unique=True)
    #: the Zoom app's secret token, which signs its webhook requests
    zoom_webhook_secret: Mapped[str] = mapped_column(sa.String(200), default="")
    #: None: no limit on in-person seats
    in_person_capacity: Mapped[int | None]
    #: registered delegates are reminded so many days before the first day; None or 0: no reminder
    reminder_days_before: Mapped[int | None]
    #: None: open since ever / until ever
    registration_opens_at: Mapped[datetime | None]
    registration_closes_at: Mapped[datetime | None]
    #: the certificate rule: an online day counts when minutes attended reach this share of the scheduled time
    certificate_online_percent: Mapped[int] = mapped_column(default=50)
    #: ... or, when the platform has no data on a person for a day, when they clicked their join link
    certificate_accepts_link_click: Mapped[bool] = mapped_column(default=False)
    #: certificates print each in-person day's scheduled hours ("scheduled programme") instead of the time measured;
    #: a server default only, not fetched back on insert (eager_defaults below), so that an INSERT that does not
    #: set it names no column that older schemas lack (tests build databases at earlier revisions)
    certify_scheduled_hours: Mapped[bool] = mapped_column(server_default=sa.false())
    #: how many days a delegate must have attended
    certificate_days_required: Mapped[int] = mapped_column(default=1)
    #: the language of its certificates; "" means each delegate's own
    certificate_language: Mapped[str] = mapped_column(sa.String(10), default="")
    #: who signs the certificates and visa letters (`signature`); without a name the secretariat signs
    chair_name: Mapped[str] = mapped_column(sa.String(200), default="")
    chair_title: Mapped[str] = mapped_column(sa.String(200), default="")
    #: door staff may register people who turn up unregistered (at the desk, or through the API)
    allows_walk_ins: Mapped[bool] = mapped_column(default=False)
    #: who may register; a server default only, like `certify_scheduled_hours`
    registration_policy: Mapped[RegistrationPolicy] = mapped_column(
        sa.Enum(
            RegistrationPolicy,
            name="registration_policy",
            native_enum=False,
            create_constraint=True,
            length=20,
            values_callable=lambda members: [m.value for m in members],
        ),
        server_default="open",
    )
    #: whom delegates contact: shown wherever a page or mail says "contact the secretariat"
    secretariat_email: Mapped[str] = mapped_column(sa.String(254), default="")
    secretariat_phone: Mapped[str] = mapped_column(sa.String(40), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    #: when the delegates' personal data was anonymised (`flask purge`)
    purged_at: Mapped[datetime | None]

    series: Mapped[MeetingSeries] = relationship(back_populates="sessions")
    days: Mapped[list[SessionDay]] = relationship(
        back_populates="session", order_by="SessionDay.date", cascade="all, delete-orphan"
    )
    entity_types: Mapped[list[EntityType]] = relationship(
        back_populates="session", order_by="(EntityType.position, EntityType.name)", cascade="all, delete-orphan"
    )
    organisers: Mapped[list[StaffUser]] = relationship(secondary="session_organisers", order_by="StaffUser.email")
    regions: Mapped[list[Region]] = relationship(
        back_populates="session", order_by="(Region.position, Region.name)", cascade="all, delete-orphan"
    )

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def registration_state(self, now: datetime | None = None) -> str:
        """'not_yet_open', 'open' or 'closed' at `now`; 'not_ready' instead of open or not yet open
        while the form would have no entity types or regions to choose from (a session of a new series)."""
        now = now or utcnow()
        if self.registration_closes_at and now >= self.registration_closes_at:
            return "closed"
        if self.is_over(self.day_on(now)):
            return "closed"
        if not self.entity_types or not self.regions:
            return "not_ready"
        if self.registration_opens_at and now < self.registration_opens_at:
            return "not_yet_open"
        return "open"

    def welcomes_anyone(self, now: datetime | None = None) -> bool:
        """Whether a stranger may register through the public form now: open, and not by invitation only
        (invitees register through their personal links, which the home page and the API do not offer)."""
        return self.registration_state(now) == "open" and self.registration_policy is not RegistrationPolicy.INVITATION

    def has_begun(self, today: date) -> bool:
        """Whether its first day has come, `today` being the date in the session's zone."""
        return bool(self.days) and self.days[0].date <= today

    def is_over(self, today: date) -> bool:
        """Whether its last day has gone by, `today` being the date in the session's zone."""
        return bool(self.days) and self.days[-1].date < today

    def signature(self) -> tuple[str, str]:
        """Who signs the session's documents (certificates and visa letters alike), and the line under the name:
        the chair and their title, or, when the session names no chair, the secretariat and its e-mail."""
        if self.chair_name:
            return self.chair_name, self.chair_title
        return gettext("The secretariat"), self.secretariat_email

    @property
    def is_hybrid(self) -> bool:
        return bool(self.online_meeting_url)

    def local(self, moment: datetime) -> datetime:
        """A moment as the clocks show it where the session meets."""
        return aware(moment).astimezone(self.zone)

    def today(self) -> date:
        """The date now where the session meets."""
        return date_in(self.zone)

    def day_on(self, moment: datetime) -> date:
        """The date at `moment` where the session meets: which of its days a scan or a join belongs to."""
        return date_in(self.zone, moment)

    def __repr__(self) -> str:
        return f"<MeetingSession {self.slug}>"


class SessionDay(Model):
    """A day of a session with its scheduled hours, in the session's time zone."""

    __tablename__ = "session_days"
    __table_args__ = (
        sa.UniqueConstraint("session_id", "date"),
        sa.CheckConstraint("starts_at < ends_at", name="hours_ordered"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(sa.ForeignKey("meeting_sessions.id", ondelete="CASCADE"), index=True)
    date: Mapped[date]
    starts_at: Mapped[time] = mapped_column(default=time(9, 0))
    ends_at: Mapped[time] = mapped_column(default=time(17, 0))

    session: Mapped[MeetingSession] = relationship(back_populates="days")


class _Vocabulary:
    """Shared columns of the organiser-edited lists a registration picks from."""

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    #: order in forms and reports
    position: Mapped[int] = mapped_column(default=0)
    #: the name in other languages, {"fr": "Bureau régional de renforcement des capacités"}; `name` is the default
    translations: Mapped[dict | None] = mapped_column(sa.JSON)

    def name_in(self, language: str | None = None) -> str:
        """The name in `language` (default: the reader's), else the default name."""
        return _translated(self.name, self.translations, language)

    @property
    def local_name(self) -> str:
        return self.name_in()


class EntityType(_Vocabulary, Model):
    """The kind of entity a delegate represents: "Regional Office for Capacity Building (ROCB)", ..."""

    __tablename__ = "entity_types"
    __table_args__ = (sa.UniqueConstraint("session_id", "name"),)

    session_id: Mapped[int] = mapped_column(sa.ForeignKey("meeting_sessions.id", ondelete="CASCADE"), index=True)
    session: Mapped[MeetingSession] = relationship(back_populates="entity_types")


class Region(_Vocabulary, Model):
    """A world region, "Europe", "West and Central Africa", ..."""

    __tablename__ = "regions"
    __table_args__ = (sa.UniqueConstraint("session_id", "name"),)

    session_id: Mapped[int] = mapped_column(sa.ForeignKey("meeting_sessions.id", ondelete="CASCADE"), index=True)
    session: Mapped[MeetingSession] = relationship(back_populates="regions")

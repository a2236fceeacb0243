"""Who attended which day, and how; and the log of every scan at the doors, the refused ones too."""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import TYPE_CHECKING

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..clock import utcnow
from ..extensions import Model
from .meeting import MeetingSession, SessionDay
from .registration import Mode, Registration, _enum

if TYPE_CHECKING:  # online.py imports this module
    from .online import OnlineInterval


class Source(enum.StrEnum):
    """How an attendance was learned."""

    SCAN = "scan"
    NAME_SEARCH = "name_search"
    MANUAL = "manual"
    #: a click on the delegate's join link: intent, not presence
    LINK = "link"
    ZOOM_WEBHOOK = "zoom_webhook"
    ZOOM_REPORT = "zoom_report"
    TEAMS_REPORT = "teams_report"
    CSV_REPORT = "csv_report"

    @property
    def label(self) -> str:
        return str(_SOURCE_LABELS[self.value])

    @property
    def is_platform_evidence(self) -> bool:
        return self in (Source.ZOOM_WEBHOOK, Source.ZOOM_REPORT, Source.TEAMS_REPORT, Source.CSV_REPORT)


#: how each source is named on the pages, in the reader's language
_SOURCE_LABELS = {
    "scan": _l("badge scan"),
    "name_search": _l("name search"),
    "manual": _l("by hand"),
    "link": _l("join link"),
    "zoom_webhook": _l("Zoom webhook"),
    "zoom_report": _l("Zoom report"),
    "teams_report": _l("Teams report"),
    "csv_report": _l("CSV report"),
}


class Attendance(Model):
    """A registration was present on a session day, in one mode; the database allows one per day and mode."""

    __tablename__ = "attendances"
    __table_args__ = (sa.UniqueConstraint("registration_id", "day_id", "mode"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    registration_id: Mapped[int] = mapped_column(sa.ForeignKey("registrations.id", ondelete="CASCADE"))
    day_id: Mapped[int] = mapped_column(sa.ForeignKey("session_days.id", ondelete="RESTRICT"), index=True)
    #: how the person actually attended that day, whatever they registered for
    mode: Mapped[Mode] = mapped_column(_enum(Mode, "mode"))
    #: the first time they were seen that day
    first_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    #: when an organiser recorded that they left (in person); None: counted to the day's end
    checked_out_at: Mapped[datetime | None]
    source: Mapped[Source] = mapped_column(_enum(Source, "source"))
    #: who recorded it: "user:<id>" or "token:<id>", and the email or token label shown to people
    actor: Mapped[str] = mapped_column(sa.String(40), default="")
    recorded_by: Mapped[str] = mapped_column(sa.String(254), default="")
    door: Mapped[str] = mapped_column(sa.String(80), default="")
    note: Mapped[str] = mapped_column(sa.String(500), default="")

    registration: Mapped[Registration] = relationship()
    day: Mapped[SessionDay] = relationship()
    intervals: Mapped[list[OnlineInterval]] = relationship(  # noqa: F821  (models/online.py)
        back_populates="attendance", cascade="all, delete-orphan", order_by="OnlineInterval.joined_at"
    )


class ScanResult(enum.StrEnum):
    OK = "ok"
    ALREADY_CHECKED_IN = "already_checked_in"
    INVALID = "invalid"
    CANCELLED = "cancelled"
    #: the registration is pending approval, or was declined
    NOT_APPROVED = "not_approved"
    NOT_A_MEETING_DAY = "not_a_meeting_day"
    WRONG_SESSION = "wrong_session"
    #: a door answering from its own list while offline refused a badge the server would have admitted (the list
    #: was older than a registration or an approval): nobody came in, and the log keeps it as a conflict
    TURNED_AWAY = "turned_away"
    #: not scans, but changes to the day's attendance that the log must show
    UNDONE = "undone"
    CHECKED_OUT = "checked_out"


class ScanEvent(Model):
    """One line of the door log: every check-in attempt and its answer, and every undo or check-out."""

    __tablename__ = "scan_events"
    __table_args__ = (
        # A scanner that retries with the same nonce gets the first answer again.
        sa.UniqueConstraint("actor", "nonce"),
        sa.Index("ix_scan_events_session_id_at", "session_id", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: the session the scan was made for; None when neither the door nor the token named one
    session_id: Mapped[int | None] = mapped_column(sa.ForeignKey("meeting_sessions.id", ondelete="CASCADE"))
    registration_id: Mapped[int | None] = mapped_column(sa.ForeignKey("registrations.id", ondelete="SET NULL"))
    day: Mapped[date | None]
    at: Mapped[datetime] = mapped_column(default=utcnow)
    result: Mapped[ScanResult] = mapped_column(_enum(ScanResult, "scan_result"))
    #: what was scanned, cut so that the log never holds a whole badge token
    token_excerpt: Mapped[str] = mapped_column(sa.String(16), default="")
    #: "user:<id>" or "token:<id>"; with the label shown to people in `recorded_by`
    actor: Mapped[str] = mapped_column(sa.String(40))
    recorded_by: Mapped[str] = mapped_column(sa.String(254), default="")
    door: Mapped[str] = mapped_column(sa.String(80), default="")
    source: Mapped[Source] = mapped_column(_enum(Source, "source"), default=Source.SCAN)
    nonce: Mapped[str | None] = mapped_column(sa.String(64))
    #: the answer given, as JSON, replayed for a repeated nonce
    response: Mapped[str] = mapped_column(sa.Text, default="")
    note: Mapped[str] = mapped_column(sa.String(500), default="")
    #: when a scan queued on a device while offline was made (`at` is when it reached us)
    scanned_at: Mapped[datetime | None]
    #: what the offline device showed before the server answered ("ok", "already_checked_in", "refused", or
    #: "unchecked" with no list on the device), for conflicts
    provisional: Mapped[str | None] = mapped_column(sa.String(20))

    session: Mapped[MeetingSession | None] = relationship()
    registration: Mapped[Registration | None] = relationship()

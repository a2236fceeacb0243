"""Online attendance as the platforms report it: intervals, people not yet matched, organisers' mappings,
webhook deliveries and uploaded reports."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..clock import utcnow
from ..extensions import db
from .attendance import Attendance, Source
from .meeting import SessionDay
from .registration import Registration, _enum
from .uploads import UploadedFile


class OnlineInterval(db.Model):
    """A stretch of time someone was in the online meeting, as a platform reported it."""

    __tablename__ = "online_intervals"
    __table_args__ = (
        # The same join reported twice (a webhook retry, a report imported again) is stored once.
        sa.UniqueConstraint("attendance_id", "source", "source_key"),
        sa.CheckConstraint("left_at IS NULL OR left_at >= joined_at", name="leaves_after_joining"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    attendance_id: Mapped[int] = mapped_column(sa.ForeignKey("attendances.id", ondelete="CASCADE"))
    joined_at: Mapped[datetime]
    #: None while the person is still in (or the platform never said they left)
    left_at: Mapped[datetime | None]
    source: Mapped[Source] = mapped_column(_enum(Source, "source"))
    #: what identifies this join at its source: a participant id, or the join and leave times of a report row
    source_key: Mapped[str] = mapped_column(sa.String(200))

    attendance: Mapped[Attendance] = relationship(back_populates="intervals")


class UnmatchedPresence(db.Model):
    """Someone the platform saw in the meeting whom no registration matches yet; an organiser maps them."""

    __tablename__ = "unmatched_presences"
    __table_args__ = (sa.UniqueConstraint("session_id", "source", "source_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(sa.ForeignKey("meeting_sessions.id", ondelete="CASCADE"), index=True)
    day_id: Mapped[int] = mapped_column(sa.ForeignKey("session_days.id", ondelete="CASCADE"))
    #: "email:<lowercase address>" or "name:<lowercase name>": how later sightings of the same person are recognised
    identity_key: Mapped[str] = mapped_column(sa.String(300))
    display_name: Mapped[str] = mapped_column(sa.String(300), default="")
    email: Mapped[str] = mapped_column(sa.String(254), default="")
    joined_at: Mapped[datetime]
    left_at: Mapped[datetime | None]
    source: Mapped[Source] = mapped_column(_enum(Source, "source"))
    source_key: Mapped[str] = mapped_column(sa.String(200))

    day: Mapped[SessionDay] = relationship()


class IdentityMapping(db.Model):
    """An organiser's decision that a platform identity is this registration; applied to later imports too."""

    __tablename__ = "identity_mappings"
    __table_args__ = (sa.UniqueConstraint("session_id", "identity_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(sa.ForeignKey("meeting_sessions.id", ondelete="CASCADE"))
    identity_key: Mapped[str] = mapped_column(sa.String(300))
    registration_id: Mapped[int] = mapped_column(sa.ForeignKey("registrations.id", ondelete="CASCADE"))
    created_by: Mapped[str] = mapped_column(sa.String(254), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    registration: Mapped[Registration] = relationship()


class ZoomEvent(db.Model):
    """Each webhook delivery once: Zoom retries, and a retry must change nothing."""

    __tablename__ = "zoom_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: sha256 of the raw body: a retry sends the same body
    body_sha256: Mapped[str] = mapped_column(sa.String(64), unique=True)
    session_id: Mapped[int | None] = mapped_column(sa.ForeignKey("meeting_sessions.id", ondelete="CASCADE"))
    event: Mapped[str] = mapped_column(sa.String(80))
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    #: what became of it: "interval", "closed", "unmatched", "pending_leave", "ignored: <why>"
    outcome: Mapped[str] = mapped_column(sa.String(200), default="")
    #: for a leave that arrived before its join: whose, and when they left
    participant_key: Mapped[str] = mapped_column(sa.String(200), default="")
    left_at: Mapped[datetime | None]
    body: Mapped[str] = mapped_column(sa.Text)


class ReportImport(UploadedFile, db.Model):
    """An uploaded attendance report: previewed first, saved in one transaction when the organiser says so."""

    __tablename__ = "report_imports"

    #: "zoom", "teams" or "csv", as detected
    kind: Mapped[str] = mapped_column(sa.String(10))
    #: the preview, computed once on upload: its counts, days and first rows (`imports.StoredPreview`)
    preview: Mapped[dict | None] = mapped_column(sa.JSON)

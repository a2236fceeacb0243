"""Work done off the request: background jobs (exports, mailings) and the outbox of mails to deliver."""

from __future__ import annotations

import enum
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..clock import utcnow
from ..extensions import db
from .invitation import Invitation
from .meeting import MeetingSession
from .registration import Registration, _enum


class JobStatus(enum.StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    #: what it was about was deleted meanwhile: nothing to do, and nothing to retry
    GONE = "gone"


class Job(db.Model):
    """A long piece of work an organiser asked for: a bulk export or a mailing, with its progress."""

    __tablename__ = "jobs"
    __table_args__ = (sa.Index("ix_jobs_session_id_created_at", "session_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    #: e.g. "certificates.zip", "certificates.pdf", "badges.pdf", "certificates.email"
    kind: Mapped[str] = mapped_column(sa.String(40))
    session_id: Mapped[int | None] = mapped_column(sa.ForeignKey("meeting_sessions.id", ondelete="SET NULL"))
    session: Mapped[MeetingSession | None] = relationship()
    status: Mapped[JobStatus] = mapped_column(_enum(JobStatus, "job_status"), default=JobStatus.QUEUED)
    #: set while queued or running, so that the same job asked twice at once is one job; NULL once finished
    active_key: Mapped[str | None] = mapped_column(sa.String(120), unique=True)
    #: the staff member's email, a token's label, or "cli"
    requested_by: Mapped[str] = mapped_column(sa.String(254), default="")
    #: JSON options of the job (e.g. {"everyone": true} for a mailing)
    options: Mapped[str] = mapped_column(sa.String(500), default="{}")
    attempts: Mapped[int] = mapped_column(default=0)
    done: Mapped[int] = mapped_column(default=0)
    total: Mapped[int] = mapped_column(default=0)
    #: the last failure, for the jobs page
    error: Mapped[str] = mapped_column(sa.String(1000), default="")
    #: what it did, in a sentence (counts; no names)
    summary: Mapped[str] = mapped_column(sa.String(1000), default="")
    #: the file built, relative to the exports folder, and the name it downloads under
    result_file: Mapped[str] = mapped_column(sa.String(200), default="")
    download_name: Mapped[str] = mapped_column(sa.String(200), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]

    @property
    def is_active(self) -> bool:
        return self.status in (JobStatus.QUEUED, JobStatus.RUNNING)

    @property
    def expired(self) -> bool:
        """Its file was built, then deleted after EXPORTS_KEPT_DAYS (the name to download it by stays)."""
        return bool(self.download_name) and not self.result_file

    @property
    def percent(self) -> int:
        return int(100 * self.done / self.total) if self.total else 0


class MailStatus(enum.StrEnum):
    PENDING = "pending"
    #: claimed by a worker; taken back by another when its lease runs out (the worker died)
    SENDING = "sending"
    SENT = "sent"
    #: gave up after the last attempt
    FAILED = "failed"
    #: no longer to send (the certificate was revoked, the address removed)
    GONE = "gone"


class OutboxMail(db.Model):
    """One mail to one delegate for one purpose: written in the transaction of the change it tells of, delivered by
    a worker, and marked sent in the transaction that records it. The unique key makes it one mail per person,
    purpose and version, however often a job runs again."""

    __tablename__ = "outbox_mails"
    __table_args__ = (
        sa.UniqueConstraint("registration_id", "purpose", "version"),
        sa.UniqueConstraint("invitation_id", "purpose", "version"),
        sa.CheckConstraint("(registration_id IS NULL) <> (invitation_id IS NULL)", name="one_recipient"),
        sa.Index("ix_outbox_mails_status_next_attempt_at", "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: whom it goes to: a registration, or (an invitation mail) an invitation
    registration_id: Mapped[int | None] = mapped_column(sa.ForeignKey("registrations.id", ondelete="CASCADE"))
    registration: Mapped[Registration | None] = relationship()
    invitation_id: Mapped[int | None] = mapped_column(sa.ForeignKey("invitations.id", ondelete="CASCADE"))
    invitation: Mapped[Invitation | None] = relationship()
    #: one of `outbox.PURPOSES`
    purpose: Mapped[str] = mapped_column(sa.String(20))
    #: tells apart two mails of one purpose (a second badge, a certificate sent again to everyone)
    version: Mapped[str] = mapped_column(sa.String(40), default="1")
    #: the mailing job it belongs to, if any
    job_id: Mapped[int | None] = mapped_column(sa.ForeignKey("jobs.id", ondelete="SET NULL"), index=True)
    status: Mapped[MailStatus] = mapped_column(_enum(MailStatus, "mail_status"), default=MailStatus.PENDING)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    claimed_at: Mapped[datetime | None]
    error: Mapped[str] = mapped_column(sa.String(500), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None]

"""An organiser's message to a group of a session's registrants, kept with the filter that chose them."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import Model
from .jobs import Job
from .meeting import MeetingSession, utcnow


class Message(Model):
    """Sent through the outbox as one mail per recipient (purpose "message", version: this id), by a job."""

    __tablename__ = "messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(sa.ForeignKey("meeting_sessions.id", ondelete="CASCADE"), index=True)
    session: Mapped[MeetingSession] = relationship()
    subject: Mapped[str] = mapped_column(sa.String(200))
    body: Mapped[str] = mapped_column(sa.Text)
    #: the group, as JSON of `mailings.service.Group` ({"mode": "online", "entity_type_id": 3, ...})
    filters: Mapped[str] = mapped_column(sa.String(500), default="{}")
    #: how many the group counted when the organiser sent it
    recipients: Mapped[int] = mapped_column(default=0)
    sent_by: Mapped[str] = mapped_column(sa.String(254), default="")
    job_id: Mapped[int | None] = mapped_column(sa.ForeignKey("jobs.id", ondelete="SET NULL"))
    job: Mapped[Job | None] = relationship()
    #: the one-time token of the preview it was sent from: the same Send posted again finds this message
    send_token: Mapped[str | None] = mapped_column(sa.String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

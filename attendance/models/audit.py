"""The audit log: who changed, cancelled, revoked or deleted what, and when."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from ..clock import utcnow
from ..extensions import db


class AuditEvent(db.Model):
    __tablename__ = "audit_events"
    __table_args__ = (sa.Index("ix_audit_events_session_id_at", "session_id", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    #: the staff member's email, or a token's label, or "cli"
    actor: Mapped[str] = mapped_column(sa.String(254))
    #: e.g. "registration.cancel", "certificate.revoke", "session.delete"
    action: Mapped[str] = mapped_column(sa.String(60))
    #: kept without a foreign key, so the record outlives what it is about (a deleted session)
    session_id: Mapped[int | None]
    target: Mapped[str] = mapped_column(sa.String(200), default="")
    details: Mapped[str] = mapped_column(sa.String(1000), default="")

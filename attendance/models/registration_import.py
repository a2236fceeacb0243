"""A delegation list an organiser uploads to register many people at once."""
from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .meeting import utcnow


class RegistrationImport(db.Model):
    """An uploaded list (CSV or XLSX): previewed first, saved in one transaction when the organiser confirms."""
    __tablename__ = "registration_imports"

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(sa.ForeignKey("meeting_sessions.id", ondelete="CASCADE"), index=True)
    filename: Mapped[str] = mapped_column(sa.String(255))
    sha256: Mapped[str] = mapped_column(sa.String(64))
    #: the file as uploaded; saving reads it again, so what is saved is what the preview showed
    content: Mapped[bytes] = mapped_column(sa.LargeBinary)
    uploaded_by: Mapped[str] = mapped_column(sa.String(254))
    uploaded_at: Mapped[datetime] = mapped_column(default=utcnow)
    saved_at: Mapped[datetime | None]
    #: what saving did, for the organiser: "12 added, 3 already registered, 1 row with errors skipped"
    summary: Mapped[str] = mapped_column(sa.String(500), default="")

"""What every file an organiser uploads to preview before saving keeps: an attendance report, a delegation list."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from ..clock import utcnow


class UploadedFile:
    """Previewed first, saved in one transaction when the organiser confirms; the file is kept as uploaded and
    parsed again on saving, so what is saved is what the preview showed."""

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(sa.ForeignKey("meeting_sessions.id", ondelete="CASCADE"), index=True)
    filename: Mapped[str] = mapped_column(sa.String(255))
    sha256: Mapped[str] = mapped_column(sa.String(64))
    content: Mapped[bytes] = mapped_column(sa.LargeBinary)
    uploaded_by: Mapped[str] = mapped_column(sa.String(254))
    uploaded_at: Mapped[datetime] = mapped_column(default=utcnow)
    saved_at: Mapped[datetime | None]
    #: what saving did, for the organiser: "12 intervals added, 2 unmatched, 3 duplicates"
    summary: Mapped[str] = mapped_column(sa.String(500), default="")

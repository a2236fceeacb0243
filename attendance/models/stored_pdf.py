"""A delegate's badge or certificate PDF as last rendered, served again while what it shows is unchanged."""

from __future__ import annotations

import enum
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from ..clock import utcnow
from ..extensions import db
from .registration import _enum


class PdfKind(enum.StrEnum):
    BADGE = "badge"
    CERTIFICATE = "certificate"


class StoredPdf(db.Model):
    __tablename__ = "stored_pdfs"
    __table_args__ = (
        # registration_id first: the same index serves the cascade and the purge, which look rows up by it.
        sa.UniqueConstraint("registration_id", "kind"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[PdfKind] = mapped_column(_enum(PdfKind, "kind"))
    registration_id: Mapped[int] = mapped_column(sa.ForeignKey("registrations.id", ondelete="CASCADE"))
    #: sha256 of the document's HTML, stylesheets and renderer: equal means the stored PDF is still the right one
    fingerprint: Mapped[str] = mapped_column(sa.String(64))
    pdf: Mapped[bytes] = mapped_column(sa.LargeBinary)
    #: when this copy was rendered
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

"""Attendance certificates: issued once per registration, verifiable by a public id, revocable."""

from __future__ import annotations

import secrets
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..clock import utcnow
from ..extensions import db
from .registration import Registration


def new_certificate_id() -> str:
    """Public and printed on the certificate: random (96 bits), short enough to type from paper."""
    return secrets.token_hex(12).upper()


class Certificate(db.Model):
    __tablename__ = "certificates"

    id: Mapped[int] = mapped_column(primary_key=True)
    registration_id: Mapped[int] = mapped_column(sa.ForeignKey("registrations.id", ondelete="CASCADE"), unique=True)
    #: the id in /verify/<public_id>; kept when the certificate is generated again
    public_id: Mapped[str] = mapped_column(sa.String(32), unique=True, default=new_certificate_id)
    issued_at: Mapped[datetime] = mapped_column(default=utcnow)
    #: the last time the PDF was generated (a download, a bulk export, an email)
    generated_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[datetime | None]
    revoke_reason: Mapped[str] = mapped_column(sa.String(500), default="")
    revoked_by: Mapped[str] = mapped_column(sa.String(254), default="")
    #: the organiser chose to show the reason on the public verification page; otherwise it stays internal
    revoke_reason_public: Mapped[bool] = mapped_column(default=False)
    #: when it was last emailed to its delegate; None: never. A mailing goes by default to those not yet sent.
    emailed_at: Mapped[datetime | None]

    #: the name kept for verification once the registration's personal data is purged (only with consent)
    holder_name: Mapped[str] = mapped_column(sa.String(200), default="")

    registration: Mapped[Registration] = relationship()

    @property
    def is_revoked(self) -> bool:
        return self.revoked_at is not None

"""Invitations: a personal link that registers one person, or a focal point's link that registers up to N nominees
of their entity."""

from __future__ import annotations

import enum
from datetime import datetime

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import Model
from ..tokens import new_access_key
from .meeting import EntityType, MeetingSession, Region, utcnow
from .registration import Mode, Registration, _enum
from .uploads import UploadedFile


class InvitationKind(enum.StrEnum):
    #: the invitee registers themselves, once
    PERSONAL = "personal"
    #: the invitee is their entity's focal point and registers up to `places` nominees
    NOMINATION = "nomination"


class InvitationStatus(enum.StrEnum):
    SENT = "sent"
    USED = "used"
    REVOKED = "revoked"

    @property
    def label(self) -> str:
        return str(_STATUS_LABELS[self])


_STATUS_LABELS = {
    InvitationStatus.SENT: _l("Sent"),
    InvitationStatus.USED: _l("Used"),
    InvitationStatus.REVOKED: _l("Revoked"),
}


class Invitation(Model):
    __tablename__ = "invitations"
    __table_args__ = (
        sa.CheckConstraint("places >= 1", name="places_positive"),
        # `used` only grows by the conditional UPDATE in `registration.invitations.take_place`
        sa.CheckConstraint("used BETWEEN 0 AND places", name="used_within_places"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(sa.ForeignKey("meeting_sessions.id", ondelete="CASCADE"), index=True)
    kind: Mapped[InvitationKind] = mapped_column(
        _enum(InvitationKind, "invitation_kind"), default=InvitationKind.PERSONAL
    )
    #: the secret in the invitee's link /invitations/<token>
    token: Mapped[str] = mapped_column(sa.String(64), unique=True, default=new_access_key)
    #: the invitee (for a nomination: the focal point); pre-filled in the form
    full_name: Mapped[str] = mapped_column(sa.String(200))
    email: Mapped[str] = mapped_column(sa.String(254))
    organisation: Mapped[str] = mapped_column(sa.String(200), default="")
    #: for a nomination, every nominee is of this entity type (and region, when set)
    entity_type_id: Mapped[int | None] = mapped_column(sa.ForeignKey("entity_types.id", ondelete="SET NULL"))
    region_id: Mapped[int | None] = mapped_column(sa.ForeignKey("regions.id", ondelete="SET NULL"))
    mode: Mapped[Mode | None] = mapped_column(_enum(Mode, "mode"))
    #: the language of the invitation's mail: the organiser's choice, else the session's language
    locale: Mapped[str] = mapped_column(sa.String(10), default="en")
    #: how many registrations the link may make: 1 for a personal invitation, N for a nomination
    places: Mapped[int] = mapped_column(default=1)
    used: Mapped[int] = mapped_column(default=0)
    revoked_at: Mapped[datetime | None]
    created_by: Mapped[str] = mapped_column(sa.String(254), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    session: Mapped[MeetingSession] = relationship()
    entity_type: Mapped[EntityType | None] = relationship()
    region: Mapped[Region | None] = relationship()
    #: the registrations the link made (a focal point's nominees), in the order they came; cancelled ones too
    nominees: Mapped[list[Registration]] = relationship(order_by=Registration.id, viewonly=True)

    @property
    def status(self) -> InvitationStatus:
        if self.revoked_at is not None:
            return InvitationStatus.REVOKED
        return InvitationStatus.USED if self.used >= self.places else InvitationStatus.SENT

    @property
    def is_nomination(self) -> bool:
        return self.kind is InvitationKind.NOMINATION

    def __repr__(self) -> str:
        return f"<Invitation {self.id} {self.session_id} {self.kind}>"


class InvitationList(UploadedFile, Model):
    """An uploaded list of invitees (CSV or XLSX): previewed row by row, saved only when the organiser confirms."""

    __tablename__ = "invitation_lists"

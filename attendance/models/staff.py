"""Staff accounts: organisers run meetings, door staff check people in."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import TYPE_CHECKING

import sqlalchemy as sa
from flask_login import UserMixin
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates
from werkzeug.security import check_password_hash, generate_password_hash

from ..clock import utcnow
from ..extensions import Model, db
from .registration import _enum

if TYPE_CHECKING:
    from .meeting import MeetingSession


class StaffRole(enum.StrEnum):
    ORGANISER = "organiser"
    DOOR = "door"


#: which organisers run which sessions
session_organisers = sa.Table(
    "session_organisers",
    db.metadata,
    sa.Column("session_id", sa.ForeignKey("meeting_sessions.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("user_id", sa.ForeignKey("staff_users.id", ondelete="CASCADE"), primary_key=True),
)


class DoorAssignment(Model):
    """A door staff member assigned to a session: they see, search and scan only the sessions they are assigned
    to (a door account assigned to none works at every session)."""

    __tablename__ = "session_door_staff"

    session_id: Mapped[int] = mapped_column(sa.ForeignKey("meeting_sessions.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("staff_users.id", ondelete="CASCADE"), primary_key=True)


class StaffUser(UserMixin, Model):
    __tablename__ = "staff_users"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: stored lowercase; logins ignore case
    email: Mapped[str] = mapped_column(sa.String(254), unique=True)
    password_hash: Mapped[str] = mapped_column(sa.String(256))
    role: Mapped[StaffRole] = mapped_column(_enum(StaffRole, "staff_role"))
    active: Mapped[bool] = mapped_column(default=True)
    #: raised by a logout and a password change: a login cookie made before names an older version, and is refused
    session_version: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    #: the login loads them with the user, in the same statement: a door phone's every scan checks them
    door_assignments: Mapped[list[DoorAssignment]] = relationship(cascade="all, delete-orphan", passive_deletes=True)

    @validates("email")
    def _normalise_email(self, _key: str, email: str) -> str:
        return email.strip().lower()

    def set_password(self, password: str) -> None:
        """A new password also ends every session logged in with the old one."""
        self.password_hash = generate_password_hash(password)
        self.end_sessions()

    def end_sessions(self) -> None:
        """Every login of this account, on every browser, stops working at its next request."""
        self.session_version = (self.session_version or 0) + 1

    def get_id(self) -> str:
        """What the login cookie holds (Flask-Login): the account and its session version."""
        return f"{self.id}:{self.session_version}"

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)

    @property
    def is_active(self) -> bool:
        return self.active

    @property
    def is_organiser(self) -> bool:
        return self.role is StaffRole.ORGANISER

    def manages(self, meeting) -> bool:
        """Organisers run the sessions they are organisers of; door staff run none."""
        return self.is_organiser and self in meeting.organisers

    @property
    def door_session_ids(self) -> frozenset[int] | None:
        """The sessions this member may see and scan at the door; None: every session (organisers, and door
        staff not assigned to any session yet)."""
        if self.is_organiser or not self.door_assignments:
            return None
        return frozenset(assignment.session_id for assignment in self.door_assignments)


class LoginFailure(Model):
    """Failed logins in a row to one account from one address. At LOCK_AFTER that address may not try that
    account for LOCK_MINUTES; other addresses still can, so a stranger cannot lock door staff out."""

    __tablename__ = "login_failures"
    __table_args__ = (sa.UniqueConstraint("email", "address"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    #: as typed, lowercase: unknown addresses are counted as known ones are, so the answers do not differ
    email: Mapped[str] = mapped_column(sa.String(254))
    #: the client's IP address
    address: Mapped[str] = mapped_column(sa.String(64))
    failures: Mapped[int] = mapped_column(default=0)
    locked_until: Mapped[datetime | None]
    last_failed_at: Mapped[datetime] = mapped_column(default=utcnow)


class ApiToken(Model):
    """A named token for a scanner device; only its hash is kept, the token itself is shown once."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    label: Mapped[str] = mapped_column(sa.String(80))
    #: sha256 of the token: tokens are long and random, so a fast hash is enough
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    #: the first characters, to tell tokens apart in lists
    prefix: Mapped[str] = mapped_column(sa.String(12))
    #: an organiser token may check in for a day other than today
    is_organiser: Mapped[bool] = mapped_column(default=False)
    #: the one session the token may read and check in for (`token add --session`); None: every session
    session_id: Mapped[int | None] = mapped_column(sa.ForeignKey("meeting_sessions.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[datetime | None]

    session: Mapped[MeetingSession | None] = relationship()

    @property
    def is_revoked(self) -> bool:
        return self.revoked_at is not None

    def allows_session(self, session_id: int) -> bool:
        """Whether this token may read and check in for that session."""
        return self.session_id is None or self.session_id == session_id

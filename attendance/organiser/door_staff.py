"""Door staff assigned to sessions: an organiser names who works the doors of their session.

A door account assigned to one or more sessions sees, searches and scans only those; one assigned to none works
at every session (so that existing accounts, and a volunteer added on the meeting's morning, keep working).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from flask import flash, redirect, request, url_for
from flask_babel import gettext

from .. import audit
from ..auth import organiser_required
from ..extensions import db
from ..lookup import managed_session_or_404
from ..models import DoorAssignment, MeetingSession, StaffUser
from . import bp


class NotDoorStaff(ValueError):
    """The email names no door staff account."""


def door_staff_of(meeting: MeetingSession) -> Sequence[StaffUser]:
    return (
        db.session.scalars(
            sa.select(StaffUser)
            .join(DoorAssignment, DoorAssignment.user_id == StaffUser.id)
            .where(DoorAssignment.session_id == meeting.id)
            .order_by(StaffUser.email)
        )
        .unique()
        .all()
    )


def assign_door_staff(meeting: MeetingSession, email: str, actor: str | None = None) -> tuple[StaffUser, bool]:
    """Assigns the door staff account of `email` to the session, audited; whether it was new. Raises NotDoorStaff.
    In the caller's transaction."""
    user = db.session.scalar(sa.select(StaffUser).filter_by(email=email.strip().lower()))
    if user is None or user.is_organiser:
        raise NotDoorStaff(email)
    if any(assignment.session_id == meeting.id for assignment in user.door_assignments):
        return user, False
    user.door_assignments.append(DoorAssignment(session_id=meeting.id))
    audit.record("session.add_door_staff", session_id=meeting.id, target=user.email, actor=actor)
    return user, True


def unassign_door_staff(meeting: MeetingSession, user: StaffUser) -> bool:
    """Takes the session from the member's assignments, audited; whether they had it. In the caller's transaction."""
    kept = [assignment for assignment in user.door_assignments if assignment.session_id != meeting.id]
    if len(kept) == len(user.door_assignments):
        return False
    user.door_assignments = kept
    audit.record("session.remove_door_staff", session_id=meeting.id, target=user.email)
    return True


@bp.post("/sessions/<slug>/door-staff")
@organiser_required
def add_door_staff(slug: str):
    meeting = managed_session_or_404(slug)
    email = request.form.get("email", "").strip()[:254]
    try:
        user, added = assign_door_staff(meeting, email)
    except NotDoorStaff:
        flash(
            gettext(
                "No door staff account has the email “%(email)s”. Create it with `flask user add EMAIL "
                "--role door` first.",
                email=email,
            )
        )
    else:
        flash(
            gettext("%(email)s now works the doors of this session.", email=user.email)
            if added
            else gettext("%(email)s already works the doors of this session.", email=user.email)
        )
    return redirect(url_for("organiser.edit_session", slug=slug) + "#door-staff-heading")


@bp.post("/sessions/<slug>/door-staff/<int:user_id>/remove")
@organiser_required
def remove_door_staff(slug: str, user_id: int):
    meeting = managed_session_or_404(slug)
    user = db.get_or_404(StaffUser, user_id)
    if unassign_door_staff(meeting, user):
        flash(gettext("%(email)s no longer works the doors of this session.", email=user.email))
        if not user.door_assignments:
            flash(
                gettext(
                    "%(email)s is now assigned to no session, so they can scan at every session again.",
                    email=user.email,
                ),
                "warning",
            )
    return redirect(url_for("organiser.edit_session", slug=slug) + "#door-staff-heading")

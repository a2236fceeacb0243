"""Recording organisers' actions. `record` adds to the caller's transaction: the audit line and the change it
describes are committed together, or neither is."""

import re

import sqlalchemy as sa
from flask_login import current_user

from .extensions import db
from .models.audit import AuditEvent

#: What each action's line may hold that names a delegate: free text as typed (reasons), platform identities
#: ("name:…", "email:…"), uploaded file names. Purging a session blanks these in its lines and keeps the rest: who,
#: when, what, which registration or certificate number, counts, field names, staff accounts, entity types and
#: regions. An action missing here is blanked whole (target and details), so that a new one names nobody after a
#: purge until someone decides what it holds.
PERSONAL_FIELDS: dict[str, tuple[str, ...]] = {
    "registration.cancel": ("details",),
    "registration.approve": ("details",),
    "registration.decline": ("details",),
    "invitations.import": ("target",),
    "message.send": ("details",),
    "certificate.revoke": ("details",),
    "visa_letter.revoke": ("details",),
    "attendance.check_in": ("details",),
    "attendance.check_out": ("details",),
    "attendance.remove": ("details",),
    "online.map_identity": ("target",),
    "online.import_save": ("target",),
    **dict.fromkeys(
        (
            "registration.update",
            "registration.answers",
            "registration.reinstate",
            "registration.reissue_badge",
            "registration.add",
            "registration.reprint_badge",
            "certificate.reinstate",
            "invitation.create",
            "invitation.nominate",
            "invitation.revoke",
            "registration.promote",
            "registrations.export",
            "badges.export",
            "certificates.export",
            "certificates.email",
            "headcount.export",
            "session.create",
            "session.update",
            "session.delete",
            "session.purge",
            "session.add_organiser",
            "session.remove_organiser",
            "session.add_door_staff",
            "session.remove_door_staff",
            "entity-types.save",
            "entity-types.delete",
            "regions.save",
            "regions.delete",
            "questions.save",
            "questions.delete",
            "visa_letter.issue",
        ),
        (),
    ),
}
PURGED = "(purged)"
_LEADING_DAY = re.compile(r"\d{4}-\d{2}-\d{2}: ")


def record(
    action: str, *, session_id: int | None = None, target: str = "", details: str = "", actor: str | None = None
) -> None:
    if actor is None:
        actor = current_user.email if current_user and current_user.is_authenticated else "cli"
    db.session.add(
        AuditEvent(
            actor=actor[:254], action=action[:60], session_id=session_id, target=target[:200], details=details[:1000]
        )
    )


def latest(session_id: int, target: str, actions: tuple[str, ...]) -> str | None:
    """The last of `actions` recorded on `target` ("registration 12") in the session, or None. A purge keeps the
    targets of the actions that need it here (PERSONAL_FIELDS)."""
    return db.session.scalar(
        sa.select(AuditEvent.action)
        .where(AuditEvent.session_id == session_id, AuditEvent.target == target, AuditEvent.action.in_(actions))
        .order_by(AuditEvent.id.desc())
        .limit(1)
    )


def anonymise_session(session_id: int) -> None:
    """Blanks what the session's lines may say of its delegates (PERSONAL_FIELDS). In the caller's transaction."""
    for event in db.session.scalars(sa.select(AuditEvent).filter_by(session_id=session_id)):
        for name in PERSONAL_FIELDS.get(event.action, ("target", "details")):
            value = getattr(event, name)
            if value:
                day = _LEADING_DAY.match(value)  # a check-in's day stays: it names nobody
                setattr(event, name, (day.group(0) if day else "") + PURGED)

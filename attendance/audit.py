"""Recording organisers' actions. `record` adds to the caller's transaction: the audit line and the change it
describes are committed together, or neither is."""
from flask_login import current_user

from .extensions import db
from .models.audit import AuditEvent


def record(action: str, *, session_id: int | None = None, target: str = "", details: str = "",
           actor: str | None = None) -> None:
    if actor is None:
        actor = current_user.email if current_user and current_user.is_authenticated else "cli"
    db.session.add(AuditEvent(actor=actor[:254], action=action[:60], session_id=session_id, target=target[:200],
                              details=details[:1000]))

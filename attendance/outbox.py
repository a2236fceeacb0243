"""Mails waiting to be sent: written in the transaction of the change they tell of, sent by a worker.

A mail is one row per registration, purpose and version (unique), so a job that runs again, or two workers at
once, never send a person a second mail for the same thing. See `jobs/delivery.py` for the sending.
"""

from __future__ import annotations

import hashlib
from datetime import timedelta

import sqlalchemy as sa

from .dbutil import insert_or_ignore
from .extensions import db
from .models import MailStatus, OutboxMail, Registration
from .models.meeting import utcnow

CONFIRMATION = "confirmation"
CANCELLED = "cancelled"
REISSUED = "reissued"
CERTIFICATE = "certificate"
PURPOSES = (CONFIRMATION, CANCELLED, REISSUED, CERTIFICATE)
#: where the session keeps the ids of the mails its transaction scheduled, for `jobs.send_scheduled` after commit
SCHEDULED = "outbox.scheduled"
#: a mail still waiting after this long is late (a worker takes a new one within seconds)
DELAYED_AFTER = timedelta(minutes=2)


def schedule(registration: Registration, purpose: str, version: str = "1", *, job_id: int | None = None) -> int | None:
    """Adds the mail to the caller's transaction, unless that mail exists already; its id, or None (also for a
    registration without an address)."""
    assert purpose in PURPOSES, purpose
    if not registration.email:
        return None
    if registration.id is None:
        db.session.flush()
    mail_id = insert_or_ignore(
        OutboxMail,
        {
            "registration_id": registration.id,
            "purpose": purpose,
            "version": version[:40],
            "job_id": job_id,
            "status": MailStatus.PENDING.value,
            "attempts": 0,
            "error": "",
            "next_attempt_at": utcnow(),
            "created_at": utcnow(),
        },
        ["registration_id", "purpose", "version"],
    )
    if mail_id is not None:
        db.session.info.setdefault(SCHEDULED, []).append(mail_id)
    return mail_id


def badge_version(registration: Registration) -> str:
    """Tells one badge from the next without storing its secret."""
    return hashlib.sha256(registration.badge_token.encode()).hexdigest()[:16]


def note_not_queued(mail_ids: list[int], reason: str) -> None:
    """The queue refused the mails (Redis down): they wait in the outbox, and the delegate's page says so. A
    worker's periodic sweep sends them once the queue is back."""
    db.session.execute(sa.update(OutboxMail).where(OutboxMail.id.in_(mail_ids)).values(error=reason[:500]))


def mail_of(registration: Registration, purpose: str, version: str = "1") -> OutboxMail | None:
    return db.session.scalar(
        sa.select(OutboxMail).filter_by(registration_id=registration.id, purpose=purpose, version=version)
    )


def is_delayed(mail: OutboxMail | None) -> bool:
    """Whether the delegate should be told their mail is late: not sent, and not merely on its way."""
    if mail is None or mail.status is MailStatus.SENT:
        return False
    return (
        mail.status is not MailStatus.PENDING
        or bool(mail.error)
        or mail.attempts > 0
        or mail.created_at < utcnow() - DELAYED_AFTER
    )

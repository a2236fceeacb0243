"""Mails waiting to be sent: written in the transaction of the change they tell of, sent by a worker.

A mail is one row per registration, purpose and version (unique), so a job that runs again, or two workers at
once, never send a person a second mail for the same thing. See `jobs/delivery.py` for the sending.
"""

from __future__ import annotations

import hashlib
from datetime import timedelta

import sqlalchemy as sa

from .clock import utcnow
from .dbutil import insert_or_ignore
from .extensions import db
from .models import Invitation, MailStatus, OutboxMail, Registration

CONFIRMATION = "confirmation"
CANCELLED = "cancelled"
REISSUED = "reissued"
CERTIFICATE = "certificate"
#: the personal link again, asked for on the session's page ("email me my link again")
LINK_AGAIN = "link_again"
#: every registration link of an address, asked for at /me; kept on the address's latest registration
LINKS = "links"
#: an organiser approved a pending registration: the confirmation with badge and calendar
APPROVED = "approved"
DECLINED = "declined"
#: to an invitation (not a registration): the invitee's or focal point's personal link
INVITATION = "invitation"
#: a seat in the room came free for the first in line (version: the new badge)
PROMOTED = "promoted"
#: an organiser undid a cancellation: what the registration is again (version: the cancellation's moment)
REINSTATED = "reinstated"
#: the session's reminder before its first day (version: that day, so a moved meeting reminds once more)
REMINDER = "reminder"
#: an organiser's message to a group (version: the message's id)
MESSAGE = "message"
PURPOSES = (
    CONFIRMATION,
    CANCELLED,
    REISSUED,
    CERTIFICATE,
    LINK_AGAIN,
    LINKS,
    APPROVED,
    DECLINED,
    PROMOTED,
    REINSTATED,
    REMINDER,
    MESSAGE,
)
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
    return _add("registration_id", registration.id, purpose, version, job_id)


def _add(recipient: str, recipient_id: int, purpose: str, version: str, job_id: int | None) -> int | None:
    """One mail row to `recipient` (a registration or an invitation), unless it exists: unique per recipient,
    purpose and version, so a job that runs again never writes a second one."""
    mail_id = insert_or_ignore(
        OutboxMail,
        {
            recipient: recipient_id,
            "purpose": purpose,
            "version": version[:40],
            "job_id": job_id,
            "status": MailStatus.PENDING.value,
            "attempts": 0,
            "error": "",
            "next_attempt_at": utcnow(),
            "created_at": utcnow(),
        },
        [recipient, "purpose", "version"],
    )
    if mail_id is not None:
        db.session.info.setdefault(SCHEDULED, []).append(mail_id)
    return mail_id


def asked_version(locale: str = "") -> str:
    """The version of a mail a delegate asks for (LINK_AGAIN, LINKS): the minute asked in, so that a double click
    sends one mail and asking again later sends another; and the language of the page asked from."""
    return utcnow().strftime("%Y-%m-%dT%H:%M") + (f" {locale}" if locale else "")


def asked_locale(mail: OutboxMail) -> str | None:
    """The language of the page the mail was asked from (see `asked_version`), if it says."""
    return mail.version.partition(" ")[2] or None


def schedule_invitation(invitation: Invitation) -> int | None:
    """The invitation's mail, in the caller's transaction (once per invitation)."""
    if invitation.id is None:
        db.session.flush()
    return _add("invitation_id", invitation.id, INVITATION, "1", None)


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

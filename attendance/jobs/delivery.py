"""Sending the outbox: each mail claimed by one worker, sent, and marked sent in the transaction that records it.

A mail cannot be rolled back, so the outbox follows the mails one by one: a worker claims a row (pending ->
sending, in a short transaction of its own), sends it over the batch's one SMTP connection, then marks it sent
together with what the mail changes (a certificate's `emailed_at`). Another worker, or the same job run again,
skips what is sent or claimed. A worker killed during the SMTP exchange leaves its row "sending": after the lease
another worker takes it back (the mail may then go twice, only if the kill came after the server accepted it and
before the mark: the one window no mailer can close). A failed mail is tried again with back-off, then given up.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from email.message import EmailMessage
from typing import Any, cast

import sqlalchemy as sa
from flask import current_app

from .. import mail, outbox
from ..clock import utcnow
from ..dbutil import serialized_writes
from ..extensions import db
from ..models import MailStatus, OutboxMail, RegistrationStatus

log = logging.getLogger(__name__)

#: tries of one mail before it is given up (shown on the jobs page)
MAX_ATTEMPTS = 6
#: a batch stops after so many failures in a row: the mail server is down, and the rest wait for the next sweep
STOP_AFTER_FAILURES = 3


class Gone(Exception):
    """The mail has nothing left to say (the registration was cancelled, the certificate revoked): not retried."""


def backoff(attempts: int) -> timedelta:
    """30 s after the first failure, then 1, 2, 4 and 8 minutes."""
    return timedelta(seconds=30 * 2 ** max(attempts - 1, 0))


@dataclass
class Delivery:
    sent: int = 0
    gone: int = 0
    #: mails that failed this time (retried later, or given up after MAX_ATTEMPTS): their registrations' ids, None
    #: for an invitation's
    failed: list[int | None] = field(default_factory=list)
    #: rows another worker had claimed, or had sent meanwhile
    skipped: int = 0


def deliver(
    mail_ids: list[int] | None = None, *, job_id: int | None = None, progress: Callable[[int], None] = lambda n: None
) -> Delivery:
    """Sends the due mails among `mail_ids` (or of the job, or all), over one SMTP connection."""
    delivery = Delivery()
    failures_in_a_row = 0
    with mail.connection() as mailer:
        for mail_id in _due(mail_ids, job_id):
            if not _claim(mail_id):
                delivery.skipped += 1
                continue
            row = db.session.get(OutboxMail, mail_id, populate_existing=True)
            if row is None:  # its registration was deleted since
                delivery.gone += 1
                continue
            try:
                message, on_sent = compose(row)
            except Gone as reason:
                _finish(row, MailStatus.GONE, str(reason))
                delivery.gone += 1
                progress(1)
                continue
            except Exception as error:  # rendering failed: retried like a mail server's refusal
                _failed(row, error)
                delivery.failed.append(row.registration_id)
                continue
            try:
                mailer.send(message)
            except Exception as error:
                _failed(row, error)
                delivery.failed.append(row.registration_id)
                failures_in_a_row += 1
                if failures_in_a_row >= STOP_AFTER_FAILURES:
                    break
                continue
            failures_in_a_row = 0
            on_sent()
            _finish(row, MailStatus.SENT)
            delivery.sent += 1
            progress(1)
    return delivery


def _due(mail_ids: list[int] | None, job_id: int | None) -> list[int]:
    now = utcnow()
    lease = timedelta(seconds=current_app.config["MAIL_LEASE_SECONDS"])
    query = (
        sa.select(OutboxMail.id)
        .where(
            sa.or_(
                sa.and_(OutboxMail.status == MailStatus.PENDING, OutboxMail.next_attempt_at <= now),
                sa.and_(OutboxMail.status == MailStatus.SENDING, OutboxMail.claimed_at < now - lease),
            )
        )
        .order_by(OutboxMail.id)
    )
    if mail_ids is not None:
        query = query.where(OutboxMail.id.in_(mail_ids))
    if job_id is not None:
        query = query.where(OutboxMail.job_id == job_id)
    ids = list(db.session.scalars(query))
    db.session.commit()  # ends the read: SQLite would otherwise hold a snapshot across the batch
    return ids


def _claim(mail_id: int) -> bool:
    """Takes the mail for this worker, in a transaction of its own; whether it did."""
    now = utcnow()
    lease = timedelta(seconds=current_app.config["MAIL_LEASE_SECONDS"])
    with serialized_writes():
        claimed = (
            cast(  # an UPDATE's result is a CursorResult, which Session.execute's type does not say
                sa.CursorResult[Any],
                db.session.execute(
                    sa.update(OutboxMail)
                    .where(
                        OutboxMail.id == mail_id,
                        sa.or_(
                            sa.and_(OutboxMail.status == MailStatus.PENDING, OutboxMail.next_attempt_at <= now),
                            sa.and_(OutboxMail.status == MailStatus.SENDING, OutboxMail.claimed_at < now - lease),
                        ),
                    )
                    .values(status=MailStatus.SENDING, claimed_at=now, attempts=OutboxMail.attempts + 1)
                    .execution_options(synchronize_session=False)
                ),
            ).rowcount
            == 1
        )
        db.session.commit()
    return claimed


def _finish(row: OutboxMail, status: MailStatus, reason: str = "") -> None:
    with serialized_writes():
        row.status = status
        row.error = reason[:500]
        if status is MailStatus.SENT:
            row.sent_at = utcnow()
        db.session.commit()


def _failed(row: OutboxMail, error: Exception) -> None:
    db.session.rollback()
    log.warning(
        "mail %s (%s of registration %s) failed, attempt %s: %s",
        row.id,
        row.purpose,
        row.registration_id,
        row.attempts,
        error,
    )
    with serialized_writes():
        current = db.session.get(OutboxMail, row.id, populate_existing=True)
        if current is None:
            return
        current.error = f"{type(error).__name__}: {error}"[:500]
        if current.attempts >= MAX_ATTEMPTS:
            current.status = MailStatus.FAILED
        else:
            current.status = MailStatus.PENDING
            current.next_attempt_at = utcnow() + backoff(current.attempts)
        db.session.commit()


def compose(row: OutboxMail) -> tuple[EmailMessage, Callable[[], None]]:
    """The message for the row, and what to record with it once sent. Raises Gone when it has nothing to say."""
    if row.invitation is not None:
        from ..registration.invitations import invitation_message

        if row.invitation.revoked_at is not None:
            raise Gone("the invitation was revoked before its mail went")
        return invitation_message(row.invitation), lambda: None
    registration = row.registration
    assert registration is not None  # a mail goes to an invitation (above) or to a registration
    if not registration.email:
        raise Gone("the registration has no email address any more")
    if row.purpose == outbox.CERTIFICATE:
        from ..certificates.mailing import certificate_mail

        return certificate_mail(registration)
    from ..registration.find import links_message
    from ..registration.messages import confirmation_message, notice_message

    if row.purpose == outbox.LINKS:
        return links_message(registration.email, outbox.asked_locale(row) or registration.locale), lambda: None
    if row.purpose == outbox.LINK_AGAIN:
        return confirmation_message(registration, reminder=True), lambda: None
    if row.purpose == outbox.CONFIRMATION:
        if registration.is_cancelled:
            raise Gone("the registration was cancelled before its confirmation went")
        if registration.status is RegistrationStatus.DECLINED:  # the decline's own notice tells them
            raise Gone("the registration was declined before its confirmation went")
        return confirmation_message(registration), lambda: None
    if row.purpose == outbox.APPROVED:
        if registration.status is not RegistrationStatus.REGISTERED:  # not is_registered: a room-only line is told too
            raise Gone("the registration was cancelled after its approval")
        return confirmation_message(registration, approved=True), lambda: None
    if row.purpose == outbox.REINSTATED:
        if registration.is_cancelled:
            raise Gone("the registration was cancelled again before its reinstatement was mailed")
        return confirmation_message(registration, reinstated=True), lambda: None
    if row.purpose in (outbox.REMINDER, outbox.MESSAGE):
        from ..mailings.mails import message_mail, reminder_mail

        return (reminder_mail if row.purpose == outbox.REMINDER else message_mail)(row), lambda: None
    if row.purpose in (outbox.REISSUED, outbox.PROMOTED) and (
        not registration.is_registered or row.version != outbox.badge_version(registration)
    ):
        raise Gone("that badge was replaced or cancelled since")
    return notice_message(registration, row.purpose), lambda: None

"""Emailing certificates to their delegates: by default only to those not yet sent theirs, in one request.

A mail cannot be rolled back, so the database follows the mails one by one rather than in one transaction at the
end (a server stopped half-way would then forget the mails that went, and send them again). Before its mail goes, a
certificate is claimed: marked as emailed in a short transaction of its own, only if its mark is still what the
mailing read at the start. If the mail fails, the mark is put back. So a double click, or two organisers at once,
send each certificate once; a failed mail stays "not yet sent" and never stops the others.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime

from flask import render_template
from flask_babel import force_locale, gettext

from .. import audit, mail
from ..dbutil import serialized_writes
from ..extensions import db
from ..models import Certificate, MeetingSession
from ..models.meeting import utcnow
from ..tokens import redact
from .render import certificate_pdf, filename_for
from .service import Eligibility, issue_all

log = logging.getLogger(__name__)


@dataclass
class Mailing:
    """What one mailing did: told to the organiser, and written to the audit log."""
    everyone: bool
    eligible: int = 0
    sent: int = 0
    #: eligible delegates left out because theirs was emailed before (or by a mailing running at the same time)
    already: int = 0
    #: the registrations whose mail could not be sent: still "not yet sent", so the next mailing tries them again
    failed: list[int] = field(default_factory=list)
    #: eligible walk-ins who gave no e-mail address: staff print theirs
    no_address: int = 0

    def summary(self) -> str:
        """For the audit log: counts and registration numbers, no names."""
        text = (f"{'everyone again' if self.everyone else 'not yet sent'}: {self.sent} sent, {len(self.failed)} "
                f"failed, {self.already} had theirs already")
        if self.no_address:
            text += f", {self.no_address} without an email address"
        if self.failed:
            text += "; failed: registrations " + ", ".join(map(str, self.failed))
        return text[:1000]

    def message(self) -> str:
        """For the organiser: "12 sent; 148 had theirs already." """
        if not self.eligible:
            return gettext("No delegate is eligible for a certificate yet, so nothing was sent.")
        text = (gettext("%(sent)d sent; %(already)d had theirs already.", sent=self.sent, already=self.already)
                if self.already else gettext("%(sent)d sent.", sent=self.sent))
        if self.everyone:
            text = gettext("Sent again to everyone: %(result)s", result=text)
        if self.no_address:
            text += " " + gettext("%(num)d registered without an email address: print theirs from their "
                                  "registration.", num=self.no_address)
        if self.failed:
            text += " " + gettext("%(num)d could not be sent (the server log says why); they are still marked not "
                                  "yet sent, so emailing those not yet sent tries them again.", num=len(self.failed))
        return text


def email_certificates(meeting: MeetingSession, *, everyone: bool = False) -> Mailing:
    """Emails eligible delegates their certificates: those not yet sent theirs or, with `everyone`, all of them again
    (after a correction). Issues the certificates not yet issued; refuses a purged session (SessionPurged)."""
    pairs = issue_all(meeting)
    mailing = Mailing(everyone, eligible=len(pairs))
    # Every mark read before the first mail: a claim later succeeds only if the mark is still this one.
    plan = [(certificate, result, certificate.emailed_at) for certificate, result in pairs]
    for certificate, result, last_emailed in plan:
        if not certificate.registration.email:  # a walk-in who gave none
            mailing.no_address += 1
            continue
        claimed_at = utcnow()
        if (last_emailed is not None and not everyone) or not _claim(certificate.id, last_emailed, claimed_at):
            mailing.already += 1
            continue
        try:
            mail.send(_message(certificate, result))
        except Exception:
            _mark(certificate.id, last_emailed, unless_changed_from=claimed_at)
            mailing.failed.append(certificate.registration_id)
            log.exception("could not email the certificate of registration %s (key %s)", certificate.registration_id,
                          redact(certificate.registration.access_key))
        else:
            mailing.sent += 1
    audit.record("certificates.email", session_id=meeting.id, details=mailing.summary())
    db.session.commit()
    return mailing


def _message(certificate: Certificate, result: Eligibility):
    registration, meeting = certificate.registration, certificate.registration.session
    with force_locale(registration.locale):
        body = render_template("certificates/email.txt", registration=registration, meeting=meeting,
                               certificate=certificate)
        subject = gettext("Your certificate: %(title)s", title=meeting.local_title)
    return mail.build_message(registration.email, subject, body, attachments=[
        (filename_for(certificate), "application/pdf", certificate_pdf(certificate, result))])


def _claim(certificate_id: int, last_emailed: datetime | None, now: datetime) -> bool:
    """Marks the certificate as emailed `now` if its mark is still `last_emailed`; whether it did."""
    return _mark(certificate_id, now, unless_changed_from=last_emailed)


def _mark(certificate_id: int, emailed_at: datetime | None, *, unless_changed_from: datetime | None) -> bool:
    # Its own connection and transaction, as stored PDFs are written: committed at once, whatever the request's
    # session holds, and without expiring the objects it has loaded.
    table = Certificate.__table__
    unchanged = (table.c.emailed_at.is_(None) if unless_changed_from is None
                 else table.c.emailed_at == unless_changed_from)
    with serialized_writes(), db.engine.begin() as connection:
        return connection.execute(table.update().where(table.c.id == certificate_id, unchanged)
                                  .values(emailed_at=emailed_at)).rowcount == 1

"""The certificate mail: built by the worker that sends it (see jobs/kinds.py for the mailing job).

By default a mailing goes only to eligible delegates not yet sent theirs; "send again to everyone" is a mailing of
its own. Each mail is a row of the outbox, so a mailing run again, or two at once, sends each certificate once.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from email.message import EmailMessage

from flask import render_template
from flask_babel import force_locale, gettext

from .. import mail
from ..clock import utcnow
from ..jobs.delivery import Gone
from ..jobs.kinds import request_job
from ..models import Job, MeetingSession, Registration
from .render import certificate_pdf, filename_for
from .service import certificate_of, eligibility


@dataclass
class Mailing:
    """What one mailing did: told to the organiser, and written to the audit log."""

    everyone: bool
    eligible: int = 0
    sent: int = 0
    #: eligible delegates left out because theirs was emailed before
    already: int = 0
    #: the registrations whose mail could not be sent yet: tried again with back-off, then given up
    failed: list[int] = field(default_factory=list)
    #: eligible walk-ins who gave no e-mail address: staff print theirs
    no_address: int = 0

    def summary(self) -> str:
        """For the audit log: counts and registration numbers, no names."""
        text = (
            f"{'everyone again' if self.everyone else 'not yet sent'}: {self.sent} sent, {len(self.failed)} "
            f"failed, {self.already} had theirs already"
        )
        if self.no_address:
            text += f", {self.no_address} without an email address"
        if self.failed:
            text += "; failed: registrations " + ", ".join(map(str, self.failed))
        return text[:1000]

    def message(self) -> str:
        """For the organiser: "12 sent; 148 had theirs already." """
        if not self.eligible:
            return gettext("No delegate is eligible for a certificate yet, so nothing was sent.")
        text = (
            gettext("%(sent)d sent; %(already)d had theirs already.", sent=self.sent, already=self.already)
            if self.already
            else gettext("%(sent)d sent.", sent=self.sent)
        )
        if self.everyone:
            text = gettext("Sent again to everyone: %(result)s", result=text)
        if self.no_address:
            text += " " + gettext(
                "%(num)d registered without an email address: print theirs from their registration.",
                num=self.no_address,
            )
        if self.failed:
            text += " " + gettext(
                "%(num)d could not be sent yet: they are tried again, later each time (the jobs page shows why).",
                num=len(self.failed),
            )
        return text[:1000]


def email_certificates(meeting: MeetingSession, *, everyone: bool = False, requested_by: str = "cli") -> Job:
    """Asks for the mailing (one at a time per session and kind), started when the caller's transaction commits."""
    return request_job(meeting, "certificates.email", requested_by=requested_by, options={"everyone": everyone})[0]


def certificate_mail(registration: Registration) -> tuple[EmailMessage, Callable[[], None]]:
    """The delegate's certificate mail, and the mark to record with it (`emailed_at`). Raises Gone when they are no
    longer eligible, their certificate was revoked, or the session was purged."""
    meeting = registration.session
    certificate = certificate_of(registration)
    if meeting.purged_at is not None:
        raise Gone("the session was purged")
    if certificate is None or certificate.is_revoked:
        raise Gone("the certificate was revoked")
    result = eligibility(registration)
    if not result.eligible:
        raise Gone("no longer eligible for a certificate")
    with force_locale(registration.locale):
        body = render_template(
            "certificates/email.txt", registration=registration, meeting=meeting, certificate=certificate
        )
        subject = gettext("Your certificate: %(title)s", title=meeting.local_title)
    message = mail.build_message(
        registration.email,
        subject,
        body,
        attachments=[(filename_for(certificate), "application/pdf", certificate_pdf(certificate, result))],
    )

    def mark_emailed() -> None:
        certificate.emailed_at = utcnow()

    return message, mark_emailed

"""The delegate's certificate, public verification, and organisers' certificate pages and bulk downloads."""

import sqlalchemy as sa
from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext
from flask_login import current_user

from .. import transaction
from ..attendance_rule import describe_day
from ..auth import organiser_required
from ..extensions import db, limiter
from ..formatting import format_day
from ..jobs.kinds import request_job
from ..lookup import in_session_or_404, managed_session_or_404, registration_by_key_or_404
from ..models import Certificate, Registration, VisaLetter
from ..questions.visa import is_valid as visa_letter_valid
from ..text import has_control_characters
from . import bp
from .render import certificate_pdf
from .service import (
    NotEligible,
    SessionPurged,
    certificate_of,
    eligibility,
    issue,
    reinstate,
    revoke,
    session_eligibilities,
)


@bp.get("/me/<access_key>/certificate.pdf")
def my_certificate(access_key: str):
    registration = registration_by_key_or_404(access_key)
    try:
        certificate, result = issue(registration)
    except NotEligible as refusal:
        return render_template(
            "certificates/not_eligible.html", registration=registration, result=refusal.eligibility
        ), 403
    except SessionPurged:  # no old link leads here (the purge changed every access key); the rule holds anyway
        abort(
            403,
            gettext(
                "This meeting's personal data was deleted, so its certificates can no longer be "
                "downloaded. Certificates issued before can still be checked on their verification page."
            ),
        )
    transaction.commit()  # before rendering: the stored PDF is written on a connection of its own
    return (
        certificate_pdf(certificate, result),
        200,
        {
            "Content-Type": "application/pdf",
            "Content-Disposition": f'inline; filename="certificate-{certificate.public_id}.pdf"',
        },
    )


@bp.get("/verify/<public_id>")
@limiter.limit("60 per minute")
def verify(public_id: str):
    certificate = db.session.scalar(sa.select(Certificate).filter_by(public_id=public_id.upper()[:32]))
    if certificate is None:
        letter = db.session.scalar(sa.select(VisaLetter).filter_by(public_id=public_id.upper()[:32]))
        if letter is not None:  # visa letters share the verification page's address
            return render_template(
                "certificates/verify_visa_letter.html",
                letter=letter,
                registration=letter.registration,
                meeting=letter.registration.session,
                valid=visa_letter_valid(letter),
            )
        return render_template("certificates/verify_unknown.html"), 404
    result = eligibility(certificate.registration)
    return render_template(
        "certificates/verify.html",
        certificate=certificate,
        registration=certificate.registration,
        meeting=certificate.registration.session,
        result=result,
        valid=result.eligible,
    )


@bp.get("/sessions/<slug>/certificates")
@organiser_required
def overview(slug: str):
    meeting = managed_session_or_404(slug)
    rows = [(e.registration, e, e.certificate) for e in session_eligibilities(meeting)]
    eligible = [c for _, e, c in rows if e.eligible]
    return render_template(
        "certificates/overview.html",
        meeting=meeting,
        rows=rows,
        eligible=len(eligible),
        not_yet_sent=sum(1 for c in eligible if c is None or c.emailed_at is None),
        purged_message=_purged_message(meeting) if meeting.purged_at else "",
        describe_day=describe_day,
    )


def _purged_message(meeting) -> str:
    return gettext(
        "The personal data of this session was purged on %(day)s, so its certificates can no longer be "
        "downloaded or emailed: they would be made out to “Delegate N (purged)”. The verification pages "
        "of the certificates issued before still answer.",
        day=format_day(meeting.purged_at),
    )


# A GET that asks for a job: kept a GET so that it stays a plain link. The job issues the certificates not yet
# issued (gives eligible people the ids their own download would give them) and audits the export.
@bp.get("/sessions/<slug>/certificates.<any(zip, pdf):kind>")
@organiser_required
def bulk(slug: str, kind: str):
    """All eligible delegates' certificates, as a ZIP of PDFs or one merged PDF: built by a worker; the job's page
    shows the progress, then the download."""
    meeting = managed_session_or_404(slug)
    if meeting.purged_at is not None:  # the page it returns to says why
        flash(gettext("Nothing was downloaded: this session was purged."), "warning")
        return redirect(url_for("certificates.overview", slug=slug))
    return _started(*request_job(meeting, f"certificates.{kind}", requested_by=current_user.email))


@bp.post("/sessions/<slug>/certificates/email")
@organiser_required
def email_all(slug: str):
    """Emails the certificates not yet sent; with `everyone` and its confirmation, all of them again. A worker
    sends them, over one connection to the mail server; the job's page shows how many went."""
    meeting = managed_session_or_404(slug)
    everyone = request.form.get("everyone") == "1"
    if everyone and request.form.get("confirm") != "yes":
        flash(
            gettext(
                "Nothing was sent: tick the box to confirm that every eligible delegate gets their certificate again."
            ),
            "warning",
        )
    elif meeting.purged_at is not None:
        flash(gettext("Nothing was sent: this session was purged."), "warning")
    else:
        return _started(
            *request_job(meeting, "certificates.email", requested_by=current_user.email, options={"everyone": everyone})
        )
    return redirect(url_for("certificates.overview", slug=slug))


def _started(job, new: bool):
    if new and not transaction.commit():  # the page tells whether the queue took the job
        flash(gettext("The job queue is unavailable: the job waits, and starts when a worker is back."), "warning")
    return redirect(url_for("jobs.job_page", slug=job.session.slug, job_id=job.id))


def _certificate_or_404(slug: str, registration_id: int) -> Certificate:
    meeting = managed_session_or_404(slug)
    certificate = certificate_of(in_session_or_404(Registration, registration_id, meeting))
    if certificate is None:
        abort(404)
    return certificate


MAX_REVOKE_REASON = 500


@bp.post("/sessions/<slug>/certificates/<int:registration_id>/revoke")
@organiser_required
def revoke_certificate(slug: str, registration_id: int):
    certificate = _certificate_or_404(slug, registration_id)
    reason = request.form.get("reason", "").strip()
    reason_public = request.form.get("reason_public") == "y"
    if not reason:
        flash(
            gettext(
                "Give a reason for revoking: it stays in the audit log, and on the verification page only if "
                "you tick “show on the public verification page”."
            ),
            "warning",
        )
    elif has_control_characters(reason):
        flash(gettext("Nothing was revoked: remove the control characters from the reason."), "warning")
    elif len(reason) > MAX_REVOKE_REASON:
        flash(
            gettext(
                "Nothing was revoked: the reason has %(length)d characters; use at most %(most)d.",
                length=len(reason),
                most=MAX_REVOKE_REASON,
            ),
            "warning",
        )
    else:
        revoke(certificate, reason, current_user.email, reason_public=reason_public)
        flash(gettext("Certificate %(id)s revoked.", id=certificate.public_id))
    return redirect(url_for("certificates.overview", slug=slug))


@bp.post("/sessions/<slug>/certificates/<int:registration_id>/reinstate")
@organiser_required
def reinstate_certificate(slug: str, registration_id: int):
    certificate = _certificate_or_404(slug, registration_id)
    reinstate(certificate)
    flash(gettext("Certificate %(id)s is valid again.", id=certificate.public_id))
    return redirect(url_for("certificates.overview", slug=slug))

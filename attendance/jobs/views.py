"""Organisers' jobs pages: recent jobs with their status, progress, attempts and errors; downloads when ready."""

import sqlalchemy as sa
from flask import redirect, render_template, send_file, url_for
from flask_login import current_user

from ..auth import organiser_required
from ..extensions import db
from ..lookup import in_session_or_404, managed_session_or_404
from ..models import Job, MailStatus, MeetingSession, OutboxMail, Registration
from . import bp
from .kinds import LABELS, result_path

RECENT = 50


@bp.get("/sessions/<slug>/jobs")
@organiser_required
def session_jobs(slug: str):
    meeting = managed_session_or_404(slug)
    jobs = db.session.scalars(
        sa.select(Job).where(Job.session_id == meeting.id).order_by(Job.id.desc()).limit(RECENT)
    ).all()
    mails = db.session.execute(
        sa.select(OutboxMail, Registration.full_name)
        .join(Registration)
        .where(Registration.session_id == meeting.id, OutboxMail.status != MailStatus.SENT)
        .order_by(OutboxMail.id.desc())
        .limit(RECENT)
    ).all()
    return render_template("jobs/jobs.html", meeting=meeting, jobs=jobs, mails=mails, labels=LABELS)


@bp.get("/jobs")
@organiser_required
def all_jobs():
    """The recent jobs of every session the organiser runs."""
    mine = sa.select(MeetingSession.id).where(MeetingSession.organisers.any(id=current_user.id))
    jobs = db.session.scalars(
        sa.select(Job).where(Job.session_id.in_(mine)).order_by(Job.id.desc()).limit(RECENT)
    ).all()
    return render_template("jobs/jobs.html", meeting=None, jobs=jobs, mails=[], labels=LABELS)


@bp.get("/sessions/<slug>/jobs/<int:job_id>")
@organiser_required
def job_page(slug: str, job_id: int):
    job = _job_or_404(slug, job_id)
    return render_template(
        "jobs/job.html",
        meeting=job.session,
        job=job,
        label=LABELS.get(job.kind, job.kind),
        ready=result_path(job) is not None,
    )


@bp.get("/sessions/<slug>/jobs/<int:job_id>/download")
@organiser_required
def download(slug: str, job_id: int):
    job = _job_or_404(slug, job_id)
    path = result_path(job)
    if path is None:
        return redirect(url_for("jobs.job_page", slug=slug, job_id=job_id))
    if path.suffix == ".zip":
        return send_file(path, mimetype="application/zip", as_attachment=True, download_name=job.download_name)
    # PDFs open in the browser, to print from there
    return send_file(path, mimetype="application/pdf", download_name=job.download_name)


def _job_or_404(slug: str, job_id: int) -> Job:
    meeting = managed_session_or_404(slug)
    return in_session_or_404(Job, job_id, meeting)

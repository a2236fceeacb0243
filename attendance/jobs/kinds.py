"""What each kind of job does: the bulk exports (files to download when ready) and the certificate mailing.

Asking for a job records the wish and answers at once (`request_job`); a worker runs it (`runner.run`). The same
export of the same session asked twice while the first still runs is the first: the `active_key` is unique.
"""

from __future__ import annotations

import json
import os
import secrets
from dataclasses import asdict
from datetime import timedelta
from pathlib import Path

import sqlalchemy as sa
from flask import current_app
from flask_babel import lazy_gettext as _l

from .. import audit, outbox
from ..clock import utcnow
from ..dbutil import insert_or_ignore, serialized_writes
from ..extensions import db
from ..models import Job, MailStatus, MeetingSession, Mode, OutboxMail, RegistrationStatus
from ..transaction import JOBS_TO_START
from . import runner
from .delivery import deliver


class MailsWaiting(Exception):
    """Some mails of a mailing failed and wait for their retry: the job runs again later."""


def request_job(
    meeting: MeetingSession, kind: str, *, requested_by: str, options: dict | None = None
) -> tuple[Job, bool]:
    """The job that does `kind` for the session with these options: one already queued or running, else a new one
    (in the caller's transaction, started once it commits: `transaction.commit`); and whether it is new."""
    assert kind in KINDS, kind
    options_json = json.dumps(options or {}, sort_keys=True)
    key = f"{kind}:{meeting.id}:{options_json}"[:120]
    while True:
        with serialized_writes():
            job_id = insert_or_ignore(
                Job,
                {
                    "kind": kind,
                    "session_id": meeting.id,
                    "active_key": key,
                    "requested_by": requested_by[:254],
                    "options": options_json,
                },
                ["active_key"],
            )
        if job_id is not None:
            db.session.info.setdefault(JOBS_TO_START, []).append(job_id)
            return db.session.get_one(Job, job_id), True
        existing = _active(key)  # asked before, or at the same instant by another request: that is the job
        if existing is not None:
            return existing, False
        # it finished meanwhile: ask again


def _active(key: str) -> Job | None:
    return db.session.scalar(sa.select(Job).filter_by(active_key=key))


def exports_dir() -> Path:
    path = Path(current_app.config["EXPORTS_DIR"])
    path.mkdir(parents=True, exist_ok=True)
    return path


def delete_expired_exports() -> int:
    """Deletes the files of the exports finished more than EXPORTS_KEPT_DAYS ago: they hold delegates' names. Their
    jobs stay, shown as expired. How many."""
    cutoff = utcnow() - timedelta(days=current_app.config["EXPORTS_KEPT_DAYS"])
    jobs = db.session.scalars(sa.select(Job).where(Job.result_file != "", Job.finished_at < cutoff)).all()
    for job in jobs:
        (exports_dir() / job.result_file).unlink(missing_ok=True)
        job.result_file = ""
    return len(jobs)


def result_path(job: Job) -> Path | None:
    """The job's file, if it was built and is still there."""
    if not job.result_file:
        return None
    path = exports_dir() / job.result_file
    return path if path.is_file() else None


def _write_file(job: Job, suffix: str, download_name: str, write) -> int:
    """Builds the job's file under a temporary name and renames it once complete: a file that is there is whole."""
    name = f"job-{job.id}-{secrets.token_hex(8)}.{suffix}"
    final = exports_dir() / name
    partial = final.with_suffix(final.suffix + ".partial")
    try:
        with partial.open("wb") as out:
            count = write(out)
        os.replace(partial, final)
    finally:
        partial.unlink(missing_ok=True)
    job.result_file, job.download_name = name, download_name
    return count


def _progress(job: Job):
    done = 0

    def advance(n: int) -> None:
        nonlocal done
        done += n
        runner.progress(job, done)

    return advance


def _session_of(job: Job) -> MeetingSession:
    """The job's session, which `runner.run` has found still there."""
    assert job.session is not None
    return job.session


def _certificates(job: Job, kind: str) -> None:
    from ..certificates.render import write_merged_pdf, write_zip
    from ..certificates.service import SessionPurged, issue_all

    meeting = _session_of(job)
    try:
        pairs = issue_all(meeting)
    except SessionPurged as purged:
        raise runner.JobGone(f"{purged}: its certificates would be made out to “Delegate N (purged)”") from None
    # Before rendering: a stored PDF is written on a connection of its own, which SQLite would make wait.
    db.session.commit()
    runner.progress(job, 0, len(pairs))
    if not pairs:
        job.summary = "No delegate is eligible for a certificate yet."
        return
    write = write_zip if kind == "zip" else write_merged_pdf
    count = _write_file(
        job, kind, f"{meeting.slug}-certificates.{kind}", lambda out: write(pairs, out, progress=_progress(job))
    )
    job.summary = f"{count} certificates"
    audit.record(
        "certificates.export", session_id=meeting.id, details=f"{kind}: {count} certificates", actor=job.requested_by
    )


def _badges(job: Job) -> None:
    from ..organiser.service import RegistrationFilters, registrations_query
    from ..registration.badges import write_badge_sheets

    meeting = _session_of(job)
    if meeting.purged_at is not None:
        raise runner.JobGone("the session was purged: its badges would read “Delegate N (purged)”")
    options = json.loads(job.options)
    filters = RegistrationFilters(
        q=options.get("q", ""),
        entity_type_id=options.get("entity_type_id"),
        region_id=options.get("region_id"),
        mode=Mode(options["mode"]) if options.get("mode") else None,
        status=RegistrationStatus(options.get("status") or RegistrationStatus.REGISTERED.value),
    )
    rows = db.session.scalars(registrations_query(meeting, filters)).all()
    runner.progress(job, 0, len(rows))
    if not rows:
        job.summary = "No registration matches these filters, so there are no badges to print."
        return
    count = _write_file(
        job, "pdf", f"{meeting.slug}-badges.pdf", lambda out: write_badge_sheets(rows, out, progress=_progress(job))
    )
    job.summary = f"{count} badges"
    audit.record("badges.export", session_id=meeting.id, details=f"{count} badges", actor=job.requested_by)


def badge_job_options(filters) -> dict:
    return {key: (value.value if hasattr(value, "value") else value) for key, value in asdict(filters).items() if value}


def _email_certificates(job: Job) -> None:
    """Schedules one mail per eligible delegate (once: a job run again finds them scheduled), then sends the job's
    mails over one SMTP connection."""
    from ..certificates.service import SessionPurged, issue_all

    meeting = _session_of(job)
    everyone = json.loads(job.options).get("everyone", False)
    try:
        pairs = issue_all(meeting)
    except SessionPurged as purged:
        raise runner.JobGone(str(purged)) from None
    # "Not yet sent" mails share one version: whatever mailing sent it, a person gets it once. "Everyone again"
    # is a version of its own per mailing.
    from ..certificates.mailing import Mailing

    version = f"job-{job.id}" if everyone else "first"
    mailing = Mailing(everyone, eligible=len(pairs))
    with serialized_writes():
        for certificate, _result in pairs:
            registration = certificate.registration
            if not registration.email:
                mailing.no_address += 1
            elif certificate.emailed_at is not None and not everyone and not _of_job(job, registration.id):
                mailing.already += 1
            elif outbox.schedule(registration, outbox.CERTIFICATE, version, job_id=job.id) is None:
                # scheduled before (this job's earlier run, or an earlier mailing that gave up): this job sends it
                db.session.execute(
                    sa.update(OutboxMail)
                    .where(
                        OutboxMail.registration_id == registration.id,
                        OutboxMail.purpose == outbox.CERTIFICATE,
                        OutboxMail.version == version,
                        OutboxMail.status == MailStatus.FAILED,
                    )
                    .values(job_id=job.id, status=MailStatus.PENDING, attempts=0)
                    .execution_options(synchronize_session=False)
                )
        db.session.info.pop(outbox.SCHEDULED, None)  # this job sends them itself
        db.session.commit()  # recorded before any is sent: delivery claims each mail in a transaction of its own
    counts = _mail_counts(job)
    runner.progress(job, counts.get(MailStatus.SENT, 0), sum(counts.values()))
    deliver(job_id=job.id, progress=_progress_from(job, counts.get(MailStatus.SENT, 0)))
    job = db.session.get_one(Job, job.id, populate_existing=True)
    mailing.sent = _mail_counts(job).get(MailStatus.SENT, 0)
    mailing.failed = list(
        db.session.scalars(
            sa.select(OutboxMail.registration_id)
            .where(
                OutboxMail.job_id == job.id,
                OutboxMail.status.in_([MailStatus.PENDING, MailStatus.SENDING, MailStatus.FAILED]),
            )
            .order_by(OutboxMail.id)
        )
    )
    job.summary = mailing.message()
    audit.record("certificates.email", session_id=meeting.id, details=mailing.summary(), actor=job.requested_by)
    if db.session.scalar(
        sa.select(sa.func.count()).where(
            OutboxMail.job_id == job.id, OutboxMail.status.in_([MailStatus.PENDING, MailStatus.SENDING])
        )
    ):
        db.session.commit()  # the summary and audit line of this attempt stand; the job runs again later
        raise MailsWaiting(f"{len(mailing.failed)} mails could not be sent yet; they are tried again")


def _mail_message(job: Job) -> None:
    """An organiser's message: one outbox mail per person of its group (a run again finds them there), then the
    job's mails over one connection; mails that fail wait for their retry, and the job runs again."""
    from ..mailings.service import Group
    from ..models import Message

    message = db.session.get(Message, json.loads(job.options)["message_id"])
    if message is None:
        raise runner.JobGone("the message was deleted")
    if message.session.purged_at is not None:  # its text is gone, and so are the addresses it was for
        raise runner.JobGone("the session was purged: its message was blanked")
    with serialized_writes():
        for registration in db.session.scalars(Group.from_json(message.filters).query(message.session)):
            outbox.schedule(registration, outbox.MESSAGE, str(message.id), job_id=job.id)
        db.session.info.pop(outbox.SCHEDULED, None)  # this job sends them itself
        db.session.commit()  # recorded before any is sent: delivery claims each mail in a transaction of its own
    counts = _mail_counts(job)
    runner.progress(job, counts.get(MailStatus.SENT, 0), sum(counts.values()))
    deliver(job_id=job.id, progress=_progress_from(job, counts.get(MailStatus.SENT, 0)))
    counts = _mail_counts(job)
    waiting = counts.get(MailStatus.PENDING, 0) + counts.get(MailStatus.SENDING, 0)
    job = db.session.get_one(Job, job.id, populate_existing=True)
    job.summary = (
        f"{counts.get(MailStatus.SENT, 0)} sent, {counts.get(MailStatus.GONE, 0)} no longer to send, "
        f"{waiting} waiting, {counts.get(MailStatus.FAILED, 0)} failed."
    )
    if waiting:
        db.session.commit()  # the summary of this attempt stands; the job runs again later
        raise MailsWaiting(f"{waiting} mails could not be sent yet; they are tried again")


def _of_job(job: Job, registration_id: int) -> bool:
    """Whether this job scheduled the registration's mail (a job run again counts its own mails as its own)."""
    return (
        db.session.scalar(
            sa.select(OutboxMail.id).where(OutboxMail.job_id == job.id, OutboxMail.registration_id == registration_id)
        )
        is not None
    )


def _mail_counts(job: Job) -> dict:
    return dict(
        db.session.execute(
            sa.select(OutboxMail.status, sa.func.count()).where(OutboxMail.job_id == job.id).group_by(OutboxMail.status)
        ).all()
    )


def _progress_from(job: Job, start: int):
    advance = _progress(job)
    advance(start) if start else None
    return advance


KINDS = {
    "certificates.zip": lambda job: _certificates(job, "zip"),
    "certificates.pdf": lambda job: _certificates(job, "pdf"),
    "badges.pdf": _badges,
    "certificates.email": _email_certificates,
    "messages.send": _mail_message,
}

LABELS = {
    "certificates.zip": _l("Certificates (ZIP of PDFs)"),
    "certificates.pdf": _l("Certificates (one merged PDF)"),
    "badges.pdf": _l("Badge sheets (PDF)"),
    "certificates.email": _l("Email certificates"),
    "messages.send": _l("Message to registrants"),
}

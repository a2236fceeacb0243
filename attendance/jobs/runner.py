"""Running a job: claimed by one worker, its progress written as it goes, its end recorded with a clear status.

A job's kind names a function of `kinds.KINDS` that does the work. A failure is recorded on the job (the jobs page
shows it) and raised again, so that the queue retries it with back-off; after the last attempt the job is failed.
A job whose session was deleted ends "gone", without a retry.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any, cast

import sqlalchemy as sa
from flask import current_app

from ..clock import utcnow
from ..dbutil import serialized_writes
from ..extensions import db
from ..models import Job, JobStatus

log = logging.getLogger(__name__)


class JobGone(Exception):
    """What the job was about no longer exists, or can no longer be done: it ends "gone", not retried."""


def max_attempts() -> int:
    return current_app.config["JOBS_RETRIES"] + 1


def run(job_id: int) -> None:
    from .kinds import KINDS

    if not _claim(job_id):
        return  # done, gone, deleted, or running on another worker
    job = db.session.get_one(Job, job_id, populate_existing=True)  # claimed: it is there
    try:
        if job.session is None:
            raise JobGone("its session was deleted")
        KINDS[job.kind](job)
    except JobGone as reason:
        db.session.rollback()
        _end(job_id, JobStatus.GONE, error=str(reason))
    except Exception as error:
        db.session.rollback()
        log.exception("job %s (%s) failed", job_id, job.kind)
        failed = db.session.get(Job, job_id, populate_existing=True)
        last = failed is None or failed.attempts >= max_attempts()
        if failed is not None:
            _end(
                job_id,
                JobStatus.FAILED if last else JobStatus.QUEUED,
                error=f"{type(error).__name__}: {error}",
                finished=last,
            )
        if not last:
            raise  # the queue tries again, later each time
    else:
        _end(job_id, JobStatus.DONE)


def _claim(job_id: int) -> bool:
    """Takes the job for this worker in a transaction of its own: a queued one, or one whose worker died."""
    now = utcnow()
    with serialized_writes():
        claimed = (
            cast(  # an UPDATE's result is a CursorResult, which Session.execute's type does not say
                sa.CursorResult[Any],
                db.session.execute(
                    sa.update(Job)
                    .where(Job.id == job_id, _claimable(now))
                    .values(status=JobStatus.RUNNING, started_at=now, attempts=Job.attempts + 1)
                    .execution_options(synchronize_session=False)
                ),
            ).rowcount
            == 1
        )
        db.session.commit()
    return claimed


def _claimable(now):
    lease = timedelta(seconds=current_app.config["JOB_LEASE_SECONDS"])
    return sa.or_(
        Job.status == JobStatus.QUEUED, sa.and_(Job.status == JobStatus.RUNNING, Job.started_at < now - lease)
    )


def stranded() -> list[int]:
    """Jobs waiting longer than a queue takes (the queue was down when they were asked), or whose worker died."""
    now = utcnow()
    query = sa.select(Job.id).where(
        sa.or_(
            sa.and_(Job.status == JobStatus.QUEUED, Job.created_at < now - timedelta(minutes=1)),
            sa.and_(_claimable(now), Job.status == JobStatus.RUNNING),
        ),
        Job.attempts < max_attempts(),
    )
    ids = list(db.session.scalars(query))
    db.session.commit()  # ends the read before the jobs run, each in transactions of its own
    return ids


def progress(job: Job, done: int, total: int | None = None) -> None:
    """Writes the job's progress on a connection of its own: the page shows it while the job's work goes on."""
    values = {"done": done} | ({} if total is None else {"total": total})
    with serialized_writes(), db.engine.begin() as connection:
        connection.execute(sa.update(Job).where(Job.id == job.id).values(**values))


def _end(job_id: int, status: JobStatus, *, error: str = "", finished: bool = True) -> None:
    with serialized_writes():
        values: dict[str, Any] = {"status": status, "error": error[:1000]}
        if finished:
            values |= {"active_key": None, "finished_at": utcnow()}
        db.session.execute(
            sa.update(Job).where(Job.id == job_id).values(**values).execution_options(synchronize_session=False)
        )
        db.session.commit()  # the job's end, with its work when it succeeded: the job's own boundary

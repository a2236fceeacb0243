"""One transaction per unit of work: an HTTP request, a CLI command, a job.

Services and domain functions only change state, `flush()` and write their own audit line; the boundary commits
once when the work succeeded and rolls back when it failed, so a half-done operation leaves the database as it was.
What the unit of work recorded for the queue (mails, jobs) is handed to it after the commit: a worker then finds it.
"""

from __future__ import annotations

from functools import wraps

from flask import Flask, Response, g

from .extensions import db

#: where the session keeps the ids of the jobs its transaction asked for, started after the commit
JOBS_TO_START = "jobs.to_start"


def commit() -> bool:
    """Commits the unit of work, then queues the mails and jobs it recorded; whether the queue took them all (when
    not, they wait in the database for the worker's sweep). A view whose page tells that outcome calls it itself;
    the request's own commit then finds nothing left to do."""
    db.session.commit()
    from .jobs.queue import send_scheduled, start_job

    queued = send_scheduled()
    for job_id in db.session.info.pop(JOBS_TO_START, []):
        queued = start_job(job_id) and queued
    return queued


def rollback() -> None:
    db.session.rollback()
    from .outbox import SCHEDULED

    db.session.info.pop(SCHEDULED, None)
    db.session.info.pop(JOBS_TO_START, None)


def keep_writes() -> None:
    """This request's writes stand although its answer is an error status: a refused scan is logged, and the
    door's answer says it was refused."""
    g.keep_writes = True


def unit_of_work(work):
    """Runs `work` as one transaction: committed when it returns, rolled back when it raises (a CLI command, a job)."""

    @wraps(work)
    def run(*args, **kwargs):
        try:
            result = work(*args, **kwargs)
        except BaseException:
            rollback()
            raise
        commit()
        return result

    return run


def init_app(app: Flask) -> None:
    # Registered before every other hook, so it runs after them all: the commit is the last thing before the
    # response goes, and a commit that fails becomes an error page instead of a success for lost data.
    @app.after_request
    def end_request(response: Response) -> Response:
        if response.status_code >= 400 and not g.get("keep_writes"):
            rollback()  # a form shown again with its errors, a refusal: nothing half-done stays
        else:
            commit()
        return response

"""The job queue: Huey, with SQLite storage in instance/ by default and Redis when JOBS_URL names one.

Tasks carry only ids; what they work on is read from the database when they run, so a task run twice, late or
after its data was deleted finds the truth there. The database, not the queue, holds what must not be lost (the
outbox, the jobs table): a queue that is down or emptied only delays work, which the periodic sweep picks up.
"""

from __future__ import annotations

import logging
from pathlib import Path

from flask import Flask, current_app, has_request_context
from huey import Huey, MemoryHuey, RedisHuey, SqliteHuey, crontab

from ..extensions import db
from ..transaction import unit_of_work

log = logging.getLogger(__name__)


def make_huey(app: Flask) -> Huey:
    config = app.config
    url = config["JOBS_URL"]
    options = {"name": config["JOBS_NAME"], "immediate": config["JOBS_IMMEDIATE"], "results": False}
    if url.startswith(("redis://", "rediss://", "unix://")):
        return RedisHuey(url=url, **options)
    if url == "memory://":
        return MemoryHuey(**options)
    path = url.removeprefix("sqlite:///") if url else str(Path(app.instance_path) / "jobs.sqlite3")
    return SqliteHuey(filename=path, **options)


def init_app(app: Flask) -> None:
    huey = make_huey(app)
    app.extensions["huey"] = huey
    app.extensions["jobs.tasks"] = _register_tasks(huey, app)


def _register_tasks(huey: Huey, app: Flask) -> dict:
    def in_app(work):
        """Runs `work` as one unit of work in the app's context (and a request context, for links, when none is
        active), with a fresh database session that is closed after."""
        work = unit_of_work(work)

        def run(*args, **kwargs):
            if has_request_context():  # immediate mode, after the commit of the request that queued it
                return work(*args, **kwargs)
            with app.app_context(), app.test_request_context():
                try:
                    return work(*args, **kwargs)
                finally:
                    db.session.remove()

        run.__name__ = work.__name__
        return run

    from . import delivery, kinds, runner

    @huey.task(
        retries=app.config["JOBS_RETRIES"],
        retry_delay=app.config["JOBS_RETRY_DELAY"],
        retry_backoff=2,
        name="deliver_mail",
    )
    @in_app
    def deliver_mail(mail_ids: list[int]) -> None:
        delivery.deliver(mail_ids)

    @huey.task(
        retries=app.config["JOBS_RETRIES"], retry_delay=app.config["JOBS_RETRY_DELAY"], retry_backoff=2, name="run_job"
    )
    @in_app
    def run_job(job_id: int) -> None:
        runner.run(job_id)

    @huey.periodic_task(crontab(minute="*"), name="sweep")
    @in_app
    def sweep() -> None:
        """Every minute: mails whose retry is due or that waited for the queue, jobs a dead worker left, and export
        files past their time."""
        delivery.deliver()
        for job_id in runner.stranded():
            run_job(job_id)
        kinds.delete_expired_exports()

    @huey.periodic_task(
        crontab(minute="*/10"),
        retries=app.config["JOBS_RETRIES"],
        retry_delay=app.config["JOBS_RETRY_DELAY"],
        name="send_reminders",
    )
    @in_app
    def send_reminders() -> None:
        """Every ten minutes: the reminders of the sessions due (each person's once; see mailings/reminders)."""
        from ..mailings import reminders

        reminders.send_reminders()

    return {"deliver_mail": deliver_mail, "run_job": run_job, "sweep": sweep, "send_reminders": send_reminders}


def _enqueue(task: str, *args) -> bool:
    """Whether the queue took the task. Called after the commit that recorded the work, so a refusal loses nothing:
    the sweep does it later."""
    try:
        current_app.extensions["jobs.tasks"][task](*args)
    except Exception as error:  # e.g. redis.ConnectionError: the work waits in the database
        if current_app.testing and current_app.config["JOBS_IMMEDIATE"]:
            raise
        log.warning("the job queue did not take %s%s: %s; it waits for the next sweep", task, args, error)
        return False
    return True


def send_scheduled() -> bool:
    """Queues the mails this session's transactions scheduled (after their commit); whether the queue took them.
    When it did not, they wait in the outbox and say so."""
    from .. import outbox

    mail_ids = db.session.info.pop(outbox.SCHEDULED, [])
    if not mail_ids:
        return True
    if _enqueue("deliver_mail", mail_ids):
        return True
    db.session.rollback()
    outbox.note_not_queued(mail_ids, "the job queue was unavailable; the mail waits for the next sweep")
    db.session.commit()  # a second transaction: the mails were committed before the queue was asked
    return False


def start_job(job_id: int) -> bool:
    return _enqueue("run_job", job_id)

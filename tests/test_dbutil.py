"""The database helpers the door's hot path uses: Core statements built once, and SQLite's queue of writers."""

import itertools
import multiprocessing
import os
import threading
import time
from datetime import UTC, date, datetime

import pytest
import sqlalchemy as sa
from helpers import csrf_token, registration_form

from attendance.dbutil import CoreStatement, WriterLockTimeout, _SqliteWriter, serialized_writes
from attendance.extensions import db
from attendance.models import MeetingSeries, Registration, ScanEvent, ScanResult, Source

_events = ScanEvent.__table__
_COLUMNS = (
    "session_id",
    "day",
    "at",
    "result",
    "token_excerpt",
    "actor",
    "recorded_by",
    "door",
    "source",
    "nonce",
    "response",
    "note",
)
_NEW_EVENT = CoreStatement(
    sa.insert(_events).values({name: sa.bindparam(name) for name in _COLUMNS}).returning(_events.c.id)
)
_EVENT = CoreStatement(
    sa.select(_events.c.id, _events.c.day, _events.c.at, _events.c.result, _events.c.source, _events.c.nonce).where(
        _events.c.actor == sa.bindparam("actor")
    )
)


def _new_event(meeting, nonce: str) -> dict:
    return dict(
        session_id=meeting.id,
        day=date(2026, 3, 9),
        at=datetime(2026, 3, 9, 8, 1, 2, 345678, tzinfo=UTC),
        result=ScanResult.ALREADY_CHECKED_IN,
        token_excerpt="",
        actor="token:7",
        recorded_by="Door phone",
        door="Hall B",
        source=Source.NAME_SEARCH,
        nonce=nonce,
        response="{}",
        note="",
    )


def test_a_core_statement_stores_and_reads_the_values_the_orm_does(make_session):
    meeting = make_session()
    values = _new_event(meeting, "n-1")
    (created,) = _NEW_EVENT.rows(db.session.connection(), **values)
    db.session.commit()

    stored = db.session.get(ScanEvent, created.id)
    assert {name: getattr(stored, name) for name in _COLUMNS} == values
    (read,) = _EVENT.rows(db.session.connection(), actor="token:7")
    assert read == (
        created.id,
        date(2026, 3, 9),
        datetime(2026, 3, 9, 8, 1, 2, 345678, tzinfo=UTC),
        ScanResult.ALREADY_CHECKED_IN,
        Source.NAME_SEARCH,
        "n-1",
    )
    assert read.result is ScanResult.ALREADY_CHECKED_IN and read.day == date(2026, 3, 9)


def test_a_failing_core_statement_raises_sqlalchemys_error_and_the_rollback_keeps_nothing(make_session):
    meeting = make_session()
    _NEW_EVENT.rows(db.session.connection(), **_new_event(meeting, "n-1"))
    db.session.commit()

    _NEW_EVENT.rows(db.session.connection(), **_new_event(meeting, "n-2"))
    with pytest.raises(sa.exc.IntegrityError):  # (actor, nonce) is unique
        _NEW_EVENT.rows(db.session.connection(), **_new_event(meeting, "n-1"))
    db.session.rollback()

    assert db.session.scalars(sa.select(ScanEvent.nonce)).all() == ["n-1"]


def test_a_core_statement_applies_the_column_defaults_an_insert_leaves_out(make_session):
    meeting = make_session()
    partial = CoreStatement(
        sa.insert(_events)
        .values(
            session_id=sa.bindparam("session_id"),
            day=sa.bindparam("day"),
            result=sa.bindparam("result"),
            actor=sa.bindparam("actor"),
            source=sa.bindparam("source"),
        )
        .returning(_events.c.id)
    )
    (created,) = partial.rows(
        db.session.connection(),
        session_id=meeting.id,
        day=date(2026, 3, 9),
        result=ScanResult.OK,
        actor="token:7",
        source=Source.SCAN,
    )
    stored = db.session.get(ScanEvent, created.id)
    assert stored.at is not None and (stored.door, stored.note, stored.response) == ("", "", "")


def test_a_core_statement_writes_only_the_columns_it_names_whatever_else_it_is_given(make_session):
    """An UPDATE given a parameter named like a column would write it too: the statement passes on only its own."""
    values = _new_event(make_session(), "n-1")
    _NEW_EVENT.rows(db.session.connection(), **values)
    rename_door = CoreStatement(
        sa.update(_events).where(_events.c.nonce == sa.bindparam("event_nonce")).values(door=sa.bindparam("door"))
    )
    rename_door.rows(db.session.connection(), event_nonce="n-1", door="Hall C", note="not to be written", actor="x")
    stored = db.session.scalars(sa.select(ScanEvent)).one()
    assert (stored.door, stored.note, stored.actor) == ("Hall C", "", "token:7")


def test_core_statements_are_seen_by_cursor_events(make_session, count_queries):
    values = _new_event(make_session(), "n-1")
    with count_queries() as counted:
        _NEW_EVENT.rows(db.session.connection(), **values)
        _EVENT.rows(db.session.connection(), actor="token:7")
    assert counted() == 2
    assert counted.statements[0].startswith("INSERT INTO scan_events")


def _hold_the_writer_lock(app, log: str, inside) -> None:
    with app.app_context(), serialized_writes():
        _append(log, "other process in")
        inside.set()  # the parent now tries to write, and must wait until this process is done
        time.sleep(0.5)
        _append(log, "other process out")


def _append(path: str, line: str) -> None:
    with open(path, "a") as log:
        log.write(line + "\n")


def test_sqlite_writers_of_two_processes_take_turns(app, app_ctx, tmp_path):
    """Two gunicorn workers writing to one SQLite file queue on one lock: no 'database is locked' waits."""
    if db.engine.dialect.name != "sqlite":
        pytest.skip("PostgreSQL locks rows; its writers need no queue")
    log = str(tmp_path / "order.log")
    context = multiprocessing.get_context("fork")
    inside = context.Event()
    other = context.Process(target=_hold_the_writer_lock, args=(app, log, inside))
    other.start()
    assert inside.wait(30)
    with serialized_writes():
        _append(log, "this process in")
    other.join(30)
    assert other.exitcode == 0
    with open(log) as written:
        assert written.read().splitlines() == ["other process in", "other process out", "this process in"]
    assert os.path.exists(db.engine.url.database + ".writer-lock")


def _sqlite_only() -> None:
    if db.engine.dialect.name != "sqlite":
        pytest.skip("PostgreSQL locks rows; its writers need no queue")


_names = itertools.count(1)


def _write_a_series(name: str = "") -> None:
    """A write through the session, left for the unit of work to commit, as a service does."""
    db.session.add(MeetingSeries(name=name or f"Series {next(_names)}"))
    db.session.flush()


def _write_in_another_thread(app, *, commit: bool = True) -> Exception | None:
    """A writer of its own (thread, app context, session): the error it met, or None when it wrote."""
    outcome: list = []

    def write():
        with app.app_context():
            try:
                with serialized_writes():
                    _write_a_series()
                if commit:
                    db.session.commit()
                outcome.append(None)
            except Exception as error:
                outcome.append(error)
            # the app context's end removes the session: without a commit, its write is rolled back

    thread = threading.Thread(target=write)
    thread.start()
    thread.join(60)
    return outcome[0]


def test_a_second_writer_waits_for_the_first_ones_commit_not_for_the_end_of_its_block(app, app_ctx):
    """The unit of work commits after the block that wrote: SQLite's write lock lasts until then, so must ours."""
    _sqlite_only()
    order: list[str] = []
    trying = threading.Event()

    def second_writer():
        with app.app_context():
            trying.set()
            with serialized_writes():
                order.append("second writer in")
                _write_a_series("Second")
            db.session.commit()

    with serialized_writes():
        _write_a_series("First")
    order.append("first block ended")
    second = threading.Thread(target=second_writer)
    second.start()
    assert trying.wait(30)
    second.join(0.3)  # its chance to get in too early
    order.append("first writer commits")
    db.session.commit()
    second.join(30)

    assert order == ["first block ended", "first writer commits", "second writer in"]
    assert sorted(db.session.scalars(sa.select(MeetingSeries.name))) == ["First", "Second"]


def test_a_writer_that_never_ends_its_transaction_makes_others_fail_clearly_instead_of_hanging(
    app, app_ctx, monkeypatch
):
    _sqlite_only()
    monkeypatch.setattr(_SqliteWriter, "WAIT_SECONDS", 1.0)
    with serialized_writes():
        _write_a_series()

    error = _write_in_another_thread(app)
    assert isinstance(error, WriterLockTimeout) and "never committed or rolled back" in str(error)

    db.session.rollback()  # lets the lock go: the other writer now gets in at once
    assert _write_in_another_thread(app) is None
    assert db.session.scalar(sa.select(sa.func.count(MeetingSeries.id))) == 1


def test_the_writer_lock_is_let_go_after_a_failed_flush_and_its_rollback(app, app_ctx, monkeypatch):
    _sqlite_only()
    monkeypatch.setattr(_SqliteWriter, "WAIT_SECONDS", 1.0)
    _write_a_series("Taken")
    db.session.commit()
    with pytest.raises(sa.exc.IntegrityError), serialized_writes():
        _write_a_series("Taken")
    assert isinstance(_write_in_another_thread(app), WriterLockTimeout)  # held until the rollback
    db.session.rollback()
    assert _write_in_another_thread(app) is None


def test_a_unit_of_work_whose_app_context_ends_without_a_commit_lets_the_lock_go(app, app_ctx, monkeypatch):
    """A request ending in teardown, a CLI command or a job that stops: the session's removal rolls back."""
    _sqlite_only()
    monkeypatch.setattr(_SqliteWriter, "WAIT_SECONDS", 1.0)
    assert _write_in_another_thread(app, commit=False) is None
    assert _write_in_another_thread(app) is None
    assert db.session.scalar(sa.select(sa.func.count(MeetingSeries.id))) == 1


def test_a_request_that_raises_after_writing_lets_the_lock_go(app, client, make_session, monkeypatch):
    _sqlite_only()
    meeting = make_session()
    from attendance.registration import views

    real = views.register

    def register_and_fail(*args, **kwargs):
        real(*args, **kwargs)  # writes, under the writer lock
        raise RuntimeError("the view failed after the service's work")

    monkeypatch.setattr(views, "register", register_and_fail)
    monkeypatch.setitem(app.config, "PROPAGATE_EXCEPTIONS", False)  # as on a server: a 500 page
    monkeypatch.setattr(_SqliteWriter, "WAIT_SECONDS", 1.0)
    url = f"/sessions/{meeting.slug}/register"
    response = client.post(url, data=registration_form(meeting, csrf_token=csrf_token(client, url)))

    assert response.status_code == 500
    assert _write_in_another_thread(app) is None
    assert db.session.scalar(sa.select(sa.func.count(Registration.id))) == 0

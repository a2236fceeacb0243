"""The database helpers the door's hot path uses: Core statements built once, and SQLite's queue of writers."""

import multiprocessing
import os
import time
from datetime import date, datetime

import pytest
import sqlalchemy as sa

from attendance.dbutil import CoreStatement, serialized_writes
from attendance.extensions import db
from attendance.models import ScanEvent, ScanResult, Source

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
        at=datetime(2026, 3, 9, 8, 1, 2, 345678),
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
        datetime(2026, 3, 9, 8, 1, 2, 345678),
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

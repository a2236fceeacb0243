"""Database helpers that differ by engine; written once here."""

import fcntl
import os
import threading
import time
from collections.abc import Callable, Sequence
from contextlib import contextmanager, nullcontext
from functools import cache, wraps
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from .extensions import db


def insert_or_ignore(model, values: dict, conflict_columns: list[str]) -> int | None:
    """INSERT ... ON CONFLICT DO NOTHING: the new row's id, or None when a row with those columns exists.

    Neither engine raises on the conflict, so the caller's transaction goes on: the way to be race-free
    without locks when many requests create the same row at once.
    """
    statement = _insert_or_ignore(model.__table__, tuple(conflict_columns), db.engine.dialect.name)
    return db.session.execute(statement, values).scalar()


def insert_or_ignore_statement(table: sa.Table, conflict_columns: tuple[str, ...], dialect_name: str) -> sa.Insert:
    """The statement `insert_or_ignore` runs, for a CoreStatement; its values are the row's parameters."""
    return _insert_or_ignore(table, conflict_columns, dialect_name)


def upsert(table: sa.Table, conflict_columns: list[str], update_columns: list[str]) -> sa.Insert:
    """INSERT ... ON CONFLICT DO UPDATE of `update_columns`: execute it with the row's values."""
    return _upsert(table, tuple(conflict_columns), tuple(update_columns), db.engine.dialect.name)


# Built once per table: the values go in as parameters, so SQLAlchemy reuses the compiled statements.


@cache
def _insert_or_ignore(table: sa.Table, conflict_columns: tuple[str, ...], dialect_name: str) -> sa.Insert:
    return (
        _insert(table, dialect_name).on_conflict_do_nothing(index_elements=list(conflict_columns)).returning(table.c.id)
    )


@cache
def _upsert(
    table: sa.Table, conflict_columns: tuple[str, ...], update_columns: tuple[str, ...], dialect_name: str
) -> sa.Insert:
    insert = _insert(table, dialect_name)
    return insert.on_conflict_do_update(
        index_elements=list(conflict_columns), set_={name: insert.excluded[name] for name in update_columns}
    )


def _insert(table: sa.Table, dialect_name: str):
    return (postgresql if dialect_name == "postgresql" else sqlite).insert(table)


class CoreStatement:
    """A Core statement built once, for the door's hot path: its rows, run in the caller's connection.

    Built once, it is compiled once per dialect: every later run finds it in the engine's compiled cache, and its
    values pass through the columns' types (enums, SQLite's dates) as for any statement. A statement that
    differs by engine is given as a function of the dialect's name, called once per dialect. It is given only
    the parameters it names: an INSERT or UPDATE would take any other that matches a column as a value to write.
    """

    def __init__(self, statement: sa.Executable | Callable[[str], sa.Executable]):
        self._statement = statement
        self._by_dialect: dict[str, tuple[sa.Executable, frozenset[str]]] = {}

    def rows(self, connection: sa.Connection, **params: Any) -> Sequence[sa.Row[Any]]:
        """The statement's result rows (none for a statement that returns none), run in the transaction of
        `connection` (the session's: `db.session.connection()`, fetched once per request)."""
        dialect = connection.dialect
        if dialect.name not in self._by_dialect:
            built = self._statement(dialect.name) if callable(self._statement) else self._statement
            assert isinstance(built, sa.ClauseElement)
            self._by_dialect[dialect.name] = (built, frozenset(built.compile(dialect=dialect).params))
        statement, names = self._by_dialect[dialect.name]
        result = connection.execute(statement, {name: params[name] for name in names if name in params})
        return result.all() if result.returns_rows else ()


def autocommit(view):
    """For a view whose every write is a single statement, on PostgreSQL: each statement commits on its own.

    That spares the round trips of BEGIN and COMMIT, which the door waits for: a check-in's two reads and its
    one write take three instead of five. It must act before the request's first query (SQLAlchemy then sets
    psycopg's `autocommit`, with no round trip, and resets it when the connection goes back to the pool); a
    request already in a transaction stays in it. SQLite's reads take no transaction anyway, and pysqlite
    begins one before a write, so there it changes nothing.
    """

    @wraps(view)
    def wrapped(*args, **kwargs):
        if db.engine.dialect.name != "postgresql" or db.session().in_transaction():
            return view(*args, **kwargs)
        db.session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})
        try:
            return view(*args, **kwargs)
        finally:
            # Nothing is left to roll back; this hands the connection back to the pool, which resets its
            # autocommit, before anything else in this app context (a test, a script) uses the session.
            db.session.rollback()

    return wrapped


class WriterLockTimeout(RuntimeError):
    """Another writer held the SQLite database longer than a writer waits: a transaction left open somewhere."""


class _SqliteWriter:
    """One writing transaction at a time on a SQLite file, across the threads and processes that write to it.

    SQLite lets one connection write at a time; the others wait in its busy handler, which sleeps 1, 2, 5, 10,
    15, 20, 25... ms between tries, so a writer could sleep long after the lock was free again, and two
    gunicorn workers took turns badly. Here the threads of a process queue on a lock, and each process's next
    writer on an exclusive `flock` of a file beside the database.

    SQLite's own write lock lasts until the transaction ends, and the unit of work commits after the block that
    wrote (transaction.py): so the lock is kept past the block while the session's connection has a write open,
    and let go when that session's transaction ends (commit, rollback, or the close at the app context's end),
    from the `after_transaction_end` event. A writer waits at most `WAIT_SECONDS`, SQLite's busy timeout, then
    gets WriterLockTimeout rather than hanging behind a transaction that is never ended.
    """

    WAIT_SECONDS = 10.0
    POLL_SECONDS = 0.0005  # flock has no timeout: another process's release is seen within this

    def __init__(self) -> None:
        self._threads = threading.Lock()
        self._files: dict[tuple[int, str], int] = {}  # (pid, database): the lock file, opened once per process
        self._held = threading.local()  # this thread's: fd while it holds the lock, depth, sessions kept for
        sa.event.listen(sa.orm.Session, "after_transaction_end", self._transaction_ended)

    @contextmanager
    def __call__(self, database: str):
        held = self._held
        # Re-entrant: a unit of work that writes and then calls a rule that writes (a walk-in's registration,
        # then its check-in) holds the lock throughout, instead of waiting for itself.
        if getattr(held, "fd", None) is None:
            held.fd, held.depth, held.sessions = self._acquire(database), 0, set()
        held.depth += 1
        try:
            yield
        finally:
            held.depth -= 1
            if held.depth == 0:
                session = db.session()
                try:
                    if _writing(session):
                        held.sessions.add(session)
                finally:
                    self._release_when_done()

    def _acquire(self, database: str) -> int:
        deadline = time.monotonic() + self.WAIT_SECONDS
        if not self._threads.acquire(timeout=self.WAIT_SECONDS):
            raise self._timeout(database)
        try:
            key = (os.getpid(), database)
            if key not in self._files:
                self._files[key] = os.open(f"{database}.writer-lock", os.O_RDWR | os.O_CREAT, 0o600)
            fd = self._files[key]
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    return fd
                except BlockingIOError:
                    if time.monotonic() >= deadline:
                        raise self._timeout(database) from None
                    time.sleep(self.POLL_SECONDS)
        except BaseException:
            self._threads.release()
            raise

    def _timeout(self, database: str) -> WriterLockTimeout:
        return WriterLockTimeout(
            f"Another writer kept the database {database} for {self.WAIT_SECONDS:.0f} s: "
            "a transaction that is never committed or rolled back?"
        )

    def _transaction_ended(self, session, transaction) -> None:
        sessions = getattr(self._held, "sessions", None)
        if sessions and transaction.parent is None and session in sessions:
            sessions.discard(session)
            self._release_when_done()

    def _release_when_done(self) -> None:
        held = self._held
        if held.fd is not None and held.depth == 0 and not held.sessions:
            fd, held.fd = held.fd, None
            fcntl.flock(fd, fcntl.LOCK_UN)
            self._threads.release()


def _writing(session) -> bool:
    """Whether the session's SQLite connection has begun a write (pysqlite begins one before the first change)."""
    transaction = session.get_transaction()
    if transaction is None:
        return False
    if not transaction.is_active:  # a flush failed: the rollback that ends the write is still to come
        return True
    return session.connection().connection.dbapi_connection.in_transaction


_sqlite_writer = _SqliteWriter()


def serialized_writes():
    """A context for a short writing transaction: on SQLite, one at a time (see _SqliteWriter).

    PostgreSQL locks rows, not the database: there the context does nothing.
    """
    database = db.engine.url.database if db.engine.dialect.name == "sqlite" else None
    if not database or database == ":memory:":
        return nullcontext()
    return _sqlite_writer(database)

"""Database helpers that differ by engine; written once here."""
import threading
from contextlib import nullcontext
from functools import cache

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


def upsert(table: sa.Table, conflict_columns: list[str], update_columns: list[str]) -> sa.Insert:
    """INSERT ... ON CONFLICT DO UPDATE of `update_columns`: execute it with the row's values."""
    return _upsert(table, tuple(conflict_columns), tuple(update_columns), db.engine.dialect.name)


# Built once per table: the values go in as parameters, so SQLAlchemy reuses the compiled statements.

@cache
def _insert_or_ignore(table: sa.Table, conflict_columns: tuple[str, ...], dialect_name: str) -> sa.Insert:
    return (_insert(table, dialect_name).on_conflict_do_nothing(index_elements=list(conflict_columns))
            .returning(table.c.id))


@cache
def _upsert(table: sa.Table, conflict_columns: tuple[str, ...], update_columns: tuple[str, ...],
            dialect_name: str) -> sa.Insert:
    insert = _insert(table, dialect_name)
    return insert.on_conflict_do_update(index_elements=list(conflict_columns),
                                        set_={name: insert.excluded[name] for name in update_columns})


def _insert(table: sa.Table, dialect_name: str):
    return (postgresql if dialect_name == "postgresql" else sqlite).insert(table)


_sqlite_writer = threading.Lock()


def serialized_writes():
    """A context for a short writing transaction: on SQLite, one at a time per process.

    SQLite lets one connection write at a time; the others wait in its busy handler, which sleeps 1, 2, 5, 10,
    15, 20, 25... ms between tries, so a thread could sleep long after the lock was free again. Threads of one
    process queue on this lock instead and are woken the moment it is. PostgreSQL locks rows, not the database.
    """
    return _sqlite_writer if db.engine.dialect.name == "sqlite" else nullcontext()

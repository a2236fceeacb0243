"""Database helpers that differ by engine; written once here."""
from sqlalchemy.dialects import postgresql, sqlite

from .extensions import db


def insert_or_ignore(model, values: dict, conflict_columns: list[str]) -> int | None:
    """INSERT ... ON CONFLICT DO NOTHING: the new row's id, or None when a row with those columns exists.

    Neither engine raises on the conflict, so the caller's transaction goes on: the way to be race-free
    without locks when many requests create the same row at once.
    """
    dialect = postgresql if db.engine.dialect.name == "postgresql" else sqlite
    statement = (dialect.insert(model).values(**values)
                 .on_conflict_do_nothing(index_elements=conflict_columns).returning(model.id))
    return db.session.execute(statement).scalar()

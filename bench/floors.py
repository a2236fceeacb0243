"""The two floors the check-in API is measured against, served by gunicorn with the app's own settings.

- `framework_app()`: a bare Flask app. POST /checkins parses the scanner's JSON body and answers a small JSON:
  what any Flask endpoint behind this gunicorn costs, with no database, no middleware and no rate limiter.
- `storage_app()`: a minimal Flask app that, per POST /checkins, looks the badge up in `registrations` by its
  unique `badge_token` and inserts one row with INSERT ... ON CONFLICT DO NOTHING (insert-or-ignore, keyed by
  registration and day) in one transaction: the least any durable check-in must do. It uses DATABASE_URL through
  the app's own URL rules, and on SQLite the app's own connection set-up (WAL, synchronous=NORMAL, busy
  timeout), so it runs on the same engine with the same durability: on PostgreSQL, whatever the server is set to
  (the bench never changes `synchronous_commit`). Its rows go to a table of its own, `bench_floor_checkins`.

Both answer GET /healthz, so that bench/server.py knows when they are up. Run by bench/run.py, as
`gunicorn --pythonpath bench 'floors:storage_app()'`.
"""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path

import sqlalchemy as sa
from flask import Flask, jsonify, request
from sqlalchemy.dialects import postgresql, sqlite


def framework_app() -> Flask:
    app = Flask(__name__)

    @app.get("/healthz")
    def healthz():
        return jsonify(status="ok")

    @app.post("/checkins")
    def checkin():
        body = request.get_json()
        return jsonify(status="ok", token=body["token"][:8]), 201

    return app


def storage_app() -> Flask:
    from attendance import _sqlite_connection_setup
    from attendance.config import load_config

    url = load_config(Path(os.environ.get("BENCH_INSTANCE", "/tmp")))["SQLALCHEMY_DATABASE_URI"]
    engine = sa.create_engine(url)
    if engine.dialect.name == "sqlite":
        sa.event.listen(engine, "connect", _sqlite_connection_setup)
    meta = sa.MetaData()
    registrations = sa.Table(
        "registrations", meta, sa.Column("id", sa.Integer, primary_key=True), sa.Column("badge_token", sa.String)
    )
    checkins = sa.Table(
        "bench_floor_checkins",
        meta,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("registration_id", sa.Integer, nullable=False),
        sa.Column("day", sa.Date, nullable=False),
        sa.UniqueConstraint("registration_id", "day"),
    )
    try:
        checkins.create(engine, checkfirst=True)
    except sa.exc.DatabaseError:  # the other gunicorn worker, starting at the same moment, created it first
        if not sa.inspect(engine).has_table(checkins.name):
            raise
    dialect = postgresql if engine.dialect.name == "postgresql" else sqlite
    find = sa.select(registrations.c.id).where(registrations.c.badge_token == sa.bindparam("token"))
    insert = (
        dialect.insert(checkins)
        .on_conflict_do_nothing(index_elements=["registration_id", "day"])
        .returning(checkins.c.id)
    )

    app = Flask(__name__)

    @app.get("/healthz")
    def healthz():
        return jsonify(status="ok")

    @app.post("/checkins")
    def checkin():
        body = request.get_json()
        with engine.begin() as connection:
            registration_id = connection.scalar(find, {"token": body["token"]})
            if registration_id is None:
                return jsonify(status="invalid"), 404
            new = connection.scalar(insert, {"registration_id": registration_id, "day": date.today()})
        return (jsonify(status="ok"), 201) if new is not None else (jsonify(status="already_checked_in"), 200)

    return app

"""The app starts, its schema matches its migrations, and its configuration guards production."""

import subprocess
import sys

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from attendance.extensions import db


def test_healthz_answers_ok_once_the_database_answers(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok"}


def test_the_site_has_an_icon_where_browsers_look_for_it(client):
    icon = client.get("/favicon.ico")  # browsers ask for it on their own; a 404 shows in every page's console
    assert icon.status_code == 200 and icon.mimetype == "image/svg+xml" and b"<svg" in icon.data
    assert 'rel="icon" href="/static/favicon.svg"' in client.get("/").get_data(as_text=True)
    assert client.get("/static/favicon.svg").status_code == 200


def test_migrations_and_models_agree(app_ctx):
    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        diff = compare_metadata(context, db.metadata)
    assert diff == []


def test_sqlite_runs_with_foreign_keys_wal_and_busy_timeout(app_ctx):
    if db.engine.dialect.name != "sqlite":
        pytest.skip("SQLite pragmas only")
    with db.engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() >= 5000


def test_production_refuses_to_start_without_a_secret_key(tmp_path):
    env = {"ATTENDANCE_ENV": "production", "PATH": "/usr/bin:/bin", "DATABASE_URL": f"sqlite:///{tmp_path}/x.db"}
    result = subprocess.run(
        [sys.executable, "-c", "from attendance import create_app; create_app()"],
        env=env,
        capture_output=True,
        text=True,
    )
    assert result.returncode != 0
    assert "SECRET_KEY is not set" in result.stderr


def test_production_refuses_a_secret_key_shorter_than_32_bytes(tmp_path):
    env = {"ATTENDANCE_ENV": "production", "PATH": "/usr/bin:/bin", "DATABASE_URL": f"sqlite:///{tmp_path}/x.db"}
    start = [sys.executable, "-c", "from attendance import create_app; create_app()"]
    short = subprocess.run(start, env={**env, "SECRET_KEY": "é" * 15 + "x"}, capture_output=True, text=True)
    assert short.returncode != 0
    assert "SECRET_KEY is too short (31 bytes)" in short.stderr and "at least 32 bytes" in short.stderr
    enough = subprocess.run(start, env={**env, "SECRET_KEY": "é" * 16}, capture_output=True, text=True)
    assert enough.returncode == 0, enough.stderr


def test_every_enum_value_is_allowed_by_the_migrated_databases_check_constraints(app_ctx):
    """Autogenerate does not notice a value added to an enum; this does."""
    import sqlalchemy as sa

    with db.engine.connect() as connection:
        if db.engine.dialect.name == "sqlite":
            ddl = " ".join(connection.exec_driver_sql("SELECT sql FROM sqlite_master WHERE type = 'table'").scalars())
        else:
            ddl = " ".join(
                connection.exec_driver_sql(
                    "SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE contype = 'c'"
                ).scalars()
            )
    for table in db.metadata.sorted_tables:
        for column in table.columns:
            if isinstance(column.type, sa.Enum):
                for value in column.type.enums:
                    assert f"'{value}'" in ddl, f"{table.name}.{column.name} does not allow '{value}'"

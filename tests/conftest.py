"""Fixtures: one app and schema per run (SQLite, or TEST_DATABASE_URL), emptied after every test."""

import os
import tempfile
import threading
from contextlib import contextmanager
from datetime import date, datetime, time, timedelta

import pytest
import sqlalchemy as sa
from flask import has_app_context
from flask.testing import FlaskClient, FlaskCliRunner
from werkzeug.serving import make_server

os.environ.setdefault("SECRET_KEY", "test-secret-key")

from helpers import PASSWORD, csrf_token  # noqa: E402

from attendance import create_app  # noqa: E402
from attendance.auth import ensure_staff  # noqa: E402
from attendance.clock import utcnow  # noqa: E402
from attendance.extensions import db  # noqa: E402
from attendance.models import (
    EntityType,
    MeetingSeries,
    MeetingSession,
    Mode,
    Region,
    Registration,  # noqa: E402
    SessionDay,
    StaffRole,
    StaffUser,
)


class UnitOfWorkClient(FlaskClient):
    """Each request is a unit of work of its own, as on a server: what the test wrote before it is committed first
    (a request reuses the test's app context, so its session; an error answer would roll the test's rows back)."""

    def open(self, *args, **kwargs):
        if has_app_context():
            db.session.commit()
        return super().open(*args, **kwargs)


class UnitOfWorkCliRunner(FlaskCliRunner):
    """The same for a command."""

    def invoke(self, *args, **kwargs):
        if has_app_context():
            db.session.commit()
        return super().invoke(*args, **kwargs)


def _database_url(tmp_path_factory) -> str:
    url = os.environ.get("TEST_DATABASE_URL", "")
    if url.startswith(("postgres://", "postgresql://")):
        url = "postgresql+psycopg://" + url.split("://", 1)[1]
    return url or f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.sqlite3'}"


@pytest.fixture(scope="session")
def app(tmp_path_factory):
    app = create_app(
        {
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": _database_url(tmp_path_factory),
            "OUTBOX_DIR": str(tmp_path_factory.mktemp("outbox")),
            "RATELIMIT_ENABLED": False,
            "SMTP_HOST": "",
            "JOBS_IMMEDIATE": True,
            "EXPORTS_DIR": str(tmp_path_factory.mktemp("exports")),
        }
    )
    app.test_client_class, app.test_cli_runner_class = UnitOfWorkClient, UnitOfWorkCliRunner
    with app.app_context():
        from flask_migrate import upgrade

        _drop_everything()
        upgrade()
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def _drop_everything() -> None:
    meta = sa.MetaData()
    meta.reflect(bind=db.engine)
    meta.drop_all(bind=db.engine)


@pytest.fixture(autouse=True)
def _clean_database(app):
    yield
    with app.app_context():
        db.session.remove()
        with db.engine.begin() as connection:
            for table in reversed(db.metadata.sorted_tables):
                connection.execute(table.delete())
    for eml in os.listdir(app.config["OUTBOX_DIR"]):
        os.remove(os.path.join(app.config["OUTBOX_DIR"], eml))


@pytest.fixture(scope="session")
def live_server(app):
    """The app served by a threaded server on a loopback port, for browsers and concurrent clients."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


@pytest.fixture
def app_ctx(app):
    with app.app_context():
        yield
        db.session.remove()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def make_session(app_ctx):
    """Returns a factory of sessions open for registration, with two days, three entity types, two regions."""
    counter = iter(range(1, 10_000))

    def make(**overrides) -> MeetingSession:
        n = next(counter)
        # Organisers logged in by the `login` fixture run every test session.
        organisers = db.session.scalars(sa.select(StaffUser).where(StaffUser.email.startswith("organiser-"))).all()
        series = db.session.scalar(sa.select(MeetingSeries).filter_by(name="Test series"))
        if series is None:
            series = MeetingSeries(name="Test series")
        first_day = overrides.pop("first_day", date.today() + timedelta(days=30))
        fields = {
            "slug": f"test-session-{n}",
            "number": n,
            "title": f"Test Session {n}",
            "venue": "Brussels",
            "timezone": "Europe/Brussels",
            "online_meeting_url": "https://meet.example.org/test",
            "in_person_capacity": None,
            "registration_opens_at": utcnow() - timedelta(days=1),
            "registration_closes_at": utcnow() + timedelta(days=20),
        }
        fields.update(overrides)
        meeting = MeetingSession(series=series, **fields)
        meeting.days = [
            SessionDay(date=first_day + timedelta(days=i), starts_at=time(9, 30), ends_at=time(17, 0)) for i in range(2)
        ]
        meeting.entity_types = [
            EntityType(name=name, position=i)
            for i, name in enumerate(
                ["Regional Office for Capacity Building (ROCB)", "Regional Training Centre (RTC)", "Observer/Guest"]
            )
        ]
        meeting.regions = [
            Region(name=name, position=i) for i, name in enumerate(["Europe", "West and Central Africa"])
        ]
        meeting.organisers = organisers
        db.session.add(meeting)
        db.session.commit()
        return meeting

    return make


@pytest.fixture
def make_registration(app_ctx):
    counter = iter(range(1, 100_000))

    def make(meeting: MeetingSession, **overrides) -> Registration:
        n = next(counter)
        fields = {
            "full_name": f"Delegate {n}",
            "email": f"delegate{n}@example.org",
            "organisation": "ROCB Europe",
            "country": "BE",
            "entity_type": meeting.entity_types[0],
            "region": meeting.regions[0],
            "mode": Mode.IN_PERSON,
        }
        fields.update(overrides)
        registration = Registration(session=meeting, **fields)
        db.session.add(registration)
        db.session.commit()
        return registration

    return make


@pytest.fixture
def login(client, app_ctx):
    """Logs the test client in as a new staff user of the given role."""

    def log_in(role: str = "organiser"):
        email = f"{role}-{datetime.now().timestamp()}@example.org"
        user, _ = ensure_staff(email, StaffRole(role), PASSWORD)
        if user.is_organiser:
            for meeting in db.session.scalars(sa.select(MeetingSession)):
                meeting.organisers.append(user)
        db.session.commit()
        response = client.post("/login", data={"email": email, "password": PASSWORD, "csrf_token": csrf_token(client)})
        assert response.status_code == 302, response.get_data(as_text=True)
        return email

    return log_in


@pytest.fixture
def count_queries(app_ctx):
    """A context manager that counts the SQL statements run inside it: `with count_queries() as n: ...; n()`."""

    @contextmanager
    def counting():
        statements = []

        def record(conn, cursor, statement, *args):
            statements.append(statement)

        sa.event.listen(db.engine, "before_cursor_execute", record)
        try:
            counter = lambda: len(statements)  # noqa: E731
            counter.statements = statements
            yield counter
        finally:
            sa.event.remove(db.engine, "before_cursor_execute", record)

    return counting


@pytest.fixture
def round_trips(app_ctx):
    """Counts the round trips of the app's connections to PostgreSQL in libpq's own trace: its answers
    (ReadyForQuery), BEGIN and COMMIT included. psycopg prepares a statement on a connection's sixth use of it,
    in a round trip of its own, once: those are left out."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("SQLite runs in the app's process: no round trips")

    @contextmanager
    def counting():
        trace = tempfile.TemporaryFile()

        def start(dbapi_connection, *_):
            dbapi_connection.pgconn.trace(trace.fileno())

        def stop(dbapi_connection, *_):
            dbapi_connection.pgconn.untrace()  # flushes the trace

        sa.event.listen(db.engine, "checkout", start)
        sa.event.listen(db.engine, "checkin", stop)
        counted = []
        try:
            yield lambda: counted[0]
        finally:
            sa.event.remove(db.engine, "checkout", start)
            sa.event.remove(db.engine, "checkin", stop)
            trace.seek(0)
            lines = (line.split("\t") for line in trace.read().decode().splitlines())
            messages = [fields[3:5] for fields in lines if len(fields) >= 5]  # not a statement's next lines
            trace.close()
            preparing = sum(kind == "Parse" and not rest.startswith(' ""') for kind, rest in messages)
            counted.append(sum(kind == "ReadyForQuery" for kind, _ in messages) - preparing)

    return counting

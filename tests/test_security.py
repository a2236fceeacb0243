"""Headers, cookies, secret links and rate limits."""

import logging

import pytest
from helpers import PASSWORD, csrf_token, registration_form

from attendance import create_app
from attendance.extensions import db, limiter
from attendance.models import MeetingSession
from attendance.security import RedactSecretLinks


def test_every_page_sends_security_headers(client):
    response = client.get("/")
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp and "frame-ancestors 'none'" in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"


def test_secret_link_pages_send_no_referrer(client, make_session, make_registration):
    registration = make_registration(make_session())
    for path in (
        f"/me/{registration.access_key}",
        f"/me/{registration.access_key}/badge.pdf",
        f"/join/{registration.access_key}",
        "/me/unknown-key-of-some-length-here",
    ):
        response = client.get(path)
        assert response.headers["Referrer-Policy"] == "no-referrer", path


def test_pages_carry_no_inline_scripts(client, make_session):
    meeting = make_session()
    html = client.get(f"/sessions/{meeting.slug}/register").get_data(as_text=True)
    assert "<script>" not in html and "onclick" not in html


def test_session_cookie_is_http_only_and_same_site(client):
    client.get("/login")
    cookie = client.get_cookie("session")
    assert cookie.http_only and cookie.same_site == "Lax"


def test_access_keys_are_cut_short_in_request_logs():
    key = "h5z-LnkZyuGrWzEFuRB6eEHLwHm3Lk8qwnoHunur10M"
    record = logging.LogRecord(
        "werkzeug",
        logging.INFO,
        "",
        0,
        '%s - - "%s" %s',
        ("127.0.0.1", f"GET /me/{key}/badge.pdf HTTP/1.1", "200"),
        None,
    )
    RedactSecretLinks().filter(record)
    message = record.getMessage()
    assert key not in message and "/me/h5z-Ln…/badge.pdf" in message


@pytest.fixture
def rate_limited_client(app, tmp_path):
    """A client of a second app with rate limits on; the limiter is one object, so it is switched off after."""
    limited = create_app(
        {
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
            "RATELIMIT_ENABLED": True,
            "OUTBOX_DIR": str(tmp_path),
        }
    )
    limiter.reset()
    yield limited.test_client()
    limiter.enabled = False


def test_registration_posts_are_rate_limited(rate_limited_client, make_session):
    meeting = make_session()
    url = f"/sessions/{meeting.slug}/register"
    token = csrf_token(rate_limited_client, url)
    statuses = [
        rate_limited_client.post(url, data=registration_form(meeting, full_name="", csrf_token=token)).status_code
        for _ in range(25)
    ]
    assert statuses[:20] == [400] * 20 and statuses[-1] == 429


def test_login_is_rate_limited(rate_limited_client):
    token = csrf_token(rate_limited_client)
    statuses = [
        rate_limited_client.post(
            "/login", data={"email": "x@example.org", "password": "guess", "csrf_token": token}
        ).status_code
        for _ in range(12)
    ]
    assert statuses[:10] == [200] * 10 and statuses[-1] == 429
    refused = rate_limited_client.post("/login", data={"email": "x@example.org", "csrf_token": token})
    assert "Please wait a minute" in refused.get_data(as_text=True)
    assert 1 <= int(refused.headers["Retry-After"]) <= 60  # when the minute's window ends
    assert "X-RateLimit-Remaining" not in refused.headers
    # Someone else behind the same address, with their own account, still gets in.
    assert (
        rate_limited_client.post(
            "/login", data={"email": "door@example.org", "password": "guess", "csrf_token": token}
        ).status_code
        == 200
    )


def test_an_error_on_a_secret_page_does_not_log_the_whole_key(
    app, client, make_session, make_registration, caplog, monkeypatch
):
    import attendance.registration.views as views

    registration = make_registration(make_session())
    monkeypatch.setattr(views, "render_template", lambda *a, **k: 1 / 0)
    app.config["PROPAGATE_EXCEPTIONS"], app.testing = False, False
    try:
        with caplog.at_level(logging.ERROR):
            assert client.get(f"/me/{registration.access_key}").status_code == 500
    finally:
        app.config["PROPAGATE_EXCEPTIONS"], app.testing = None, True
    assert registration.access_key not in caplog.text
    assert registration.access_key[:6] in caplog.text


def test_a_failed_statement_still_shows_a_logged_in_organiser_the_error_page(
    app, client, login, make_session, monkeypatch
):
    """A write the database refuses leaves the session needing a rollback; the error page must still render."""
    import attendance.organiser.sessions as views

    taken = make_session()

    def refused_write(*_args, **_kwargs):
        db.session.add(MeetingSession(series=taken.series, slug=taken.slug, number=99, title="Clash", timezone="UTC"))
        db.session.flush()  # the unique slug: IntegrityError

    login("organiser")
    page = client.get("/staff/audit")  # a page that works, before
    monkeypatch.setattr(views, "delete_session", refused_write)
    app.config["PROPAGATE_EXCEPTIONS"], app.testing = False, False
    try:
        response = client.post(
            f"/sessions/{taken.slug}/delete", data={"confirm": taken.slug, "csrf_token": csrf_token(client)}
        )
    finally:
        app.config["PROPAGATE_EXCEPTIONS"], app.testing = None, True
    assert page.status_code == 200 and response.status_code == 500
    html = response.get_data(as_text=True)
    assert "Something went wrong" in html and "The error was logged" in html and "Log out" in html


@pytest.mark.parametrize(
    "target", ["//evil.example.org", "/\t/evil.example.org", "/\\evil.example.org", "https://evil.example.org/"]
)
def test_login_never_sends_staff_off_the_site_after_logging_in(client, app_ctx, target):
    from attendance.auth import ensure_staff
    from attendance.models import StaffRole

    ensure_staff("door-next@example.org", StaffRole.DOOR, PASSWORD)
    db.session.commit()
    response = client.post(
        "/login",
        query_string={"next": target},
        data={"email": "door-next@example.org", "password": PASSWORD, "csrf_token": csrf_token(client)},
    )
    assert response.status_code == 302 and response.headers["Location"] == "/checkin"


@pytest.mark.parametrize(
    "environment, storage",
    [
        ({}, "memory://"),
        ({"JOBS_URL": "redis://queue.internal:6379/2"}, "redis://queue.internal:6379/2"),
        (
            {"JOBS_URL": "redis://queue.internal:6379/2", "RATELIMIT_STORAGE_URI": "redis://limits:6379/5"},
            "redis://limits:6379/5",
        ),
        ({"JOBS_URL": "sqlite:////tmp/jobs.sqlite3"}, "memory://"),
    ],
)
def test_rate_limits_count_in_the_job_queues_redis_unless_told_otherwise(monkeypatch, tmp_path, environment, storage):
    """Several gunicorn workers must share one count, or each allows the whole rate: production's Redis does that."""
    from attendance.config import load_config

    for name in ("JOBS_URL", "RATELIMIT_STORAGE_URI"):
        monkeypatch.delenv(name, raising=False)
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    assert load_config(tmp_path)["RATELIMIT_STORAGE_URI"] == storage

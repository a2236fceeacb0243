"""attendance: hybrid meetings from registration to certificate."""

import logging
import math
from pathlib import Path

from flask import Flask, jsonify, render_template, request
from sqlalchemy import event

from .clock import utcnow
from .config import load_config
from .extensions import csrf, db, limiter, login_manager, migrate

PACKAGE = Path(__file__).resolve().parent
ROOT = PACKAGE.parent
# templates/, static/ and migrations/ sit beside the package in a checkout (and an editable install); a built wheel
# carries them inside it (setup.py). A checkout keeps its instance/ beside them; an installed app uses Flask's
# default, <prefix>/var/attendance-instance.
IN_CHECKOUT = (ROOT / "templates").is_dir() and not (PACKAGE / "templates").is_dir()
DATA = ROOT if IN_CHECKOUT else PACKAGE


def create_app(test_config: dict | None = None) -> Flask:
    app = Flask(
        __name__,
        instance_path=str(ROOT / "instance") if IN_CHECKOUT else None,
        template_folder=str(DATA / "templates"),
        static_folder=str(DATA / "static"),
    )
    from .json_input import JSONProvider

    app.json = JSONProvider(app)
    app.config.from_mapping(load_config(Path(app.instance_path)))
    if test_config:
        app.config.from_mapping(test_config)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("weasyprint").setLevel(logging.WARNING)  # its progress steps drown the app's own lines

    from .lookup import IdConverter

    app.url_map.converters["int"] = IdConverter
    db.init_app(app)
    from . import transaction

    transaction.init_app(app)  # first, so that its hook runs last
    migrate.init_app(app, db, directory=str(DATA / "migrations"), render_as_batch=True, compare_type=True)
    csrf.init_app(app)
    login_manager.init_app(app)
    limiter.init_app(app)
    if app.config["PRODUCTION"] and app.config["RATELIMIT_STORAGE_URI"].startswith("memory://"):
        app.logger.warning(
            "Rate limits count in each process's memory: with several workers each counts alone. "
            "Set JOBS_URL or RATELIMIT_STORAGE_URI to a redis:// URL to count them together."
        )
    with app.app_context():
        if db.engine.dialect.name == "sqlite":
            event.listen(db.engine, "connect", _sqlite_connection_setup)

    from . import auth, cli, formatting, i18n, jobs, main, security
    from .api import bp as api_bp
    from .certificates import bp as certificates_bp
    from .checkin import bp as checkin_bp
    from .desk import bp as desk_bp
    from .mailings import bp as mailings_bp
    from .online import bp as online_bp
    from .organiser import bp as organiser_bp
    from .questions import bp as questions_bp
    from .registration import bp as registration_bp
    from .reports import bp as reports_bp

    app.register_blueprint(main.bp)
    app.register_blueprint(registration_bp)
    app.register_blueprint(auth.bp)
    app.register_blueprint(organiser_bp)
    app.register_blueprint(checkin_bp)
    app.register_blueprint(api_bp)
    app.register_blueprint(online_bp)
    app.register_blueprint(certificates_bp)
    app.register_blueprint(reports_bp)
    app.register_blueprint(desk_bp)
    app.register_blueprint(mailings_bp)
    app.register_blueprint(questions_bp)
    security.init_app(app)
    formatting.init_app(app)
    i18n.init_app(app)
    cli.init_app(app)
    jobs.init_app(app)

    for code in (400, 403, 404, 405, 413, 429, 500):
        app.register_error_handler(code, _error_page)
    return app


def _sqlite_connection_setup(dbapi_connection, _record) -> None:
    # SQLite's own lower() folds ASCII only; PostgreSQL's folds every script. Searches of emails and organisations,
    # and series, entity types and regions compared whatever their case, use lower() on both.
    dbapi_connection.create_function("lower", 1, _lower, deterministic=True)
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys = ON")
    cursor.execute("PRAGMA journal_mode = WAL")
    cursor.execute("PRAGMA synchronous = NORMAL")
    cursor.execute("PRAGMA busy_timeout = 10000")
    cursor.close()


def _lower(value):
    return value.lower() if isinstance(value, str) else value


def _error_page(error):
    code = getattr(error, "code", 500) or 500
    db.session.rollback()  # a failed statement leaves the session unusable, and the page may need it
    headers = {"Retry-After": _seconds_to_wait()} if code == 429 else {}
    if request.path.startswith("/api/"):
        reason = error.description if code < 500 else "Internal error; it was logged."
        return jsonify(status="error", reason=reason), code, headers
    return render_template("error.html", code=code, error=error), code, headers


def _seconds_to_wait() -> str:
    """Until the breached limit's window ends, for a 429's Retry-After (asked of the counters on refusals only)."""
    limit = limiter.current_limit
    if limit is None:
        return "60"
    # The counters' clock and ours round apart by a second: never more than the window itself.
    return str(min(limit.limit.get_expiry(), max(1, math.ceil(limit.reset_at - utcnow().timestamp()))))

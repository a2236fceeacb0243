"""The public front: the list of sessions open for registration, and the health check."""

from flask import Blueprint, current_app, jsonify, render_template, send_from_directory
from sqlalchemy.orm import selectinload

from .extensions import db
from .models import MeetingSession

bp = Blueprint("main", __name__)


@bp.get("/")
def index():
    # What registration_state() and the page read, loaded for all sessions at once: a constant number of queries.
    sessions = db.session.scalars(
        db.select(MeetingSession)
        .order_by(MeetingSession.registration_closes_at)
        .options(
            selectinload(MeetingSession.days),
            selectinload(MeetingSession.entity_types),
            selectinload(MeetingSession.regions),
        )
    ).all()
    open_sessions = [s for s in sessions if s.welcomes_anyone()]
    return render_template("main/index.html", sessions=open_sessions)


@bp.get("/favicon.ico")
def favicon():
    """Browsers ask for it on every site, whatever the page links; without it each first visit logs a 404."""
    return send_from_directory(current_app.static_folder, "favicon.svg", mimetype="image/svg+xml")


@bp.get("/healthz")
def healthz():
    try:
        db.session.execute(db.text("SELECT 1"))
    except Exception:  # any failure to reach the database means unhealthy
        db.session.rollback()
        return jsonify(status="error", reason="database unavailable"), 503
    return jsonify(status="ok")

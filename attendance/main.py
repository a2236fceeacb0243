"""The public front: the list of sessions open for registration, and the health check."""
from flask import Blueprint, jsonify, render_template

from .extensions import db
from .models import MeetingSession

bp = Blueprint("main", __name__)


@bp.get("/")
def index():
    sessions = db.session.scalars(db.select(MeetingSession).order_by(MeetingSession.registration_closes_at)).all()
    open_sessions = [s for s in sessions if s.registration_state() == "open"]
    return render_template("main/index.html", sessions=open_sessions)


@bp.get("/healthz")
def healthz():
    try:
        db.session.execute(db.text("SELECT 1"))
    except Exception:  # any failure to reach the database means unhealthy
        db.session.rollback()
        return jsonify(status="error", reason="database unavailable"), 503
    return jsonify(status="ok")

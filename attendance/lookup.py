"""Loading what a URL names, or answering 404: shared by every blueprint's views."""
from flask import abort
from flask_login import current_user

from .extensions import db
from .models import MeetingSession, Registration


def session_or_404(slug: str) -> MeetingSession:
    return db.first_or_404(db.select(MeetingSession).filter_by(slug=slug))


def registration_by_key_or_404(access_key: str) -> Registration:
    # Same 404 for a malformed, tampered or unknown key: no hint whether it exists.
    if not 20 <= len(access_key) <= 64:
        abort(404)
    return db.first_or_404(db.select(Registration).filter_by(access_key=access_key))


def managed_session_or_404(slug: str) -> MeetingSession:
    """A session the logged-in organiser runs; another organiser's session is refused (403)."""
    meeting = session_or_404(slug)
    if not current_user.is_authenticated or not current_user.manages(meeting):
        abort(403, "You are not an organiser of this session. Ask one of its organisers to add you.")
    return meeting

"""Loading what a URL names, or answering 404: shared by every blueprint's views."""
from flask import abort
from flask_babel import gettext
from werkzeug.routing import IntegerConverter
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
        abort(403, gettext("You are not an organiser of this session. Ask one of its organisers to add you."))
    return meeting


MAX_ID = 2**31 - 1  # the largest id either database's INTEGER holds


class IdConverter(IntegerConverter):
    """`<int:...>` in URLs: a number no database could hold is simply not a match (404), not a crash."""

    def __init__(self, url_map, *args, **kwargs):
        kwargs.setdefault("max", MAX_ID)
        super().__init__(url_map, *args, **kwargs)


def small_int(value: str) -> int:
    """For `request.args.get(..., type=small_int)`: an id-sized number, else ValueError (the default applies)."""
    number = int(value)
    if not 0 < number <= MAX_ID:
        raise ValueError(value)
    return number

"""Loading what a URL names, or answering 404: shared by every blueprint's views."""

from datetime import date
from typing import TypeVar

from flask import abort, request
from flask_babel import gettext
from flask_login import current_user
from werkzeug.routing import IntegerConverter

from .extensions import Model, db
from .formatting import format_day
from .i18n import speak_as_mailed
from .models import MeetingSession, Registration, SessionDay


def session_or_404(slug: str) -> MeetingSession:
    return db.first_or_404(db.select(MeetingSession).filter_by(slug=slug))


Row = TypeVar("Row", bound=Model)


def in_session_or_404(model: type[Row], row_id: int, meeting: MeetingSession) -> Row:
    """The `model` row with that id when it belongs to `meeting`; 404 otherwise, so an id of another session reads
    as unknown."""
    row = db.session.get(model, row_id)
    if row is None or getattr(row, "session_id", None) != meeting.id:
        abort(404)
    return row


def registration_by_key_or_404(access_key: str) -> Registration:
    """The registration of a personal link (`/me/<key>/...`, `/join/<key>`), whose pages, refusals and flashes
    then speak the delegate's language unless this browser chose one (`i18n.speak_as_mailed`)."""
    # Same 404 for a malformed, tampered or unknown key: no hint whether it exists.
    if not 20 <= len(access_key) <= 64:
        abort(404)
    registration = db.first_or_404(db.select(Registration).filter_by(access_key=access_key))
    speak_as_mailed(registration.locale)
    return registration


def managed_session_or_404(slug: str) -> MeetingSession:
    """A session the logged-in organiser runs; another organiser's session is refused (403)."""
    meeting = session_or_404(slug)
    if not current_user.is_authenticated or not current_user.manages(meeting):
        abort(403, gettext("You are not an organiser of this session. Ask one of its organisers to add you."))
    return meeting


def door_session_or_403(slug: str) -> MeetingSession:
    """A session the logged-in staff member may see and scan at; door staff assigned to other sessions get 403."""
    meeting = session_or_404(slug)
    allowed = current_user.door_session_ids
    if allowed is not None and meeting.id not in allowed:
        abort(
            403,
            gettext(
                "You are assigned to the doors of other sessions. Ask an organiser of this session to "
                "add you to its door staff."
            ),
        )
    return meeting


def chosen_day(meeting: MeetingSession, *, exact: bool = False) -> SessionDay:
    """The session day a page or form names (default: today). Pages show the nearest day when the named one is
    not a meeting day; a change (`exact`) must name a meeting day."""
    if not meeting.days:
        abort(404, gettext("This session has no days yet."))
    wanted = request.values.get("day", "")
    try:
        wanted_date = date.fromisoformat(wanted) if wanted else meeting.today()
    except ValueError:
        abort(400, gettext("The day must be written YYYY-MM-DD."))
    by_date = {d.date: d for d in meeting.days}
    if wanted_date in by_date:
        return by_date[wanted_date]
    if exact:
        abort(400, gettext("%(day)s is not a day of this session.", day=format_day(wanted_date)))
    return meeting.days[0] if wanted_date < meeting.days[0].date else meeting.days[-1]


MAX_ID = 2**31 - 1  # the largest id either database's INTEGER holds


class IdConverter(IntegerConverter):
    """`<int:...>` in URLs: a number no database could hold is simply not a match (404), not a crash."""

    def __init__(self, url_map, *args, **kwargs):
        kwargs.setdefault("max", MAX_ID)
        super().__init__(url_map, *args, **kwargs)


def ascii_int(value: str) -> int:
    """A whole number written with the digits 0-9 only, else ValueError. `int()` also reads "٣" (Arabic-Indic)
    and full-width digits, and `str.isdigit()` passes "²", which `int()` then refuses."""
    value = value.strip()
    if not (value.isascii() and value.isdigit()):
        raise ValueError(f"not a number written with the digits 0-9: {value[:20]!r}")
    return int(value)


def small_int(value: str) -> int:
    """For `request.args.get(..., type=small_int)`: an id-sized number, else ValueError (the default applies)."""
    number = ascii_int(value)
    if not 0 < number <= MAX_ID:
        raise ValueError(value)
    return number

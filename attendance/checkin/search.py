"""The door's look-up by name, for a delegate without their badge."""

from datetime import date

import sqlalchemy as sa
from flask_babel import gettext

from ..extensions import db
from ..models import Attendance, MeetingSession, Mode, Registration, SessionDay
from ..text import is_wide, search_key
from .rule import describe


def _weight(word: str) -> int:
    """How much of a name a word gives: a character each, two for a Chinese, Japanese or Korean one, which says as
    much as two or three Latin letters (a name such as 王伟 has two in all)."""
    return sum(2 if is_wide(c) else 1 for c in word)


def find_delegates(meeting: MeetingSession, query: str, day: date, limit: int = 20) -> list[dict]:
    """Door look-up by name: only what a door needs, and whether they are in today. The query needs 3 letters (2
    Chinese, Japanese or Korean characters) in words of 2 at least: single letters, such as an initial, narrow
    nothing, and "a e i" would list everyone."""
    words = [word for word in search_key(query).split() if _weight(word) >= 2]
    if sum(map(_weight, words)) < 3:
        raise ValueError(gettext("Type at least 3 characters of the name (2 of a Chinese, Japanese or Korean name)."))
    query = " ".join(words)
    checked_in_today = (
        sa.select(Attendance.first_seen_at)
        .join(SessionDay)
        .where(Attendance.registration_id == Registration.id, SessionDay.date == day, Attendance.mode == Mode.IN_PERSON)
        .scalar_subquery()
    )
    rows = db.session.execute(
        sa.select(Registration, checked_in_today)
        .where(Registration.session_id == meeting.id, Registration.name_has_words(query))
        .order_by(Registration.name_key, Registration.id)
        .limit(limit)
    ).all()
    return [
        describe(r)
        | {
            # "waiting": registered, but on the line for a seat of a room-only session, which the door refuses
            "status": "waiting" if r.waits_without_seat else r.status.value,
            "checked_in_at": meeting.local(at).isoformat() if at else None,
        }
        for r, at in rows
    ]

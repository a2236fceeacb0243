"""What an offline door phone keeps of a session for today, and how the scan log tells its conflicts.

The roster names every badge by the SHA-256 of its token, never the token itself: a phone lost at the door
gives away names, not badges that would open the door. For the door's name search offline it gives each person their
registration id and a search text (text.search_text: the name in its own script and in Latin letters, and the
organisation), never the e-mail address that the server's own search also looks in: a lost phone must not give
away the delegates' addresses either.
"""

from __future__ import annotations

import hashlib
import json
from datetime import date, datetime, time, timedelta

import sqlalchemy as sa

from ..extensions import db
from ..models import (
    Attendance,
    EntityType,
    MeetingSession,
    Mode,
    Registration,
    RegistrationStatus,
    ScanEvent,
    SessionDay,
)
from ..text import PART_SEPARATOR
from .rule import is_conflict


def token_hash(token: str) -> str:
    """How the roster names a badge; the scanner page hashes what it reads the same way."""
    return hashlib.sha256(token.encode()).hexdigest()


def _without_email(name_key: str, email_key: str | None) -> str:
    """The registration's stored search text (text.search_text of its name and organisation, and its e-mail key)
    without the e-mail: what the door's name search offline looks in."""
    return PART_SEPARATOR.join(part for part in name_key.split(PART_SEPARATOR) if part != (email_key or ""))


def door_roster(meeting: MeetingSession, day: date) -> dict:
    """Every badge of the session, and whether it is in on `day`; valid until that day ends in the session's zone.
    Each badge also names its registration and what the door's name search offline looks in (no e-mail)."""
    in_on_day = (
        sa.select(Attendance.first_seen_at)
        .join(SessionDay)
        .where(Attendance.registration_id == Registration.id, SessionDay.date == day, Attendance.mode == Mode.IN_PERSON)
        .scalar_subquery()
    )
    rows = db.session.execute(
        sa.select(
            Registration.id,
            Registration.badge_token,
            Registration.full_name,
            Registration.organisation,
            Registration.name_key,
            Registration.email_key,
            EntityType.name,
            Registration.mode,
            Registration.status,
            Registration.counted_in(meeting),
            in_on_day,
        )
        .join(EntityType, EntityType.id == Registration.entity_type_id)
        .where(Registration.session_id == meeting.id)
        .order_by(Registration.id)
    ).all()
    # Registered but not counted: waiting for a seat in a session with no online meeting meanwhile, which the
    # door's rule does not admit either.
    REGISTERED = RegistrationStatus.REGISTERED
    badges = [
        {
            "hash": token_hash(token),
            "registration_id": registration_id,
            "name": name,
            "search": _without_email(name_key, email),
            "entity": organisation,
            "entity_type": entity_type,
            "mode": mode.value,
            "status": "waiting" if status is REGISTERED and not counted else status.value,
            "in": first_at is not None,
            "first_at": meeting.local(first_at).isoformat() if first_at else None,
        }
        for (
            registration_id,
            token,
            name,
            organisation,
            name_key,
            email,
            entity_type,
            mode,
            status,
            counted,
            first_at,
        ) in rows
    ]
    day_ends = datetime.combine(day + timedelta(days=1), time(), meeting.zone)
    return {
        "session": meeting.slug,
        "day": day.isoformat(),
        "is_meeting_day": any(d.date == day for d in meeting.days),
        "valid_until": day_ends.isoformat(),
        "badges": badges,
    }


def is_offline_conflict(event: ScanEvent) -> bool:
    """A logged scan queued offline whose server answer differs from what the door showed: rule.is_conflict,
    from the log's line (its result, and the `earliest` its answer carried)."""
    if event.provisional is None:
        return False
    earliest = bool(json.loads(event.response or "{}").get("earliest", False))
    return is_conflict(event.provisional, event.result, earliest)

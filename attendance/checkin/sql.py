"""The statements of the door's hot path: a badge's read, and the writes of a check-in and of its log line.

Built once at import (see dbutil.CoreStatement): the door waits for each of them.
On PostgreSQL a first check-in is one statement; SQLite has no writing CTEs, so there it takes two.
"""

from __future__ import annotations

import sqlalchemy as sa

from ..dbutil import CoreStatement, insert_or_ignore_statement
from ..models import Attendance, EntityType, MeetingSession, Mode, Registration, ScanEvent, ScanResult, SessionDay


def _badge_query(*match) -> sa.Select:
    """One row per nearby session day of the badge's registration: all a door answer needs, in one statement.

    The days are those between `earliest` and `latest` (today somewhere on Earth, or the day asked for), each
    with the day's in-person attendance if there is one, so that a repeated scan needs no other read; the
    door's session id comes along when the scanner names its session by `slug`.
    """
    registrations, sessions = Registration.__table__, MeetingSession.__table__
    days, entity_types, attendances = SessionDay.__table__, EntityType.__table__, Attendance.__table__
    door_session = sa.select(sessions.c.id).where(sessions.c.slug == sa.bindparam("slug")).scalar_subquery()
    return (
        sa.select(
            registrations.c.id,
            registrations.c.session_id,
            registrations.c.full_name,
            registrations.c.organisation,
            entity_types.c.name.label("entity_type"),
            registrations.c.role,
            registrations.c.mode,
            registrations.c.status,
            registrations.c.waiting_since,
            sessions.c.title,
            sessions.c.online_meeting_url,
            sessions.c.timezone,
            days.c.id.label("day_id"),
            days.c.date.label("day"),
            door_session.label("door_session_id"),
            *_first_attendance_columns(),
        )
        .select_from(
            registrations.join(sessions, sessions.c.id == registrations.c.session_id)
            .join(entity_types, entity_types.c.id == registrations.c.entity_type_id)
            .outerjoin(
                days,
                (days.c.session_id == registrations.c.session_id)
                & days.c.date.between(sa.bindparam("earliest"), sa.bindparam("latest")),
            )
            .outerjoin(
                attendances,
                (attendances.c.registration_id == registrations.c.id)
                & (attendances.c.day_id == days.c.id)
                & (attendances.c.mode == Mode.IN_PERSON),
            )
        )
        .where(*match)
    )


def _first_attendance_columns() -> tuple:
    """The day's in-person attendance, as an "already checked in" answer tells it."""
    attendances = Attendance.__table__
    return (
        attendances.c.id.label("attendance_id"),
        attendances.c.first_seen_at,
        attendances.c.recorded_by.label("first_by"),
        attendances.c.door.label("first_door"),
    )


def _admit_in_one_statement() -> sa.Select:
    """PostgreSQL's first check-in: the attendance and its log line in one statement, which commits on its own
    under `dbutil.autocommit`. It returns the new attendance's id, or no row (and writes nothing) when the
    badge is in already. The log line's answer is the door's: the JSON of `response` ending with that id."""
    attendances, events = Attendance.__table__, ScanEvent.__table__
    from_the_event = {"registration_id", "source", "actor", "recorded_by", "door", "note"}
    new = (
        insert_or_ignore_statement(attendances, ("registration_id", "day_id", "mode"), "postgresql")
        .values(
            {name: sa.bindparam(name, type_=attendances.c[name].type) for name in from_the_event}
            | {
                "day_id": sa.bindparam("day_id", type_=sa.Integer),
                "mode": Mode.IN_PERSON,
                "first_seen_at": sa.bindparam("first_seen_at", type_=attendances.c.first_seen_at.type),
            }
        )
        .cte("new_attendance")
    )
    response = (
        sa.func.left(sa.bindparam("response", type_=sa.Text), -1)
        + sa.literal(', "attendance_id": ')
        + sa.cast(new.c.id, sa.Text)
        + sa.literal("}")
    )
    logged = events.insert().from_select(_LOG_LINE_COLUMNS, _log_line(ScanResult.OK, response).select_from(new))
    return sa.select(new.c.id).add_cte(logged.cte("logged"))


def _repeat_log_line() -> sa.Insert:
    """A repeated scan's log line, written only while the attendance it reports still exists (an undo may have
    removed it since the badge was read): returns no row, and writes nothing, when it is gone."""
    events = ScanEvent.__table__
    still_in = sa.exists().where(Attendance.__table__.c.id == sa.bindparam("attendance_id"))
    response = sa.bindparam("response", type_=events.c.response.type)
    return (
        events.insert()
        .from_select(_LOG_LINE_COLUMNS, _log_line(ScanResult.ALREADY_CHECKED_IN, response).where(still_in))
        .returning(events.c.id)
    )


def _move_back_statement(dialect_name: str) -> sa.Select | sa.Update:
    """A scan queued offline that was made before the day's check-in becomes its first moment: the attendance
    takes the scan's time, actor and door, only while its own first moment is later (so of two such scans
    arriving at once, the earlier wins whatever the order). On PostgreSQL the log line goes in the same
    statement (see _admit_in_one_statement); SQLite's UPDATE returns the id and the log line follows it."""
    attendances, events = Attendance.__table__, ScanEvent.__table__
    moved = (
        attendances.update()
        .where(
            attendances.c.id == sa.bindparam("attendance_id"),
            attendances.c.first_seen_at > sa.bindparam("first_seen_at", type_=attendances.c.first_seen_at.type),
        )
        .values(
            first_seen_at=sa.bindparam("first_seen_at", type_=attendances.c.first_seen_at.type),
            actor=sa.bindparam("actor"),
            recorded_by=sa.bindparam("recorded_by"),
            door=sa.bindparam("door"),
        )
        .returning(attendances.c.id)
    )
    if dialect_name != "postgresql":
        return moved
    # The log line below takes the scan's registration_id, source and note as parameters, and an UPDATE run with a
    # parameter named like one of its columns writes it too: these three keep their own values.
    moved_rows = moved.values({name: attendances.c[name] for name in ("registration_id", "source", "note")}).cte(
        "moved"
    )
    response = sa.bindparam("response", type_=events.c.response.type)
    logged = events.insert().from_select(
        _LOG_LINE_COLUMNS, _log_line(ScanResult.ALREADY_CHECKED_IN, response).select_from(moved_rows)
    )
    return sa.select(moved_rows.c.id).add_cte(logged.cte("logged"))


def _log_line(result: ScanResult, response: sa.ColumnElement) -> sa.Select:
    """A log line's values as a SELECT of the parameters, for an INSERT that writes it only on a condition."""
    events = ScanEvent.__table__
    return sa.select(
        *(sa.bindparam(name, type_=events.c[name].type) for name in _EVENT_COLUMNS),
        sa.literal(result, events.c.result.type),
        response,
    )


BY_TOKEN = CoreStatement(_badge_query(Registration.__table__.c.badge_token == sa.bindparam("token")))
BY_ID = CoreStatement(_badge_query(Registration.__table__.c.id == sa.bindparam("registration_id")))
SESSION_ID = CoreStatement(
    sa.select(MeetingSession.__table__.c.id).where(MeetingSession.__table__.c.slug == sa.bindparam("slug"))
)
_ATTENDANCE_COLUMNS = (
    "registration_id",
    "day_id",
    "mode",
    "first_seen_at",
    "source",
    "actor",
    "recorded_by",
    "door",
    "note",
)
NEW_ATTENDANCE = CoreStatement(
    lambda dialect_name: insert_or_ignore_statement(
        Attendance.__table__, ("registration_id", "day_id", "mode"), dialect_name
    ).values({name: sa.bindparam(name) for name in _ATTENDANCE_COLUMNS})
)
FIRST_ATTENDANCE = CoreStatement(
    sa.select(*_first_attendance_columns()).where(
        Attendance.__table__.c.registration_id == sa.bindparam("registration_id"),
        Attendance.__table__.c.day_id == sa.bindparam("day_id"),
        Attendance.__table__.c.mode == Mode.IN_PERSON,
    )
)
# A log line's columns but its result and response; an attendance shares its actor, door, source and note.
_EVENT_COLUMNS = (
    "actor",
    "recorded_by",
    "door",
    "source",
    "nonce",
    "token_excerpt",
    "note",
    "session_id",
    "registration_id",
    "day",
    "at",
    "scanned_at",
    "provisional",
)
_LOG_LINE_COLUMNS = (*_EVENT_COLUMNS, "result", "response")
NEW_EVENT = CoreStatement(
    sa.insert(ScanEvent.__table__).values({name: sa.bindparam(name) for name in _LOG_LINE_COLUMNS})
)
ADMIT = CoreStatement(_admit_in_one_statement())
REPEAT = CoreStatement(_repeat_log_line())
MOVE_BACK = CoreStatement(_move_back_statement)

"""Checking people in, undoing and checking out: every change of in-person attendance happens here.

`check_in` is the one rule the scanner page, the JSON API, organisers' manual check-ins and the CLI share.
It is race-free without locks: the insert of the day's attendance does nothing on conflict with the
unique (registration, day, mode) constraint, so of two simultaneous scans exactly one creates the record.
The statements it runs on the door's hot path are in sql.py.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import cached_property
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask_babel import gettext

from ..auth import Actor
from ..clock import date_in, utcnow
from ..dbutil import serialized_writes
from ..extensions import db
from ..formatting import format_day
from ..models import Attendance, Mode, Registration, RegistrationStatus, Role, ScanEvent, ScanResult, Source
from ..tokens import BADGE_ALPHABET, BADGE_TOKEN_LENGTH
from . import sql

UNDO_WINDOW = timedelta(minutes=15)
#: how far ahead of our clock a device's `scanned_at` may be: phones' clocks drift
CLOCK_SKEW = timedelta(minutes=2)
#: door staff send a queued scan of yesterday until this hour of today (the session's clocks): enough for a door
#: phone offline from the afternoon to the next morning, not a standing way to fill in a day gone by
YESTERDAYS_SCANS_UNTIL = time(12)
#: what an offline device may say it showed for a queued scan: let in, already in, turned away (red scans are
#: queued too, so that the log has every scan), or checked by eye (no roster on the device: the server decides)
PROVISIONAL_ANSWERS = ("ok", "already_checked_in", "refused", "unchecked")
_TOKEN_SHAPE = re.compile(f"[{BADGE_ALPHABET}]{{{BADGE_TOKEN_LENGTH}}}")

HTTP_STATUS = {
    ScanResult.OK: 201,
    ScanResult.ALREADY_CHECKED_IN: 200,
    ScanResult.INVALID: 404,
    ScanResult.CANCELLED: 409,
    ScanResult.NOT_APPROVED: 409,
    ScanResult.NOT_A_MEETING_DAY: 409,
    ScanResult.WRONG_SESSION: 409,
    ScanResult.TURNED_AWAY: 409,
}


@dataclass
class CheckIn:
    """The answer to a check-in attempt, as the door shows it and the API sends it."""

    result: ScanResult
    payload: dict = field(default_factory=dict)

    @property
    def http_status(self) -> int:
        return HTTP_STATUS[self.result]

    @cached_property
    def json(self) -> str:
        """The payload as JSON: kept in the scan log (a replayed nonce gets it again) and sent to the door."""
        return json.dumps(self.payload)


def token_excerpt(raw: str) -> str:
    """What the log keeps of a scanned code: never enough of a real badge token to use it."""
    return raw[:8]


@dataclass
class _Badge:
    """The registration a scan found, with its session and the session's days near the scanned day."""

    row: sa.Row[Any]  # a sql.BY_TOKEN or sql.BY_ID row
    days: dict[date, sa.Row[Any]]  # the rows of the session's days, with each day's attendance

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.row.timezone)


def _find_badge(
    connection: sa.Connection,
    token: str | None,
    registration_id: int | None,
    slug: str | None,
    day: date | None,
    scanned_at: datetime | None = None,
) -> tuple[_Badge | None, int | None]:
    """The badge (None when unknown) and the door's session id (None when the scan names none)."""
    if day is None:  # today (or the scan's day), somewhere between UTC-12 and UTC+14
        utc_today = (scanned_at or utcnow()).date()
        earliest, latest = utc_today - timedelta(days=1), utc_today + timedelta(days=1)
    else:
        earliest = latest = day
    params = {"slug": slug, "earliest": earliest, "latest": latest}
    if registration_id is not None:
        rows = sql.BY_ID.rows(connection, **params, registration_id=registration_id)
    elif token is not None and _TOKEN_SHAPE.fullmatch(token):  # lowercase, too short...: no badge looks like that
        rows = sql.BY_TOKEN.rows(connection, **params, token=token)
    else:
        rows = []
    if rows:
        door_session_id = rows[0].door_session_id
    else:
        found = sql.SESSION_ID.rows(connection, slug=slug) if slug else []
        door_session_id = found[0].id if found else None
    if slug and door_session_id is None:
        raise UnknownSession(slug)
    badge = _Badge(rows[0], {row.day: row for row in rows if row.day_id is not None}) if rows else None
    return badge, door_session_id


def check_in(
    *,
    actor: Actor,
    token: str | None = None,
    registration_id: int | None = None,
    session_slug: str | None = None,
    day: date | None = None,
    door: str = "",
    source: Source = Source.SCAN,
    nonce: str | None = None,
    note: str = "",
    on_admitted: Callable[[CheckIn], None] | None = None,
    scanned_at: datetime | None = None,
    provisional: str | None = None,
) -> CheckIn:
    """Checks a badge (or, from a name search, a registration) in for a day, in person; logs the attempt.

    `session_slug` names the session the door admits to, when known; `day` defaults to today in the badge's
    session's time zone. A repeated `nonce` from the same actor gets the first answer and records nothing.
    Raises UnknownSession for a slug that names no session, NotAllowed for a day this actor may not name, and
    ScanTimeRejected for a `scanned_at` in the future or off the day.
    `on_admitted` runs in the check-in's transaction only when the badge is admitted now (e.g. to audit it).
    `scanned_at` (aware) is when a scan queued offline was made: its day is the day checked in for, and the day's
    first moment is the earliest scan; `provisional` is what the offline device showed, kept for the scan log;
    with it the answer says `"conflict": true|false` (see is_conflict), for this request, a replayed nonce too.
    """
    if scanned_at is not None:
        scanned_at = _scan_moment(scanned_at)
    connection = db.session.connection()
    badge, door_session_id = _find_badge(connection, token, registration_id, session_slug, day, scanned_at)
    # A token or door staff bound to some sessions: refused, and nothing written, at another session's door, or
    # for another session's badge when no door is named (at their own door that is a "wrong session" below).
    scanned_for = door_session_id if door_session_id is not None else badge.row.session_id if badge else None
    if scanned_for is not None and not actor.may_use(scanned_for):
        raise NotAllowed(gettext("This token or account is bound to other sessions; it cannot check in for this one."))
    if source is not Source.SCAN and badge is not None and badge.row.session_id != door_session_id:
        badge = None  # a name search only reaches the door's own session
    event = dict(
        actor=actor.key,
        recorded_by=actor.label,
        door=door,
        source=source,
        nonce=nonce or None,
        token_excerpt=token_excerpt(token or ""),
        note=note,
        session_id=door_session_id,
        registration_id=badge.row.id if badge else None,
        day=None,
        at=utcnow(),
        scanned_at=scanned_at,
        provisional=provisional,
    )
    decision = _decide(badge, door_session_id, day, actor, door, source, note, event)
    if provisional == "refused" and isinstance(decision, _Entry):
        decision = _turned_away(decision)
    # Only writes from here on, kept short: on SQLite the database is locked for every other writer meanwhile.
    with serialized_writes():
        try:
            outcome = _record(connection, decision, event)
            if on_admitted is not None and outcome.result is ScanResult.OK:
                on_admitted(outcome)
        except sa.exc.IntegrityError:
            # The same nonce again, after or while its first request ran: nothing new is kept; answer as it did.
            db.session.rollback()
            replay = _replay(actor, nonce, event) if nonce else None
            if replay is None:
                raise
            outcome = replay
    return _judged(outcome, provisional)


def is_conflict(provisional: str, result: ScanResult, earliest: bool = False) -> bool:
    """Whether the server's answer to a scan queued offline differs from what the door showed (`provisional`).

    A conflict: the door let someone in (`ok`, or `unchecked`: by eye) or said they were in, and the server
    refuses them; its list let them in and another door had done so earlier (unless this scan is the day's
    `earliest` after all); or it turned away someone the server admits: registered or approved after the list was
    made, or admitted by this scan's own first try, which reached the server unseen (its replayed nonce answers ok
    or already_checked_in). The one rule for the API's answer, which the scanner shows, and the scan log.
    """
    if provisional == "refused":
        return result in (ScanResult.TURNED_AWAY, ScanResult.OK, ScanResult.ALREADY_CHECKED_IN)
    if result is ScanResult.OK:
        return False
    if result is ScanResult.ALREADY_CHECKED_IN:
        return provisional == "ok" and not earliest  # "already in" or checked by eye: the door was right
    return True


def _judged(outcome: CheckIn, provisional: str | None) -> CheckIn:
    """The answer to a scan queued offline, with the server's verdict on it. Not kept in the log: a nonce
    replayed gets its stored answer judged against the door's `provisional` of this request."""
    if provisional is None:
        return outcome
    earliest = bool(outcome.payload.get("earliest", False))
    return CheckIn(outcome.result, outcome.payload | {"conflict": is_conflict(provisional, outcome.result, earliest)})


def _turned_away(entry: _Entry) -> CheckIn:
    """A badge the server admits, which a door answering from an older list refused while offline: the person
    was not let in, so no attendance is made up (one checked in earlier that day stays so); the log keeps the scan
    as a conflict for the organisers."""
    if entry.first is not None:
        message = gettext("Checked in earlier today, but turned away by this door's list while offline")
    else:
        message = gettext("Registered, but turned away by this door's list while offline: not checked in")
    return CheckIn(ScanResult.TURNED_AWAY, entry.payload | {"status": "turned_away", "message": message})


def _scan_moment(scanned_at: datetime) -> datetime:
    """A device's `scanned_at` in UTC, once it is known to be no later than now (give or take the skew)."""
    if scanned_at.tzinfo is None:
        raise ScanTimeRejected(gettext("'scanned_at' needs a time zone offset, e.g. 2024-02-19T09:12:00+01:00."))
    try:
        moment = scanned_at.astimezone(UTC)
    except OverflowError:  # a moment of year 1 or 9999 that UTC puts outside the calendar
        if scanned_at.year > 1:
            raise ScanTimeRejected(gettext("'scanned_at' is in the future: check the device's clock.")) from None
        raise ScanTimeRejected(
            gettext(
                "The scan was made on %(scan_day)s, which is not a day of the session.",
                scan_day=scanned_at.date().isoformat(),
            )
        ) from None
    if moment > utcnow() + CLOCK_SKEW:
        raise ScanTimeRejected(gettext("'scanned_at' is in the future: check the device's clock."))
    return moment


def _scan_day(
    scanned_at: datetime, day: date | None, today: date, zone: ZoneInfo, manages: bool, session_days: dict
) -> date:
    """The day a queued scan checks in for: the scan's own, in the session's zone; refused when it is not the
    day named, not a day of the session, or, for door staff, not today, nor yesterday before noon: a door phone
    that lost the network in the afternoon may find it again only the next morning, and its scans must count."""
    scan_day = date_in(zone, scanned_at)
    yesterday_still = (
        scan_day == today - timedelta(days=1) and utcnow().astimezone(zone).time() < YESTERDAYS_SCANS_UNTIL
    )
    if day is not None and day != scan_day:
        raise ScanTimeRejected(
            gettext(
                "The scan was made on %(scan_day)s, not on %(day)s.", scan_day=scan_day.isoformat(), day=day.isoformat()
            )
        )
    if scan_day != today and not yesterday_still and not manages:
        raise ScanTimeRejected(
            gettext(
                "The scan was made on %(scan_day)s: door staff send the scans of today, and yesterday's until noon.",
                scan_day=scan_day.isoformat(),
            )
        )
    if scan_day not in session_days:
        raise ScanTimeRejected(
            gettext(
                "The scan was made on %(scan_day)s, which is not a day of the session.", scan_day=scan_day.isoformat()
            )
        )
    return scan_day


@dataclass
class _Entry:
    """A badge that may come in today: its attendance, unless the badge is in already."""

    attendance: dict
    first: sa.Row[Any] | None  # the day's attendance, when the badge was in already as we read it
    payload: dict  # what any answer says of the person and the day
    first_time: dict  # what a first check-in's answer adds, but for the new attendance's id
    zone: ZoneInfo
    scanned_at: datetime | None = None  # for a scan queued offline
    #: an earlier queued scan moves the day's first moment back: on a day gone by, only an organiser's does (door
    #: staff's late scans of yesterday add a missing check-in, never lengthen a measured one)
    may_move_back: bool = True


def _decide(
    badge: _Badge | None,
    door_session_id: int | None,
    day: date | None,
    actor: Actor,
    door: str,
    source: Source,
    note: str,
    event: dict,
) -> CheckIn | _Entry:
    """All the reading and wording of an answer, before anything is written."""
    if badge is None:
        return CheckIn(ScanResult.INVALID, {"status": "invalid", "message": gettext("Unknown or revoked badge")})
    row = badge.row
    payload = door_fields(row.id, row.full_name, row.organisation, row.entity_type, row.role, row.mode)
    if door_session_id is not None and row.session_id != door_session_id:
        if not actor.may_use(row.session_id):  # who is registered elsewhere is none of this door's business
            event["registration_id"] = None
            return CheckIn(
                ScanResult.WRONG_SESSION,
                {"status": "wrong_session", "message": gettext("Registered for another session, not this one")},
            )
        return CheckIn(
            ScanResult.WRONG_SESSION,
            payload
            | {
                "status": "wrong_session",
                "message": gettext("Registered for %(title)s, not this session", title=row.title),
            },
        )
    today = date_in(badge.zone)
    if event["scanned_at"] is not None:  # checked before any answer: a refused time records nothing
        day = _scan_day(event["scanned_at"], day, today, badge.zone, actor.manages(row.session_id), badge.days)
    if day is not None and day != today and event["scanned_at"] is None and not actor.manages(row.session_id):
        raise NotAllowed(
            gettext("Door staff check in for today only; an organiser of this session may name another day.")
        )
    event["session_id"] = row.session_id
    if row.status is RegistrationStatus.CANCELLED:
        return CheckIn(
            ScanResult.CANCELLED, payload | {"status": "cancelled", "message": gettext("Registration cancelled")}
        )
    if row.status is RegistrationStatus.PENDING:
        return CheckIn(
            ScanResult.NOT_APPROVED,
            payload | {"status": "pending", "message": gettext("Pending approval: not admitted")},
        )
    if row.status is RegistrationStatus.DECLINED:
        return CheckIn(
            ScanResult.NOT_APPROVED,
            payload | {"status": "declined", "message": gettext("Registration declined: not admitted")},
        )
    if row.waiting_since is not None and not row.online_meeting_url:  # Registration.waits_without_seat
        # Not admitted, as a pending one: the same result, so no new ScanResult value (its CHECK needs a migration).
        return CheckIn(
            ScanResult.NOT_APPROVED,
            payload | {"status": "waiting", "message": gettext("On the waiting list: no seat yet")},
        )
    day = day or today
    event["day"], payload["day"] = day, day.isoformat()
    day_row = badge.days.get(day)
    if day_row is None:
        return CheckIn(
            ScanResult.NOT_A_MEETING_DAY,
            payload
            | {
                "status": "not_a_meeting_day",
                "message": gettext("%(day)s is not a day of %(title)s", day=format_day(day), title=row.title),
            },
        )
    if day > today:  # nobody has come yet: its first moment would be made up
        raise ScanTimeRejected(
            gettext("%(day)s has not come yet: check people in on the day, or for a day gone by.", day=format_day(day))
        )
    first_moment = event["scanned_at"] or event["at"]
    return _Entry(
        attendance=dict(
            registration_id=row.id,
            day_id=day_row.day_id,
            mode=Mode.IN_PERSON,
            first_seen_at=first_moment,
            source=source,
            actor=actor.key,
            recorded_by=actor.label,
            door=door,
            note=note,
        ),
        first=day_row if day_row.attendance_id is not None else None,
        payload=payload,
        first_time={
            "status": "ok",
            "checked_in_at": first_moment.astimezone(badge.zone).isoformat(),
            "by": actor.label,
            "door": door,
            "message": gettext("Checked in"),
        },
        zone=badge.zone,
        scanned_at=event["scanned_at"],
        may_move_back=day == today or actor.manages(row.session_id),
    )


def _record(connection: sa.Connection, decision: CheckIn | _Entry, event: dict) -> CheckIn:
    """Writes the attempt: its log line, and for a first check-in the attendance too."""
    if not isinstance(decision, _Entry):
        sql.NEW_EVENT.rows(connection, **event, result=decision.result, response=decision.json)
        return decision
    entry, first = decision, decision.first
    # Between the badge's read and these writes, a rival scan may check the badge in, or an undo take its
    # check-in back: each write checks, and a change sends the scan the other way.
    for _attempt in range(5):
        if first is None:
            admitted = _admit(connection, entry, event)
            if admitted is not None:
                return admitted
            first = _first_attendance(connection, entry)
        if first is not None and entry.may_move_back and entry.scanned_at and entry.scanned_at < first.first_seen_at:
            moved = _move_back(connection, entry, event, first)
            if moved is not None:
                return moved
            first = _first_attendance(connection, entry)
            continue  # an earlier scan moved it first, or an undo removed it: look again
        if first is not None:
            repeat = _already_in(entry, first)
            if sql.REPEAT.rows(connection, **event, attendance_id=first.attendance_id, response=repeat.json):
                return repeat
            first = None
    raise RuntimeError("The badge's check-in for the day kept changing under this scan")


def _first_attendance(connection: sa.Connection, entry: _Entry) -> sa.Row[Any] | None:
    """The day's in-person attendance of the badge as it stands now, if any."""
    found = sql.FIRST_ATTENDANCE.rows(
        connection, registration_id=entry.attendance["registration_id"], day_id=entry.attendance["day_id"]
    )
    return found[0] if found else None


def _admit(connection: sa.Connection, entry: _Entry, event: dict) -> CheckIn | None:
    """Inserts the day's attendance and logs the scan as a first check-in; None, and nothing written, when the
    badge is in already. On PostgreSQL this is one statement, which commits on its own in a check-in request
    (see dbutil.autocommit); SQLite has no writing CTEs: two statements, in the transaction pysqlite begins."""
    in_one_statement = connection.dialect.name == "postgresql"
    if in_one_statement:
        created = sql.ADMIT.rows(
            connection,
            **event,
            day_id=entry.attendance["day_id"],
            first_seen_at=entry.attendance["first_seen_at"],
            response=CheckIn(ScanResult.OK, entry.payload | entry.first_time).json,
        )
    else:
        created = sql.NEW_ATTENDANCE.rows(connection, **entry.attendance)
    if not created:
        return None
    answer = CheckIn(ScanResult.OK, entry.payload | entry.first_time | {"attendance_id": created[0].id})
    if not in_one_statement:
        sql.NEW_EVENT.rows(connection, **event, result=answer.result, response=answer.json)
    return answer


def _move_back(connection: sa.Connection, entry: _Entry, event: dict, first: sa.Row[Any]) -> CheckIn | None:
    """The queued scan becomes the day's first moment; None, and nothing written, when the attendance is gone
    or has an earlier moment by now."""
    scanned_at = entry.scanned_at
    assert scanned_at is not None  # only a scan queued offline moves the first moment back
    first_at = scanned_at.astimezone(entry.zone)
    answer = CheckIn(
        ScanResult.ALREADY_CHECKED_IN,
        entry.payload
        | {
            "status": "already_checked_in",
            "attendance_id": first.attendance_id,
            "first_at": first_at.isoformat(),
            "by": event["recorded_by"],
            "door": event["door"],
            "earliest": True,
            "message": gettext(
                "Checked in: this scan, at %(time)s, was the first of the day", time=first_at.strftime("%H:%M")
            ),
        },
    )
    in_one_statement = connection.dialect.name == "postgresql"
    moved = sql.MOVE_BACK.rows(
        connection, **event, attendance_id=first.attendance_id, first_seen_at=scanned_at, response=answer.json
    )
    if not moved:
        return None
    if not in_one_statement:
        sql.NEW_EVENT.rows(connection, **event, result=answer.result, response=answer.json)
    return answer


def _already_in(entry: _Entry, first: sa.Row[Any]) -> CheckIn:
    """The answer to a badge that is in already: when, by whom and at which door it first came in."""
    first_at = first.first_seen_at.astimezone(entry.zone)
    message = (
        gettext(
            "Already checked in at %(time)s by %(by)s at %(door)s",
            time=first_at.strftime("%H:%M"),
            by=first.first_by,
            door=first.first_door,
        )
        if first.first_door and first.first_door != first.first_by
        # a scanner named after its door
        else gettext("Already checked in at %(time)s by %(by)s", time=first_at.strftime("%H:%M"), by=first.first_by)
    )
    return CheckIn(
        ScanResult.ALREADY_CHECKED_IN,
        entry.payload
        | {
            "status": "already_checked_in",
            "attendance_id": first.attendance_id,
            "first_at": first_at.isoformat(),
            "by": first.first_by,
            "door": first.first_door,
            "message": message,
        },
    )


def _replay(actor: Actor, nonce: str, event: dict) -> CheckIn | None:
    """The first answer to this actor's nonce; NonceReused when that nonce came with another badge."""
    stored = db.session.execute(
        sa.select(ScanEvent.result, ScanEvent.response, ScanEvent.registration_id, ScanEvent.token_excerpt).filter_by(
            actor=actor.key, nonce=nonce
        )
    ).first()
    if stored is None:
        return None
    if (stored.registration_id, stored.token_excerpt) != (event["registration_id"], event["token_excerpt"]):
        raise NonceReused(gettext("This nonce came with another scan before; send a new nonce with each scan."))
    # The stored result, not the answer's status: "pending" or "waiting" are words of one result, not_approved.
    return CheckIn(stored.result, json.loads(stored.response))


def describe(registration: Registration) -> dict:
    return door_fields(
        registration.id,
        registration.full_name,
        registration.organisation,
        registration.entity_type.local_name,
        registration.role,
        registration.mode,
    )


def door_fields(registration_id: int, name: str, organisation: str, entity_type: str, role: Role, mode: Mode) -> dict:
    """What a door needs to know of a person, and no more."""
    return {
        "registration_id": registration_id,
        "name": name,
        "entity": organisation,
        "entity_type": entity_type,
        "role": role.label,
        "mode": mode.value,
    }


class NotAllowed(Exception):
    """A check-in, undo or check-out that this actor may not make; the message says why."""


class NotUndoable(NotAllowed):
    """An undo of something that is no door check-in (an online attendance): a conflict, not a permission."""


class NonceReused(Exception):
    """A nonce (a retry's key) sent again with another badge: no retry, and not to be answered as one."""


class ScanTimeRejected(Exception):
    """A queued scan's `scanned_at` that cannot be (in the future, without an offset, or off the day), or a day
    named that has not come yet."""


class UnknownSession(Exception):
    """The scanner named a session that does not exist."""


def undo_check_in(attendance: Attendance, actor: Actor) -> None:
    """Takes back a door check-in made by mistake: within 15 minutes, by whoever made it or an organiser. Online
    attendance is the platform's evidence, not a door's mistake: it is never undone here."""
    if attendance.mode is not Mode.IN_PERSON:
        raise NotUndoable(
            gettext(
                "This is an online attendance, recorded from the video platform or a join link, "
                "not a door check-in: it cannot be undone."
            )
        )
    if attendance.actor != actor.key and not actor.manages(attendance.registration.session_id):
        raise NotAllowed(gettext("Only the person who checked them in, or an organiser of the session, can undo this."))
    if utcnow() - attendance.first_seen_at > UNDO_WINDOW:
        if actor.manages(attendance.registration.session_id):
            raise NotAllowed(
                gettext(
                    "Too late to undo: a check-in can be undone within 15 minutes. Remove it "
                    "on the session's attendance page instead."
                )
            )
        raise NotAllowed(gettext("Too late to undo: a check-in can be undone within 15 minutes. Ask an organiser."))
    _log_change(attendance, actor, ScanResult.UNDONE, "undo")
    db.session.delete(attendance)
    db.session.flush()


def remove_check_in(attendance: Attendance, actor: Actor, note: str) -> None:
    """An organiser deletes a day's in-person attendance (a check-in by mistake), logged as undone with the reason.
    Not committed."""
    if not actor.manages(attendance.registration.session_id):
        raise NotAllowed(gettext("Only organisers of the session can remove a check-in."))
    _log_change(attendance, actor, ScanResult.UNDONE, note)
    db.session.delete(attendance)


def check_out(attendance: Attendance, actor: Actor, at: datetime, note: str = "") -> None:
    """Records when a person checked in left: their in-person time ends there. Not committed."""
    if not actor.manages(attendance.registration.session_id):
        raise NotAllowed(gettext("Only organisers of the session can check people out."))
    if attendance.mode is not Mode.IN_PERSON:
        raise NotAllowed(gettext("Only an in-person attendance has a check-out."))
    meeting = attendance.registration.session
    if at < attendance.first_seen_at:
        raise NotAllowed(
            gettext(
                "The check-out cannot come before the check-in at %(time)s.",
                time=meeting.local(attendance.first_seen_at).strftime("%H:%M"),
            )
        )
    if at > utcnow() + CLOCK_SKEW:
        raise NotAllowed(gettext("The check-out cannot be in the future."))
    attendance.checked_out_at = at
    _log_change(
        attendance,
        actor,
        ScanResult.CHECKED_OUT,
        note or gettext("left at %(time)s", time=meeting.local(at).strftime("%H:%M")),
    )


def _log_change(attendance: Attendance, actor: Actor, result: ScanResult, note: str) -> None:
    registration = attendance.registration
    db.session.add(
        ScanEvent(
            session_id=registration.session_id,
            registration=registration,
            day=attendance.day.date,
            result=result,
            actor=actor.key,
            recorded_by=actor.label,
            door=attendance.door,
            source=Source.MANUAL,
            note=note[:500],
            response=json.dumps(describe(registration) | {"status": result.value}),
        )
    )

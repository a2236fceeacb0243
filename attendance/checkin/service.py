"""Checking people in, undoing and checking out: every change of in-person attendance happens here.

`check_in` is the one rule the scanner page, the JSON API, organisers' manual check-ins and the CLI share.
It is race-free without locks: the insert of the day's attendance does nothing on conflict with the
unique (registration, day, mode) constraint, so of two simultaneous scans exactly one creates the record.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import sqlalchemy as sa
from flask_babel import format_date, gettext
from sqlalchemy.exc import IntegrityError

from ..auth import Actor
from ..dbutil import insert_or_ignore
from ..extensions import db
from ..models import (Attendance, MeetingSession, Mode, Registration, RegistrationStatus, ScanEvent, ScanResult,
                      SessionDay, Source)
from ..models.meeting import utcnow
from ..tokens import BADGE_ALPHABET, BADGE_TOKEN_LENGTH

UNDO_WINDOW = timedelta(minutes=15)
_TOKEN_SHAPE = re.compile(f"[{BADGE_ALPHABET}]{{{BADGE_TOKEN_LENGTH}}}")

HTTP_STATUS = {
    ScanResult.OK: 201,
    ScanResult.ALREADY_CHECKED_IN: 200,
    ScanResult.INVALID: 404,
    ScanResult.CANCELLED: 409,
    ScanResult.NOT_A_MEETING_DAY: 409,
    ScanResult.WRONG_SESSION: 409,
}


@dataclass
class CheckIn:
    """The answer to a check-in attempt, as the door shows it and the API sends it."""
    result: ScanResult
    payload: dict = field(default_factory=dict)

    @property
    def http_status(self) -> int:
        return HTTP_STATUS[self.result]


def today_for(meeting: MeetingSession) -> date:
    return datetime.now(meeting.zone).date()


def token_excerpt(raw: str) -> str:
    """What the log keeps of a scanned code: never enough of a real badge token to use it."""
    return raw[:8]


def find_by_token(token: str) -> Registration | None:
    if not _TOKEN_SHAPE.fullmatch(token):
        return None  # lowercase, too short, other characters: no badge looks like that
    # One query for all a door answer needs: the person, their session and its days, their entity type.
    return db.session.scalar(
        sa.select(Registration).filter_by(badge_token=token)
        .options(sa.orm.joinedload(Registration.session).selectinload(MeetingSession.days),
                 sa.orm.joinedload(Registration.entity_type)))


def check_in(*, actor: Actor, token: str | None = None, registration: Registration | None = None,
             meeting: MeetingSession | None = None, day: date | None = None, door: str = "",
             source: Source = Source.SCAN, nonce: str | None = None, note: str = "") -> CheckIn:
    """Checks a badge (or, from a name search, a registration) in for a day, in person; logs the attempt.

    `meeting` is the session the door admits to, when known; `day` defaults to today in its time zone.
    A repeated `nonce` from the same actor gets the first answer and records nothing.
    """
    if nonce:
        replay = _replay(actor, nonce)
        if replay is not None:
            return replay
    scanned = token or ""
    if registration is None and token is not None:
        registration = find_by_token(token)
    event = ScanEvent(actor=actor.key, recorded_by=actor.label, door=door, source=source, nonce=nonce or None,
                      token_excerpt=token_excerpt(scanned), note=note, session=meeting, registration=registration)
    outcome = _decide(registration, meeting, day, actor, door, source, note, event)
    event.result = outcome.result
    event.response = json.dumps(outcome.payload)
    db.session.add(event)
    try:
        db.session.commit()
    except IntegrityError:
        # The same nonce, sent again while its first request was still running: answer as that one did.
        db.session.rollback()
        replay = _replay(actor, nonce) if nonce else None
        if replay is None:
            raise
        return replay
    return outcome


def _decide(registration: Registration | None, meeting: MeetingSession | None, day: date | None, actor: Actor,
            door: str, source: Source, note: str, event: ScanEvent) -> CheckIn:
    if source is not Source.SCAN and registration is not None and registration.session_id != getattr(meeting, "id",
                                                                                                       None):
        registration = event.registration = None  # a name search only reaches the door's own session
    if registration is None:
        return CheckIn(ScanResult.INVALID, {"status": "invalid", "message": gettext("Unknown or revoked badge")})
    payload = describe(registration)
    if meeting is not None and registration.session_id != meeting.id:
        return CheckIn(ScanResult.WRONG_SESSION, payload | {
            "status": "wrong_session",
            "message": gettext("Registered for %(title)s, not this session", title=registration.session.title)})
    meeting = registration.session
    if day is not None and day != today_for(meeting) and not actor.manages(meeting):
        raise NotAllowed(gettext("Door staff check in for today only; an organiser of this session may name "
                                 "another day."))
    event.session = meeting
    if registration.status is RegistrationStatus.CANCELLED:
        return CheckIn(ScanResult.CANCELLED, payload | {"status": "cancelled",
                                                        "message": gettext("Registration cancelled")})
    day = day or today_for(meeting)
    event.day = day
    payload["day"] = day.isoformat()
    session_day = next((d for d in meeting.days if d.date == day), None)
    if session_day is None:
        return CheckIn(ScanResult.NOT_A_MEETING_DAY, payload | {
            "status": "not_a_meeting_day",
            "message": gettext("%(day)s is not a day of %(title)s", day=format_date(day), title=meeting.title)})

    now = utcnow()
    created_id = _insert_attendance(registration.id, session_day.id, now, actor, door, source, note)
    if created_id is not None:
        return CheckIn(ScanResult.OK, payload | {
            "status": "ok", "attendance_id": created_id, "checked_in_at": meeting.local(now).isoformat(),
            "by": actor.label, "door": door, "message": gettext("Checked in")})
    first = db.session.scalar(sa.select(Attendance).filter_by(
        registration_id=registration.id, day_id=session_day.id, mode=Mode.IN_PERSON))
    first_at = meeting.local(first.first_seen_at)
    message = (gettext("Already checked in at %(time)s by %(by)s at %(door)s", time=first_at.strftime("%H:%M"),
                       by=first.recorded_by, door=first.door) if first.door else
               gettext("Already checked in at %(time)s by %(by)s", time=first_at.strftime("%H:%M"), by=first.recorded_by))
    return CheckIn(ScanResult.ALREADY_CHECKED_IN, payload | {
        "status": "already_checked_in", "attendance_id": first.id, "first_at": first_at.isoformat(),
        "by": first.recorded_by, "door": first.door, "message": message})


def _insert_attendance(registration_id: int, day_id: int, now: datetime, actor: Actor, door: str, source: Source,
                       note: str) -> int | None:
    """Inserts the day's in-person attendance; None when it already exists (no error, no lock wait after)."""
    return insert_or_ignore(Attendance, dict(
        registration_id=registration_id, day_id=day_id, mode=Mode.IN_PERSON, first_seen_at=now, source=source,
        actor=actor.key, recorded_by=actor.label, door=door, note=note), ["registration_id", "day_id", "mode"])


def _replay(actor: Actor, nonce: str) -> CheckIn | None:
    stored = db.session.scalar(sa.select(ScanEvent.response).filter_by(actor=actor.key, nonce=nonce))
    if stored is None:
        return None
    payload = json.loads(stored)
    return CheckIn(ScanResult(payload["status"]), payload)


def describe(registration: Registration) -> dict:
    """What a door needs to know of a person, and no more."""
    return {
        "registration_id": registration.id,
        "name": registration.full_name,
        "entity": registration.organisation,
        "entity_type": registration.entity_type.name,
        "role": registration.role.label,
        "mode": registration.mode.value,
    }


class NotAllowed(Exception):
    """An undo or check-out that this actor may not make; the message says why."""


def undo_check_in(attendance: Attendance, actor: Actor) -> None:
    """Takes back a check-in made by mistake: within 15 minutes, by whoever made it or an organiser."""
    if attendance.actor != actor.key and not actor.manages(attendance.registration.session):
        raise NotAllowed(gettext("Only the person who checked them in, or an organiser of the session, can undo this."))
    if utcnow() - attendance.first_seen_at > UNDO_WINDOW:
        raise NotAllowed(gettext("Too late to undo: a check-in can be undone within 15 minutes. Ask an organiser."))
    _remove(attendance, actor, ScanResult.UNDONE, note="undo")


def check_out(attendance: Attendance, actor: Actor, reason: str) -> None:
    """An organiser removes a day's attendance, with a reason kept in the log."""
    if not actor.manages(attendance.registration.session):
        raise NotAllowed("Only organisers of the session can check people out.")
    _remove(attendance, actor, ScanResult.CHECKED_OUT, note=reason)


def _remove(attendance: Attendance, actor: Actor, result: ScanResult, note: str) -> None:
    registration = attendance.registration
    db.session.add(ScanEvent(
        session_id=registration.session_id, registration=registration, day=attendance.day.date, result=result,
        actor=actor.key, recorded_by=actor.label, door=attendance.door, source=Source.MANUAL, note=note,
        response=json.dumps(describe(registration) | {"status": result.value}),
    ))
    db.session.delete(attendance)
    db.session.commit()


def door_counts(meeting: MeetingSession, day: date) -> dict:
    """Checked in on `day` against the people registered to come in person."""
    checked_in = db.session.scalar(
        sa.select(sa.func.count(Attendance.id)).join(SessionDay)
        .where(SessionDay.session_id == meeting.id, SessionDay.date == day, Attendance.mode == Mode.IN_PERSON)
    )
    expected = db.session.scalar(
        sa.select(sa.func.count(Registration.id)).where(
            Registration.session_id == meeting.id, Registration.mode == Mode.IN_PERSON,
            Registration.status == RegistrationStatus.REGISTERED)
    )
    return {"day": day.isoformat(), "checked_in": checked_in, "expected_in_person": expected}


def find_delegates(meeting: MeetingSession, query: str, day: date, limit: int = 20) -> list[dict]:
    """Door look-up by name (at least 3 characters): only what a door needs, and whether they are in today."""
    query = query.strip().lower()
    if len(query) < 3:
        raise ValueError(gettext("Type at least 3 characters of the name."))
    checked_in_today = (
        sa.select(Attendance.first_seen_at).join(SessionDay)
        .where(Attendance.registration_id == Registration.id, SessionDay.date == day,
               Attendance.mode == Mode.IN_PERSON)
        .scalar_subquery()
    )
    rows = db.session.execute(
        sa.select(Registration, checked_in_today)
        .where(Registration.session_id == meeting.id,
               sa.func.lower(Registration.full_name).contains(query, autoescape=True))
        .order_by(sa.func.lower(Registration.full_name)).limit(limit)
    ).all()
    return [describe(r) | {"status": r.status.value,
                           "checked_in_at": meeting.local(at).isoformat() if at else None}
            for r, at in rows]

"""Online attendance: join-link clicks, platform evidence (intervals), matching people to registrations.

Every change of online attendance happens here. Functions that take part in a larger transaction (a whole
report import, one webhook delivery) leave the commit to their caller; the others commit.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from flask_babel import force_locale

from .. import audit
from ..clock import utcnow
from ..dbutil import insert_or_ignore
from ..extensions import db
from ..models import (
    Attendance,
    IdentityMapping,
    MeetingSession,
    Mode,
    OnlineInterval,
    Registration,
    SessionDay,
    Source,
    UnmatchedPresence,
)
from ..models.registration import email_key
from ..text import search_key
from .intervals import Minutes, day_window, minutes_attended


def identity_keys(email: str = "", name: str = "") -> list[str]:
    """How a platform identity is recognised again: by email when it has one, else by name. Compared as
    registrations compare them: "José García" is "Jose Garcia", and an internationalised domain its ASCII form."""
    keys = []
    if email.strip():
        keys.append("email:" + email_key(email))
    if name.strip() and (name_key := search_key(name)):  # the strip: most rows of an email report have no name
        keys.append("name:" + name_key)
    return keys


def match(
    meeting: MeetingSession, *, email: str = "", name: str = "", registrant_id: str | None = None
) -> Registration | None:
    """The registration a platform participant is: by the platform's registrant id, then email, then a mapping."""
    if registrant_id:
        found = db.session.scalar(
            sa.select(Registration).filter_by(session_id=meeting.id, zoom_registrant_id=registrant_id)
        )
        if found is not None:
            return found
    if email.strip():
        found = db.session.scalar(sa.select(Registration).filter_by(session_id=meeting.id, email_key=email_key(email)))
        if found is not None:
            return found
    keys = identity_keys(email, name)
    if keys:
        return db.session.scalar(
            sa.select(Registration)
            .join(IdentityMapping, IdentityMapping.registration_id == Registration.id)
            .where(IdentityMapping.session_id == meeting.id, IdentityMapping.identity_key.in_(keys))
            .limit(1)
        )
    return None


def day_at(meeting: MeetingSession, moment: datetime) -> SessionDay | None:
    """The session day on which a moment falls, in the session's time zone."""
    local_date = meeting.day_on(moment)
    return next((day for day in meeting.days if day.date == local_date), None)


def ensure_online_attendance(registration: Registration, day: SessionDay, seen_at: datetime, source: Source) -> int:
    """The registration's online attendance for the day, created on first evidence; keeps the earliest time."""
    with force_locale("en"):  # stored: the same words whichever language the page that led here was in
        recorded_by = source.label
    created = insert_or_ignore(
        Attendance,
        dict(
            registration_id=registration.id,
            day_id=day.id,
            mode=Mode.ONLINE,
            first_seen_at=seen_at,
            source=source,
            recorded_by=recorded_by,
        ),
        ["registration_id", "day_id", "mode"],
    )
    if created is not None:
        return created
    db.session.execute(
        sa.update(Attendance)
        .where(
            Attendance.registration_id == registration.id,
            Attendance.day_id == day.id,
            Attendance.mode == Mode.ONLINE,
            Attendance.first_seen_at > seen_at,
        )
        .values(first_seen_at=seen_at)
    )
    return db.session.execute(
        sa.select(Attendance.id).filter_by(registration_id=registration.id, day_id=day.id, mode=Mode.ONLINE)
    ).scalar_one()


def record_presence(
    meeting: MeetingSession,
    day: SessionDay,
    registration: Registration | None,
    *,
    joined_at: datetime,
    left_at: datetime | None,
    source: Source,
    source_key: str,
    email: str = "",
    name: str = "",
) -> str:
    """Stores one interval of platform evidence; returns "interval", "unmatched" or "duplicate". No commit."""
    if registration is not None:
        attendance_id = ensure_online_attendance(registration, day, joined_at, source)
        created = insert_or_ignore(
            OnlineInterval,
            dict(
                attendance_id=attendance_id, joined_at=joined_at, left_at=left_at, source=source, source_key=source_key
            ),
            ["attendance_id", "source", "source_key"],
        )
        return "interval" if created is not None else "duplicate"
    keys = identity_keys(email, name)
    created = insert_or_ignore(
        UnmatchedPresence,
        dict(
            session_id=meeting.id,
            day_id=day.id,
            identity_key=keys[0] if keys else "unknown",
            display_name=name[:300],
            email=email[:254],
            joined_at=joined_at,
            left_at=left_at,
            source=source,
            source_key=source_key,
        ),
        ["session_id", "source", "source_key"],
    )
    return "unmatched" if created is not None else "duplicate"


@dataclass
class JoinAnswer:
    """Where a join-link click leads: the meeting, or a page that says why not."""

    redirect_to: str = ""
    refusal: str = ""  # "cancelled", "no_link", "not_yet", "ended", "not_today"
    next_day: SessionDay | None = None


def log_link_click(registration: Registration, now: datetime | None = None) -> JoinAnswer:
    """Records an online attendance for today (source: link) and says where to send the delegate."""
    meeting = registration.session
    if registration.is_cancelled:
        return JoinAnswer(refusal="cancelled")
    if not registration.is_registered and not registration.waits_without_seat:  # pending approval, or declined
        return JoinAnswer(refusal="not_approved")
    target = registration.personal_join_url or meeting.online_meeting_url
    if not target:
        return JoinAnswer(refusal="no_link")
    today = meeting.today()
    day = next((d for d in meeting.days if d.date == today), None)
    if day is None:
        upcoming = [d for d in meeting.days if d.date > today]
        if not upcoming:
            return JoinAnswer(refusal="ended")
        refusal = "not_yet" if upcoming[0] is meeting.days[0] else "not_today"
        return JoinAnswer(refusal=refusal, next_day=upcoming[0])
    ensure_online_attendance(registration, day, now or utcnow(), Source.LINK)
    return JoinAnswer(redirect_to=target)


def map_identity(meeting: MeetingSession, identity_key: str, registration: Registration, by: str) -> int:
    """Remembers that a platform identity is this registration (audited), and moves its waiting presences over.
    Returns how many intervals moved."""
    if registration.session_id != meeting.id:
        raise ValueError("registration of another session")
    audit.record(
        "online.map_identity",
        session_id=meeting.id,
        target=identity_key,
        details=f"registration {registration.id}",
        actor=by,
    )
    insert_or_ignore(
        IdentityMapping,
        dict(session_id=meeting.id, identity_key=identity_key, registration_id=registration.id, created_by=by),
        ["session_id", "identity_key"],
    )
    waiting = db.session.scalars(
        sa.select(UnmatchedPresence).filter_by(session_id=meeting.id, identity_key=identity_key)
    ).all()
    for presence in waiting:
        record_presence(
            meeting,
            presence.day,
            registration,
            joined_at=presence.joined_at,
            left_at=presence.left_at,
            source=presence.source,
            source_key=presence.source_key,
        )
        db.session.delete(presence)
    return len(waiting)


@dataclass
class OnlineDayRow:
    registration: Registration
    attendance: Attendance
    minutes: Minutes
    scheduled_minutes: float
    sources: list[Source]

    @property
    def link_only(self) -> bool:
        return not self.attendance.intervals


def online_day(meeting: MeetingSession, day: SessionDay) -> list[OnlineDayRow]:
    """Everyone with online attendance on the day: minutes from platform intervals, or a link click alone."""
    start, end = day_window(day)
    scheduled = (end - start).total_seconds() / 60
    attendances = db.session.scalars(
        sa.select(Attendance)
        .filter_by(day_id=day.id, mode=Mode.ONLINE)
        .options(sa.orm.selectinload(Attendance.intervals), sa.orm.joinedload(Attendance.registration))
    ).all()
    rows = [
        OnlineDayRow(
            a.registration,
            a,
            minutes_attended([(i.joined_at, i.left_at) for i in a.intervals], start, end),
            scheduled,
            sorted({i.source for i in a.intervals}),
        )
        for a in attendances
    ]
    return sorted(rows, key=lambda row: row.registration.name_key)


def minutes_on(registration: Registration, day: SessionDay) -> Minutes:
    """Minutes a registration attended online on a day, from platform evidence only."""
    intervals = db.session.execute(
        sa.select(OnlineInterval.joined_at, OnlineInterval.left_at)
        .join(Attendance)
        .where(Attendance.registration_id == registration.id, Attendance.day_id == day.id)
    ).all()
    return minutes_attended(intervals, *day_window(day))


def unmatched_people(meeting: MeetingSession, day: SessionDay | None = None) -> list[dict]:
    """People seen online whom no registration matches, one entry per identity."""
    query = sa.select(UnmatchedPresence).filter_by(session_id=meeting.id)
    if day is not None:
        query = query.filter_by(day_id=day.id)
    people: dict[str, dict] = {}
    for presence in db.session.scalars(query.order_by(UnmatchedPresence.joined_at)):
        person = people.setdefault(
            presence.identity_key,
            {
                "identity_key": presence.identity_key,
                "name": presence.display_name,
                "email": presence.email,
                "sources": set(),
                "intervals": 0,
            },
        )
        person["sources"].add(presence.source)
        person["intervals"] += 1
    return sorted(people.values(), key=lambda p: search_key(p["name"] or p["email"]))

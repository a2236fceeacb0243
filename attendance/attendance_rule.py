"""What counts as attendance: the one rule the headcount, certificates, organisers' pages, the delegate's page and
the JSON API all read, per registration and session day.

- **In person**: a door check-in that day (scan, name search or by hand).
- **Online**: platform evidence (Zoom, Teams, a CSV report) of at least the session's share of the day's scheduled
  time (`MeetingSession.certificate_online_percent`, and never less than one minute); or, where the session
  accepts link clicks (`certificate_accepts_link_click`), a join-link click when the platform has no data on the
  person that day: then "joined by link", never minutes.
- A person counts once a day: in person wins over online.

What was measured goes with it: in person, from the first check-in (clipped to the day's start) to the check-out,
or to the day's end when there is none; online, the union of the platform's intervals within the day's hours.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from itertools import groupby

import sqlalchemy as sa
from flask_babel import gettext, ngettext

from .clock import utcnow
from .extensions import db
from .formatting import format_duration
from .models import Attendance, MeetingSession, Mode, OnlineInterval, Registration, SessionDay, Source
from .online.intervals import day_window, minutes_attended

IN_PERSON, ONLINE = Mode.IN_PERSON.value, Mode.ONLINE.value


def scheduled_minutes(day: SessionDay) -> float:
    start, end = day_window(day)
    return (end - start).total_seconds() / 60


def online_minutes_needed(meeting: MeetingSession, day: SessionDay) -> int:
    """The platform minutes that make an online day: the session's share of the scheduled time, at least one."""
    return max(1, math.ceil(meeting.certificate_online_percent / 100 * scheduled_minutes(day)))


@dataclass
class DayRecord:
    """One registration's day, judged by the rule, with what was measured."""

    day: SessionDay
    #: "in_person", "online" or "" (did not attend by the rule)
    mode: str = ""
    #: counted online on a join-link click alone: "joined by link", no minutes
    by_link: bool = False
    #: minutes measured in the counted mode (in person: check-in to check-out or the day's end); None: not measured
    minutes: float | None = None
    #: the platform's minutes that day, counted or not
    online_minutes: float = 0.0
    online_needed: int = 0
    #: the in-person stretch measured; `until_day_end` when no check-out was recorded
    present_from: datetime | None = None
    present_until: datetime | None = None
    until_day_end: bool = False
    #: a record exists but does not count (online below the threshold, or a link click the session does not accept)
    clicked_link: bool = False
    #: how it was learned: the Source of the day's records (and of the platform's intervals)
    sources: list[Source] = field(default_factory=list)
    #: the day's scheduled hours have ended
    over: bool = True
    #: in person, checked in once the day was over (recorded after the fact): no time was measured
    time_unknown: bool = False
    #: in person today, with no check-out yet: the time is not known until they leave or the day ends
    in_progress: bool = False

    @property
    def attended(self) -> bool:
        return bool(self.mode)


def judge_day(
    meeting: MeetingSession,
    day: SessionDay,
    in_person: Attendance | Evidence | None,
    online: Attendance | Evidence | None,
    plan: DayPlan | None = None,
) -> DayRecord:
    """The rule for one day, from the day's in-person and online attendance records (either may be None).
    `plan`: the day's from `day_plans`, when the caller judges many registrations' days."""
    start, end, needed, over = plan or day_plan(meeting, day, utcnow())
    record = DayRecord(
        day,
        online_needed=needed,
        over=over,
        sources=list(
            dict.fromkeys(
                [a.source for a in (in_person, online) if a is not None]
                + [i.source for i in (online.intervals if online else [])]
            )
        ),
    )
    if online is not None:
        record.online_minutes = minutes_attended(
            [(i.joined_at, i.left_at) for i in online.intervals], start, end
        ).minutes
    if in_person is not None:
        record.mode = IN_PERSON
        checked_out = in_person.checked_out_at
        if in_person.first_seen_at >= end:
            # Recorded once the day was over (by hand, after the fact): they came, but nobody measured when.
            record.time_unknown = True
        else:
            present_from = record.present_from = max(in_person.first_seen_at, start)
            record.until_day_end = checked_out is None or checked_out >= end
            if record.until_day_end and not record.over:
                record.in_progress = True  # no end yet: nothing to count until they check out or the day ends
            else:
                present_until = end if checked_out is None or checked_out >= end else max(checked_out, present_from)
                record.present_until = present_until
                record.minutes = (present_until - present_from).total_seconds() / 60
    elif online is not None:
        if not counts_online(meeting, bool(online.intervals), record.online_minutes, record.online_needed):
            record.clicked_link = not online.intervals
        elif online.intervals:
            record.mode, record.minutes = ONLINE, record.online_minutes
        else:
            record.mode, record.by_link = ONLINE, True
    return record


def counts_online(meeting: MeetingSession, has_intervals: bool, minutes: float, needed: int) -> bool:
    """Whether a day's online record, with no door record that day, makes the day online: the platform's minutes
    reach the threshold, or, with no platform data at all, a join-link click the session accepts."""
    return minutes >= needed if has_intervals else meeting.certificate_accepts_link_click


def describe_day(meeting: MeetingSession, record: DayRecord) -> str:
    """The day as measured, in words: "in person, from 13:12 to the end of the day: 3 h 48 min", "online: 2 h 10
    min", "joined by link"..."""
    if record.mode == IN_PERSON and record.time_unknown:
        return gettext("in person · time not recorded (checked in after the day was over)")
    if record.mode == IN_PERSON:
        assert record.present_from is not None  # measure_day sets it for every in-person day it could time
        start = meeting.local(record.present_from).strftime("%H:%M")
        if record.in_progress:
            return gettext("in person since %(start)s · day in progress", start=start)
        assert record.minutes is not None
        if record.until_day_end:
            return gettext(
                "in person, from %(start)s to the end of the day: %(duration)s",
                start=start,
                duration=format_duration(record.minutes),
            )
        assert record.present_until is not None  # measured with an end, as minutes are
        return gettext(
            "in person, from %(start)s to %(end)s: %(duration)s",
            start=start,
            end=meeting.local(record.present_until).strftime("%H:%M"),
            duration=format_duration(record.minutes),
        )
    if record.by_link:
        return gettext("online · joined by link")
    if record.mode == ONLINE:
        assert record.minutes is not None  # an online day counts by its minutes (by_link went above)
        return gettext("online · %(duration)s", duration=format_duration(record.minutes))
    if not record.over:
        return gettext("still to come")
    if record.online_minutes > 0:
        return ngettext(
            "online %(num)d minute: fewer than the %(needed)d needed",
            "online %(num)d minutes: fewer than the %(needed)d needed",
            round(record.online_minutes),
            needed=record.online_needed,
        )
    if record.clicked_link:
        return gettext("clicked the join link, but the platform has no record: not counted")
    return gettext("did not attend")


#: a day's window (moments in UTC), the online minutes that make it, and whether it is over
DayPlan = tuple[datetime, datetime, int, bool]


def day_plan(meeting: MeetingSession, day: SessionDay, now: datetime) -> DayPlan:
    start, end = day_window(day)
    return start, end, online_minutes_needed(meeting, day), end <= now


def day_plans(meeting: MeetingSession) -> list[DayPlan]:
    """Each day's plan: the same for every registration, so worked out once when judging many."""
    now = utcnow()
    return [day_plan(meeting, day, now) for day in meeting.days]


def judge(
    meeting: MeetingSession, attendances: Iterable[Attendance | Evidence], plans: list[DayPlan] | None = None
) -> list[DayRecord]:
    """Every day of the session for one registration, from all its attendance records (intervals loaded)."""
    by_day_mode = {(a.day_id, a.mode): a for a in attendances}
    return [
        judge_day(meeting, day, by_day_mode.get((day.id, Mode.IN_PERSON)), by_day_mode.get((day.id, Mode.ONLINE)), plan)
        for day, plan in zip(meeting.days, plans or day_plans(meeting))
    ]


@dataclass(slots=True)
class Evidence:
    """What the rule reads of an attendance record, without the ORM's cost per object (the headcount reads
    20,000 of them): the record's columns and its platform intervals (rows of joined_at, left_at, source)."""

    registration_id: int
    day_id: int
    mode: Mode
    source: Source
    first_seen_at: datetime
    checked_out_at: datetime | None
    intervals: list[sa.Row] = field(default_factory=list)


def attendances_of(registration_ids: list[int]) -> dict[int, list[Evidence]]:
    """The attendance records of many registrations, with their intervals, in two queries."""
    found: dict[int, list[Evidence]] = defaultdict(list)
    if not registration_ids:
        return found
    of_them = Attendance.registration_id.in_(registration_ids)
    records = {
        row[0]: Evidence(*row[1:])
        for row in db.session.execute(
            sa.select(
                Attendance.id,
                Attendance.registration_id,
                Attendance.day_id,
                Attendance.mode,
                Attendance.source,
                Attendance.first_seen_at,
                Attendance.checked_out_at,
            ).where(of_them)
        )
    }
    for interval in db.session.execute(
        sa.select(OnlineInterval.attendance_id, OnlineInterval.joined_at, OnlineInterval.left_at, OnlineInterval.source)
        .join(Attendance)
        .where(of_them)
    ):
        records[interval.attendance_id].intervals.append(interval)
    for evidence in records.values():
        found[evidence.registration_id].append(evidence)
    return found


def days_of(registration: Registration) -> list[DayRecord]:
    """One registration's days, judged by the rule."""
    return judge(registration.session, attendances_of([registration.id])[registration.id])


def session_days_of(meeting: MeetingSession, registrations: Sequence[Registration]) -> dict[int, list[DayRecord]]:
    """Many registrations of one session, judged by the rule, in two queries whatever their number."""
    found = attendances_of([r.id for r in registrations])
    plans = day_plans(meeting)
    return {r.id: judge(meeting, found[r.id], plans) for r in registrations}


def attended_days(meeting: MeetingSession, registrations: sa.ColumnElement[bool]) -> dict[int, tuple[int, int]]:
    """The days attended by the rule, in person and online, as two bit masks over `meeting.days` (bit i: the i-th
    day), for every registration matching `registrations` (a condition on `Registration`, such as
    `Registration.counted_in(meeting)`) that has an attendance record: the headcount's question for a whole
    session, in two queries.

    The same rule as `judge_day`, asking only what the headcount counts: a door record makes the day in person,
    whatever its times; an online record is measured only on a day with no door record."""
    day_bits = {day.id: 1 << i for i, day in enumerate(meeting.days)}
    if not day_bits:
        return {}
    ours = sa.and_(registrations, Attendance.day_id.in_(list(day_bits)))
    # Records are unique per registration, day and mode: a sum of the days' bits is their union.
    bits = sa.case(*((Attendance.day_id == day_id, bit) for day_id, bit in day_bits.items()), else_=0)
    connection = db.session.connection()  # plain rows: the ORM's work per row costs more than the rule here
    in_person: dict[int, int] = dict(
        connection.execute(
            sa.select(Attendance.registration_id, sa.func.sum(bits))
            .join(Registration)
            .where(ours, Attendance.mode == Mode.IN_PERSON)
            .group_by(Attendance.registration_id)
        ).all()
    )
    # The platform's moments as stored (naive UTC), against each day's window made naive the same way: the
    # conversion of 20,000 intervals to aware moments costs more than the rule itself.
    windows = {
        day.id: (start.replace(tzinfo=None), end.replace(tzinfo=None), needed)
        for day, (start, end, needed, _) in zip(meeting.days, day_plans(meeting))
    }
    online: dict[int, int] = defaultdict(int)
    records = connection.execute(
        sa.select(
            Attendance.id,
            Attendance.registration_id,
            Attendance.day_id,
            sa.type_coerce(OnlineInterval.joined_at, sa.DateTime()),
            sa.type_coerce(OnlineInterval.left_at, sa.DateTime()),
        )
        .join(Registration)
        .outerjoin(OnlineInterval, OnlineInterval.attendance_id == Attendance.id)
        .where(ours, Attendance.mode == Mode.ONLINE)
        .order_by(Attendance.id)
    ).all()
    for (_, registration_id, day_id), rows in groupby(records, key=lambda row: tuple(row[:3])):
        if in_person.get(registration_id, 0) & day_bits[day_id]:
            continue  # in person that day: the platform's minutes change nothing
        start, end, needed = windows[day_id]
        intervals = [(joined, left) for *_, joined, left in rows if joined is not None]
        minutes = minutes_attended(intervals, start, end).minutes if intervals else 0.0
        if counts_online(meeting, bool(intervals), minutes, needed):
            online[registration_id] |= day_bits[day_id]
    return {
        registration_id: (in_person.get(registration_id, 0), online.get(registration_id, 0))
        for registration_id in in_person.keys() | online.keys()
    }

"""The headcount: per entity type and per region, registered and attended, in person and online.

Every day of every active registration is judged by the one attendance rule (`attendance_rule.attended_days`,
the rule of the certificates, pages and API asked only what is counted here), so every format (page, CSV, XLSX,
PDF, JSON) shows the same numbers from the same function.

Definitions, for each scope (a day, or the whole session):
- registered in person / online: active registrations by the mode they registered in;
- attended in person: attended in person by the rule (on the day; on any day for the whole session);
- attended online only: attended online by the rule and not in person (that day; on no day for the whole
  session), so that a person counts once;
- no-shows: active registrations who attended neither way.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date

import sqlalchemy as sa
from flask_babel import gettext
from flask_babel import lazy_gettext as _l

from ..attendance_rule import ONLINE, attended_days, judge_day, online_minutes_needed
from ..extensions import db
from ..formatting import format_day
from ..models import Attendance, MeetingSession, Mode, Registration, SessionDay
from ..registration.approval import pending_count

COLUMNS = [
    "registered_in_person",
    "registered_online",
    "attended_in_person",
    "attended_online",
    "no_shows",
    "total_attended",
]
#: column headings for people (the CSV keeps the column names above, for tools), in the reader's language
LABELS = {
    "registered_in_person": _l("Registered in person"),
    "registered_online": _l("Registered online"),
    "attended_in_person": _l("Attended in person"),
    "attended_online": _l("Attended online only"),
    "no_shows": _l("No-shows"),
    "total_attended": _l("Total attended"),
}


def explain_columns(meeting: MeetingSession) -> dict[str, str]:
    """A sentence per column saying what it counts, by the session's own settings: for the page, PDF and XLSX."""
    link = (
        gettext(
            "A join-link click counts as attending online (\u201cjoined by link\u201d, no minutes) when the "
            "platform has no record of the person that day."
        )
        if meeting.certificate_accepts_link_click
        else gettext("A join-link click alone does not count: it shows an intention, not presence.")
    )
    return {
        "registered_in_person": gettext(
            "Active registrations (cancelled ones are not counted) that chose to attend in person."
        ),
        "registered_online": gettext("Active registrations that chose to attend online."),
        "attended_in_person": gettext(
            "Checked in at the door that day (for the whole session: on at least one "
            "day), whatever mode they registered in."
        ),
        "attended_online": gettext(
            "Not checked in at the door, but seen by the video platform for at least %(percent)d %% of the "
            "day's scheduled hours (at least one minute). %(link)s",
            percent=meeting.certificate_online_percent,
            link=link,
        ),
        "no_shows": gettext(
            "Active registrations that attended neither in person nor online by these rules "
            "(for the whole session: on no day)."
        ),
        "total_attended": gettext("In person plus online only: each person counts once."),
    }


def online_thresholds(meeting: MeetingSession) -> list[tuple[SessionDay, int]]:
    """The platform minutes that make an online day, day by day."""
    return [(day, online_minutes_needed(meeting, day)) for day in meeting.days]


@dataclass
class Row:
    label: str
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(COLUMNS, 0))

    def add(self, counts: dict[str, int]) -> None:
        for column in COLUMNS:
            self.counts[column] += counts[column]


@dataclass
class Scope:
    """One table pair: a day, or the whole session."""

    key: str  # "session" or "YYYY-MM-DD"
    title: str
    by_entity_type: list[Row]
    by_region: list[Row]
    total: Row


@dataclass
class Headcount:
    meeting: MeetingSession
    scopes: list[Scope]
    #: registrations waiting for an organiser's approval: not counted anywhere above
    pending_approval: int = 0

    @property
    def session(self) -> Scope:
        return self.scopes[0]

    @property
    def registrations_counted(self) -> int:
        """The active registrations the report counts, each once: for the audit log of its exports."""
        total = self.session.total.counts
        return total["registered_in_person"] + total["registered_online"]

    def as_dict(self) -> dict:
        def table(rows: list[Row]) -> list[dict]:
            return [{"label": row.label, **row.counts} for row in rows]

        return {
            "slug": self.meeting.slug,
            "title": self.meeting.title,
            "pending_approval": self.pending_approval,
            "days": [d.date.isoformat() for d in self.meeting.days],
            "columns": COLUMNS,
            # the attendance rule the numbers follow, as the certificates do
            "rule": {
                "online_percent": self.meeting.certificate_online_percent,
                "online_minutes_needed": {
                    day.date.isoformat(): minutes for day, minutes in online_thresholds(self.meeting)
                },
                "link_click_counts": self.meeting.certificate_accepts_link_click,
            },
            "scopes": [
                {
                    "scope": s.key,
                    "title": s.title,
                    "by_entity_type": table(s.by_entity_type),
                    "by_region": table(s.by_region),
                    "total": s.total.counts,
                }
                for s in self.scopes
            ],
        }


#: what a scope counts of the people who share a key: (entity type id, region id, counts per column)
Tally = Counter[tuple[int, int, tuple[int, ...]]]


def _tallies(meeting: MeetingSession) -> list[Tally]:
    """How many registrations share each (entity type id, region id, counts) for the whole session, then for each
    day: a few dozen distinct keys to add up rather than a row of counts per registration. Registrations are
    counted in SQL; only those with an attendance record are read one by one (`attended_days`)."""
    counted = Registration.counted_in(meeting)
    days = attended_days(meeting, counted)
    registrations = (
        db.session.connection()
        .execute(
            sa.select(
                Registration.id,
                Registration.entity_type_id,
                Registration.region_id,
                sa.case((Registration.mode == Mode.IN_PERSON, True), else_=False),
            ).where(counted)
        )
        .all()
    )
    # (entity type, region, registered in person, days in person, days online): people sharing one count alike
    people = Counter(
        (type_id, region_id, in_person, *days.get(id, (0, 0))) for id, type_id, region_id, in_person in registrations
    )
    scopes = [(1 << len(meeting.days)) - 1] + [1 << i for i in range(len(meeting.days))]
    tallies = []
    for scope in scopes:
        tally: Tally = Counter()
        for (type_id, region_id, registered_in_person, days_in_person, days_online), number in people.items():
            in_person = bool(days_in_person & scope)
            online_only = not in_person and bool(days_online & scope)
            counts = (
                int(registered_in_person),
                int(not registered_in_person),
                int(in_person),
                int(online_only),
                int(not in_person and not online_only),
                int(in_person or online_only),
            )
            tally[type_id, region_id, counts] += number
        tallies.append(tally)
    return tallies


def _scope(meeting: MeetingSession, counted: Tally, day: SessionDay | None) -> Scope:
    by_type: dict[int, dict] = defaultdict(lambda: dict.fromkeys(COLUMNS, 0))
    by_region: dict[int, dict] = defaultdict(lambda: dict.fromkeys(COLUMNS, 0))
    total = Row(gettext("Total"))
    for (type_id, region_id, values), people in counted.items():
        counts = {column: value * people for column, value in zip(COLUMNS, values)}
        for column in COLUMNS:
            by_type[type_id][column] += counts[column]
            by_region[region_id][column] += counts[column]
        total.add(counts)
    # Every entity type and region gets a row, zeros included.
    type_rows = [Row(t.local_name, by_type[t.id]) for t in meeting.entity_types]
    region_rows = [Row(r.local_name, by_region[r.id]) for r in meeting.regions]
    if day is None:
        return Scope("session", gettext("Whole session (a person counts once)"), type_rows, region_rows, total)
    return Scope(day.date.isoformat(), format_day(day.date), type_rows, region_rows, total)


def headcount(meeting: MeetingSession) -> Headcount:
    session, *days = _tallies(meeting)
    scopes = [_scope(meeting, session, None)]
    scopes += [_scope(meeting, tally, day) for tally, day in zip(days, meeting.days)]
    return Headcount(meeting, scopes, pending_count(meeting))


HEADLINE_COLUMNS = ("registered_in_person", "registered_online", "attended_in_person", "attended_online")


def headline(meeting: MeetingSession, today: date) -> dict[str, dict[str, int]]:
    """The four numbers at the top of the organiser's registrations page, as `headcount()` counts them, in a
    constant few queries that never load the whole session: {"session": {...}, "today": {...}}, "today" only when
    `today` is one of the session's days (then its attendance columns are that day's).

    Registrations are counted in SQL; in person is a door record (the rule needs nothing more); online only is
    judged by the rule, but only for the few who have an online record in the scope and no in-person one."""
    active = Registration.counted_in(meeting)
    registered = dict(
        db.session.execute(
            sa.select(Registration.mode, sa.func.count()).where(active).group_by(Registration.mode)
        ).all()
    )
    numbers = {
        "session": {
            "registered_in_person": registered.get(Mode.IN_PERSON, 0),
            "registered_online": registered.get(Mode.ONLINE, 0),
        }
    }
    today_day = next((day for day in meeting.days if day.date == today), None)
    scope_days = [today_day] if today_day else list(meeting.days)
    scope = "today" if today_day else "session"
    day_ids = [day.id for day in scope_days]
    in_person = (
        sa.select(Attendance.registration_id)
        .join(Registration)
        .where(active, Attendance.mode == Mode.IN_PERSON, Attendance.day_id.in_(day_ids))
    )
    numbers.setdefault(scope, {})["attended_in_person"] = db.session.execute(
        sa.select(sa.func.count()).select_from(in_person.distinct().subquery())
    ).scalar_one()
    online_records = (
        db.session.scalars(
            sa.select(Attendance)
            .join(Registration)
            .where(
                active,
                Attendance.mode == Mode.ONLINE,
                Attendance.day_id.in_(day_ids),
                Attendance.registration_id.not_in(in_person),
            )
            .options(sa.orm.joinedload(Attendance.intervals))
        )
        .unique()
        .all()
    )
    days = {day.id: day for day in scope_days}
    numbers[scope]["attended_online"] = len(
        {
            record.registration_id
            for record in online_records
            if judge_day(meeting, days[record.day_id], None, record).mode == ONLINE
        }
    )
    return numbers

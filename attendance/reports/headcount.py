"""The headcount: per entity type and per region, registered and attended, in person and online.

Computed with SQL aggregation, one query per scope (each day, and the whole session), so every format (page,
CSV, XLSX, PDF, JSON) shows the same numbers from the same function.

Definitions, for each scope:
- registered in person / online: active registrations by the mode they registered in;
- attended in person: checked in at the door (on the day; on any day for the whole session);
- attended online: platform evidence (or a join-link click, when the session accepts those) and not in person
  (that day; on no day for the whole session), so that a person counts once;
- no-shows: active registrations who attended neither way.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

import sqlalchemy as sa

from ..extensions import db
from ..models import Attendance, MeetingSession, Mode, OnlineInterval, Registration, RegistrationStatus, SessionDay

COLUMNS = ["registered_in_person", "registered_online", "attended_in_person", "attended_online", "no_shows",
           "total_attended"]
LABELS = {
    "registered_in_person": "Registered in person", "registered_online": "Registered online",
    "attended_in_person": "Attended in person", "attended_online": "Attended online only",
    "no_shows": "No-shows", "total_attended": "Total attended",
}


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
            "slug": self.meeting.slug, "title": self.meeting.title,
            "days": [d.date.isoformat() for d in self.meeting.days],
            "columns": COLUMNS,
            "scopes": [{"scope": s.key, "title": s.title, "by_entity_type": table(s.by_entity_type),
                        "by_region": table(s.by_region), "total": s.total.counts} for s in self.scopes],
        }


def _counts(meeting: MeetingSession, day: SessionDay | None) -> list[tuple[int, int, dict[str, int]]]:
    """(entity type id, region id, counts) for the scope, one SQL query grouped by both."""
    def evidence(mode: Mode):
        condition = sa.and_(Attendance.registration_id == Registration.id, Attendance.mode == mode)
        if day is not None:
            condition = sa.and_(condition, Attendance.day_id == day.id)
        if mode is Mode.ONLINE and not meeting.certificate_accepts_link_click:
            condition = sa.and_(condition, sa.exists().where(OnlineInterval.attendance_id == Attendance.id))
        return sa.exists().where(condition)

    in_person, online = evidence(Mode.IN_PERSON), evidence(Mode.ONLINE)

    def count(condition):
        return sa.func.sum(sa.case((condition, 1), else_=0))

    rows = db.session.execute(
        sa.select(Registration.entity_type_id, Registration.region_id,
                  count(Registration.mode == Mode.IN_PERSON), count(Registration.mode == Mode.ONLINE),
                  count(in_person), count(sa.and_(~in_person, online)), count(sa.and_(~in_person, ~online)))
        .where(Registration.session_id == meeting.id, Registration.status == RegistrationStatus.REGISTERED)
        .group_by(Registration.entity_type_id, Registration.region_id)
    ).all()
    result = []
    for type_id, region_id, reg_ip, reg_on, att_ip, att_on, no_shows in rows:
        counts = {"registered_in_person": reg_ip or 0, "registered_online": reg_on or 0,
                  "attended_in_person": att_ip or 0, "attended_online": att_on or 0, "no_shows": no_shows or 0,
                  "total_attended": (att_ip or 0) + (att_on or 0)}
        result.append((type_id, region_id, counts))
    return result


def _scope(meeting: MeetingSession, day: SessionDay | None) -> Scope:
    by_type: dict[int, dict] = defaultdict(lambda: dict.fromkeys(COLUMNS, 0))
    by_region: dict[int, dict] = defaultdict(lambda: dict.fromkeys(COLUMNS, 0))
    total = Row("Total")
    for type_id, region_id, counts in _counts(meeting, day):
        for column in COLUMNS:
            by_type[type_id][column] += counts[column]
            by_region[region_id][column] += counts[column]
        total.add(counts)
    # Every entity type and region gets a row, zeros included.
    type_rows = [Row(t.name, by_type[t.id]) for t in meeting.entity_types]
    region_rows = [Row(r.name, by_region[r.id]) for r in meeting.regions]
    if day is None:
        return Scope("session", "Whole session (a person counts once)", type_rows, region_rows, total)
    return Scope(day.date.isoformat(), f"{day.date.day} {day.date:%B %Y}", type_rows, region_rows, total)


def headcount(meeting: MeetingSession) -> Headcount:
    return Headcount(meeting, [_scope(meeting, None)] + [_scope(meeting, day) for day in meeting.days])

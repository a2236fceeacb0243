"""The headcount: per entity type and per region, registered and attended, in person and online.

Every day of every active registration is judged by the one attendance rule (`attendance_rule`), the same the
certificates, pages and API read, and counted here, so every format (page, CSV, XLSX, PDF, JSON) shows the same
numbers from the same function.

Definitions, for each scope (a day, or the whole session):
- registered in person / online: active registrations by the mode they registered in;
- attended in person: attended in person by the rule (on the day; on any day for the whole session);
- attended online only: attended online by the rule and not in person (that day; on no day for the whole
  session), so that a person counts once;
- no-shows: active registrations who attended neither way.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

import sqlalchemy as sa
from flask_babel import gettext
from flask_babel import lazy_gettext as _l

from ..attendance_rule import IN_PERSON, ONLINE, DayRecord, online_minutes_needed, session_days_of
from ..extensions import db
from ..formatting import format_day
from ..models import MeetingSession, Mode, Registration, RegistrationStatus, SessionDay

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


def _counts(
    day_records: dict[int, list[DayRecord]], registrations: Sequence[Registration], day_index: int | None
) -> list[tuple[int, int, dict[str, int]]]:
    """(entity type id, region id, counts) of each registration for the scope: one day (its index) or all."""
    result = []
    for registration in registrations:
        days = day_records[registration.id]
        scope = days if day_index is None else [days[day_index]]
        in_person = any(d.mode == IN_PERSON for d in scope)
        online_only = not in_person and any(d.mode == ONLINE for d in scope)
        counts = {
            "registered_in_person": int(registration.mode == Mode.IN_PERSON),
            "registered_online": int(registration.mode == Mode.ONLINE),
            "attended_in_person": int(in_person),
            "attended_online": int(online_only),
            "no_shows": int(not in_person and not online_only),
            "total_attended": int(in_person or online_only),
        }
        result.append((registration.entity_type_id, registration.region_id, counts))
    return result


def _scope(meeting: MeetingSession, counted: list[tuple[int, int, dict[str, int]]], day: SessionDay | None) -> Scope:
    by_type: dict[int, dict] = defaultdict(lambda: dict.fromkeys(COLUMNS, 0))
    by_region: dict[int, dict] = defaultdict(lambda: dict.fromkeys(COLUMNS, 0))
    total = Row(gettext("Total"))
    for type_id, region_id, counts in counted:
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
    registrations: Sequence[Registration] = db.session.scalars(
        sa.select(Registration).where(
            Registration.session_id == meeting.id, Registration.status == RegistrationStatus.REGISTERED
        )
    ).all()
    day_records = session_days_of(meeting, registrations)
    scopes = [_scope(meeting, _counts(day_records, registrations, None), None)]
    scopes += [_scope(meeting, _counts(day_records, registrations, i), day) for i, day in enumerate(meeting.days)]
    return Headcount(meeting, scopes)

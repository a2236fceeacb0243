"""Importing a platform's attendance report: upload, preview (matched, unmatched, duplicate, error), save.

The file is kept with the import and parsed again on saving, so what is saved is what the preview showed,
against the database as it is at that moment. Saving is one transaction; a file imported twice adds nothing.
The preview is computed once, on upload, and stored with the import: its counts, the days it covers and its first
PREVIEW_ROWS rows, so that a report of tens of thousands of rows neither slows every view nor makes a huge page.
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from flask_babel import gettext, ngettext

from .. import audit
from ..clock import key_text, utcnow
from ..extensions import db
from ..formatting import format_day
from ..models import (
    Attendance,
    IdentityMapping,
    MeetingSession,
    OnlineInterval,
    Registration,
    RegistrationStatus,
    ReportImport,
    SessionDay,
    Source,
    UnmatchedPresence,
)
from ..models.registration import email_key
from ..text import search_key
from .intervals import day_window
from .reports import ParsedReport, ReportError, parse_report
from .service import day_at, identity_keys, map_identity, record_presence

SOURCES = {"zoom": Source.ZOOM_REPORT, "teams": Source.TEAMS_REPORT, "csv": Source.CSV_REPORT}
MATCHED, UNMATCHED, DUPLICATE, ERROR = "matched", "unmatched", "duplicate", "error"
MAX_MINUTES = 24 * 60
#: rows shown in a preview; the others are counted
PREVIEW_ROWS = 300
#: the longest name, email or reason a stored preview keeps of a row (a report's cell may hold anything)
PREVIEW_TEXT = 300


@dataclass
class ImportRow:
    line: int
    name: str
    email: str
    status: str
    reason: str = ""
    joined_at: datetime | None = None
    left_at: datetime | None = None
    day: SessionDay | None = None
    registration: Registration | None = None
    identity_key: str = ""
    source_key: str = ""
    #: the report gave only a duration, so the times were placed from the day's start
    estimated: bool = False
    #: unmatched: the line of this person's first unmatched row, where the organiser chooses for all of them
    first_line: int = 0
    #: unmatched: the only registration with the same name, offered pre-selected for the organiser to confirm
    suggestion: Registration | None = None


@dataclass
class Preview:
    kind: str
    rows: list[ImportRow] = field(default_factory=list)

    def count(self, status: str) -> int:
        return sum(1 for row in self.rows if row.status == status)

    def unmatched_lines(self, first_line: int) -> list[int]:
        """The lines of the unmatched person whose first row is `first_line`."""
        return [row.line for row in self.rows if row.status == UNMATCHED and row.first_line == first_line]

    @property
    def unmatched_people(self) -> int:
        return len({row.first_line for row in self.rows if row.status == UNMATCHED})

    @property
    def suggested_people(self) -> int:
        return len({row.first_line for row in self.rows if row.status == UNMATCHED and row.suggestion})


def _parse(meeting: MeetingSession, content: bytes) -> ParsedReport:
    return parse_report(content, timezone=meeting.zone, expected_dates=[d.date for d in meeting.days])


def upload(meeting: MeetingSession, filename: str, content: bytes, by: str) -> ReportImport:
    """Keeps an uploaded report for preview; raises ReportError when it is not a report we can read, or when the
    session's personal data was purged (nobody is left to match it to)."""
    if meeting.purged_at is not None:
        raise ReportError(
            gettext(
                "The personal data of this session was purged on %(day)s: there is nobody left to match a report to.",
                day=format_day(meeting.purged_at),
            )
        )
    parsed = _parse(meeting, content)
    report = ReportImport(
        session_id=meeting.id,
        filename=filename[:255] or "report",
        kind=parsed.kind,
        sha256=hashlib.sha256(content).hexdigest(),
        content=content,
        uploaded_by=by,
    )
    report.preview = _stored(meeting, _preview_of(meeting, parsed))
    db.session.add(report)
    db.session.flush()  # its id, for the preview's address
    return report


def stored_preview(meeting: MeetingSession, report: ReportImport) -> dict:
    """The preview as computed on upload (an import uploaded before previews were stored gets it now, once)."""
    if report.preview is None:
        report.preview = _stored(meeting, preview(meeting, report))
    return report.preview


def _stored(meeting: MeetingSession, result: Preview) -> dict:
    """What the preview page shows, as JSON: counts of every row, and the first PREVIEW_ROWS rows themselves."""
    shown = result.rows[:PREVIEW_ROWS]
    lines_of: dict[int, list[int]] = defaultdict(list)
    for row in result.rows:
        if row.status == UNMATCHED:
            lines_of[row.first_line].append(row.line)

    def text(value: str) -> str:
        return value[:PREVIEW_TEXT]

    def local(moment: datetime | None, pattern: str) -> str:
        return meeting.local(moment).strftime(pattern) if moment is not None else ""

    return {
        "kind": result.kind,
        "counts": {status: result.count(status) for status in (MATCHED, UNMATCHED, DUPLICATE, ERROR)},
        "not_shown": dict(Counter(row.status for row in result.rows[PREVIEW_ROWS:])),
        "unmatched_people": result.unmatched_people,
        "suggested_people": result.suggested_people,
        # the days the report adds attendance to, first the earliest
        "days": sorted(
            {
                row.day.date.isoformat()
                for row in result.rows
                if row.status in (MATCHED, UNMATCHED) and row.day is not None
            }
        ),
        "rows": [
            {
                "line": row.line,
                "name": text(row.name),
                "email": text(row.email),
                "status": row.status,
                "reason": text(row.reason),
                "joined": local(row.joined_at, "%d %b %H:%M"),
                "left": local(row.left_at, "%H:%M"),
                "estimated": row.estimated,
                "registration": text(row.registration.full_name) if row.registration is not None else "",
                "first_line": row.first_line,
                "suggestion_id": row.suggestion.id if row.suggestion else None,
                "lines": lines_of[row.line][:20] if row.status == UNMATCHED and row.first_line == row.line else [],
                "line_count": len(lines_of[row.line]) if row.status == UNMATCHED and row.first_line == row.line else 0,
            }
            for row in shown
        ],
    }


#: the registration's number at the end of a choice, as `choice_label` writes it
_CHOSEN_NUMBER = re.compile(r"#([0-9]{1,9})\s*\Z")


def choice_label(registration: Registration) -> str:
    """A registration as the organiser's list of choices writes it (one shared list, whatever the number of
    rows): name, e-mail, and the number that `ChoiceReader` reads it back by."""
    return " · ".join(part for part in (registration.full_name, registration.email, f"#{registration.id}") if part)


class ChoiceReader:
    """Reads back which registration of the session an organiser's choice names: a label picked from the list
    (by its number), a number alone, an e-mail address, or the one registration with that name. Reads the
    session's registrations once, however many choices a form sends."""

    def __init__(self, meeting: MeetingSession):
        registrations = db.session.scalars(sa.select(Registration).filter_by(session_id=meeting.id)).all()
        self.by_id = {r.id: r for r in registrations}
        self.by_email = {r.email_key: r for r in registrations if r.email_key}
        self.by_name: dict[str, list[Registration]] = defaultdict(list)
        for registration in registrations:
            self.by_name[search_key(registration.full_name)].append(registration)

    def read(self, text: str) -> Registration | None:
        """The registration named; None for an empty choice (keep the person unmatched). Raises ValueError, for
        the organiser, when the text names no registration of this session, or several."""
        text = text.strip()
        if not text:
            return None
        number = text if text.isascii() and text.isdigit() else None
        if number is None and (found := _CHOSEN_NUMBER.search(text)):
            number = found.group(1)
        if number is not None:
            if (registration := self.by_id.get(int(number))) is None:
                raise ValueError(
                    gettext(
                        "“%(text)s” is not a registration of this session: choose one from the list.", text=text[:100]
                    )
                )
            return registration
        parts = [part.strip() for part in text.split("·") if part.strip()]
        for part in parts:
            if "@" in part and (registration := self.by_email.get(email_key(part))) is not None:
                return registration
        named = self.by_name.get(search_key(parts[0]), []) if parts and search_key(parts[0]) else []
        if len(named) == 1:
            return named[0]
        if named:
            raise ValueError(
                gettext(
                    "Several registrations are named “%(name)s”: choose one from the list (it shows "
                    "their e-mail addresses).",
                    name=parts[0][:100],
                )
            )
        raise ValueError(
            gettext(
                "“%(text)s” names no registration of this session: choose one from the list, or "
                "leave the field empty to keep the person unmatched.",
                text=text[:100],
            )
        )


def _utc(moment: datetime | None) -> datetime | None:
    return moment.astimezone(UTC) if moment is not None else None


class _SessionIndex:
    """What matching a report's rows needs from the database, read once: a report of 38,000 people is then
    38,000 dictionary look-ups, not 150,000 queries. Matches as `service.match` does (email, then a mapping)."""

    def __init__(self, meeting: MeetingSession, source: Source):
        registrations = db.session.scalars(
            sa.select(Registration).filter_by(session_id=meeting.id).order_by(Registration.id)
        ).all()
        by_id = {r.id: r for r in registrations}
        self.by_email: dict[str, Registration] = {}
        self.by_name: dict[str, list[Registration]] = defaultdict(list)
        for registration in registrations:
            if registration.email_key:  # a walk-in may have none
                self.by_email.setdefault(registration.email_key, registration)
            if registration.status is RegistrationStatus.REGISTERED:
                # the name's own key: the search key holds its transliteration, email and organisation after it
                self.by_name[search_key(registration.full_name)].append(registration)
        self.mapped = {
            key: by_id[registration_id]
            for key, registration_id in db.session.execute(
                sa.select(IdentityMapping.identity_key, IdentityMapping.registration_id).filter_by(
                    session_id=meeting.id
                )
            )
            if registration_id in by_id
        }
        self.imported = {
            (registration_id, source_key)
            for registration_id, source_key in db.session.execute(
                sa.select(Attendance.registration_id, OnlineInterval.source_key)
                .join(Attendance)
                .join(Registration, Registration.id == Attendance.registration_id)
                .where(Registration.session_id == meeting.id, OnlineInterval.source == source)
            )
        }
        self.kept_unmatched = set(
            db.session.scalars(sa.select(UnmatchedPresence.source_key).filter_by(session_id=meeting.id, source=source))
        )
        self._email_keys: dict[str, str] = {}

    def email_key(self, email: str) -> str:
        if email not in self._email_keys:
            self._email_keys[email] = email_key(email)
        return self._email_keys[email]

    def match(self, email: str, keys: list[str]) -> Registration | None:
        """By email, then a mapping of one of the row's identity keys (`identity_keys(email, name)`)."""
        if email.strip() and (found := self.by_email.get(self.email_key(email))) is not None:
            return found
        return next((self.mapped[key] for key in keys if key in self.mapped), None)

    def only_registration_named(self, keys: list[str]) -> Registration | None:
        """The session's one registration with the row's name (its "name:" identity key: ignoring case, accents
        and spacing); None if none or several. Only ever a suggestion: display names are self-chosen, so a name
        alone never matches."""
        name_key = next((key.removeprefix("name:") for key in keys if key.startswith("name:")), "")
        found = self.by_name.get(name_key, []) if name_key else []
        return found[0] if len(found) == 1 else None

    def already_imported(self, item: ImportRow) -> bool:
        if item.registration is not None:
            return (item.registration.id, item.source_key) in self.imported
        return item.source_key in self.kept_unmatched


def preview(meeting: MeetingSession, report: ReportImport) -> Preview:
    """Every row of the report, as saving it now would treat it."""
    return _preview_of(meeting, _parse(meeting, report.content))


def _preview_of(meeting: MeetingSession, parsed: ParsedReport) -> Preview:
    source = SOURCES[parsed.kind]
    index = _SessionIndex(meeting, source)
    result = Preview(parsed.kind)
    seen: set[str] = set()
    first_lines: dict[str, int] = {}  # identity -> line of its first unmatched row
    suggestions: dict[str, Registration | None] = {}
    for row in parsed.rows:
        item = ImportRow(row.line, row.name, row.email, ERROR, row.error)
        result.rows.append(item)
        if row.error:
            continue
        try:
            joined, left = _utc(row.joined), _utc(row.left)
        except (OverflowError, ValueError):
            item.reason = gettext("Line %(line)d: a time is out of range.", line=row.line)
            continue
        if row.minutes is not None and not 0 <= row.minutes <= MAX_MINUTES:
            item.reason = gettext(
                "Line %(line)d: a duration of %(minutes)s minutes is not possible in one day.",
                line=row.line,
                minutes=format(row.minutes, "g"),
            )
            continue
        if joined is None and row.minutes is not None:
            item.day = _day_for_duration_only(meeting, parsed)
            if item.day is None:
                item.reason = gettext(
                    "Line %(line)d: only a duration, and the report does not say which day. "
                    "Export the report with join and leave times.",
                    line=row.line,
                )
                continue
            joined = day_window(item.day)[0]
            left, item.estimated = joined + timedelta(minutes=row.minutes), True
        assert joined is not None  # the parser gives every row without an error a join time or a duration
        item.joined_at, item.left_at = joined, left
        item.day = item.day or day_at(meeting, joined)
        if item.day is None:
            item.reason = gettext(
                "Line %(line)d: %(day)s is not a day of this session.",
                line=row.line,
                day=format_day(meeting.day_on(joined)),
            )
            continue
        keys = identity_keys(row.email, row.name)
        item.identity_key = keys[0] if keys else ""
        item.source_key = f"{item.identity_key}|{key_text(joined)}|{key_text(left) if left else ''}"[:200]
        item.registration = index.match(row.email, keys)
        if item.source_key in seen:
            item.status, item.reason = DUPLICATE, gettext("The same row appears earlier in this file.")
        elif index.already_imported(item):
            item.status, item.reason = DUPLICATE, gettext("Already imported.")
        else:
            item.status = MATCHED if item.registration is not None else UNMATCHED
            if item.status == UNMATCHED:
                item.first_line = first_lines.setdefault(item.identity_key, item.line)
                if item.identity_key not in suggestions:
                    suggestions[item.identity_key] = index.only_registration_named(keys)
                item.suggestion = suggestions[item.identity_key]
                item.reason = _unmatched_reason(row.email, item.suggestion)
        seen.add(item.source_key)
    return result


def _unmatched_reason(email: str, suggestion: Registration | None) -> str:
    """What was tried (`match`: email, then earlier mappings) and what the organiser can do."""
    if email.strip():
        reason = gettext("No registration with this email, and no earlier mapping of this person.")
    else:
        reason = gettext(
            "No email in the report, and no earlier mapping of this name (a name alone is only suggested)."
        )
    if suggestion is None:
        return reason + " " + gettext("Choose their registration to map them.")
    return (
        reason
        + " "
        + gettext(
            "Suggested: %(name)s, the only registration with the same name; saving confirms "
            "it, emptying the field declines it.",
            name=suggestion.full_name,
        )
    )


def _day_for_duration_only(meeting: MeetingSession, parsed: ParsedReport) -> SessionDay | None:
    start = _utc(parsed.meeting_start)
    if start is not None:
        return day_at(meeting, start)
    return meeting.days[0] if len(meeting.days) == 1 else None


def save(meeting: MeetingSession, report: ReportImport, choices: dict[int, int], by: str) -> str:
    """Saves the previewed rows in one transaction; `choices` maps unmatched lines to registration ids. A choice
    covers every row of that person (same email, or same name without one) in the file, and is remembered for
    later imports and webhooks. Returns a summary for the organiser."""
    result = preview(meeting, report)
    counts = {"interval": 0, "unmatched": 0, "duplicate": result.count(DUPLICATE), "error": result.count(ERROR)}
    try:
        chosen = _chosen_registrations(meeting, result, choices)
        for identity_key, registration in chosen.items():
            map_identity(meeting, identity_key, registration, by)
        for row in result.rows:
            if row.status not in (MATCHED, UNMATCHED):
                continue
            if row.status == UNMATCHED:
                row.registration = chosen.get(row.identity_key)
            assert row.day is not None and row.joined_at is not None  # the preview dated every row it matched
            outcome = record_presence(
                meeting,
                row.day,
                row.registration,
                joined_at=row.joined_at,
                left_at=row.left_at,
                source=SOURCES[result.kind],
                source_key=row.source_key,
                email=row.email,
                name=row.name,
            )
            counts[outcome] += 1
        report.saved_at = utcnow()
        # Kept as written, in the language of the organiser who saved it.
        report.summary = ", ".join(
            [
                ngettext("%(num)d interval added", "%(num)d intervals added", counts["interval"]),
                ngettext(
                    "%(num)d unmatched kept for mapping", "%(num)d unmatched kept for mapping", counts["unmatched"]
                ),
                ngettext("%(num)d duplicate skipped", "%(num)d duplicates skipped", counts["duplicate"]),
                ngettext("%(num)d row with errors", "%(num)d rows with errors", counts["error"]),
            ]
        )
        audit.record(
            "online.import_save",
            session_id=meeting.id,
            target=report.filename,
            details=f"{len(choices)} people mapped by hand",
            actor=by,
        )
        db.session.flush()
    except Exception:
        db.session.rollback()  # on the caller's page: nothing of the half-saved report stays
        raise
    return report.summary


def _chosen_registrations(meeting: MeetingSession, result: Preview, choices: dict[int, int]) -> dict[str, Registration]:
    """The organiser's choices by person: a choice on any line of an unmatched person is for all their lines."""
    unmatched = {row.line: row for row in result.rows if row.status == UNMATCHED}
    chosen: dict[str, tuple[int, int]] = {}  # identity -> (line, registration id)
    for line, registration_id in sorted(choices.items()):
        row = unmatched.get(line)
        if row is None or not registration_id:
            continue  # a line that is no longer unmatched keeps what the database says now
        earlier_line, earlier_id = chosen.setdefault(row.identity_key, (line, registration_id))
        if earlier_id != registration_id:
            raise ValueError(
                gettext(
                    "Lines %(first)d and %(line)d are the same person (%(name)s) but were given "
                    "different registrations.",
                    first=earlier_line,
                    line=line,
                    name=row.name or row.email,
                )
            )
    registrations = {}
    for identity_key, (line, registration_id) in chosen.items():
        registration = db.session.get(Registration, registration_id)
        if registration is None or registration.session_id != meeting.id:
            raise ValueError(gettext("Line %(line)d: that registration is not of this session.", line=line))
        registrations[identity_key] = registration
    return registrations


__all__ = [
    "ReportError",
    "upload",
    "preview",
    "stored_preview",
    "save",
    "Preview",
    "ImportRow",
    "ChoiceReader",
    "choice_label",
]

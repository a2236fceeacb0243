"""Importing a platform's attendance report: upload, preview (matched, unmatched, duplicate, error), save.

The file is kept with the import and parsed again on saving, so what is saved is what the preview showed,
against the database as it is at that moment. Saving is one transaction; a file imported twice adds nothing.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from ..extensions import db
from ..models import (Attendance, MeetingSession, OnlineInterval, Registration, RegistrationStatus, ReportImport,
                      SessionDay, Source, UnmatchedPresence)
from ..models.meeting import utcnow
from ..text import search_key
from .intervals import day_window
from .reports import ParsedReport, ReportError, parse_report
from .service import day_at, identity_keys, map_identity_in_transaction, match, record_presence

SOURCES = {"zoom": Source.ZOOM_REPORT, "teams": Source.TEAMS_REPORT, "csv": Source.CSV_REPORT}
MATCHED, UNMATCHED, DUPLICATE, ERROR = "matched", "unmatched", "duplicate", "error"
MAX_MINUTES = 24 * 60


@dataclass
class ImportRow:
    line: int
    name: str
    email: str
    status: str
    reason: str = ""
    joined_at: datetime | None = None  # naive UTC
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
        raise ReportError(f"The personal data of this session was purged on {meeting.purged_at:%d %B %Y}: "
                          "there is nobody left to match a report to.")
    parsed = _parse(meeting, content)
    report = ReportImport(session_id=meeting.id, filename=filename[:255] or "report", kind=parsed.kind,
                          sha256=hashlib.sha256(content).hexdigest(), content=content, uploaded_by=by)
    db.session.add(report)
    db.session.commit()
    return report


def _utc(moment: datetime | None) -> datetime | None:
    return moment.astimezone(UTC).replace(tzinfo=None) if moment is not None else None


def preview(meeting: MeetingSession, report: ReportImport) -> Preview:
    parsed = _parse(meeting, report.content)
    source = SOURCES[parsed.kind]
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
            item.reason = f"Line {row.line}: a time is out of range."
            continue
        if row.minutes is not None and not 0 <= row.minutes <= MAX_MINUTES:
            item.reason = f"Line {row.line}: a duration of {row.minutes:g} minutes is not possible in one day."
            continue
        if joined is None and row.minutes is not None:
            item.day = _day_for_duration_only(meeting, parsed)
            if item.day is None:
                item.reason = (f"Line {row.line}: only a duration, and the report does not say which day. "
                               "Export the report with join and leave times.")
                continue
            joined = day_window(item.day)[0]
            left, item.estimated = joined + timedelta(minutes=row.minutes), True
        item.joined_at, item.left_at = joined, left
        item.day = item.day or day_at(meeting, joined)
        if item.day is None:
            local = joined.replace(tzinfo=UTC).astimezone(meeting.zone)
            item.reason = f"Line {row.line}: {local:%d %b %Y} is not a day of this session."
            continue
        keys = identity_keys(row.email, row.name)
        item.identity_key = keys[0] if keys else ""
        item.source_key = f"{item.identity_key}|{joined.isoformat()}|{left.isoformat() if left else ''}"[:200]
        item.registration = match(meeting, email=row.email, name=row.name)
        if item.source_key in seen:
            item.status, item.reason = DUPLICATE, "The same row appears earlier in this file."
        elif _already_imported(meeting, item, source):
            item.status, item.reason = DUPLICATE, "Already imported."
        else:
            item.status = MATCHED if item.registration is not None else UNMATCHED
            if item.status == UNMATCHED:
                item.first_line = first_lines.setdefault(item.identity_key, item.line)
                if item.identity_key not in suggestions:
                    suggestions[item.identity_key] = _only_registration_named(meeting, row.name)
                item.suggestion = suggestions[item.identity_key]
                item.reason = _unmatched_reason(row.email, item.suggestion)
        seen.add(item.source_key)
    return result


def _only_registration_named(meeting: MeetingSession, name: str) -> Registration | None:
    """The session's one registration with this name, ignoring case, accents and spacing; None if none or several.

    Only ever a suggestion: display names are self-chosen, so a name alone never matches without the organiser."""
    key = search_key(name)
    if not key:
        return None
    found = db.session.scalars(sa.select(Registration).filter_by(session_id=meeting.id,
                                                                 status=RegistrationStatus.REGISTERED)
                               .where(Registration.name_is(key))
                               .order_by(Registration.id).limit(2)).all()
    return found[0] if len(found) == 1 else None


def _unmatched_reason(email: str, suggestion: Registration | None) -> str:
    """What was tried (`match`: email, then earlier mappings) and what the organiser can do."""
    if email.strip():
        reason = "No registration with this email, and no earlier mapping of this person."
    else:
        reason = "No email in the report, and no earlier mapping of this name (a name alone is only suggested)."
    if suggestion is None:
        return reason + " Choose their registration to map them."
    return (reason + f" Suggested: {suggestion.full_name}, the only registration with the same name; "
            "saving confirms it, “Keep unmatched” declines it.")


def _day_for_duration_only(meeting: MeetingSession, parsed: ParsedReport) -> SessionDay | None:
    if parsed.meeting_start is not None:
        return day_at(meeting, _utc(parsed.meeting_start))
    return meeting.days[0] if len(meeting.days) == 1 else None


def _already_imported(meeting: MeetingSession, item: ImportRow, source: Source) -> bool:
    if item.registration is not None:
        return db.session.scalar(
            sa.select(OnlineInterval.id).join(Attendance)
            .where(Attendance.registration_id == item.registration.id, OnlineInterval.source == source,
                   OnlineInterval.source_key == item.source_key).limit(1)) is not None
    return db.session.scalar(
        sa.select(UnmatchedPresence.id).filter_by(session_id=meeting.id, source=source,
                                                  source_key=item.source_key).limit(1)) is not None


def save(meeting: MeetingSession, report: ReportImport, choices: dict[int, int], by: str) -> str:
    """Saves the previewed rows in one transaction; `choices` maps unmatched lines to registration ids. A choice
    covers every row of that person (same email, or same name without one) in the file, and is remembered for
    later imports and webhooks. Returns a summary for the organiser."""
    result = preview(meeting, report)
    counts = {"interval": 0, "unmatched": 0, "duplicate": result.count(DUPLICATE), "error": result.count(ERROR)}
    try:
        chosen = _chosen_registrations(meeting, result, choices)
        for identity_key, registration in chosen.items():
            map_identity_in_transaction(meeting, identity_key, registration, by)
        for row in result.rows:
            if row.status not in (MATCHED, UNMATCHED):
                continue
            if row.status == UNMATCHED:
                row.registration = chosen.get(row.identity_key)
            outcome = record_presence(meeting, row.day, row.registration, joined_at=row.joined_at,
                                      left_at=row.left_at, source=SOURCES[result.kind], source_key=row.source_key,
                                      email=row.email, name=row.name)
            counts[outcome] += 1
        report.saved_at = utcnow()
        report.summary = (f"{_n(counts['interval'], 'interval')} added, {counts['unmatched']} unmatched kept for "
                          f"mapping, {_n(counts['duplicate'], 'duplicate')} skipped, "
                          f"{_n(counts['error'], 'row')} with errors")
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return report.summary


def _chosen_registrations(meeting: MeetingSession, result: Preview,
                          choices: dict[int, int]) -> dict[str, Registration]:
    """The organiser's choices by person: a choice on any line of an unmatched person is for all their lines."""
    unmatched = {row.line: row for row in result.rows if row.status == UNMATCHED}
    chosen: dict[str, tuple[int, int]] = {}  # identity -> (line, registration id)
    for line, registration_id in sorted(choices.items()):
        row = unmatched.get(line)
        if row is None or not registration_id:
            continue  # a line that is no longer unmatched keeps what the database says now
        earlier_line, earlier_id = chosen.setdefault(row.identity_key, (line, registration_id))
        if earlier_id != registration_id:
            raise ValueError(f"Lines {earlier_line} and {line} are the same person ({row.name or row.email}) "
                             "but were given different registrations.")
    registrations = {}
    for identity_key, (line, registration_id) in chosen.items():
        registration = db.session.get(Registration, registration_id)
        if registration is None or registration.session_id != meeting.id:
            raise ValueError(f"Line {line}: that registration is not of this session.")
        registrations[identity_key] = registration
    return registrations


__all__ = ["ReportError", "upload", "preview", "save", "Preview", "ImportRow"]


def _n(count: int, noun: str) -> str:
    """'1 row', '2 rows': the organiser's summaries (English only)."""
    return f"{count} {noun}{'' if count == 1 else 's'}"

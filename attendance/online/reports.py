"""Read the attendance reports that video platforms export: Zoom, Microsoft Teams and a plain CSV.

Organisers of a hybrid meeting upload these files so the app can record who attended online and when.
`parse_report` finds the format from the content and returns one row per stay in the meeting; a row
that cannot be used keeps an `error` in plain English, and a file that is not a report at all raises
`ReportError`. Pure functions of the bytes: no Flask, no database.
"""

from __future__ import annotations

import codecs
import csv
import io
import math
import re
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from datetime import timezone as dt_timezone
from zoneinfo import ZoneInfo

from flask_babel import gettext
from flask_babel import lazy_gettext as _l


@dataclass
class ReportRow:
    line: int
    name: str
    email: str
    joined: datetime | None
    left: datetime | None
    minutes: float | None
    error: str = ""


#: what each kind of report is called on the pages: a product's own name, the same in every language
KIND_NAMES = {"zoom": "Zoom", "teams": "Microsoft Teams", "csv": "CSV"}


@dataclass
class ParsedReport:
    kind: str
    rows: list[ReportRow]
    meeting_start: datetime | None = None


class ReportError(ValueError):
    """The whole file is not a report we can read; str(error) says why, for the organiser."""


_MAGIC = {
    b"\x89PNG": _l("a PNG image"),
    b"\xff\xd8\xff": _l("a JPEG image"),
    b"GIF8": _l("a GIF image"),
    b"%PDF": _l("a PDF document"),
    b"PK\x03\x04": _l("a ZIP archive or an Excel workbook (.xlsx)"),
    b"\xd0\xcf\x11\xe0": _l("an old Excel workbook (.xls)"),
}
# Column headings seen in Zoom, Teams and plain exports, lower-cased, by what the column holds.
_COLUMNS = {
    "name": (
        "name (original name)",
        "user name (original name)",
        "participant name",
        "name",
        "full name",
        "display name",
    ),
    "email": ("user email", "email", "e-mail", "email address", "participant email"),
    "join": ("join time", "joined", "first join", "first join time", "join"),
    "leave": ("leave time", "left", "last leave", "last leave time", "leave"),
    "minutes": ("duration (minutes)", "in-meeting duration", "duration"),
    "total": ("total duration (minutes)", "total duration"),
    "action": ("user action", "action"),
    "timestamp": ("timestamp",),
}
_START_KEYS = ("start time", "meeting start time")
_TITLE = re.compile(r"([1-9])\.\s+\S.*")
# Year first is always year, month, day: ISO's dashes, or the slashes of Japanese and Chinese exports.
_ISO = re.compile(
    r"(\d{4})([-/])(\d{1,2})\2(\d{1,2})(?:T|,? )(\d{1,2}):(\d{2})(?::(\d{2})(?:[.,]\d+)?)?"
    r"(?: ?([ap])\.?m\.?)? ?(Z|[+-]\d{2}:?\d{2})?",
    re.I,
)
# An English month name ("Apr 12, 2027 9:30:00 AM", "12 April 2027 09:30") leaves no doubt about the order.
_NAMED = re.compile(
    r"(?:([a-z]{3,9})\.? (\d{1,2})|(\d{1,2}) ([a-z]{3,9})\.?),? (\d{4}),? (\d{1,2}):(\d{2})"
    r"(?::(\d{2}))?(?: ?([ap])\.?m\.?)?",
    re.I,
)
_MONTHS = {
    name: number
    for number, names in enumerate(
        [
            ("jan", "january"),
            ("feb", "february"),
            ("mar", "march"),
            ("apr", "april"),
            ("may",),
            ("jun", "june"),
            ("jul", "july"),
            ("aug", "august"),
            ("sep", "sept", "september"),
            ("oct", "october"),
            ("nov", "november"),
            ("dec", "december"),
        ],
        start=1,
    )
    for name in names
}
_LOCAL = re.compile(
    r"(\d{1,2})([./-])(\d{1,2})\2(\d{4}|\d{2}),? (\d{1,2}):(\d{2})(?::(\d{2}))?"
    r"(?: ?([ap])\.?m\.?)?",
    re.I,
)
_HMS = re.compile(r"(?:(\d+) ?h)? ?(?:(\d+) ?m(?:in)?)? ?(?:(\d+) ?s)?", re.I)

Record = tuple[int, list[str]]  # (1-based line number, cells)
_SEPARATORS = (",", ";", "\t")
_SEPARATOR_NAMES = {",": _l("commas"), ";": _l("semicolons"), "\t": _l("tabs")}


@dataclass
class _Raw:
    """A row's cells as written, before any time is read."""

    line: int
    name: str = ""
    email: str = ""
    joined: str = ""
    left: str = ""
    minutes: str = ""


def parse_report(data: bytes, *, timezone: ZoneInfo, expected_dates: Sequence[date] = ()) -> ParsedReport:
    """Read a Zoom, Teams or `email,joined,left` report; naive times in it are taken to be in `timezone`.

    `expected_dates` (the session's days) decides whether an ambiguous date like 03/02/2024 is read
    day-first or month-first: the reading under which the most dates fall on those days wins.
    """
    records, delimiter = _records(_decode(data))
    first_cells = records[0][1]
    if len(first_cells) == 1 and _TITLE.fullmatch(first_cells[0].strip()):
        kind, (start, raws, unique) = "teams", _teams(records, delimiter)
    else:
        kind, start, raws, unique = _plain_table(records, delimiter)
    texts = [text for raw in raws for text in (raw.joined, raw.left) if text] + ([start] if start else [])
    order = _choose_order(texts, timezone, set(expected_dates))
    read: dict[str, datetime | None] = {}  # a report repeats its times (the meeting's end on most rows): read each once

    def read_time(text: str) -> datetime | None:
        if text not in read:
            read[text] = _parse_time(text, order, timezone)
        return read[text]

    rows = [_row(raw, read_time, unique) for raw in raws]
    return ParsedReport(kind, rows, read_time(start) if start else None)


def _decode(data: bytes) -> str:
    if not data.strip():
        raise ReportError(gettext("The file is empty."))
    for magic, what in _MAGIC.items():
        if data.startswith(magic):
            raise ReportError(
                gettext(
                    "This file is %(what)s, not an attendance report: export the report from "
                    "Zoom or Teams as CSV and upload that file.",
                    what=what,
                )
            )
    encoding = "utf-8-sig"
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        encoding = "utf-16"
    elif b"\x00" in data and len(data) % 2 == 0:
        # UTF-16 saved without a byte-order mark: ASCII letters leave every other byte zero.
        half = min(200, len(data) // 2)
        if data[1:400:2].count(0) > half * 0.6 and not data[0:400:2].count(0):
            encoding = "utf-16-le"
        elif data[0:400:2].count(0) > half * 0.6 and not data[1:400:2].count(0):
            encoding = "utf-16-be"
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError:
        if encoding != "utf-8-sig":
            raise ReportError(gettext("The file starts like UTF-16 text but is damaged or cut short.")) from None
        try:  # Excel on Windows saves CSV in this code page
            text = data.decode("cp1252")
        except UnicodeDecodeError:
            raise ReportError(
                gettext("This file is not text (it looks like binary data), so it cannot be an attendance report.")
            ) from None
    controls = sum(1 for char in text if char < " " and char not in "\t\r\n\f")
    if "\x00" in text or controls > len(text) / 100:
        raise ReportError(
            gettext("This file is not text (it looks like binary data), so it cannot be an attendance report.")
        )
    if not text.strip():
        raise ReportError(gettext("The file is empty."))
    return text


def _records(text: str) -> tuple[list[Record], str]:
    """The non-blank lines as cells, each with its line number, split at the file's separator."""
    delimiter = _separator(text)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    records, line = [], 1
    try:
        for cells in reader:
            if any(cell.strip() for cell in cells):
                records.append((line, cells))
            line = reader.line_num + 1
    except csv.Error as error:
        raise ReportError(gettext("Line %(line)d cannot be read as CSV (%(error)s).", line=line, error=error)) from None
    if not records:
        raise ReportError(gettext("The file is empty."))
    return records, delimiter


def _split(line: str, separator: str) -> list[str]:
    try:
        return next(csv.reader([line], delimiter=separator), [])
    except csv.Error:
        return []


def _separator(text: str) -> str:
    """Comma, semicolon (Excel in French, German or Spanish) or tab (Teams), as the header line is split.

    Each line is split as CSV, so a comma inside a quoted name or date counts for nothing. The first line that
    reads as a report's header under some separator decides; when none does, the first line that splits at all.
    """
    lines = [line for line in text.splitlines() if line.strip()]
    for line in lines:
        headers = [
            (len(_columns(cells)), len(cells), -rank, separator)
            for rank, separator in enumerate(_SEPARATORS)
            if _is_header(_columns(cells := _split(line, separator)))
        ]
        if headers:
            return max(headers)[-1]
    for line in lines:
        widths = [(len(_split(line, separator)), -rank, separator) for rank, separator in enumerate(_SEPARATORS)]
        if max(widths)[0] > 1:
            return max(widths)[-1]
    return ","


def _norm(cell: str) -> str:
    return " ".join(cell.replace("\ufeff", "").lower().split())


def _columns(header: list[str]) -> dict[str, int]:
    keys = [_norm(cell) for cell in header]
    found = {}
    for role, names in _COLUMNS.items():
        index = next((keys.index(name) for name in names if name in keys), None)
        if index is not None:
            found[role] = index
    return found


def _is_header(columns: dict[str, int]) -> bool:
    return "join" in columns or "total" in columns or {"action", "timestamp"} <= columns.keys()


def _no_join_column(header: list[str], separator: str) -> ReportError:
    found = ", ".join(cell.strip()[:40] for cell in header[:12] if cell.strip())
    if len(header) > 1:
        how = gettext(
            "read as separated by %(separator)s; columns separated by commas, semicolons or tabs are all understood",
            separator=_SEPARATOR_NAMES[separator],
        )
    else:  # one column: the separator is likely something else (a pipe, spaces)
        how = gettext("only one column: separate the columns with commas, semicolons or tabs")
    return ReportError(
        gettext(
            "No column for the join time: this does not look like a Zoom, Teams or "
            "email,joined,left report. Columns found: %(found)s (%(how)s).",
            found=found,
            how=how,
        )
    )


def _meeting_start(records: list[Record]) -> str:
    """Zoom's meeting block (a header line, then a line of values) or a Teams 'Start time<TAB>value' line."""
    for index, (_, cells) in enumerate(records):
        keys = [_norm(cell) for cell in cells]
        if len(cells) == 2 and keys[0] in _START_KEYS:
            return cells[1].strip()
        if "start time" in keys and index + 1 < len(records):
            values = records[index + 1][1]
            column = keys.index("start time")
            return values[column].strip() if column < len(values) else ""
    return ""


def _plain_table(records: list[Record], delimiter: str) -> tuple[str, str, list[_Raw], bool]:
    """A Zoom export (maybe under its meeting block), a plain CSV or an older one-table Teams report."""
    at = next((i for i, (_, cells) in enumerate(records) if _is_header(_columns(cells))), None)
    if at is None:
        raise _no_join_column(records[0][1], delimiter)
    header = records[at][1]
    raws, unique = _table(header, records[at + 1 :])
    kind = "csv" if "joined" in map(_norm, header) else ("teams" if delimiter == "\t" else "zoom")
    return kind, _meeting_start(records[:at]), raws, unique


def _teams(records: list[Record], delimiter: str) -> tuple[str, list[_Raw], bool]:
    titles = [
        (i, match.group(1))
        for i, (_, cells) in enumerate(records)
        if len(cells) == 1 and (match := _TITLE.fullmatch(cells[0].strip()))
    ]
    ends = [i for i, _ in titles[1:]] + [len(records)]
    sections = {number: records[i + 1 : end] for (i, number), end in zip(titles, ends)}
    # "3. In-Meeting Activities" has one row per join, so rejoins survive; "2. Participants" does not.
    candidates = [sections[number] for number in ("3", "2") if sections.get(number)]
    if not candidates:
        raise ReportError(
            gettext("This Teams report has no participants section ('2. Participants' or '3. In-Meeting Activities').")
        )
    table = next((section for section in candidates if len(section) > 1), candidates[0])
    if not _is_header(_columns(table[0][1])):
        raise _no_join_column(table[0][1], delimiter)
    raws, unique = _table(table[0][1], table[1:])
    return _meeting_start(sections.get("1", [])), raws, unique


def _table(header: list[str], body: list[Record]) -> tuple[list[_Raw], bool]:
    """The rows under a header; True with them when the table has durations but no join times."""
    if not body:
        raise ReportError(gettext("The file has column headings but no rows of attendance data."))
    columns = _columns(header)

    def cell(cells: list[str], role: str) -> str:
        index = columns.get(role)
        return cells[index].strip() if index is not None and index < len(cells) else ""

    if "join" not in columns and "action" in columns:
        return _pair_events(body, cell), False
    raws = [
        _Raw(
            line,
            cell(cells, "name"),
            cell(cells, "email"),
            cell(cells, "join"),
            cell(cells, "leave"),
            cell(cells, "minutes") or cell(cells, "total"),
        )
        for line, cells in body
    ]
    return raws, "join" not in columns


def _pair_events(body: list[Record], cell) -> list[_Raw]:
    """Older Teams reports list 'Joined' and 'Left' events: pair them per person, one row per stay."""
    rows: list[_Raw] = []
    open_stays: dict = {}
    for line, cells in body:
        name, email, when = cell(cells, "name"), cell(cells, "email"), cell(cells, "timestamp")
        if cell(cells, "action").lower().startswith("join"):
            if name in open_stays:  # joined again without a 'Left' in between
                rows.append(open_stays.pop(name))
            open_stays[name] = _Raw(line, name, email, joined=when)
        elif name in open_stays:
            stay = open_stays.pop(name)
            stay.left = when
            rows.append(stay)
        else:
            rows.append(_Raw(line, name, email, left=when))
    rows.extend(open_stays.values())
    return sorted(rows, key=lambda raw: raw.line)


def _choose_order(texts: list[str], tz: ZoneInfo, expected: set[date]) -> str:
    """'mdy' or 'dmy' for the whole file: every date parses, then most fall on expected days. Only dates like
    03/02/2024 can read either way; ISO, named-month and dotted dates read the same in both orders, so they add as
    much to both scores and are left out of the count."""
    either_way = Counter(text for text in texts if _order_matters(text))
    if not either_way:
        return "dmy"

    am_pm = any(re.search(r"\d ?[ap]\.?m\.?$", " ".join(text.split()), re.I) for text in texts)

    def score(order: str) -> tuple[int, int, bool]:
        parsed = [(when, n) for text, n in either_way.items() if (when := _parse_time(text, order, tz))]
        return (
            sum(n for _, n in parsed),
            sum(n for when, n in parsed if when.date() in expected),
            order == ("mdy" if am_pm else "dmy"),
        )

    return max(("mdy", "dmy"), key=score)


def _order_matters(text: str) -> bool:
    match = _LOCAL.fullmatch(" ".join(text.split()))
    return match is not None and match.group(2) != "."


def _parse_time(text: str, order: str, tz: ZoneInfo) -> datetime | None:
    text = " ".join(text.split())  # Teams may put a narrow no-break space before AM/PM
    if match := _ISO.fullmatch(text):
        year, _, month, day, hour, minute, second, am_pm, offset = match.groups()
    elif match := _NAMED.fullmatch(text):
        name_before, day_after, day_before, name_after, year, hour, minute, second, am_pm = match.groups()
        month = _MONTHS.get((name_before or name_after).lower())
        if month is None:
            return None
        day, offset = day_after or day_before, None
    elif match := _LOCAL.fullmatch(text):
        first, separator, second_part, year, hour, minute, second, am_pm = match.groups()
        day_first = order == "dmy" or separator == "."  # dotted dates (de) are always day-first
        day, month = (first, second_part) if day_first else (second_part, first)
        year = year if len(year) == 4 else "20" + year
        offset = None
    else:
        return None
    try:
        hours = int(hour)
        if am_pm:
            if not 1 <= hours <= 12:
                return None
            hours = hours % 12 + (12 if am_pm.lower() == "p" else 0)
        value = datetime(int(year), int(month), int(day), hours, int(minute), int(second or 0))
        if not offset:
            return value.replace(tzinfo=tz)
        if offset.upper() == "Z":
            return value.replace(tzinfo=UTC)
        sign = -1 if offset[0] == "-" else 1
        return value.replace(tzinfo=dt_timezone(sign * timedelta(hours=int(offset[1:3]), minutes=int(offset[-2:]))))
    except ValueError:
        return None


def _minutes(text: str) -> float | None:
    """Zoom writes minutes as a number; Teams writes '1h 27m 51s', '45m 3s', '12s' or '4h'."""
    text = " ".join(text.split())
    try:
        value = float(text)
    except ValueError:
        match = _HMS.fullmatch(text)
        if not text or not match or not any(match.groups()):
            return None
        hours, minutes, seconds = (int(group or 0) for group in match.groups())
        return hours * 60 + minutes + seconds / 60
    return value if math.isfinite(value) and value >= 0 else None


def _row(raw: _Raw, read_time: Callable[[str], datetime | None], unique_users: bool) -> ReportRow:
    joined = read_time(raw.joined) if raw.joined else None
    left = read_time(raw.left) if raw.left else None
    minutes = _minutes(raw.minutes)
    line, error = raw.line, ""
    if not raw.name and not raw.email:
        error = gettext("Line %(line)d: no name and no email, so there is no telling who attended", line=line)
    elif unique_users:
        if minutes is None:
            error = (
                gettext("Line %(line)d: cannot read the duration '%(value)s'", line=line, value=raw.minutes)
                if raw.minutes
                else gettext("Line %(line)d: no duration", line=line)
            )
    elif not raw.joined:
        error = gettext("Line %(line)d: no join time", line=line)
    elif joined is None:
        error = gettext("Line %(line)d: cannot read the join time '%(value)s'", line=line, value=raw.joined)
    elif raw.left and left is None:
        error = gettext("Line %(line)d: cannot read the leave time '%(value)s'", line=line, value=raw.left)
    elif left is not None and left < joined:
        shown = "%H:%M" if left.date() == joined.date() else "%Y-%m-%d %H:%M"
        error = gettext(
            "Line %(line)d: leaves (%(left)s) before joining (%(joined)s)",
            line=line,
            left=left.strftime(shown),
            joined=joined.strftime(shown),
        )
    return ReportRow(raw.line, raw.name, raw.email, joined, left, minutes, error)

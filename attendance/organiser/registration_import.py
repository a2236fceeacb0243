"""Registering a delegation list at once: upload a CSV or XLSX, preview every row, confirm, saved in one go.

Each row is judged by the rule staff additions follow (`registration.service.entry_errors`): new, already
registered (the same e-mail), or an error with its reason per field. Nothing is saved until the organiser
confirms; then every new row is saved in one transaction with source `import` and audited once. The file is kept
(`RegistrationImport`) and read again on confirming, and the confirmation carries a fingerprint of what the
preview showed: when the rows would now be judged otherwise (the list or the session changed), nothing is saved.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
import zipfile
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Generic, TypeVar

import sqlalchemy as sa
from flask_babel import get_locale
from sqlalchemy.exc import IntegrityError

from .. import audit
from ..clock import utcnow
from ..countries import countries
from ..dbutil import serialized_writes
from ..exports import FORMULA_STARTS
from ..extensions import db
from ..models import (
    EntityType,
    MeetingSession,
    Mode,
    Region,
    Registration,
    RegistrationImport,
    RegistrationSource,
    Role,
)
from ..models.registration import email_key
from ..models.uploads import UploadedFile
from ..registration.service import StaffEntry, entry_errors
from ..text import search_key, strip_edges

MAX_BYTES = 1024 * 1024
MAX_ROWS = 2000
MAX_UNPACKED_BYTES = 40 * 1024 * 1024
#: a delegation list has a few columns; a row of thousands of cells is not one
MAX_COLUMNS = 50
NEW, REGISTERED, ERROR = "new", "already_registered", "error"

#: headings a list may use for each column, compared ignoring case, accents, spaces and punctuation
COLUMNS = {
    "full_name": ("full name", "name", "delegate", "nom", "nom complet"),
    "email": ("email", "e-mail", "email address", "e-mail address", "courriel", "adresse e-mail"),
    "organisation": ("organisation", "organization", "entity", "organisme"),
    "country": ("country", "country code", "pays"),
    "entity_type": ("entity type", "type of entity", "type d'entite", "type d’entité"),
    "region": ("region", "région"),
    "mode": ("mode", "attendance", "attending", "participation"),
    "role": ("role", "rôle"),
}
LABELS = {
    "full_name": "Full name",
    "email": "E-mail",
    "organisation": "Organisation",
    "country": "Country",
    "entity_type": "Entity type",
    "region": "Region",
    "mode": "Mode",
    "role": "Role",
    "language": "Language",
    "places": "Places",
}
OPTIONAL = {"role"}
#: how people write the two modes in a list
MODE_WORDS = {
    "in_person": "in_person",
    "in person": "in_person",
    "inperson": "in_person",
    "on site": "in_person",
    "onsite": "in_person",
    "presentiel": "in_person",
    "en presentiel": "in_person",
    "online": "online",
    "on line": "online",
    "virtual": "online",
    "remote": "online",
    "en ligne": "online",
}


class ListError(ValueError):
    """The whole file cannot be read as a delegation list; str(error) says why, for the organiser."""


@dataclass
class ListRow:
    line: int
    cells: dict[str, str]
    #: columns whose cell was a spreadsheet formula (an XLSX formula cell, or text starting like one)
    formulas: set[str] = field(default_factory=set)


Entry = TypeVar("Entry")  # a delegate of a delegation list (StaffEntry), or an invitee of an invitation list


@dataclass
class PreviewRow(Generic[Entry]):
    line: int
    entry: Entry
    role: str
    status: str
    #: field -> reason, for an error row; for an already registered row, whom it matches
    errors: dict[str, str] = field(default_factory=dict)
    note: str = ""


def _heading_key(text: str) -> str:
    return re.sub(r"[\W_]+", "", search_key(text))


def read_list(
    filename: str, content: bytes, optional: set[str] = OPTIONAL, columns: dict[str, tuple[str, ...]] = COLUMNS
) -> list[ListRow]:
    """The rows of a CSV (UTF-8, with or without a byte-order mark; commas or semicolons) or XLSX list, with
    their cells by column (`columns`: each one's headings); raises ListError when the file is not such a list (or
    lacks a column not `optional`)."""
    if len(content) > MAX_BYTES:
        raise ListError(f"The file is larger than {MAX_BYTES // 1024} KB: split the list into smaller files.")
    if not content.strip():
        raise ListError("The file is empty.")
    if content.startswith(b"PK\x03\x04"):
        records = _xlsx_records(content)
    elif filename.lower().endswith((".xls", ".xlsx", ".ods")) or content.startswith(b"\xd0\xcf\x11\xe0"):
        raise ListError("Save the list as an Excel workbook (.xlsx) or as CSV UTF-8, then upload it again.")
    else:
        records = _csv_records(content)
    rows = _rows(records, optional, columns)
    if not rows:
        raise ListError("The list has a heading row but no delegates.")
    return rows


def _csv_records(content: bytes):
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ListError("The file is not UTF-8 text: in Excel, save it as “CSV UTF-8 (comma delimited)”.") from None
    if "\x00" in text:
        raise ListError("The file is not a CSV list (it holds binary data).")
    header = text.split("\n", 1)[0]
    separator = ";" if header.count(";") > header.count(",") else ","
    try:
        for number, cells in enumerate(csv.reader(io.StringIO(text, newline=""), delimiter=separator), start=1):
            yield number, [(cell, False) for cell in cells[:MAX_COLUMNS]]
    except csv.Error as error:  # a cell longer than the csv module allows, a stray quote at the end of the file
        raise ListError(f"The file is not a CSV list we can read ({error}).") from None


def _xlsx_records(content: bytes):
    from openpyxl import load_workbook

    try:  # a small file that unpacks to gigabytes is not a delegation list (zipfile reads no more than it declares)
        unpacked = sum(item.file_size for item in zipfile.ZipFile(io.BytesIO(content)).infolist())
    except (zipfile.BadZipFile, ValueError, OSError):
        raise ListError("The file is not an Excel workbook we can read (a damaged ZIP).") from None
    if unpacked > MAX_UNPACKED_BYTES:
        raise ListError("The workbook unpacks to more than a delegation list holds: save just the list as CSV.")
    try:
        workbook = load_workbook(io.BytesIO(content), read_only=True, data_only=False)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as error:
        raise ListError(f"The file is not an Excel workbook we can read ({type(error).__name__}).") from None
    try:
        sheet = workbook.worksheets[0]
        for number, row in enumerate(sheet.iter_rows(max_col=MAX_COLUMNS), start=1):
            yield number, [_xlsx_cell(cell) for cell in row]
    finally:
        workbook.close()


def _xlsx_cell(cell) -> tuple[str, bool]:
    """The cell as text, and whether it holds a formula."""
    value = getattr(cell, "value", None)
    if value is None:
        return "", False
    if getattr(cell, "data_type", "") == "f":
        return str(value), True
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, datetime | date):
        value = value.isoformat()
    return str(value), False


def _rows(records, optional: set[str], names: dict[str, tuple[str, ...]]) -> list[ListRow]:
    records = iter(records)
    headings = {_heading_key(heading): name for name, each in names.items() for heading in each}
    columns: dict[int, str] = {}
    for _number, cells in records:  # the heading row: the first that is not blank
        if any(text.strip() for text, _ in cells):
            columns = {
                i: headings[_heading_key(text)] for i, (text, _) in enumerate(cells) if _heading_key(text) in headings
            }
            break
    missing = [LABELS[name] for name in names if name not in columns.values() and name not in optional]
    if missing:
        raise ListError(
            "The list has no column "
            + ", ".join(f"“{label}”" for label in missing)
            + ". The first row must name the columns: "
            + ", ".join(f"{LABELS[name]}{' (optional)' if name in optional else ''}" for name in names)
            + "."
        )
    rows: list[ListRow] = []
    for number, cells in records:
        if not any(text.strip() for text, _ in cells):
            continue
        if len(rows) == MAX_ROWS:
            raise ListError(f"The list has more than {MAX_ROWS} delegates: split it into smaller files.")
        row = ListRow(number, {name: "" for name in names})
        for i, (text, formula) in enumerate(cells):
            name = columns.get(i)
            if name is None or row.cells[name]:
                continue  # a column we do not read, or a second column of the same name
            row.cells[name] = strip_edges(text) or ""
            if formula or row.cells[name][:1] and row.cells[name][0] in FORMULA_STARTS:
                row.formulas.add(name)
        rows.append(row)
    return rows


def _country_code(value: str) -> str:
    """An ISO code as given (BE), or the code of an English or French country name (Belgium, Belgique)."""
    if value.upper() in countries():
        return value.upper()
    key = search_key(value)
    for locale in ("en", "fr"):
        for code, name in countries(locale).items():
            if search_key(name) == key:
                return code
    return value


def _mode(value: str) -> str:
    return MODE_WORDS.get(" ".join(search_key(value).replace("_", " ").replace("-", " ").split()), value)


def _role(value: str) -> Role | None:
    if not value:
        return Role.DELEGATE
    key = re.sub(r"[\W_]+", "", search_key(value))
    return next(
        (
            role
            for role in Role
            if key in (re.sub(r"[\W_]+", "", role.value), re.sub(r"[\W_]+", "", search_key(role.label)))
        ),
        None,
    )


def preview(meeting: MeetingSession, rows: list[ListRow]) -> list[PreviewRow[StaffEntry]]:
    """Every row as saving it now would treat it."""
    registered = {
        key: name
        for key, name in db.session.execute(
            sa.select(Registration.email_key, Registration.full_name).where(
                Registration.session_id == meeting.id, Registration.email_key.is_not(None)
            )
        )
    }
    first_line: dict[str, int] = {}
    result = []
    for row in rows:
        cells = row.cells
        entry = StaffEntry(
            full_name=cells["full_name"],
            organisation=cells["organisation"],
            country=_country_code(cells["country"]),
            entity_type=cells["entity_type"],
            region=cells["region"],
            mode=_mode(cells["mode"]),
            email=cells["email"],
        )
        role = _role(cells["role"])
        item = PreviewRow(row.line, entry, role.value if role else cells["role"], NEW)
        result.append(item)
        key = email_key(entry.email) if entry.email else ""
        if key and key in registered:
            item.status, item.note = REGISTERED, f"Already registered as {registered[key]}: skipped."
            continue
        errors = entry_errors(meeting, entry, check_in_now=False)
        for name in sorted(row.formulas):  # text a spreadsheet would run: never stored, whatever it computes
            errors[name] = (
                f"“{cells[name][:40]}” starts like a spreadsheet formula: type the value itself "
                "(a name, e-mail or organisation never starts with =, +, -, or @)."
            )
        if role is None:
            errors["role"] = "Choose a role: " + ", ".join(r.label for r in Role) + " (or leave it empty)."
        if key and key in first_line and "email" not in errors:
            errors["email"] = f"This e-mail address is already on line {first_line[key]} of this list."
        if key:
            first_line.setdefault(key, row.line)
        if errors:
            item.status, item.errors = ERROR, errors
    return result


def fingerprint(upload: UploadedFile, rows: list[PreviewRow]) -> str:
    """What the organiser saw: the file, and how each of its rows was judged."""
    judged = [[row.line, row.status, sorted(row.errors)] for row in rows]
    digest = hashlib.sha256(upload.content)  # the bytes as read now, not the digest noted on upload
    digest.update(json.dumps(judged).encode())
    return digest.hexdigest()


def upload_list(meeting: MeetingSession, filename: str, content: bytes, by: str) -> RegistrationImport:
    """Keeps a readable list for its preview (raises ListError, keeping nothing, when it is not one, or when the
    session's personal data was purged: it is over and done with)."""
    if meeting.purged_at is not None:
        raise ListError(
            f"The personal data of this session was purged on {meeting.purged_at:%d %B %Y}: "
            "it takes no more registrations."
        )
    read_list(filename, content)
    upload = RegistrationImport(
        session_id=meeting.id,
        filename=(filename or "list")[:255],
        content=content,
        sha256=hashlib.sha256(content).hexdigest(),
        uploaded_by=by,
    )
    db.session.add(upload)
    db.session.flush()  # its id, for the preview's address
    return upload


def preview_of(meeting: MeetingSession, upload: RegistrationImport) -> list[PreviewRow[StaffEntry]]:
    return preview(meeting, read_list(upload.filename, upload.content))


class StaleConfirmation(Exception):
    """The confirmation does not match what saving would do now; str(error) says why. Nothing was saved."""


def save(meeting: MeetingSession, upload: RegistrationImport, seen: str, by: str) -> list[Registration]:
    """Saves every new row of the list in one transaction (source `import`, one audit line with the counts), if
    `seen` is the fingerprint of the preview as it stands now; raises StaleConfirmation otherwise. Returns the
    registrations added."""
    if upload.saved_at is not None:
        raise StaleConfirmation("This list was already saved: saving it again would add nobody.")
    rows = preview_of(meeting, upload)
    if seen != fingerprint(upload, rows):
        raise StaleConfirmation(
            "The list or the session's registrations changed since this preview: check the "
            "preview below again, then confirm."
        )
    new = [row for row in rows if row.status == NEW]
    terms: dict[str, dict[str, EntityType | Region]] = {
        "entity_type": {t.name.casefold(): t for t in meeting.entity_types},
        "region": {r.name.casefold(): r for r in meeting.regions},
    }
    locale = str(get_locale() or "en")
    with serialized_writes():
        added = []
        for row in new:
            entry = row.entry
            added.append(
                Registration(
                    session=meeting,
                    source=RegistrationSource.IMPORT,
                    full_name=entry.full_name,
                    email=entry.email,
                    organisation=entry.organisation,
                    country=entry.country,
                    mode=Mode(entry.mode),
                    role=Role(row.role),
                    entity_type=_term(meeting.entity_types, terms["entity_type"], entry.entity_type),
                    region=_term(meeting.regions, terms["region"], entry.region),
                    locale=locale,
                )
            )
        db.session.add_all(added)
        try:
            db.session.flush()
        except IntegrityError:  # someone registered with one of these addresses meanwhile
            db.session.rollback()
            raise StaleConfirmation(
                "Someone on this list registered meanwhile: check the preview below again, then confirm."
            ) from None
        skipped_registered = sum(row.status == REGISTERED for row in rows)
        skipped_errors = sum(row.status == ERROR for row in rows)
        upload.summary = (
            f"{len(added)} added, {skipped_registered} already registered, {skipped_errors} with errors skipped"
        )
        upload.saved_at = utcnow()
        audit.record(
            "registrations.import", session_id=meeting.id, target=upload.filename, details=upload.summary, actor=by
        )
    return added


def _term(terms: list, by_folded_name: dict, name: str):
    """The session's term of this name: exact, or else ignoring case (as `entry_errors` accepts it)."""
    return next((t for t in terms if t.name == name), None) or by_folded_name[name.casefold()]

"""Registering a delegation list at once: upload a CSV or XLSX, preview every row, confirm, saved in one go.

Each row is judged by the rule staff additions follow (`registration.staff_entry.entry_errors`): new, already
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
from babel.lists import format_list
from flask_babel import force_locale, get_locale, gettext, ngettext
from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import IntegrityError

from .. import audit
from ..clock import utcnow
from ..countries import countries
from ..dbutil import serialized_writes
from ..exports import FORMULA_STARTS
from ..extensions import db
from ..formatting import format_day
from ..i18n import LANGUAGES
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
from ..registration.staff_entry import StaffEntry, entry_errors
from ..text import isolate, search_key, strip_edges

MAX_BYTES = 1024 * 1024
MAX_ROWS = 2000
MAX_UNPACKED_BYTES = 40 * 1024 * 1024
#: a delegation list has a few columns; a row of thousands of cells is not one
MAX_COLUMNS = 50
NEW, REGISTERED, ERROR = "new", "already_registered", "error"

#: headings a list may use for each column, compared ignoring case, accents, spaces and punctuation; a column's
#: label (LABELS) in any language of the pages is read too
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
#: how the pages name each column, in the reader's language: what the upload pages ask the heading row to say
LABELS = {
    "full_name": _l("Full name"),
    "email": _l("E-mail"),
    "organisation": _l("Organisation"),
    "country": _l("Country"),
    "entity_type": _l("Entity type"),
    "region": _l("Region"),
    "mode": _l("Mode"),
    "role": _l("Role"),
    "language": _l("Language"),
    "places": _l("Places"),
}
OPTIONAL = {"role"}
#: how people write the two modes in a list (and each mode's name in any language of the pages: `_mode_words`)
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
    "presencial": "in_person",
    "distanciel": "online",
    "a distance": "online",
    "a distancia": "online",
}


class ListError(ValueError):
    """The whole file cannot be read as a delegation list; str(error) says why, for the organiser, in the language
    of the page."""


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


def _in_each_language():
    """Runs the loop's body once in each language of the pages: the upload pages name the columns, modes and roles
    in their reader's language, and a list written for a page in another language stays readable."""
    for language in LANGUAGES:
        with force_locale(language):
            yield language


def _headings(names: dict[str, tuple[str, ...]]) -> dict[str, str]:
    """The column of each heading a list may use, by its key: the headings `names` gives, then each column's label
    in each language."""
    headings = {_heading_key(heading): name for name, each in names.items() for heading in each}
    for _language in _in_each_language():
        for name in names:
            headings.setdefault(_heading_key(str(LABELS[name])), name)
    return headings


def _quoted(text: str) -> str:
    """`text` in the quotation marks of the page's language."""
    return gettext("“%(text)s”", text=text)


def _column_list(names: dict[str, tuple[str, ...]], optional: set[str]) -> str:
    """The labels of these columns as one list in the page's language, the optional ones said to be."""
    return format_list(
        [
            gettext("%(column)s (optional)", column=LABELS[name]) if name in optional else str(LABELS[name])
            for name in names
        ],
        locale=str(get_locale() or "en"),
    )


def read_list(
    filename: str, content: bytes, optional: set[str] = OPTIONAL, columns: dict[str, tuple[str, ...]] = COLUMNS
) -> list[ListRow]:
    """The rows of a CSV (UTF-8, with or without a byte-order mark; commas or semicolons) or XLSX list, with
    their cells by column (`columns`: each one's headings); raises ListError when the file is not such a list (or
    lacks a column not `optional`)."""
    if len(content) > MAX_BYTES:
        raise ListError(
            gettext("The file is larger than %(kb)d KB: split the list into smaller files.", kb=MAX_BYTES // 1024)
        )
    if not content.strip():
        raise ListError(gettext("The file is empty."))
    if content.startswith(b"PK\x03\x04"):
        records = _xlsx_records(content)
    elif filename.lower().endswith((".xls", ".xlsx", ".ods")) or content.startswith(b"\xd0\xcf\x11\xe0"):
        raise ListError(gettext("Save the list as an Excel workbook (.xlsx) or as CSV UTF-8, then upload it again."))
    else:
        records = _csv_records(content)
    rows = _rows(records, optional, columns)
    if not rows:
        raise ListError(gettext("The list has a heading row but no delegates."))
    return rows


def _csv_records(content: bytes):
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ListError(
            gettext("The file is not UTF-8 text: in Excel, save it as “CSV UTF-8 (comma delimited)”.")
        ) from None
    if "\x00" in text:
        raise ListError(gettext("The file is not a CSV list (it holds binary data)."))
    header = text.split("\n", 1)[0]
    separator = ";" if header.count(";") > header.count(",") else ","
    try:
        for number, cells in enumerate(csv.reader(io.StringIO(text, newline=""), delimiter=separator), start=1):
            yield number, [(cell, False) for cell in cells[:MAX_COLUMNS]]
    except csv.Error as error:  # a cell longer than the csv module allows, a stray quote at the end of the file
        raise ListError(gettext("The file is not a CSV list we can read (%(reason)s).", reason=error)) from None


def _xlsx_records(content: bytes):
    from openpyxl import load_workbook

    try:  # a small file that unpacks to gigabytes is not a delegation list (zipfile reads no more than it declares)
        unpacked = sum(item.file_size for item in zipfile.ZipFile(io.BytesIO(content)).infolist())
    except (zipfile.BadZipFile, ValueError, OSError):
        raise ListError(gettext("The file is not an Excel workbook we can read (a damaged ZIP).")) from None
    if unpacked > MAX_UNPACKED_BYTES:
        raise ListError(
            gettext("The workbook unpacks to more than a delegation list holds: save just the list as CSV.")
        )
    try:
        workbook = load_workbook(io.BytesIO(content), read_only=True, data_only=False)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as error:
        raise ListError(
            gettext("The file is not an Excel workbook we can read (%(reason)s).", reason=type(error).__name__)
        ) from None
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
    headings = _headings(names)
    columns: dict[int, str] = {}
    for _number, cells in records:  # the heading row: the first that is not blank
        if any(text.strip() for text, _ in cells):
            columns = {
                i: headings[_heading_key(text)] for i, (text, _) in enumerate(cells) if _heading_key(text) in headings
            }
            break
    missing = [name for name in names if name not in columns.values() and name not in optional]
    if missing:
        raise ListError(
            gettext(
                "The list has no column %(missing)s. The first row must name the columns: %(columns)s.",
                missing=format_list([_quoted(str(LABELS[name])) for name in missing], locale=str(get_locale() or "en")),
                columns=_column_list(names, optional),
            )
        )
    rows: list[ListRow] = []
    for number, cells in records:
        if not any(text.strip() for text, _ in cells):
            continue
        if len(rows) == MAX_ROWS:
            raise ListError(
                gettext("The list has more than %(count)d delegates: split it into smaller files.", count=MAX_ROWS)
            )
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


def _mode_key(text: str) -> str:
    return " ".join(search_key(text).replace("_", " ").replace("-", " ").split())


def _mode_words() -> dict[str, str]:
    """The mode of each way a list may write one, by its key: MODE_WORDS, then each mode's name in each language."""
    words = dict(MODE_WORDS)
    for _language in _in_each_language():
        for mode in Mode:
            words.setdefault(_mode_key(mode.label), mode.value)
    return words


def _mode(value: str, words: dict[str, str]) -> str:
    """A list's mode cell as a mode's value (`words`: from `_mode_words`), else as given."""
    return words.get(_mode_key(value), value)


def _role_words() -> dict[str, Role]:
    """The role of each way a list may write one, by its key: its value (vice_chair), then its name in each
    language, written inclusively as the pages do (Délégué·e, Delegado/a) or in either form (Délégué, Delegada)."""
    words = {_heading_key(role.value): role for role in Role}
    for _language in _in_each_language():
        for role in Role:
            for form in (role.label, *_gendered_forms(role.label)):
                words.setdefault(_heading_key(form), role)
    return words


def _gendered_forms(label: str) -> list[str]:
    """The two words an inclusive label stands for: "Délégué·e" for délégué and déléguée, "Observateur·rice" for
    observateur and observatrice, "Delegado/a" for delegado and delegada, "المندوب/المندوبة" for both words."""
    for mark in ("·", "/"):
        if mark in label:
            first, ending = label.split(mark, 1)
            if ending == "rice" and first.endswith("eur"):
                return [first, first[: -len("eur")] + ending]
            if len(ending) > 3:  # a whole second word
                return [first, ending]
            # Spanish swaps the last letter (Delegado/a); French adds it (Président·e)
            other = first[:-1] + ending if mark == "/" else first + ending
            return [first, other]
    return []


def _role(value: str, words: dict[str, Role]) -> Role | None:
    """A list's role cell as a role (`words`: from `_role_words`); Delegate when empty, None when it names none."""
    return words.get(_heading_key(value)) if value else Role.DELEGATE


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
    modes, roles = _mode_words(), _role_words()
    for row in rows:
        cells = row.cells
        entry = StaffEntry(
            full_name=cells["full_name"],
            organisation=cells["organisation"],
            country=_country_code(cells["country"]),
            entity_type=cells["entity_type"],
            region=cells["region"],
            mode=_mode(cells["mode"], modes),
            email=cells["email"],
        )
        role = _role(cells["role"], roles)
        item = PreviewRow(row.line, entry, role.value if role else cells["role"], NEW)
        result.append(item)
        key = email_key(entry.email) if entry.email else ""
        if key and key in registered:
            item.status = REGISTERED
            item.note = gettext("Already registered as %(name)s: skipped.", name=isolate(registered[key]))
            continue
        errors = entry_errors(meeting, entry, check_in_now=False)
        for name in sorted(row.formulas):  # text a spreadsheet would run: never stored, whatever it computes
            errors[name] = gettext(
                "“%(value)s” starts like a spreadsheet formula: type the value itself "
                "(a name, e-mail or organisation never starts with =, +, -, or @).",
                value=cells[name][:40],
            )
        if role is None:
            errors["role"] = gettext(
                "Choose a role: %(roles)s (or leave it empty).", roles=", ".join(r.label for r in Role)
            )
        if key and key in first_line and "email" not in errors:
            errors["email"] = gettext(
                "This e-mail address is already on line %(line)d of this list.", line=first_line[key]
            )
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
            gettext(
                "The personal data of this session was purged on %(day)s: it takes no more registrations.",
                day=format_day(meeting.purged_at.date()),
            )
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
        raise StaleConfirmation(gettext("This list was already saved: saving it again would add nobody."))
    rows = preview_of(meeting, upload)
    if seen != fingerprint(upload, rows):
        raise StaleConfirmation(
            gettext(
                "The list or the session's registrations changed since this preview: check the "
                "preview below again, then confirm."
            )
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
                gettext("Someone on this list registered meanwhile: check the preview below again, then confirm.")
            ) from None
        skipped_registered = sum(row.status == REGISTERED for row in rows)
        skipped_errors = sum(row.status == ERROR for row in rows)
        # Kept as written, in the language of the organiser who saved it.
        upload.summary = ", ".join(
            [
                ngettext("%(num)d added", "%(num)d added", len(added)),
                ngettext("%(num)d already registered", "%(num)d already registered", skipped_registered),
                ngettext("%(num)d with errors skipped", "%(num)d with errors skipped", skipped_errors),
            ]
        )
        upload.saved_at = utcnow()
        audit.record(
            "registrations.import", session_id=meeting.id, target=upload.filename, details=upload.summary, actor=by
        )
    return added


def _term(terms: list, by_folded_name: dict, name: str):
    """The session's term of this name: exact, or else ignoring case (as `entry_errors` accepts it)."""
    return next((t for t in terms if t.name == name), None) or by_folded_name[name.casefold()]

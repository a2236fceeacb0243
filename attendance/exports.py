"""Shared rules for data that leaves the app as spreadsheets."""

import re

#: starts every CSV download: without it, Excel on Windows reads UTF-8 as the local code page and garbles
#: Cyrillic, Arabic and Chinese names
CSV_BOM = "\ufeff"

FORMULA_STARTS = "=+-@\t\r"  # a spreadsheet reads text starting with one of these as a formula


#: direction overrides, embeddings and isolates (U+202A-E, U+2066-9): a spreadsheet obeys them, and one typed into a
#: name ("Zero\u202eOLR") shows its cell reversed; a page isolates each value instead (text.isolate)
_DIRECTION_CONTROLS = re.compile("[\u202a-\u202e\u2066-\u2069]")


def spreadsheet_safe(value: str) -> str:
    """Text for a CSV cell that spreadsheets show as text, behind the apostrophe they read as "this is text", and
    in the order it was typed in."""
    value = _DIRECTION_CONTROLS.sub("", value)
    if value and value[0] in FORMULA_STARTS:
        return "'" + value
    return value


def append_text_safe(sheet, values: list) -> None:
    """Appends a row to an openpyxl sheet with its text kept as typed: stored as a string (never a formula) and
    marked, as Excel marks a typed leading apostrophe, so that editing the cell keeps it text; without direction
    controls, as `spreadsheet_safe`."""
    sheet.append([_DIRECTION_CONTROLS.sub("", value) if isinstance(value, str) else value for value in values])
    for cell in sheet[sheet.max_row]:
        if isinstance(cell.value, str):
            cell.data_type = "s"
            cell.quotePrefix = cell.value[:1] in FORMULA_STARTS

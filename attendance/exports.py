"""Shared rules for data that leaves the app as spreadsheets."""

#: starts every CSV download: without it, Excel on Windows reads UTF-8 as the local code page and garbles
#: Cyrillic, Arabic and Chinese names
CSV_BOM = "\ufeff"

FORMULA_STARTS = "=+-@\t\r"  # a spreadsheet reads text starting with one of these as a formula


def spreadsheet_safe(value: str) -> str:
    """Text for a CSV cell that spreadsheets show as text, behind the apostrophe they read as "this is text"."""
    if value and value[0] in FORMULA_STARTS:
        return "'" + value
    return value


def append_text_safe(sheet, values: list) -> None:
    """Appends a row to an openpyxl sheet with its text kept as typed: stored as a string (never a formula) and
    marked, as Excel marks a typed leading apostrophe, so that editing the cell keeps it text."""
    sheet.append(values)
    for cell in sheet[sheet.max_row]:
        if isinstance(cell.value, str):
            cell.data_type = "s"
            cell.quotePrefix = cell.value[:1] in FORMULA_STARTS

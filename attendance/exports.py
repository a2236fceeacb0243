"""Shared rules for data that leaves the app as spreadsheets."""


def spreadsheet_safe(value: str) -> str:
    """Text that spreadsheets show as text: a leading =, +, -, @ (or tab, CR) would start a formula."""
    if value and value[0] in "=+-@\t\r":
        return "'" + value
    return value

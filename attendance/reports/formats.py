"""The headcount in each format: a bar chart as SVG, CSV, XLSX and PDF. Numbers come from `headcount()` only."""
from __future__ import annotations

import csv
import io

from markupsafe import Markup, escape
from openpyxl import Workbook
from openpyxl.styles import Font

from ..exports import spreadsheet_safe
from ..pdf import render_pdf
from .headcount import COLUMNS, LABELS, Headcount, Row, Scope

IN_PERSON_COLOUR, ONLINE_COLOUR = "#1b6e3a", "#1f4e9c"


def bar_chart(scope: Scope, width: int = 720) -> Markup:
    """Attended in person and online per entity type, as horizontal bars with their numbers written on them."""
    rows = scope.by_entity_type
    label_width, bar_height, gap, top = 250, 14, 10, 30
    biggest = max([r.counts["attended_in_person"] + r.counts["attended_online"] for r in rows] + [1])
    scale = (width - label_width - 40) / biggest
    height = top + len(rows) * (2 * bar_height + gap) + 10
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 {width} {height}" '
             f'role="img" aria-labelledby="chart-title"><title id="chart-title">Attended in person and online per '
             f'entity type, {escape(scope.title)}</title>',
             f'<rect x="{label_width}" y="4" width="12" height="12" fill="{IN_PERSON_COLOUR}"/>'
             f'<text x="{label_width + 16}" y="14" font-size="11">In person</text>'
             f'<rect x="{label_width + 90}" y="4" width="12" height="12" fill="{ONLINE_COLOUR}"/>'
             f'<text x="{label_width + 106}" y="14" font-size="11">Online only</text>']
    for i, row in enumerate(rows):
        y = top + i * (2 * bar_height + gap)
        parts.append(f'<text x="{label_width - 6}" y="{y + bar_height + 4}" font-size="11" text-anchor="end">'
                     f'{escape(_short(row.label))}</text>')
        for j, (column, colour) in enumerate((("attended_in_person", IN_PERSON_COLOUR),
                                              ("attended_online", ONLINE_COLOUR))):
            value = row.counts[column]
            bar_y = y + j * bar_height
            parts.append(f'<rect x="{label_width}" y="{bar_y}" width="{value * scale:.1f}" height="{bar_height - 2}"'
                         f' fill="{colour}"/><text x="{label_width + value * scale + 4:.1f}" y="{bar_y + 10}" '
                         f'font-size="10">{value}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))


def _short(label: str, limit: int = 42) -> str:
    return label if len(label) <= limit else label[:limit - 1] + "…"


def _table_rows(scope: Scope):
    for table, rows in (("entity_type", scope.by_entity_type), ("region", scope.by_region)):
        for row in rows + [scope.total]:
            yield table, row


def to_csv(report: Headcount) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["scope", "table", "label"] + COLUMNS)
    for scope in report.scopes:
        for table, row in _table_rows(scope):
            writer.writerow([scope.key, table, spreadsheet_safe(row.label)] + [row.counts[c] for c in COLUMNS])
    return out.getvalue()


def to_xlsx(report: Headcount) -> bytes:
    """A sheet per scope: the entity-type table, then the region table."""
    workbook = Workbook()
    workbook.remove(workbook.active)
    bold = Font(bold=True)
    for scope in report.scopes:
        sheet = workbook.create_sheet(title="Whole session" if scope.key == "session" else scope.key)
        sheet.append([report.meeting.title])
        sheet.append([scope.title])
        for heading, rows in (("Entity type", scope.by_entity_type), ("Region", scope.by_region)):
            sheet.append([])
            sheet.append([heading] + [LABELS[c] for c in COLUMNS])
            for cell in sheet[sheet.max_row]:
                cell.font = bold
            for row in rows + [scope.total]:
                sheet.append([spreadsheet_safe(row.label)] + [row.counts[c] for c in COLUMNS])
                if row is scope.total:
                    for cell in sheet[sheet.max_row]:
                        cell.font = bold
        sheet.column_dimensions["A"].width = 60
        for letter in "BCDEFG":
            sheet.column_dimensions[letter].width = 16
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def to_pdf(report: Headcount) -> bytes:
    return render_pdf("reports/headcount_pdf.html", report=report, COLUMNS=COLUMNS, LABELS=LABELS,
                      chart=bar_chart(report.session, width=760))


__all__ = ["bar_chart", "to_csv", "to_xlsx", "to_pdf", "Row"]

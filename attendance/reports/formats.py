"""The headcount in each format: a bar chart as SVG, CSV, XLSX and PDF. Numbers come from `headcount()` only."""

from __future__ import annotations

import csv
import io

from flask_babel import gettext
from markupsafe import Markup, escape
from openpyxl import Workbook
from openpyxl.styles import Font

from ..documents.pdf import render_pdf
from ..exports import append_text_safe, spreadsheet_safe
from ..text import isolate
from .headcount import COLUMNS, LABELS, Headcount, Row, Scope, explain_columns

IN_PERSON_COLOUR, ONLINE_COLOUR = "#1b6e3a", "#1f4e9c"


def bar_chart(scope: Scope, width: int = 420) -> Markup:
    """Attended in person and online per entity type: a table whose labels are HTML (so any script, right-to-left
    included, is shaped properly; WeasyPrint draws SVG text letter by letter) and whose bars are small SVGs."""
    rows = scope.by_entity_type
    biggest = max([max(r.counts["attended_in_person"], r.counts["attended_online"]) for r in rows] + [1])
    scale = (width - 40) / biggest
    parts = [
        f'<table class="chart"><caption>{escape(scope.title)}: '
        f'<span class="key key-in-person"></span> {escape(gettext("in person"))} '
        f'<span class="key key-online"></span> {escape(gettext("online only"))}</caption><tbody>'
    ]
    for row in rows:
        bars = []
        for j, (column, colour) in enumerate(
            (("attended_in_person", IN_PERSON_COLOUR), ("attended_online", ONLINE_COLOUR))
        ):
            value = row.counts[column]
            bars.append(
                f'<rect x="0" y="{j * 14}" width="{value * scale:.1f}" height="12" fill="{colour}"/>'
                f'<text x="{value * scale + 4:.1f}" y="{j * 14 + 10}" font-size="10">{value}</text>'
            )
        parts.append(
            f'<tr><th scope="row" dir="auto">{escape(isolate(row.label))}</th><td>'
            f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} 28" width="{width}" height="28" '
            f'role="img" aria-label="{escape(gettext("%(in_person)d in person, %(online)d online only", in_person=row.counts["attended_in_person"], online=row.counts["attended_online"]))}">'
            f"{''.join(bars)}</svg></td></tr>"
        )
    parts.append("</tbody></table>")
    return Markup("".join(parts))


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
        sheet = workbook.create_sheet(title=gettext("Whole session") if scope.key == "session" else scope.key)
        append_text_safe(sheet, [report.meeting.local_title])
        append_text_safe(sheet, [scope.title])
        for heading, rows in ((gettext("Entity type"), scope.by_entity_type), (gettext("Region"), scope.by_region)):
            sheet.append([])
            sheet.append([heading] + [str(LABELS[c]) for c in COLUMNS])
            for cell in sheet[sheet.max_row]:
                cell.font = bold
            for row in rows + [scope.total]:
                label = gettext("Total") if row is scope.total else row.label
                append_text_safe(sheet, [label] + [row.counts[c] for c in COLUMNS])
                if row is scope.total:
                    for cell in sheet[sheet.max_row]:
                        cell.font = bold
        sheet.append([])
        append_text_safe(sheet, [gettext("What the columns count")])
        sheet[sheet.max_row][0].font = bold
        for column, sentence in explain_columns(report.meeting).items():
            append_text_safe(sheet, [str(LABELS[column]), sentence])
        sheet.column_dimensions["A"].width = 60
        for letter in "BCDEFG":
            sheet.column_dimensions[letter].width = 16
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def to_pdf(report: Headcount) -> bytes:
    return render_pdf(
        "reports/headcount_pdf.html",
        report=report,
        COLUMNS=COLUMNS,
        LABELS=LABELS,
        chart=bar_chart(report.session),
        explanations=explain_columns(report.meeting),
    )


__all__ = ["bar_chart", "to_csv", "to_xlsx", "to_pdf", "Row"]

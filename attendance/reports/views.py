"""The headcount report page and its downloads, all at the same path plus a suffix."""

from flask import render_template

from .. import audit
from ..auth import organiser_required
from ..exports import CSV_BOM
from ..lookup import managed_session_or_404
from . import bp
from .formats import bar_chart, to_csv, to_pdf, to_xlsx
from .headcount import COLUMNS, LABELS, explain_columns, headcount, online_thresholds

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@bp.get("/sessions/<slug>/reports/headcount")
@organiser_required
def headcount_page(slug: str):
    """Not audited: the numbers stay on an organiser's page in the app. The files below take them out of it, and
    are audited."""
    meeting = managed_session_or_404(slug)
    report = headcount(meeting)
    return render_template(
        "reports/headcount.html",
        meeting=meeting,
        report=report,
        COLUMNS=COLUMNS,
        LABELS=LABELS,
        chart=bar_chart(report.session),
        explanations=explain_columns(meeting),
        thresholds=online_thresholds(meeting),
    )


@bp.get("/sessions/<slug>/reports/headcount.<any(csv, xlsx, pdf):kind>")
@organiser_required
def headcount_download(slug: str, kind: str):
    meeting = managed_session_or_404(slug)
    report = headcount(meeting)
    body, mimetype = {
        "csv": lambda: (CSV_BOM + to_csv(report), "text/csv; charset=utf-8"),
        "xlsx": lambda: (to_xlsx(report), XLSX),
        "pdf": lambda: (to_pdf(report), "application/pdf"),
    }[kind]()
    audit.record(
        "headcount.export",
        session_id=meeting.id,
        details=f"{kind}: {report.registrations_counted} registrations counted",
    )
    disposition = "inline" if kind == "pdf" else "attachment"
    return (
        body,
        200,
        {"Content-Type": mimetype, "Content-Disposition": f'{disposition}; filename="{meeting.slug}-headcount.{kind}"'},
    )

"""Organisers' online-attendance pages, report imports, and the Zoom webhook endpoint."""

import sqlalchemy as sa
from flask import abort, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext, ngettext
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired

from .. import attendance_rule  # a module, not its names: it imports online.intervals, so this package
from ..auth import organiser_required
from ..extensions import csrf, db, limiter
from ..lookup import chosen_day, in_session_or_404, managed_session_or_404, small_int
from ..models import Registration, ReportImport
from . import bp
from .imports import (
    ERROR,
    MATCHED,
    PREVIEW_ROWS,
    UNMATCHED,
    ChoiceReader,
    ReportError,
    choice_label,
    save,
    stored_preview,
    upload,
)
from .reports import KIND_NAMES
from .service import map_identity, online_day, unmatched_people
from .zoom import handle_delivery


class UploadForm(FlaskForm):
    report = FileField(
        _l("Attendance report (Zoom participants CSV, Teams attendance report, or email,joined,left CSV)"),
        validators=[FileRequired(_l("Choose the report file to upload."))],
    )


def _choice_labels(meeting) -> dict[int, str]:
    """Every registration of the session as the one shared list of choices writes it, by id, in name order."""
    return {
        r.id: choice_label(r)
        for r in db.session.scalars(
            sa.select(Registration).filter_by(session_id=meeting.id).order_by(Registration.name_key, Registration.id)
        )
    }


@bp.get("/sessions/<slug>/online")
@organiser_required
def online_attendance(slug: str):
    meeting = managed_session_or_404(slug)
    day = chosen_day(meeting)
    rows = online_day(meeting, day)
    day_index = meeting.days.index(day)
    counted = {
        registration_id: days[day_index]
        for registration_id, days in attendance_rule.session_days_of(meeting, [r.registration for r in rows]).items()
    }
    return render_template(
        "online/day.html",
        meeting=meeting,
        day=day,
        counted=counted,
        needed=attendance_rule.online_minutes_needed(meeting, day),
        describe_day=attendance_rule.describe_day,
        attended=[r for r in rows if not r.link_only],
        link_only=[r for r in rows if r.link_only],
        unmatched=unmatched_people(meeting, day),
        choices=_choice_labels(meeting),
    )


@bp.post("/sessions/<slug>/online/map")
@organiser_required
def map_person(slug: str):
    meeting = managed_session_or_404(slug)
    identity_key = request.form.get("identity_key", "")[:300]
    try:
        registration = ChoiceReader(meeting).read(request.form.get("registration_id", "")[:400])
    except ValueError as error:
        flash(gettext("Nothing was mapped: %(reason)s", reason=error))
    else:
        if registration is None or not identity_key:
            flash(gettext("Choose the registration this person is."))
        else:
            moved = map_identity(meeting, identity_key, registration, current_user.email)
            flash(
                ngettext(
                    "Mapped to %(name)s: %(num)d interval moved; later imports will know them.",
                    "Mapped to %(name)s: %(num)d intervals moved; later imports will know them.",
                    moved,
                    name=registration.full_name,
                )
            )
    return redirect(url_for("online.online_attendance", slug=slug, day=request.form.get("day", "")))


@bp.route("/sessions/<slug>/imports", methods=["GET", "POST"])
@organiser_required
def imports(slug: str):
    meeting = managed_session_or_404(slug)
    form = UploadForm()
    if form.validate_on_submit():
        file = form.report.data
        try:
            report = upload(meeting, file.filename or "", file.read(), current_user.email)
        except ReportError as error:
            form.report.errors.append(str(error))
        else:
            return redirect(url_for("online.import_preview", slug=slug, import_id=report.id))
    past = db.session.scalars(
        sa.select(ReportImport).filter_by(session_id=meeting.id).order_by(ReportImport.uploaded_at.desc())
    ).all()
    return render_template(
        "online/imports.html", meeting=meeting, form=form, past=past, kind_names=KIND_NAMES
    ), 400 if form.errors else 200


def _import_or_404(meeting, import_id: int) -> ReportImport:
    return in_session_or_404(ReportImport, import_id, meeting)


@bp.get("/sessions/<slug>/imports/<int:import_id>")
@organiser_required
def import_preview(slug: str, import_id: int):
    meeting = managed_session_or_404(slug)
    return _preview_page(meeting, _import_or_404(meeting, import_id))


def _preview_page(
    meeting, report: ReportImport, entered: dict[int, str] | None = None, problems: dict[int, str] | None = None
):
    """The preview; after a refused save, with what the organiser typed and why each choice was refused."""
    return render_template(
        "online/preview.html",
        meeting=meeting,
        report=report,
        preview=stored_preview(meeting, report),
        kind_names=KIND_NAMES,
        shown_rows=PREVIEW_ROWS,
        choices=_choice_labels(meeting),
        entered=entered or {},
        problems=problems or {},
        MATCHED=MATCHED,
        UNMATCHED=UNMATCHED,
        ERROR=ERROR,
    ), 400 if problems else 200


@bp.post("/sessions/<slug>/imports/<int:import_id>/save")
@organiser_required
def import_save(slug: str, import_id: int):
    meeting = managed_session_or_404(slug)
    report = _import_or_404(meeting, import_id)
    try:
        entered = {small_int(name[4:]): value[:400] for name, value in request.form.items() if name.startswith("map-")}
    except ValueError:
        abort(400, gettext("Each choice must name its line with digits (map-<line>)."))
    reader, choices, problems = ChoiceReader(meeting), {}, {}
    for line, text in entered.items():
        try:
            registration = reader.read(text)
        except ValueError as error:
            problems[line] = gettext("Line %(line)d: %(reason)s", line=line, reason=error)
        else:
            if registration is not None:
                choices[line] = registration.id
    if problems:  # nothing saved; the page keeps every choice typed
        return _preview_page(meeting, report, entered, problems)
    try:
        summary = save(meeting, report, choices, current_user.email)
    except ValueError as error:
        flash(gettext("Nothing was saved: %(reason)s", reason=error))
        return redirect(url_for("online.import_preview", slug=slug, import_id=import_id))
    flash(gettext("Saved: %(summary)s.", summary=summary))
    imported_days = stored_preview(meeting, report)["days"]  # the online page opens on the report's first day
    return redirect(
        url_for("online.online_attendance", slug=slug, **({"day": imported_days[0]} if imported_days else {}))
    )


@bp.post("/integrations/zoom/webhook")
@csrf.exempt
@limiter.limit("600 per minute")
def zoom_webhook():
    answer = handle_delivery(
        request.get_data(cache=False),
        request.headers.get("x-zm-request-timestamp", ""),
        request.headers.get("x-zm-signature", ""),
    )
    return jsonify(answer.body), answer.http_status

"""Organisers register a delegation list at once: upload, preview, confirm."""

import sqlalchemy as sa
from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired

from .. import outbox
from ..auth import organiser_required
from ..extensions import db
from ..lookup import in_session_or_404, managed_session_or_404
from ..models import Mode, RegistrationImport, Role
from . import bp
from .registration_import import (
    COLUMNS,
    ERROR,
    LABELS,
    MAX_BYTES,
    MAX_ROWS,
    NEW,
    REGISTERED,
    ListError,
    StaleConfirmation,
    fingerprint,
    preview_of,
    save,
    upload_list,
)


class ListUploadForm(FlaskForm):
    delegates = FileField(
        _l("Delegation list (CSV or XLSX)"), validators=[FileRequired(_l("Choose the list to upload."))]
    )


@bp.route("/sessions/<slug>/registrations/import", methods=["GET", "POST"])
@organiser_required
def import_registrations(slug: str):
    meeting = managed_session_or_404(slug)
    form = ListUploadForm()
    if form.validate_on_submit():
        file = form.delegates.data
        try:
            upload = upload_list(meeting, file.filename or "", file.read(MAX_BYTES + 1), current_user.email)
        except ListError as error:
            form.delegates.errors.append(str(error))
        else:
            return redirect(url_for("organiser.registration_import_preview", slug=slug, import_id=upload.id))
    past = db.session.scalars(
        sa.select(RegistrationImport)
        .filter_by(session_id=meeting.id)
        .order_by(RegistrationImport.uploaded_at.desc(), RegistrationImport.id.desc())
    ).all()
    return render_template(
        "organiser/import_registrations.html",
        meeting=meeting,
        form=form,
        past=past,
        labels={name: LABELS[name] for name in COLUMNS},  # the columns of a delegation list
        modes={mode.value: mode.label for mode in Mode},
        max_kb=MAX_BYTES // 1024,
        max_rows=MAX_ROWS,
    ), 400 if form.errors else 200


def _upload_or_404(meeting, import_id: int) -> RegistrationImport:
    return in_session_or_404(RegistrationImport, import_id, meeting)


def _preview_page(meeting, upload, status: int = 200):
    try:
        rows = preview_of(meeting, upload)
    except ListError as error:  # a list kept by an older rule that no longer reads it
        flash(gettext("This list cannot be read: %(reason)s", reason=str(error)), "warning")
        return redirect(url_for("organiser.import_registrations", slug=meeting.slug))
    counts = {status: sum(row.status == status for row in rows) for status in (NEW, REGISTERED, ERROR)}
    return render_template(
        "organiser/import_preview.html",
        meeting=meeting,
        upload=upload,
        rows=rows,
        counts=counts,
        fingerprint=fingerprint(upload, rows),
        labels=LABELS,
        modes={mode.value: mode.label for mode in Mode},
        roles={role.value: role.label for role in Role},
        NEW=NEW,
        REGISTERED=REGISTERED,
        ERROR=ERROR,
    ), status


@bp.get("/sessions/<slug>/registrations/import/<int:import_id>")
@organiser_required
def registration_import_preview(slug: str, import_id: int):
    meeting = managed_session_or_404(slug)
    return _preview_page(meeting, _upload_or_404(meeting, import_id))


@bp.post("/sessions/<slug>/registrations/import/<int:import_id>")
@organiser_required
def confirm_registration_import(slug: str, import_id: int):
    meeting = managed_session_or_404(slug)
    upload = _upload_or_404(meeting, import_id)
    try:
        added = save(meeting, upload, request.form.get("fingerprint", "")[:64], current_user.email)
    except StaleConfirmation as error:
        flash(gettext("Nothing was saved.") + " " + str(error), "warning")
        return _preview_page(meeting, upload, 409)
    if request.form.get("send_confirmations") == "y":  # sent by the job worker
        mailed = sum(outbox.schedule(registration, outbox.CONFIRMATION) is not None for registration in added)
        mails = gettext(
            "Confirmations with the badge are on their way to %(mailed)d of %(num)d.", mailed=mailed, num=len(added)
        )
    else:
        mails = gettext("No confirmation was emailed.")
    flash(gettext("Saved: %(summary)s.", summary=upload.summary) + " " + mails)
    return redirect(url_for("organiser.registrations", slug=slug))

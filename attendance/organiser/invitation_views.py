"""Organisers' invitations page: invite one person or a focal point, upload a list of invitees (preview, then
confirm), see each invitation's status, revoke."""

import sqlalchemy as sa
from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext, ngettext
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from sqlalchemy.orm import selectinload
from wtforms import EmailField, IntegerField, RadioField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Optional

from .. import transaction
from ..auth import organiser_required
from ..extensions import db
from ..i18n import LANGUAGES
from ..lookup import in_session_or_404, managed_session_or_404
from ..models import Invitation, InvitationList, Mode
from ..registration.staff_entry import InvalidEntry
from ..text import strip_edges
from . import bp
from .invitations import (
    KNOWN,
    MAX_PLACES,
    Invitee,
    NotRevocable,
    invite,
    invitee_preview,
    revoke,
    save_invitee_list,
    session_language,
    upload_invitee_list,
)
from .registration_import import ERROR, LABELS, MAX_BYTES, NEW, ListError, StaleConfirmation, fingerprint


class InviteForm(FlaskForm):
    kind = RadioField(
        _l("Invite"),
        default="personal",
        choices=[
            SelectChoice("personal", _l("A person: their link registers them, once")),
            SelectChoice("nomination", _l("A focal point: their link registers up to N delegates of their entity")),
        ],
    )
    full_name = StringField(_l("Full name"), filters=[strip_edges])
    email = EmailField(_l("Email"), filters=[strip_edges])
    organisation = StringField(_l("Organisation"), filters=[strip_edges])
    entity_type = SelectField(_l("Entity type"), validate_choice=False)
    region = SelectField(_l("Region"), validate_choice=False)
    mode = SelectField(_l("Mode"), validate_choice=False)
    places = IntegerField(_l("Nominees allowed (focal point only)"), validators=[Optional()])
    language = SelectField(
        _l("Language of the invitation"),
        choices=[SelectChoice(code, name) for code, name in LANGUAGES.items()],
        validate_choice=False,
    )

    def __init__(self, meeting, *args, **kwargs):
        super().__init__(*args, **kwargs)
        blank = [SelectChoice("", _l("Not set"))]
        self.entity_type.choices = blank + [SelectChoice(t.name, t.name) for t in meeting.entity_types]
        self.region.choices = blank + [SelectChoice(r.name, r.name) for r in meeting.regions]
        self.mode.choices = blank + [SelectChoice(m.value, m.label) for m in Mode]
        if not self.language.data:
            self.language.data = session_language(meeting)

    def invitee(self) -> Invitee:
        return Invitee(
            **{
                name: getattr(self, name).data or ""
                for name in ("full_name", "email", "organisation", "entity_type", "region", "mode", "language")
            }
        )


class InviteeListForm(FlaskForm):
    invitees = FileField(
        _l("List of invitees (CSV or XLSX)"), validators=[FileRequired(_l("Choose the list to upload."))]
    )


def _page(meeting, form: InviteForm, list_form: InviteeListForm, status: int = 200):
    invitations = db.session.scalars(
        sa.select(Invitation)
        .filter_by(session_id=meeting.id)
        .options(selectinload(Invitation.nominees))
        .order_by(Invitation.created_at.desc(), Invitation.id.desc())
    ).all()
    return render_template(
        "organiser/invitations.html",
        meeting=meeting,
        form=form,
        list_form=list_form,
        invitations=invitations,
        max_places=MAX_PLACES,
        session_language=session_language(meeting),
        max_kb=MAX_BYTES // 1024,
        labels=LABELS,
    ), status


@bp.route("/sessions/<slug>/invitations", methods=["GET", "POST"])
@organiser_required
def invitations(slug: str):
    meeting = managed_session_or_404(slug)
    form = InviteForm(meeting)
    if form.validate_on_submit():
        nomination = form.kind.data == "nomination"
        try:
            invitation = invite(
                meeting, form.invitee(), by=current_user.email, places=(form.places.data or 0) if nomination else None
            )
        except InvalidEntry as invalid:
            for name, reason in invalid.errors.items():
                getattr(form, name).errors = [*getattr(form, name).errors, reason]
            return _page(meeting, form, InviteeListForm(), 400)
        mailed = transaction.commit()  # the page tells whether the queue took the mail
        flash(
            gettext("%(name)s is invited.", name=invitation.full_name)
            + " "
            + (
                gettext("The invitation is being emailed.")
                if mailed
                else gettext("The email is delayed: it is sent once the mail queue is back.")
            )
        )
        return redirect(url_for("organiser.invitations", slug=slug))
    return _page(meeting, form, InviteeListForm(), 400 if request.method == "POST" else 200)


@bp.route("/sessions/<slug>/invitations/<int:invitation_id>/revoke", methods=["GET", "POST"])
@organiser_required
def revoke_invitation(slug: str, invitation_id: int):
    """Asks first (a revoked link cannot be given back), then revokes."""
    meeting = managed_session_or_404(slug)
    invitation = in_session_or_404(Invitation, invitation_id, meeting)
    if request.method == "GET" or request.form.get("confirmed") != "yes":
        return render_template("organiser/confirm_revoke_invitation.html", meeting=meeting, invitation=invitation)
    try:
        revoke(invitation, current_user.email)
    except NotRevocable:
        flash(gettext("This invitation is used up or already revoked: nothing changed."), "warning")
    else:
        flash(gettext("Invitation revoked: its link no longer registers anyone."))
    return redirect(url_for("organiser.invitations", slug=slug))


@bp.post("/sessions/<slug>/invitations/upload")
@organiser_required
def upload_invitees(slug: str):
    meeting = managed_session_or_404(slug)
    list_form = InviteeListForm()
    if list_form.validate_on_submit():
        file = list_form.invitees.data
        try:
            upload = upload_invitee_list(meeting, file.filename or "", file.read(MAX_BYTES + 1), current_user.email)
        except ListError as error:
            list_form.invitees.errors = [*list_form.invitees.errors, str(error)]
        else:
            return redirect(url_for("organiser.invitee_list_preview", slug=slug, list_id=upload.id))
    return _page(meeting, InviteForm(meeting), list_form, 400)


def _list_or_404(meeting, list_id: int) -> InvitationList:
    return in_session_or_404(InvitationList, list_id, meeting)


def _preview_page(meeting, upload: InvitationList, status: int = 200):
    try:
        rows = invitee_preview(meeting, upload)
    except ListError as error:
        flash(gettext("This list cannot be read: %(reason)s", reason=str(error)), "warning")
        return redirect(url_for("organiser.invitations", slug=meeting.slug))
    counts = {s: sum(row.status == s for row in rows) for s in (NEW, KNOWN, ERROR)}
    return render_template(
        "organiser/invitee_preview.html",
        meeting=meeting,
        upload=upload,
        rows=rows,
        counts=counts,
        fingerprint=fingerprint(upload, rows),
        labels=LABELS,
        modes={mode.value: mode.label for mode in Mode},
        session_language=session_language(meeting),
        NEW=NEW,
        KNOWN=KNOWN,
        ERROR=ERROR,
    ), status


@bp.get("/sessions/<slug>/invitations/lists/<int:list_id>")
@organiser_required
def invitee_list_preview(slug: str, list_id: int):
    meeting = managed_session_or_404(slug)
    return _preview_page(meeting, _list_or_404(meeting, list_id))


@bp.post("/sessions/<slug>/invitations/lists/<int:list_id>")
@organiser_required
def confirm_invitee_list(slug: str, list_id: int):
    meeting = managed_session_or_404(slug)
    upload = _list_or_404(meeting, list_id)
    try:
        invited = save_invitee_list(meeting, upload, request.form.get("fingerprint", "")[:64], current_user.email)
    except StaleConfirmation as error:
        flash(gettext("Nothing was saved.") + " " + str(error), "warning")
        return _preview_page(meeting, upload, 409)
    flash(
        ngettext(
            "%(num)d person invited: each invitation is being emailed.",
            "%(num)d people invited: each invitation is being emailed.",
            len(invited),
        )
    )
    return redirect(url_for("organiser.invitations", slug=slug))

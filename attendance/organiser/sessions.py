"""Organisers set up sessions: details, days and hours, entity types and regions."""

import sqlalchemy as sa
from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext, ngettext
from flask_login import current_user

from .. import audit
from ..auth import organiser_required
from ..extensions import db
from ..formatting import format_day
from ..lookup import in_session_or_404, managed_session_or_404, small_int
from ..models import (
    AuditEvent,
    MeetingSeries,
    MeetingSession,
    Registration,
    RegistrationPolicy,
    RegistrationStatus,
    StaffUser,
)
from ..models.staff import session_organisers
from . import bp
from .door_staff import door_staff_of
from .forms import CONTENT_LANGUAGES, SessionForm, VocabularyForm, session_translations, term_translations
from .service import (
    VOCABULARIES,
    DayHours,
    DayInUse,
    NameTaken,
    VocabularyInUse,
    delete_session,
    delete_term,
    save_session,
    save_term,
    session_contents,
    to_utc,
)

NEW_SESSION_DAY_ROWS, EXTRA_DAY_ROWS = 5, 2  # empty rows are left out: room for a week's meeting


@bp.get("/staff")
@organiser_required
def dashboard():
    sessions = db.session.scalars(
        db.select(MeetingSession)
        .where(MeetingSession.organisers.contains(current_user))
        .order_by(MeetingSession.created_at.desc())
    ).all()
    counts = dict(
        db.session.execute(
            sa.select(Registration.session_id, sa.func.count())
            .where(Registration.status == RegistrationStatus.REGISTERED)
            .group_by(Registration.session_id)
        ).all()
    )
    return render_template("organiser/dashboard.html", sessions=sessions, counts=counts)


@bp.route("/sessions/new", methods=["GET", "POST"])
@organiser_required
def new_session():
    return _edit_session(MeetingSession())


@bp.route("/sessions/<slug>/edit", methods=["GET", "POST"])
@organiser_required
def edit_session(slug: str):
    return _edit_session(managed_session_or_404(slug))


def _edit_session(meeting: MeetingSession):
    is_new = meeting.id is None
    form = SessionForm(editing=None if is_new else meeting)
    if request.method == "GET":
        _fill_session_form(form, meeting)
    if form.validate_on_submit():
        days = [DayHours(row.date.data, *row.hours) for row in form.days if row.date.data]
        tz = form.timezone.data
        try:
            save_session(
                meeting,
                organiser=current_user,
                series_name=form.series_name.data,
                days=days,
                number=form.number.data,
                title=form.title.data,
                slug=form.slug.data,
                venue=form.venue.data or "",
                timezone=tz,
                online_meeting_url=form.online_meeting_url.data or "",
                in_person_capacity=form.in_person_capacity.data,
                reminder_days_before=form.reminder_days_before.data or None,
                zoom_meeting_id=form.zoom_meeting_id.data or None,
                zoom_webhook_secret=form.zoom_webhook_secret.data or "",
                chair_name=form.chair_name.data or "",
                chair_title=form.chair_title.data or "",
                certificate_online_percent=form.certificate_online_percent.data,
                certificate_accepts_link_click=form.certificate_accepts_link_click.data,
                certify_scheduled_hours=form.certify_scheduled_hours.data,
                certificate_days_required=form.certificate_days_required.data,
                certificate_language=form.certificate_language.data or "",
                allows_walk_ins=form.allows_walk_ins.data,
                # a form sent without the choice keeps the session's policy
                registration_policy=RegistrationPolicy(
                    form.registration_policy.data or meeting.registration_policy or RegistrationPolicy.OPEN
                ),
                secretariat_email=form.secretariat_email.data or "",
                secretariat_phone=form.secretariat_phone.data or "",
                registration_opens_at=to_utc(form.registration_opens_at.data, tz),
                registration_closes_at=to_utc(form.registration_closes_at.data, tz),
                translations=session_translations(form),
            )
        except DayInUse as in_use:
            db.session.rollback()
            form.days.errors.append(
                gettext("%(day)s has recorded attendance, so it stays.", day=format_day(in_use.args[0]))
            )
        else:
            flash(gettext("Session created.") if is_new else gettext("Session saved."))
            return redirect(url_for("organiser.registrations", slug=meeting.slug))
    status = 400 if request.method == "POST" else 200
    series_names = db.session.scalars(sa.select(MeetingSeries.name).order_by(MeetingSeries.name)).all()
    return render_template(
        "organiser/session_form.html",
        form=form,
        meeting=meeting,
        is_new=is_new,
        content_languages=CONTENT_LANGUAGES,
        series_names=series_names,
        door_staff=[] if is_new else door_staff_of(meeting),
    ), status


def _fill_session_form(form: SessionForm, meeting: MeetingSession) -> None:
    while len(form.days):
        form.days.pop_entry()
    form.registration_policy.data = (meeting.registration_policy or RegistrationPolicy.OPEN).value
    if meeting.id is None:
        for _ in range(NEW_SESSION_DAY_ROWS):
            form.days.append_entry()
        return
    form.series_name.data = meeting.series.name
    for name in (
        "number",
        "title",
        "slug",
        "venue",
        "timezone",
        "online_meeting_url",
        "in_person_capacity",
        "reminder_days_before",
        "zoom_meeting_id",
        "zoom_webhook_secret",
        "chair_name",
        "chair_title",
        "certificate_online_percent",
        "certificate_accepts_link_click",
        "certify_scheduled_hours",
        "certificate_days_required",
        "certificate_language",
        "allows_walk_ins",
        "secretariat_email",
        "secretariat_phone",
    ):
        getattr(form, name).data = getattr(meeting, name)
    for code, fields in (meeting.translations or {}).items():
        for field, value in fields.items():
            if f"{field}_{code}" in form:
                form[f"{field}_{code}"].data = value
    for name in ("registration_opens_at", "registration_closes_at"):
        moment = getattr(meeting, name)
        getattr(form, name).data = meeting.local(moment).replace(tzinfo=None) if moment else None
    for day in meeting.days:
        form.days.append_entry({"date": day.date, "starts_at": day.starts_at, "ends_at": day.ends_at})
    for _ in range(EXTRA_DAY_ROWS):
        form.days.append_entry()


@bp.route("/sessions/<slug>/<any('entity-types', 'regions'):kind>", methods=["GET", "POST"])
@organiser_required
def vocabulary(slug: str, kind: str):
    """The entity types or the regions of a session: add, rename, reorder, delete the unused."""
    meeting = managed_session_or_404(slug)
    model = VOCABULARIES[kind]
    form = VocabularyForm()
    if form.validate_on_submit():
        try:
            term_id = small_int(request.form["term_id"]) if request.form.get("term_id") else None
        except ValueError:
            abort(400, gettext("The entry to change is named by its id, written with the digits 0-9."))
        term = db.get_or_404(model, term_id) if term_id else model(session=meeting)
        if term.session_id not in (None, meeting.id):
            abort(404)
        try:
            save_term(term, form.name.data, form.position.data or 0, term_translations(request.form))
        except NameTaken:
            flash(gettext("“%(name)s” is already in the list.", name=form.name.data))
        else:
            flash(gettext("Saved “%(name)s”.", name=form.name.data))
        return redirect(url_for("organiser.vocabulary", slug=slug, kind=kind))
    terms = meeting.entity_types if kind == "entity-types" else meeting.regions
    return render_template(
        "organiser/vocabulary.html",
        meeting=meeting,
        kind=kind,
        terms=terms,
        form=form,
        content_languages=CONTENT_LANGUAGES,
    ), 400 if request.method == "POST" else 200


@bp.post("/sessions/<slug>/<any('entity-types', 'regions'):kind>/<int:term_id>/delete")
@organiser_required
def delete_vocabulary_term(slug: str, kind: str, term_id: int):
    meeting = managed_session_or_404(slug)
    term = in_session_or_404(VOCABULARIES[kind], term_id, meeting)
    try:
        delete_term(term)
    except VocabularyInUse as in_use:
        flash(
            ngettext(
                "“%(name)s” is used by %(num)d registration, so it stays. Rename it instead.",
                "“%(name)s” is used by %(num)d registrations, so it stays. Rename it instead.",
                in_use.args[0],
                name=term.name,
            )
        )
    else:
        flash(gettext("Deleted “%(name)s”.", name=term.name))
    return redirect(url_for("organiser.vocabulary", slug=slug, kind=kind))


@bp.post("/sessions/<slug>/organisers")
@organiser_required
def add_organiser(slug: str):
    meeting = managed_session_or_404(slug)
    email = request.form.get("email", "").strip().lower()[:254]
    user = db.session.scalar(db.select(StaffUser).filter_by(email=email))
    if user is None or not user.is_organiser:
        flash(
            gettext(
                "No organiser account has the email “%(email)s”. Create it with `flask user add` first.", email=email
            )
        )
    elif user in meeting.organisers:
        flash(gettext("%(email)s already runs this session.", email=email))
    else:
        audit.record("session.add_organiser", session_id=meeting.id, target=email)
        meeting.organisers.append(user)
        flash(gettext("%(email)s is now an organiser of this session.", email=email))
    return redirect(url_for("organiser.edit_session", slug=slug))


@bp.post("/sessions/<slug>/organisers/<int:user_id>/remove")
@organiser_required
def remove_organiser(slug: str, user_id: int):
    meeting = managed_session_or_404(slug)
    user = db.get_or_404(StaffUser, user_id)
    if user in meeting.organisers and len(meeting.organisers) > 1:
        audit.record("session.remove_organiser", session_id=meeting.id, target=user.email)
        meeting.organisers.remove(user)
        flash(gettext("%(email)s no longer runs this session.", email=user.email))
    else:
        flash(gettext("A session keeps at least one organiser."))
    return redirect(url_for("organiser.edit_session", slug=slug))


@bp.route("/sessions/<slug>/delete", methods=["GET", "POST"])
@organiser_required
def delete_session_page(slug: str):
    """Deleting a session and everything recorded for it: only after typing its short name, and audited."""
    meeting = managed_session_or_404(slug)
    counts = session_contents(meeting)
    if request.method == "POST":
        if request.form.get("confirm", "").strip() != meeting.slug:
            flash(gettext("Type “%(slug)s” exactly to confirm. Nothing was deleted.", slug=meeting.slug))
            return render_template("organiser/delete_session.html", meeting=meeting, counts=counts), 400
        title = meeting.title
        delete_session(meeting)
        flash(gettext("Deleted “%(title)s” and everything recorded for it.", title=title))
        return redirect(url_for("organiser.dashboard"))
    return render_template("organiser/delete_session.html", meeting=meeting, counts=counts)


@bp.get("/staff/audit")
@organiser_required
def audit_log():
    """What organisers did in the sessions you run, and everything you did yourself."""
    managed = db.select(session_organisers.c.session_id).where(session_organisers.c.user_id == current_user.id)
    # An event's session is the one of that id created before it: SQLite hands a deleted session's id to the next
    # one created, and that session's organisers must not see the deleted one's history.
    rows = db.session.execute(
        db.select(AuditEvent, MeetingSession.slug)
        .outerjoin(
            MeetingSession,
            sa.and_(MeetingSession.id == AuditEvent.session_id, MeetingSession.created_at <= AuditEvent.at),
        )
        .where(sa.or_(MeetingSession.id.in_(managed), AuditEvent.actor == current_user.email))
        .order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
        .limit(500)
    ).all()
    return render_template("organiser/audit.html", rows=rows)

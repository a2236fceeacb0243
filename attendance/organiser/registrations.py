"""Organisers manage registrations: search and filter, fix details, cancel, reissue badges, export, print."""

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext, ngettext
from flask_login import current_user

from .. import audit, transaction
from ..attendance_rule import describe_day
from ..auth import Actor, organiser_required
from ..certificates.service import eligibility
from ..desk.forms import OrganiserEntryForm
from ..exports import CSV_BOM
from ..extensions import db
from ..formatting import format_day, in_line
from ..jobs.kinds import badge_job_options, request_job
from ..lookup import in_session_or_404, managed_session_or_404, small_int
from ..models import MODE_VALUES, Mode, Registration, RegistrationSource, RegistrationStatus, Role
from ..questions.service import answers_by_registration, answers_of, questions_of, summary
from ..registration.badges import why_no_badge
from ..registration.service import InvitationUsed, cancel, reinstate, reinstate_overfills, reissue_badge
from ..registration.staff_entry import InvalidEntry, add_registration
from ..registration.waitlist import in_person_count, waiting_list
from ..reports.headcount import headline
from ..reports.views import XLSX
from ..text import without_control_characters
from . import bp
from .forms import CancelForm, RegistrationEditForm
from .service import (
    EmailTaken,
    RegistrationFilters,
    registrations_csv,
    registrations_query,
    registrations_xlsx,
    update_registration,
)

STATUS_VALUES = frozenset(status.value for status in RegistrationStatus)

PAGE_SIZE = 50
FILTER_KEYS = ("q", "entity_type", "region", "mode", "status")


def _filters() -> RegistrationFilters:
    args = request.args
    mode, status = args.get("mode", ""), args.get("status", "")
    return RegistrationFilters(
        q=without_control_characters(args.get("q", "")).strip()[:200],
        entity_type_id=args.get("entity_type", type=small_int),
        region_id=args.get("region", type=small_int),
        mode=Mode(mode) if mode in MODE_VALUES else None,
        status=RegistrationStatus(status) if status in STATUS_VALUES else None,
    )


@bp.get("/sessions/<slug>/registrations")
@organiser_required
def registrations(slug: str):
    meeting = managed_session_or_404(slug)
    filters = _filters()
    try:  # a page number no database could count to is no page: 404, as "abc" is
        number = small_int(request.args.get("page", "1"))
    except ValueError:
        abort(404)
    page = db.paginate(registrations_query(meeting, filters), page=number, per_page=PAGE_SIZE, max_per_page=PAGE_SIZE)
    filter_args = {key: request.args[key] for key in FILTER_KEYS if request.args.get(key)}
    return render_template(
        "organiser/registrations.html",
        meeting=meeting,
        page=page,
        filters=filters,
        filter_args=filter_args,
        modes=list(Mode),
        statuses=list(RegistrationStatus),
        headline=headline(meeting, meeting.today()),
        today=meeting.today().isoformat(),
        waiting=waiting_list(meeting),
        summary=summary(meeting),
    )


@bp.get("/sessions/<slug>/registrations.<any(csv, xlsx):kind>")
@organiser_required
def registrations_export(slug: str, kind: str):
    meeting = managed_session_or_404(slug)
    rows = db.session.scalars(registrations_query(meeting, _filters())).all()
    audit.record("registrations.export", session_id=meeting.id, details=f"{len(rows)} rows")
    questions, answers = questions_of(meeting), answers_by_registration(meeting)
    body: bytes | str
    if kind == "xlsx":
        body, content_type = registrations_xlsx(rows, questions, answers), XLSX
    else:
        body, content_type = CSV_BOM + registrations_csv(rows, questions, answers), "text/csv; charset=utf-8"
    return (
        body,
        200,
        {
            "Content-Type": content_type,
            "Content-Disposition": f'attachment; filename="{meeting.slug}-registrations.{kind}"',
        },
    )


@bp.route("/sessions/<slug>/registrations/new", methods=["GET", "POST"])
@organiser_required
def add_registration_page(slug: str):
    """A walk-in, someone seen only on the video platform, a session recorded afterwards: without the public form's
    window or seat limit."""
    meeting = managed_session_or_404(slug)
    form = OrganiserEntryForm(meeting)
    problems = []
    if form.validate_on_submit():
        try:
            added = add_registration(
                meeting,
                form.entry(),
                source=RegistrationSource.ORGANISER,
                actor=Actor.of_user(current_user),
                check_in_now=form.check_in.data,
                door="secretariat",
            )
        except InvalidEntry as invalid:
            problems = form.show_errors(invalid.errors)
        else:
            registration = added.registration
            flash(
                (
                    gettext("%(name)s added and checked in.", name=registration.full_name)
                    if added.checkin
                    else gettext("%(name)s added.", name=registration.full_name)
                )
                + " "
                + (
                    gettext("Their confirmation with the badge was emailed.")
                    if registration.email
                    else gettext("No email address: they get no mail.")
                )
            )
            return redirect(url_for("organiser.edit_registration", slug=slug, registration_id=registration.id))
    elif request.method == "GET":
        form.mode.data = "in_person"
    return render_template(
        "organiser/add_registration.html", meeting=meeting, form=form, problems=problems
    ), 400 if request.method == "POST" else 200


@bp.get("/sessions/<slug>/badges.pdf")
@organiser_required
def badge_sheet(slug: str):
    """Every badge that matches the filters (by default, everyone registered), four to an A4 page."""
    meeting = managed_session_or_404(slug)
    if meeting.purged_at is not None:
        flash(
            gettext(
                "The personal data of this session was purged on %(day)s: its badges would read “Delegate N (purged)”.",
                day=format_day(meeting.purged_at),
            )
        )
        return redirect(url_for("organiser.registrations", slug=slug))
    filters = _filters()
    filters.status = filters.status or RegistrationStatus.REGISTERED
    if db.session.scalar(registrations_query(meeting, filters).limit(1)) is None:
        flash(gettext("No registration matches these filters, so there are no badges to print."))
        return redirect(
            url_for(
                "organiser.registrations",
                slug=slug,
                **{k: request.args[k] for k in FILTER_KEYS if request.args.get(k)},  # type: ignore[arg-type]  # query values, not _external
            )
        )
    job, new = request_job(meeting, "badges.pdf", requested_by=current_user.email, options=badge_job_options(filters))
    if new and not transaction.commit():  # the page tells whether the queue took the job
        flash(gettext("The job queue is unavailable: the job waits, and starts when a worker is back."), "warning")
    return redirect(url_for("jobs.job_page", slug=slug, job_id=job.id))


def _registration_or_404(slug: str, registration_id: int) -> Registration:
    meeting = managed_session_or_404(slug)
    return in_session_or_404(Registration, registration_id, meeting)


@bp.route("/sessions/<slug>/registrations/<int:registration_id>", methods=["GET", "POST"])
@organiser_required
def edit_registration(slug: str, registration_id: int):
    registration = _registration_or_404(slug, registration_id)
    meeting = registration.session
    form = RegistrationEditForm(meeting, data=_form_data(registration))
    if not registration.email:  # a walk-in who gave none may stay without one
        form.email_optional()
    if form.validate_on_submit():
        try:
            audit.record(
                "registration.update",
                session_id=meeting.id,
                target=f"registration {registration.id}",
                details=_changes(registration, form),
            )
            update_registration(
                registration,
                **form.delegate_fields(),
                mode=Mode(form.mode.data),
                role=Role(form.role.data),
                locale=form.locale.data,
                personal_join_url=form.personal_join_url.data or "",
                zoom_registrant_id=form.zoom_registrant_id.data or None,
            )
        except EmailTaken:
            form.email.errors.append(gettext("Another registration for this session already uses this email."))
        else:
            flash(gettext("Registration saved."))
            return redirect(url_for("organiser.edit_registration", slug=slug, registration_id=registration.id))
    return render_template(
        "organiser/registration.html",
        meeting=meeting,
        registration=registration,
        form=form,
        cancel_form=CancelForm(),
        certificate=eligibility(registration),
        describe_day=describe_day,
        answers=answers_of(registration),
        asks_questions=bool(questions_of(meeting)),
    ), 400 if request.method == "POST" else 200


def _changes(registration: Registration, form: RegistrationEditForm) -> str:
    """Which fields an edit changes, for the audit log: names of fields, not their personal values."""
    before = _form_data(registration)
    changed = [name for name, value in before.items() if (getattr(form, name).data or None) != (value or None)]
    return "changed: " + ", ".join(changed) if changed else "no change"


def _form_data(registration: Registration) -> dict:
    return {
        "full_name": registration.full_name,
        "email": registration.email,
        "organisation": registration.organisation,
        "country": registration.country,
        "entity_type": str(registration.entity_type_id),
        "region": str(registration.region_id),
        "mode": registration.mode.value,
        "role": registration.role.value,
        "locale": registration.locale,
        "personal_join_url": registration.personal_join_url,
        "zoom_registrant_id": registration.zoom_registrant_id,
    }


@bp.route("/sessions/<slug>/registrations/<int:registration_id>/cancel", methods=["GET", "POST"])
@organiser_required
def cancel_registration(slug: str, registration_id: int):
    """Asks first (the delegate is told by e-mail), then cancels."""
    registration = _registration_or_404(slug, registration_id)
    form = CancelForm()
    if registration.is_cancelled:
        flash(gettext("This registration is already cancelled."))
        return redirect(url_for("organiser.edit_registration", slug=slug, registration_id=registration_id))
    if request.method == "POST" and form.validate() and request.form.get("confirmed") == "yes":
        cancel(registration, form.reason.data, tell=True)
        mailed = transaction.commit() and bool(registration.email)  # the page tells whether the queue took the mail
        flash(
            gettext("Registration cancelled. Their badge no longer admits them.")
            + " "
            + (
                gettext("The delegate is being told by email.")
                if mailed
                else gettext("No email could be sent: tell them yourself.")
            )
        )
        return redirect(url_for("organiser.edit_registration", slug=slug, registration_id=registration_id))
    return render_template(
        "organiser/confirm_cancel.html", meeting=registration.session, registration=registration, form=form
    ), 400 if request.method == "POST" and form.errors else 200


@bp.post("/sessions/<slug>/registrations/<int:registration_id>/reinstate")
@organiser_required
def reinstate_registration(slug: str, registration_id: int):
    """Reinstates; when the room is full, asks first: the waiting list, or a seat over capacity."""
    registration = _registration_or_404(slug, registration_id)
    meeting = registration.session
    choice = request.form.get("seat", "")
    if choice not in ("line", "over_capacity") and reinstate_overfills(registration):
        return render_template(
            "organiser/confirm_reinstate.html",
            meeting=meeting,
            registration=registration,
            seated=in_person_count(meeting),
            waiting=len(waiting_list(meeting)),
        )
    try:
        place = reinstate(registration, over_capacity=choice == "over_capacity")
    except InvitationUsed:
        flash(gettext("Not reinstated: the focal point has used all the places of their invitation since."))
        return redirect(url_for("organiser.edit_registration", slug=slug, registration_id=registration_id))
    mailed = transaction.commit() and bool(registration.email)  # the page tells whether the queue took the mail
    told = (
        gettext("The delegate is being told by email.")
        if mailed
        else gettext("No email could be sent: tell them yourself.")
    )
    category = "message"  # flask.flash's own default
    if registration.status is RegistrationStatus.PENDING:
        done = gettext("Registration reinstated: it awaits approval again, as it did before its cancellation.")
    elif registration.status is RegistrationStatus.DECLINED:
        done = gettext("Registration reinstated: it stays declined, as it was before its cancellation.")
    elif place is not None:
        done = (
            gettext(
                "Registration reinstated. The room is full: they are on the waiting list, %(place)s.",
                place=in_line(place),
            )
            + " "
            + (
                gettext("They attend online meanwhile.")
                if meeting.is_hybrid
                else gettext("No badge until a seat is theirs.")
            )
        )
    elif choice == "over_capacity" and meeting.in_person_capacity is not None:
        category = "warning"
        done = ngettext(
            "Registration reinstated with a seat: the room now has %(count)d people for %(num)d seat.",
            "Registration reinstated with a seat: the room now has %(count)d people for %(num)d seats.",
            meeting.in_person_capacity,
            count=in_person_count(meeting),
        )
    else:
        done = gettext("Registration reinstated.")
    flash(done + " " + told, category)
    return redirect(url_for("organiser.edit_registration", slug=slug, registration_id=registration_id))


@bp.route("/sessions/<slug>/registrations/<int:registration_id>/reissue-badge", methods=["GET", "POST"])
@organiser_required
def reissue_registration_badge(slug: str, registration_id: int):
    """Asks first, then gives a new badge code and mails the new badge."""
    registration = _registration_or_404(slug, registration_id)
    refusal = why_no_badge(registration)
    if refusal:
        flash(refusal)
        return redirect(url_for("organiser.edit_registration", slug=slug, registration_id=registration_id))
    if request.method == "POST":  # CSRFProtect has checked the form's token
        reissue_badge(registration, tell=True)
        mailed = bool(registration.email)
        mailed = transaction.commit() and mailed  # the page tells whether the queue took the mail
        flash(
            gettext("New badge issued. The old badge no longer works; the delegate's page shows the new one.")
            + " "
            + (
                gettext("The new badge is being emailed to them.")
                if mailed
                else gettext("No email could be sent: tell them yourself.")
            )
        )
        return redirect(url_for("organiser.edit_registration", slug=slug, registration_id=registration_id))
    return render_template("organiser/confirm_reissue.html", meeting=registration.session, registration=registration)

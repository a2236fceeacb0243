"""The desk's pages. Door staff may look people up and (re)print badges, never export lists; door staff assigned to
some sessions, at those sessions' desks only (as at their doors)."""

import sqlalchemy as sa
from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from .. import audit, transaction
from ..auth import Actor, staff_required
from ..checkin.search import find_delegates
from ..extensions import db
from ..lookup import door_session_or_403, in_session_or_404
from ..models import Attendance, MeetingSession, Mode, Registration, RegistrationSource, SessionDay
from ..registration.badges import badge_pdf, why_no_badge
from ..registration.service import reissue_badge
from ..registration.staff_entry import InvalidEntry, add_registration
from . import bp
from .forms import StaffEntryForm


def _registration_or_404(meeting: MeetingSession, registration_id: int) -> Registration:
    return in_session_or_404(Registration, registration_id, meeting)


@bp.get("/sessions/<slug>/desk")
@staff_required
def desk(slug: str):
    meeting = door_session_or_403(slug)
    query = request.args.get("q", "").strip()[:200]
    found, problem = [], None
    if query:
        try:
            found = find_delegates(meeting, query, meeting.today())
        except ValueError as error:
            problem = str(error)
    return render_template("desk/desk.html", meeting=meeting, query=query, found=found, problem=problem)


@bp.route("/sessions/<slug>/desk/walk-in", methods=["GET", "POST"])
@staff_required
def walk_in(slug: str):
    meeting = door_session_or_403(slug)
    if not meeting.allows_walk_ins:
        abort(403, _("This session does not take walk-ins: ask an organiser to add the person."))
    form = StaffEntryForm(meeting)
    problems = []
    if form.validate_on_submit():
        try:
            added = add_registration(
                meeting,
                form.entry(),
                source=RegistrationSource.DESK,
                actor=Actor.of_user(current_user),
                check_in_now=True,
                door=_("Desk"),
            )
        except InvalidEntry as invalid:
            problems = form.show_errors(invalid.errors)
        else:
            flash(_("%(name)s is registered and checked in. Print their badge.", name=added.registration.full_name))
            return redirect(url_for("desk.person", slug=slug, registration_id=added.registration.id))
    elif request.method == "GET":
        form.mode.data = "in_person"
    return render_template(
        "desk/walk_in.html", meeting=meeting, form=form, problems=problems
    ), 400 if request.method == "POST" else 200


@bp.get("/sessions/<slug>/desk/people/<int:registration_id>")
@staff_required
def person(slug: str, registration_id: int):
    """One person at the desk: their badge, ready to print, and "lost badge"."""
    meeting = door_session_or_403(slug)
    registration = _registration_or_404(meeting, registration_id)
    checked_in_at = db.session.scalar(
        sa.select(Attendance.first_seen_at)
        .join(SessionDay)
        .where(
            Attendance.registration_id == registration.id,
            Attendance.mode == Mode.IN_PERSON,
            SessionDay.date == meeting.today(),
        )
    )
    return render_template(
        "desk/person.html",
        meeting=meeting,
        registration=registration,
        checked_in_at=meeting.local(checked_in_at) if checked_in_at else None,
    )


@bp.get("/sessions/<slug>/registrations/<int:registration_id>/badge.pdf")
@staff_required
def badge(slug: str, registration_id: int):
    """The delegate's own badge, for staff to print: the same PDF as on their page."""
    meeting = door_session_or_403(slug)
    registration = _registration_or_404(meeting, registration_id)
    refusal = why_no_badge(registration)
    if refusal:
        abort(409, refusal)
    document = badge_pdf(registration)  # before the audit line's write: a stored badge has a connection of its own
    audit.record("registration.reprint_badge", session_id=meeting.id, target=f"registration {registration.id}")
    return (
        document,
        200,
        {
            "Content-Type": "application/pdf",
            "Content-Disposition": f'inline; filename="badge-{registration.id}.pdf"',
        },
    )


@bp.route("/sessions/<slug>/desk/people/<int:registration_id>/new-badge", methods=["GET", "POST"])
@staff_required
def new_badge(slug: str, registration_id: int):
    """Lost badge: a new code, after a confirmation; the old badge stops working and the new one is mailed."""
    meeting = door_session_or_403(slug)
    registration = _registration_or_404(meeting, registration_id)
    refusal = why_no_badge(registration)
    if refusal:
        abort(409, refusal)
    if request.method == "POST":
        reissue_badge(registration, tell=True)  # CSRFProtect has checked the form's token
        mailed = bool(registration.email)
        if transaction.commit() and mailed:  # the page tells whether the queue took the mail
            flash(_("New badge issued and emailed: the old one no longer works. Print the new one."))
        else:
            flash(_("New badge issued: the old one no longer works. Print the new one (it was not emailed)."))
        return redirect(url_for("desk.person", slug=slug, registration_id=registration.id))
    return render_template("desk/new_badge.html", meeting=meeting, registration=registration)

"""Public pages: the registration form, the delegate's own page, their badge and their join link."""

from flask import abort, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _

from .. import outbox, transaction
from ..attendance_rule import describe_day
from ..certificates.service import eligibility
from ..documents.qr import qr_svg
from ..extensions import limiter
from ..lookup import registration_by_key_or_404, session_or_404
from ..models import Invitation, RegistrationPolicy, RegistrationStatus
from ..online.service import log_link_click
from ..outbox import CONFIRMATION, is_delayed, mail_of
from ..privacy import my_data
from ..questions.forms import with_questions
from ..questions.service import answers_of, questions_of
from ..questions.visa import letter_of, why_unusable
from ..tokens import grouped_badge_code
from . import bp
from .badges import badge_pdf, why_no_badge
from .calendar import calendar_ics, day_times
from .forms import WAITING_LIST, RegistrationForm
from .service import (
    AlreadyRegistered,
    Delegate,
    InPersonFull,
    InvitationRequired,
    InvitationUsed,
    RegistrationClosed,
    cancel,
    find_by_email,
    register,
)
from .waitlist import in_person_full, leave_waiting_list, place_in_line


@bp.route("/sessions/<slug>/register", methods=["GET", "POST"])
@limiter.limit("20 per minute", methods=["POST"])
def register_form(slug: str):
    meeting = session_or_404(slug)
    state = meeting.registration_state()
    if state != "open":
        return render_template("registration/closed.html", meeting=meeting, state=state), 200
    if meeting.registration_policy is RegistrationPolicy.INVITATION:
        return render_template("registration/closed.html", meeting=meeting, state="invitation_only"), 200
    return registration_page(meeting, with_questions(RegistrationForm, questions_of(meeting))(meeting))


def registration_page(meeting, form: RegistrationForm, invitation: Invitation | None = None):
    """The form, and what its POST does: the public form's, and an invitee's (pre-filled, used once)."""
    if request.form.get("mode") == WAITING_LIST:  # offered when the form was shown; a seat may have freed since
        form.offer_waiting_list(meeting)
    duplicate = seats_full = False  # the seats are counted by `register` under its lock, and for the page below
    if form.validate_on_submit():
        delegate = Delegate(
            **form.delegate_fields(),
            mode=form.chosen_mode,
            keep_name_on_certificate=form.keep_name_on_certificate.data,
            locale=str(get_locale()),
        )
        try:
            registration = register(
                meeting, delegate, form.answers(), invitation=invitation, wait_for_seat=form.wants_waiting_list
            )
        except AlreadyRegistered:
            duplicate = True
            form.email.errors.append(_("This email address is already registered for this session."))
        except InPersonFull:
            seats_full = True
            form.offer_waiting_list(meeting)
            form.mode.errors.append(
                _(
                    "In-person seats are now full. You can join the waiting list for a seat, or "
                    "register to attend online."
                )
            )
        except RegistrationClosed:
            return render_template("registration/closed.html", meeting=meeting, state="closed")
        except (InvitationRequired, InvitationUsed):
            return render_template("registration/invitation_unusable.html", meeting=meeting, reason="used"), 410
        else:
            # read before the commit, which expires them: no reload for the redirect
            registered_as, access_key = registration.status, registration.access_key
            mailed = transaction.commit()  # the page tells whether the queue took the confirmation
            if registered_as is RegistrationStatus.PENDING:
                flash(
                    _(
                        "Your registration is received and waits for the secretariat's approval. We email you "
                        "when it is approved; this page shows it too."
                    )
                )
            elif mailed:
                flash(_("You are registered. We are emailing you the link to this page: keep it, it is your own."))
            else:
                flash(
                    _(
                        "You are registered, but our email is delayed: the link to this page will reach you "
                        "later. Bookmark it now: it is your own, and you need it for your badge and certificate."
                    ),
                    "warning",
                )
            return redirect(url_for("registration.me", access_key=access_key))
    status = 400 if request.method == "POST" else 200
    seats_full = seats_full or in_person_full(meeting)
    if seats_full:
        form.offer_waiting_list(meeting)
    return render_template(
        "registration/register.html",
        meeting=meeting,
        form=form,
        seats_full=seats_full,
        duplicate=duplicate,
        invitation=invitation,
    ), status


@bp.post("/sessions/<slug>/resend")
@limiter.limit("5 per minute")
def resend_link(slug: str):
    """Emails the personal link again, to the registered address only; the page never says whether it was."""
    meeting = session_or_404(slug)
    email = request.form.get("email", "")[:254]
    registration = find_by_email(meeting, email) if "@" in email else None
    if registration is not None:
        outbox.schedule(registration, outbox.LINK_AGAIN, outbox.asked_version())  # a worker sends it
    return render_template("registration/resent.html", meeting=meeting)


@bp.get("/me/<access_key>")
def me(access_key: str):
    registration = registration_by_key_or_404(access_key)
    meeting = registration.session
    today = meeting.today()
    visa_letter = letter_of(registration)
    return render_template(
        "registration/me.html",
        registration=registration,
        meeting=meeting,
        has_ended=meeting.is_over(today),
        certificate=eligibility(registration) if meeting.has_begun(today) else None,
        qr=qr_svg(registration.badge_token, title=_("Your badge QR code")),
        describe_day=describe_day,
        badge_code=grouped_badge_code(registration.badge_token),
        day_times=day_times(meeting),
        mail_delayed=is_delayed(mail_of(registration, CONFIRMATION)),
        place_in_line=place_in_line(registration),
        visa_letter=visa_letter,
        visa_letter_unusable=why_unusable(visa_letter) if visa_letter else None,
        answers=answers_of(registration),
    )


@bp.post("/me/<access_key>/waiting-list/leave")
def leave_waiting_list_page(access_key: str):
    """The delegate gives up their place in line for a seat; they stay registered online."""
    registration = registration_by_key_or_404(access_key)
    if registration.waits_without_seat:  # no online meeting to stay registered for
        cancel(registration, "left the waiting list")
        flash(_("You left the waiting list: your registration is cancelled."))
    elif registration.is_waiting:
        leave_waiting_list(registration)
        flash(_("You left the waiting list. You stay registered to attend online."))
    return redirect(url_for("registration.me", access_key=access_key))


@bp.get("/me/<access_key>/calendar.ics")
def calendar(access_key: str):
    """The session's days as events to import into the delegate's calendar."""
    registration = registration_by_key_or_404(access_key)
    return (
        calendar_ics(registration),
        200,
        {
            "Content-Type": "text/calendar; charset=utf-8",
            "Content-Disposition": f'attachment; filename="{registration.session.slug}.ics"',
        },
    )


@bp.get("/me/<access_key>/data.json")
def my_data_download(access_key: str):
    """Everything the app holds about the delegate, as JSON to keep."""
    registration = registration_by_key_or_404(access_key)
    return (
        jsonify(my_data(registration)),
        200,
        {"Content-Disposition": f'attachment; filename="my-data-{registration.session.slug}.json"'},
    )


@bp.get("/me/<access_key>/badge.pdf")
def badge(access_key: str):
    registration = registration_by_key_or_404(access_key)
    refusal = why_no_badge(registration, to_delegate=True)
    if refusal:
        abort(403, refusal)
    return (
        badge_pdf(registration),
        200,
        {
            "Content-Type": "application/pdf",
            "Content-Disposition": 'inline; filename="badge.pdf"',
        },
    )


@bp.get("/join/<access_key>")
def join(access_key: str):
    """Logs an online attendance for today and sends the delegate on to the meeting."""
    registration = registration_by_key_or_404(access_key)
    answer = log_link_click(registration)
    if answer.redirect_to:
        return redirect(answer.redirect_to)
    return render_template(
        "registration/no_join.html", registration=registration, meeting=registration.session, answer=answer
    ), 409 if answer.refusal in ("cancelled", "not_approved") else 200

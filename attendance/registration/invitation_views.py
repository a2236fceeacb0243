"""Public pages of invitations: an invitee's pre-filled form, and a focal point's page of nominees."""

from flask import flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _

from ..extensions import limiter
from ..i18n import speak_as_mailed
from ..models import Invitation
from ..questions.forms import with_questions
from ..questions.service import questions_of
from . import bp
from .forms import RegistrationForm
from .invitations import invitation_by_token, prefilled, unusable_reason
from .service import AlreadyRegistered, Delegate, InPersonFull, InvitationUsed, RegistrationClosed, register
from .views import registration_page


@bp.route("/invitations/<token>", methods=["GET", "POST"])
@limiter.limit("20 per minute", methods=["POST"])
def invitation(token: str):
    invitation = invitation_by_token(token)
    if invitation is not None:
        speak_as_mailed(invitation.locale)  # a withdrawn or used invitation's page too
    reason = unusable_reason(invitation)
    if reason is not None:  # nothing is created from a used, revoked or forged link
        return render_template(
            "registration/invitation_unusable.html", reason=reason, meeting=invitation.session if invitation else None
        ), 404 if reason == "unknown" else 410
    assert invitation is not None  # unusable_reason calls a missing one "unknown"
    meeting = invitation.session
    state = meeting.registration_state()
    if state != "open":
        return render_template("registration/closed.html", meeting=meeting, state=state), 200
    if invitation.is_nomination:
        return _focal_point_page(invitation)
    form = with_questions(RegistrationForm, questions_of(meeting))(meeting, data=prefilled(invitation))
    return registration_page(meeting, form, invitation)


def _nominee_form(invitation: Invitation) -> RegistrationForm:
    """The registration form for one nominee: of the focal point's entity type (and region, when the invitation
    names one), with the session's questions (the focal point answers for the nominee) and the focal point
    confirming the nominee's consent."""
    form = with_questions(RegistrationForm, questions_of(invitation.session))(
        invitation.session,
        data={
            "entity_type": str(invitation.entity_type_id or ""),
            "region": str(invitation.region_id or ""),
            "organisation": invitation.organisation,
        },
    )
    form.entity_type.choices = [c for c in form.entity_type.choices if c.value == str(invitation.entity_type_id)]
    if invitation.region_id:
        form.region.choices = [c for c in form.region.choices if c.value == str(invitation.region_id)]
    form.consent.label.text = _(
        "This person agrees that the secretariat stores these details to organise the "
        "meeting, record their attendance and issue their certificate."
    )
    del form.keep_name_on_certificate  # the nominee's own choice, not the focal point's
    return form


def _all_places_taken(invitation: Invitation) -> int:
    """Tells the focal point that their places are used up; the answer's status."""
    flash(
        _(
            "You have nominated all %(count)d people your invitation allows: nobody more can be added. "
            "Contact the secretariat if your delegation needs more places.",
            count=invitation.places,
        ),
        "warning",
    )
    return 409


def _focal_point_page(invitation: Invitation):
    meeting = invitation.session
    form = _nominee_form(invitation)
    status = 200
    if invitation.used < invitation.places and form.validate_on_submit():
        delegate = Delegate(**form.delegate_fields(), mode=form.chosen_mode, locale=str(get_locale()))
        try:
            nominee = register(
                meeting, delegate, form.answers(), invitation=invitation, wait_for_seat=form.wants_waiting_list
            )
        except AlreadyRegistered:
            form.email.errors.append(_("This email address is already registered for this session."))
        except InPersonFull:
            form.offer_waiting_list(meeting)
            form.mode.errors.append(_("In-person seats are now full. You can still register to attend online."))
        except InvitationUsed:
            status = _all_places_taken(invitation)
        except RegistrationClosed:
            return render_template("registration/closed.html", meeting=meeting, state="closed")
        else:
            flash(_("%(name)s is nominated. They receive an email with their own link.", name=nominee.full_name))
            return redirect(url_for("registration.invitation", token=invitation.token))
    elif request.method == "POST":
        status = _all_places_taken(invitation) if invitation.used >= invitation.places else 400
    return render_template(
        "registration/focal_point.html",
        meeting=meeting,
        invitation=invitation,
        form=form,
    ), status

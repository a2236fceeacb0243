"""An invitee's side of an invitation: their personal link pre-fills the form and registers them once; a focal
point's link registers up to N nominees of their entity and lists them with their status."""

from __future__ import annotations

from email.message import EmailMessage

import sqlalchemy as sa
from flask import render_template
from flask_babel import force_locale, gettext

from .. import mail
from ..extensions import db
from ..links import public_url
from ..models import Invitation


def invitation_by_token(token: str) -> Invitation | None:
    if not token or len(token) > 64:
        return None
    return db.session.scalar(sa.select(Invitation).filter_by(token=token))


def unusable_reason(invitation: Invitation | None) -> str | None:
    """Why the link cannot register anyone now ("unknown", "revoked", "used"), or None when it can. A focal
    point's page stays open once their places are taken: it lists their nominees."""
    if invitation is None:
        return "unknown"
    if invitation.revoked_at is not None:
        return "revoked"
    if invitation.used >= invitation.places and not invitation.is_nomination:
        return "used"
    return None


def prefilled(invitation: Invitation) -> dict:
    """What the form shows an invitee at first."""
    data = {"full_name": invitation.full_name, "email": invitation.email, "organisation": invitation.organisation}
    if invitation.entity_type_id:
        data["entity_type"] = str(invitation.entity_type_id)
    if invitation.region_id:
        data["region"] = str(invitation.region_id)
    if invitation.mode:
        data["mode"] = invitation.mode.value
    return data


def invitation_message(invitation: Invitation) -> EmailMessage:
    """The invitee's personal link (a focal point's: the page where they name their delegation), in the
    invitation's language."""
    with force_locale(invitation.locale):
        meeting = invitation.session
        body = render_template(
            "registration/invitation.txt",
            invitation=invitation,
            meeting=meeting,
            url=public_url("registration.invitation", token=invitation.token),
        )
        subject = (
            gettext("Nominate your delegation: %(title)s", title=meeting.local_title)
            if invitation.is_nomination
            else gettext("Invitation: %(title)s", title=meeting.local_title)
        )
        return mail.build_message(invitation.email, subject, body)

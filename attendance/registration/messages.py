"""The mails a delegate gets about their registration, in the language they registered in."""

from __future__ import annotations

from email.message import EmailMessage

from flask import render_template
from flask_babel import force_locale, gettext

from .. import mail
from ..links import public_url
from ..models import Registration, RegistrationStatus
from .badges import badge_pdf
from .calendar import calendar_ics, day_times
from .waitlist import place_in_line


def confirmation_message(
    registration: Registration, *, reminder: bool = False, approved: bool = False, reinstated: bool = False
) -> EmailMessage:
    """The delegate's personal link with the badge attached, in the language they registered in; `reinstated`:
    after an organiser undid their cancellation, saying what they are again (registered, perhaps in line, or
    pending approval, or declined). Rendering the badge here also stores it, so their first download is served
    from the stored copy."""
    with force_locale(registration.locale):
        meeting = registration.session
        body = render_template(
            "registration/confirmation.txt",
            registration=registration,
            meeting=meeting,
            reminder=reminder,
            approved=approved,
            reinstated=reinstated,
            day_times=day_times(meeting),
            place_in_line=place_in_line(registration),
            me_url=public_url("registration.me", access_key=registration.access_key),
            join_url=public_url("registration.join", access_key=registration.access_key),
        )
        if reminder:
            subject = gettext("Your link for %(title)s", title=meeting.local_title)
        elif reinstated and registration.status is RegistrationStatus.PENDING:
            subject = gettext("Registration reinstated, awaiting approval: %(title)s", title=meeting.local_title)
        elif reinstated and registration.status is RegistrationStatus.DECLINED:
            subject = gettext("Registration declined: %(title)s", title=meeting.local_title)
        elif reinstated:
            subject = gettext("Registration reinstated: %(title)s", title=meeting.local_title)
        elif approved:
            subject = gettext("Registration approved: %(title)s", title=meeting.local_title)
        elif registration.status is RegistrationStatus.PENDING:
            subject = gettext("Registration received, awaiting approval: %(title)s", title=meeting.local_title)
        else:
            subject = gettext("Registered: %(title)s", title=meeting.local_title)
        # Only a registration that counts has a badge (its page refuses one too) and days to put in a calendar.
        attachments = (
            []
            if not registration.is_registered
            else [
                ("badge.pdf", "application/pdf", badge_pdf(registration)),
                ("calendar.ics", "text/calendar", calendar_ics(registration)),
            ]
        )
        return mail.build_message(registration.email, subject, body, attachments=attachments)


def notice_message(registration: Registration, kind: str) -> EmailMessage:
    """Tells the delegate, in their language, that their registration was cancelled ("cancelled"), declined
    ("declined", with the organiser's message), that their badge was replaced ("reissued", with the new badge
    attached) or that a seat in the room is theirs ("promoted", with the new badge)."""
    with force_locale(registration.locale):
        meeting = registration.session
        body = render_template(
            "registration/notice.txt",
            registration=registration,
            meeting=meeting,
            kind=kind,
            me_url=public_url("registration.me", access_key=registration.access_key),
        )
        if kind == "cancelled":
            subject = gettext("Registration cancelled: %(title)s", title=meeting.local_title)
            attachments: list[tuple[str, str, bytes]] = []
        elif kind == "declined":
            subject = gettext("Registration declined: %(title)s", title=meeting.local_title)
            attachments = []
        elif kind == "promoted":
            subject = gettext("A seat in the room is yours: %(title)s", title=meeting.local_title)
            attachments = [("badge.pdf", "application/pdf", badge_pdf(registration))]
        else:
            subject = gettext("Your new badge for %(title)s", title=meeting.local_title)
            attachments = [("badge.pdf", "application/pdf", badge_pdf(registration))]
        return mail.build_message(registration.email, subject, body, attachments=attachments)

"""The reminder and the organiser's message as mails, in the delegate's language (the organiser's own text as
written)."""

from __future__ import annotations

from email.message import EmailMessage

from flask import render_template
from flask_babel import force_locale, gettext

from .. import mail
from ..extensions import db
from ..links import public_url
from ..models import Message, Mode, OutboxMail, Registration
from ..registration.badges import badge_pdf
from ..registration.calendar import day_times


def reminder_mail(row: OutboxMail) -> EmailMessage:
    from ..jobs.delivery import Gone
    from .reminders import reminder_version

    registration = row.registration
    assert registration is not None  # reminders go to registrations, never to invitations
    meeting = registration.session
    if registration.is_cancelled:
        raise Gone("the registration was cancelled before its reminder went")
    if not meeting.days or row.version != reminder_version(meeting):
        raise Gone("the session's days changed since: a reminder for the new days replaces this one")
    with force_locale(registration.locale):
        body = render_template(
            "registration/reminder.txt",
            registration=registration,
            meeting=meeting,
            day_times=day_times(meeting),
            **_links(registration),
        )
        subject = gettext("Reminder: %(title)s", title=meeting.local_title)
        in_person = registration.mode is Mode.IN_PERSON
        attachments = [("badge.pdf", "application/pdf", badge_pdf(registration))] if in_person else []
        return mail.build_message(registration.email, subject, body, attachments=attachments)


def message_mail(row: OutboxMail) -> EmailMessage:
    from ..jobs.delivery import Gone

    message = db.session.get(Message, int(row.version))
    if message is None:
        raise Gone("the message was deleted")
    assert row.registration is not None  # messages go to registrations, never to invitations
    return render_message(message, row.registration)


def render_message(message: Message, registration: Registration, *, preview: bool = False) -> EmailMessage:
    """The mail as the recipient gets it; for the organiser's `preview`, without the recipient's secret link (staff
    never see it)."""
    with force_locale(registration.locale):
        links = {"me_url": gettext("(the link to their own page)")} if preview else _links(registration)
        body = render_template(
            "registration/message.txt", registration=registration, meeting=message.session, message=message, **links
        )
        return mail.build_message(registration.email, message.subject, body)


def _links(registration: Registration) -> dict:
    return {
        "me_url": public_url("registration.me", access_key=registration.access_key),
        "join_url": public_url("registration.join", access_key=registration.access_key),
    }

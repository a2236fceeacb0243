"""The organiser's page for messages to a group of registrants: filters, preview with the count, then send."""

import secrets

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext, ngettext
from flask_login import current_user

from .. import transaction
from ..auth import organiser_required
from ..lookup import managed_session_or_404
from ..models import Message
from . import bp
from .forms import MessageForm
from .mails import render_message
from .service import count, first_recipient, messages_of, send_message


@bp.route("/sessions/<slug>/messages", methods=["GET", "POST"])
@organiser_required
def messages(slug: str):
    meeting = managed_session_or_404(slug)
    form = MessageForm(meeting)
    preview = recipients = None
    if form.validate_on_submit():
        group = form.group()
        recipients = count(meeting, group)
        if recipients and request.form.get("action") == "send" and form.expected.data == str(recipients):
            message, new = send_message(
                meeting,
                group,
                form.subject.data,
                form.body.data,
                recipients=recipients,
                sent_by=current_user.email,
                send_token=form.send_token.data,
            )
            if not new:
                flash(gettext("This message was already sent: here is its job."), "info")
                return redirect(url_for("jobs.job_page", slug=slug, job_id=message.job_id))
            if not transaction.commit():  # the job starts once its message is committed
                flash(
                    gettext("The job queue is unavailable: the job waits, and starts when a worker is back."), "warning"
                )
            flash(
                ngettext(
                    "Your message is being sent to %(num)d person.",
                    "Your message is being sent to %(num)d people.",
                    recipients,
                )
            )
            return redirect(url_for("jobs.job_page", slug=slug, job_id=message.job_id))
        if request.form.get("action") == "send" and recipients:
            flash(gettext("The group changed since your preview: check the count and send again."), "warning")
        if recipients:
            form.expected.data = str(recipients)
            form.send_token.data = secrets.token_urlsafe(24)
            draft = Message(session=meeting, subject=form.subject.data, body=form.body.data)
            first = first_recipient(meeting, group)
            assert first is not None  # there are recipients
            preview = render_message(draft, first, preview=True)
    status = 400 if request.method == "POST" and (form.errors or not recipients) else 200
    return render_template(
        "mailings/messages.html",
        meeting=meeting,
        form=form,
        preview=preview,
        recipients=recipients,
        sent=messages_of(meeting),
    ), status

"""`/me`: "find my registration". A delegate who lost their link gives their email, and we send them the link
to every registration that address holds, whatever the sessions' state (before, during, after the meeting).

The answer page is the same whether or not the address is registered, and it is sent before anything is looked up
or mailed: the look-up and the outbox's mail happen once the answer has gone (`Response.call_on_close`), so neither
the page nor its timing tells whether an address is registered. A worker sends the mail, as every other.
"""

import hashlib
import logging
from email.message import EmailMessage

import sqlalchemy as sa
from flask import Flask, current_app, render_template, request
from flask_babel import force_locale, get_locale, gettext
from flask_babel import lazy_gettext as _l
from flask_limiter.util import get_remote_address
from flask_wtf import FlaskForm
from wtforms import EmailField
from wtforms.validators import DataRequired, Email, Length

from .. import mail, outbox
from ..extensions import db, limiter
from ..links import public_url
from ..models import MeetingSession, Registration
from ..models.registration import email_key
from ..transaction import unit_of_work
from . import bp

log = logging.getLogger(__name__)


class FindRegistrationForm(FlaskForm):
    email = EmailField(
        _l("The email address you registered with"),
        filters=[lambda value: value.strip() if isinstance(value, str) else value],
        validators=[
            DataRequired(_l("Enter your email address.")),
            Length(max=254, message=_l("Use at most 254 characters.")),
            Email(_l("Enter a valid email address, like name@example.org."), check_deliverability=False),
        ],
    )


def _address_key() -> str:
    """Rate limits per address asked about, whichever machines ask: nobody floods one inbox."""
    return "me:" + hashlib.sha256(email_key(request.form.get("email", "")[:254]).encode()).hexdigest()[:32]


@bp.route("/me", methods=["GET", "POST"])
@limiter.limit("10 per minute", methods=["POST"], key_func=get_remote_address)
@limiter.limit("3 per hour", methods=["POST"], key_func=_address_key)
def find_registration():
    form = FindRegistrationForm()
    if not form.validate_on_submit():
        return render_template("registration/find.html", form=form), 400 if request.method == "POST" else 200
    response = current_app.make_response(render_template("registration/find_sent.html"))
    app, address, locale = current_app._get_current_object(), form.email.data, str(get_locale())
    base_url = request.host_url
    response.call_on_close(lambda: _schedule_links_safely(app, address, locale, base_url))
    return response


def _schedule_links_safely(app: Flask, address: str, locale: str, base_url: str) -> None:
    """After the answer went: the links, if the address holds any registration, in a unit of work of its own. Never
    raises: a failure is logged, and the delegate can ask again."""
    with app.test_request_context(base_url=base_url):
        try:
            unit_of_work(schedule_registration_links)(address, locale)
        except Exception:
            log.exception("could not schedule the registration links asked for at /me")
        finally:
            db.session.remove()


def registrations_of(address: str) -> list[Registration]:
    """Every registration of this address, in every session, the latest first."""
    return db.session.scalars(
        sa.select(Registration)
        .join(MeetingSession)
        .where(Registration.email_key == email_key(address))
        .order_by(Registration.created_at.desc(), Registration.id.desc())
    ).all()


def schedule_registration_links(address: str, locale: str = "en") -> bool:
    """Schedules the mail of `address`'s registration links (see `links_message`); whether it holds any. Nothing is
    sent to an address that holds none."""
    registrations = registrations_of(address)
    if not registrations:
        return False
    outbox.schedule(registrations[0], outbox.LINKS, outbox.asked_version(locale))
    return True


def links_message(address: str, locale: str) -> EmailMessage:
    """The link to each of the address's registrations (cancelled ones said to be so), in the language asked in."""
    registrations = registrations_of(address)
    with force_locale(locale):
        body = render_template(
            "registration/links.txt",
            entries=[
                (registration, public_url("registration.me", access_key=registration.access_key))
                for registration in registrations
            ],
        )
        subject = gettext("Your registration links")
    return mail.build_message(registrations[0].email, subject, body)

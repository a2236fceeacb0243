"""Staff login and logout, and the decorators that guard staff pages."""

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache, wraps

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_limiter.util import get_remote_address
from flask_login import current_user, login_required, login_user, logout_user
from flask_wtf import FlaskForm
from sqlalchemy.orm import joinedload
from werkzeug.security import check_password_hash, generate_password_hash
from wtforms import EmailField, PasswordField
from wtforms.validators import DataRequired, EqualTo, Length, ValidationError

from .clock import utcnow
from .dbutil import insert_or_ignore
from .extensions import db, limiter, login_manager
from .links import same_site_path
from .lookup import small_int
from .models import LoginFailure, StaffRole, StaffUser
from .models.staff import session_organisers

bp = Blueprint("auth", __name__)

login_manager.login_view = "auth.login"
login_manager.login_message = _l("Please log in as staff to see that page.")
login_manager.localize_callback = str  # translated when flashed, in the language of that request
login_manager.session_protection = "strong"


@login_manager.user_loader
def load_user(cookie_id: str) -> StaffUser | None:
    """The account a login cookie names, unless it was logged out or its password changed since (older version)."""
    user_id, _, version = cookie_id.partition(":")
    try:
        user_key = small_int(user_id)
    except ValueError:
        return None
    # With the door assignments in the same statement: a door phone's every scan checks them.
    user = db.session.get(StaffUser, user_key, options=[joinedload(StaffUser.door_assignments)], populate_existing=True)
    return user if user is not None and version == str(user.session_version) else None


@dataclass(frozen=True)
class Actor:
    """Whoever records attendance: a logged-in staff member or a scanner device's API token."""

    key: str  # "user:<id>" or "token:<id>"
    label: str  # an email or a token's label, shown to people
    is_organiser: bool
    #: the sessions an organiser runs; None: every session (an organiser API token, made on the command line)
    managed_session_ids: frozenset[int] | None = None
    #: the sessions it may read and check in for; None: every session (see `StaffUser.door_session_ids`)
    door_session_ids: frozenset[int] | None = None

    @classmethod
    def of_user(cls, user: StaffUser) -> "Actor":
        if not user.is_organiser:  # door staff manage no session; their assignments came with the user's row
            return cls(f"user:{user.id}", user.email, False, frozenset(), user.door_session_ids)
        sessions = frozenset(
            db.session.scalars(
                db.select(session_organisers.c.session_id).where(session_organisers.c.user_id == user.id)
            )
        )
        return cls(f"user:{user.id}", user.email, True, sessions)

    @classmethod
    def of_token(cls, token_id: int, label: str, is_organiser: bool, session_id: int | None) -> "Actor":
        """A scanner token; one made with `--session` reads, checks in and (organiser) manages that session only."""
        bound = None if session_id is None else frozenset({session_id})
        return cls(f"token:{token_id}", label, is_organiser, bound, bound)

    def manages(self, session_id: int) -> bool:
        return self.is_organiser and (self.managed_session_ids is None or session_id in self.managed_session_ids)

    def may_use(self, session_id: int) -> bool:
        """Whether it may see, search and check in for that session at the door."""
        return self.door_session_ids is None or session_id in self.door_session_ids


def ensure_staff(email: str, role: StaffRole, password: str) -> tuple[StaffUser, bool]:
    """Creates a staff account, or resets the role and password of an existing one; the caller commits."""
    user = db.session.scalar(db.select(StaffUser).filter_by(email=email.strip().lower()))
    created = user is None
    if created:
        user = StaffUser(email=email, role=role)
        db.session.add(user)
    user.role = role
    user.set_password(password)
    return user, created


def organiser_required(view):
    """Organisers only; door staff get 403, anonymous users the login page."""

    @wraps(view)
    @login_required
    def wrapped(*args, **kwargs):
        if not current_user.is_organiser:
            abort(403, gettext("This page is for organisers."))
        return view(*args, **kwargs)

    return wrapped


def staff_required(view):
    """Any staff member: door staff or organiser."""
    return login_required(view)


class LoginForm(FlaskForm):
    email = EmailField(_l("Email"), validators=[DataRequired(_l("Enter your email.")), Length(max=254)])
    password = PasswordField(_l("Password"), validators=[DataRequired(_l("Enter your password.")), Length(max=200)])


MIN_PASSWORD_LENGTH = 12


LOCK_AFTER = 5
LOCK_MINUTES = 15


@cache
def _unknown_account_hash() -> str:
    """A hash to check passwords against when no account has the address: the same work, so the same time."""
    return generate_password_hash(secrets.token_urlsafe(16))


def check_login(email: str, password: str, address: str) -> StaffUser:
    """The staff member these credentials open, or LoginRefused. After LOCK_AFTER failures in a row to one
    address from one client address, that client waits LOCK_MINUTES; every other client can still log in."""
    email = email.strip().lower()[:254]
    address = (address or "unknown")[:64]
    now = utcnow()
    failures = db.session.scalar(db.select(LoginFailure).filter_by(email=email, address=address))
    if failures is not None and failures.locked_until and failures.locked_until > now:
        raise LoginRefused(
            gettext(
                "Too many failed attempts from this device: wait until %(time)s UTC and try "
                "again, or log in from another device.",
                time=failures.locked_until.strftime("%H:%M"),
            )
        )
    user = db.session.scalar(db.select(StaffUser).filter_by(email=email))
    password_matches = check_password_hash(user.password_hash if user else _unknown_account_hash(), password)
    if user is None or not user.active or not password_matches:
        _count_failure(email, address, now)  # kept: the login page answers 200 with its message
        raise LoginRefused(gettext("Wrong email or password."))
    if failures is not None:
        db.session.delete(failures)
    return user


def _count_failure(email: str, address: str, now: datetime) -> None:
    insert_or_ignore(
        LoginFailure, dict(email=email, address=address, failures=0, last_failed_at=now), ["email", "address"]
    )
    # Locked and read afresh: two wrong passwords at the same instant count twice.
    failures = db.session.scalar(
        db.select(LoginFailure)
        .filter_by(email=email, address=address)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    failures.failures += 1
    failures.last_failed_at = now
    if failures.failures >= LOCK_AFTER:
        failures.failures, failures.locked_until = 0, now + timedelta(minutes=LOCK_MINUTES)


class LoginRefused(Exception):
    pass


def _login_attempt_key() -> str:
    """Login tries are limited per client address and account: staff behind a venue's shared address are not held
    back by a stranger trying other accounts from the same Wi-Fi."""
    return f"{get_remote_address()}|{request.form.get('email', '').strip().lower()[:254]}"


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit("10 per minute", methods=["POST"], key_func=_login_attempt_key)
@limiter.limit("60 per minute", methods=["POST"])  # and per address, against trying many accounts
def login():
    form = LoginForm()
    if form.validate_on_submit():
        try:
            user = check_login(form.email.data, form.password.data, request.remote_addr or "")
        except LoginRefused as refusal:
            form.password.errors.append(str(refusal))
        else:
            login_user(user)
            default = url_for("organiser.dashboard") if user.is_organiser else url_for("checkin.doors")
            return redirect(same_site_path(request.args.get("next")) or default)
    return render_template("auth/login.html", form=form)


@bp.post("/logout")
def logout():
    """Ends this account's sessions on every browser, not only this one: a copied cookie stops working too."""
    if current_user.is_authenticated:
        current_user.end_sessions()
    logout_user()
    flash(gettext("You are logged out."))
    return redirect(url_for("auth.login"))


class PasswordForm(FlaskForm):
    current_password = PasswordField(
        _l("Current password"), validators=[DataRequired(_l("Enter your current password.")), Length(max=200)]
    )
    new_password = PasswordField(
        _l("New password"),
        validators=[
            DataRequired(_l("Choose a new password.")),
            Length(
                min=MIN_PASSWORD_LENGTH,
                max=200,
                message=_l("Use from %(min)d to %(max)d characters.", min=MIN_PASSWORD_LENGTH, max=200),
            ),
        ],
    )
    confirm = PasswordField(
        _l("New password again"),
        validators=[
            DataRequired(_l("Type the new password again.")),
            EqualTo("new_password", message=_l("The two new passwords differ.")),
        ],
    )

    def validate_current_password(self, field) -> None:
        if not current_user.check_password(field.data):
            raise ValidationError(_l("That is not your current password."))


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
@limiter.limit("10 per minute", methods=["POST"])
def change_password():
    """Staff change their own password; every other session of the account ends, this one goes on."""
    form = PasswordForm()
    if form.validate_on_submit():
        current_user.set_password(form.new_password.data)
        db.session.flush()
        login_user(db.session.get(StaffUser, current_user.id))  # this cookie now names the new session version
        flash(gettext("Your password is changed. Every other device logged in to this account is logged out."))
        return redirect(url_for("auth.change_password"))
    return render_template("auth/password.html", form=form), 400 if form.errors else 200

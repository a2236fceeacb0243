"""Staff login and logout, and the decorators that guard staff pages."""
from dataclasses import dataclass
from datetime import timedelta
from functools import wraps
from urllib.parse import urlsplit

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required, login_user, logout_user
from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField
from wtforms.validators import DataRequired, Length

from .extensions import db, limiter, login_manager
from .models import StaffRole, StaffUser
from .models.meeting import utcnow
from .models.staff import session_organisers

bp = Blueprint("auth", __name__)

login_manager.login_view = "auth.login"
login_manager.login_message = _l("Please log in as staff to see that page.")
login_manager.localize_callback = str  # flashed as plain text, in the reader's language
login_manager.session_protection = "strong"


@login_manager.user_loader
def load_user(user_id: str) -> StaffUser | None:
    return db.session.get(StaffUser, int(user_id)) if user_id.isdigit() else None


@dataclass(frozen=True)
class Actor:
    """Whoever records attendance: a logged-in staff member or a scanner device's API token."""
    key: str  # "user:<id>" or "token:<id>"
    label: str  # an email or a token's label, shown to people
    is_organiser: bool
    #: the sessions an organiser runs; None: every session (an organiser API token, made on the command line)
    managed_session_ids: frozenset[int] | None = None

    @classmethod
    def of_user(cls, user: StaffUser) -> "Actor":
        if not user.is_organiser:  # door staff manage no session: no query on the door phone's every scan
            return cls(f"user:{user.id}", user.email, False, frozenset())
        sessions = frozenset(db.session.scalars(
            db.select(session_organisers.c.session_id).where(session_organisers.c.user_id == user.id)))
        return cls(f"user:{user.id}", user.email, True, sessions)

    def manages(self, session_id: int) -> bool:
        return self.is_organiser and (self.managed_session_ids is None or session_id in self.managed_session_ids)


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
    email = EmailField(_l("Email"), validators=[DataRequired(), Length(max=254)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=200)])


def _safe_next(target: str | None) -> str | None:
    """Only same-site paths: a login link must not bounce people to another host."""
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target


LOCK_AFTER = 5
LOCK_MINUTES = 15


def check_login(email: str, password: str) -> StaffUser:
    """The staff member these credentials open, or LoginRefused; locks an account after repeated failures."""
    user = db.session.scalar(db.select(StaffUser).filter_by(email=email.strip().lower()))
    now = utcnow()
    if user is not None and user.locked_until and user.locked_until > now:
        raise LoginRefused(gettext("Too many failed attempts: this account is locked until %(time)s UTC. Try again "
                                   "then, or ask an organiser.", time=f"{user.locked_until:%H:%M}"))
    if user is None or not user.active or not user.check_password(password):
        if user is not None:
            user.failed_logins += 1
            if user.failed_logins >= LOCK_AFTER:
                user.failed_logins, user.locked_until = 0, now + timedelta(minutes=LOCK_MINUTES)
            db.session.commit()
        raise LoginRefused(gettext("Wrong email or password."))
    user.failed_logins, user.locked_until = 0, None
    db.session.commit()
    return user


class LoginRefused(Exception):
    pass


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit("10 per minute", methods=["POST"])
def login():
    form = LoginForm()
    if form.validate_on_submit():
        try:
            user = check_login(form.email.data, form.password.data)
        except LoginRefused as refusal:
            form.password.errors.append(str(refusal))
        else:
            login_user(user)
            default = url_for("organiser.dashboard") if user.is_organiser else url_for("checkin.doors")
            return redirect(_safe_next(request.args.get("next")) or default)
    return render_template("auth/login.html", form=form)


@bp.post("/logout")
def logout():
    logout_user()
    flash(gettext("You are logged out."))
    return redirect(url_for("auth.login"))

"""JSON endpoints for scanners and the door page. Errors are JSON too: {"status": ..., "reason": ...}."""

import hashlib
import re
from datetime import date, datetime
from functools import wraps

from flask import abort, current_app, g, jsonify, request, url_for
from flask_limiter.util import get_remote_address
from flask_login import current_user
from flask_wtf.csrf import CSRFError, generate_csrf

from .. import transaction
from ..auth import Actor
from ..checkin.counts import door_counts
from ..checkin.roster import door_roster
from ..checkin.rule import (
    PROVISIONAL_ANSWERS,
    NonceReused,
    NotAllowed,
    NotUndoable,
    ScanTimeRejected,
    UnknownSession,
    check_in,
    undo_check_in,
)
from ..checkin.search import find_delegates
from ..dbutil import autocommit
from ..extensions import csrf, db, limiter
from ..models import MODE_VALUES, Attendance, MeetingSession, Mode, RegistrationSource, Source
from ..questions.service import answers_from_json
from ..registration.staff_entry import InvalidEntry, StaffEntry, add_registration, entry_errors, normalized
from ..reports.headcount import headcount, headline
from . import bp
from .tokens import find_api_token

csrf.exempt(bp)  # token requests carry no cookie; cookie requests are checked in `staff_api` below


class ApiError(Exception):
    def __init__(self, http_status: int, reason: str, status: str = "error"):
        super().__init__(reason)
        self.http_status, self.reason, self.status = http_status, reason, status


@bp.errorhandler(ApiError)
def _api_error(error: ApiError):
    return jsonify(status=error.status, reason=error.reason), error.http_status


def _actor() -> Actor:
    header = request.headers.get("Authorization", "")
    if header:
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise ApiError(401, "Send the API token as 'Authorization: Bearer <token>'.")
        record = find_api_token(token.strip())
        if record is None:
            raise ApiError(401, "Unknown API token.")
        if record.revoked_at is not None:
            raise ApiError(401, "This API token was revoked.")
        return Actor.of_token(record.id, record.label, record.is_organiser, record.session_id)
    if not current_user.is_authenticated:
        raise ApiError(401, "Log in as staff, or send 'Authorization: Bearer <api-token>'.")
    if request.method not in ("GET", "HEAD", "OPTIONS"):
        try:
            csrf.protect()  # a logged-in browser must prove the request came from our page
        except CSRFError as error:
            raise ApiError(400, f"{error.description} Send the page's token in the X-CSRFToken header.") from None
    return Actor.of_user(current_user)


def staff_api(view):
    """Door staff, organisers or scanner tokens; the caller is `g.actor`."""

    @wraps(view)
    def wrapped(*args, **kwargs):
        g.actor = _actor()
        return view(*args, **kwargs)

    return wrapped


def _session(slug: str) -> MeetingSession:
    """The session a URL names, if the caller may use it: a token or door staff bound to other sessions get 403."""
    meeting = db.session.scalar(db.select(MeetingSession).filter_by(slug=slug))
    if meeting is None:
        raise ApiError(404, f"No session is called '{slug[:80]}'.")
    if not g.actor.may_use(meeting.id):
        raise ApiError(403, NOT_YOUR_SESSION, "forbidden")
    return meeting


NOT_YOUR_SESSION = "This token or account is bound to other sessions; it cannot read or check in for this one."


def _json_body() -> dict:
    if not request.is_json:
        raise ApiError(415, "Send a JSON object with 'Content-Type: application/json'.")
    try:
        body = current_app.json.loads(request.get_data())
    except ValueError as error:
        raise ApiError(400, f"The body is not a JSON object: {error}.") from None
    if not isinstance(body, dict):
        raise ApiError(400, "The body is not a JSON object.")
    return body


def _text(body: dict, name: str, max_length: int, required: bool = False) -> str | None:
    value = body.get(name)
    if value is None:
        if required:
            raise ApiError(400, f"'{name}' is missing.")
        return None
    if not isinstance(value, str):
        raise ApiError(400, f"'{name}' must be a string.")
    if len(value) > max_length:
        raise ApiError(400, f"'{name}' is longer than {max_length} characters.")
    if "\x00" in value:  # PostgreSQL's text cannot hold it
        raise ApiError(400, f"'{name}' contains a NUL character.")
    return value


def _day(value: str | None) -> date | None:
    if value is None:
        return None
    try:  # YYYY-MM-DD only: fromisoformat alone also reads "20261205" and "2026-W49-6"
        if not _YYYY_MM_DD.fullmatch(value):
            raise ValueError(value)
        return date.fromisoformat(value)
    except ValueError:
        raise ApiError(400, "'day' must be a date written YYYY-MM-DD.") from None


_YYYY_MM_DD = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def _scanned_at(value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        raise ApiError(
            422, "'scanned_at' must be a moment written ISO 8601 with its offset, e.g. 2024-02-19T09:12:00+01:00."
        ) from None


def _provisional(value: str | None) -> str | None:
    if value is not None and value not in PROVISIONAL_ANSWERS:
        raise ApiError(400, f"'provisional' must be one of: {', '.join(PROVISIONAL_ANSWERS)}.")
    return value


def _scanner_key() -> str:
    """Rate limits per scanner (token or staff login), not per address: a venue's door phones share one NAT."""
    header = request.headers.get("Authorization", "")
    if header:
        return "token:" + hashlib.sha256(header.encode()).hexdigest()[:16]
    return f"user:{current_user.get_id()}" if current_user.is_authenticated else get_remote_address()


@bp.post("/checkins")
@autocommit  # check_in's every write is one statement; outermost, as staff_api and the limiter's key may query
@limiter.limit("600 per minute", key_func=_scanner_key)
@staff_api
def create_checkin():
    body = _json_body()
    token = _text(body, "token", 200)
    registration_id = body.get("registration_id")
    if token is None and registration_id is None:
        raise ApiError(400, "Send the badge 'token' (or, from a name search, 'registration_id').")
    if registration_id is not None and (
        not isinstance(registration_id, int) or isinstance(registration_id, bool) or not 0 < registration_id < 2**31
    ):
        raise ApiError(400, "'registration_id' must be a registration's number.")
    slug = _text(body, "session", 80)
    if registration_id is not None and not slug:
        raise ApiError(400, "'registration_id' (from a name search) needs the door's 'session'.")
    nonce, door = _text(body, "nonce", 64), _text(body, "door", 80) or ""
    try:
        outcome = check_in(
            actor=g.actor,
            token=token if registration_id is None else None,
            registration_id=registration_id,
            session_slug=slug,
            day=_day(_text(body, "day", 10)),
            door=door.strip(),
            nonce=nonce,
            source=Source.NAME_SEARCH if registration_id is not None else Source.SCAN,
            scanned_at=_scanned_at(_text(body, "scanned_at", 40)),
            provisional=_provisional(_text(body, "provisional", 20)),
        )
    except UnknownSession:
        raise ApiError(404, f"No session is called '{slug[:80]}'.") from None
    except NotAllowed as refusal:
        raise ApiError(403, str(refusal), "forbidden") from None
    except (NonceReused, ScanTimeRejected) as refusal:
        raise ApiError(422, str(refusal)) from None
    transaction.keep_writes()  # a refused badge (404, 409) is logged as refused
    return current_app.response_class(outcome.json, outcome.http_status, mimetype="application/json")


@bp.post("/checkins/<int:attendance_id>/undo")
@staff_api
def undo_checkin(attendance_id: int):
    attendance = db.session.get(Attendance, attendance_id)
    if attendance is None:
        raise ApiError(404, "This check-in does not exist (already undone?).")
    if not g.actor.may_use(attendance.registration.session_id):
        raise ApiError(403, NOT_YOUR_SESSION, "forbidden")
    try:
        undo_check_in(attendance, g.actor)
    except NotUndoable as refusal:
        raise ApiError(409, str(refusal), "not_undoable") from None
    except NotAllowed as refusal:
        raise ApiError(403, str(refusal), "forbidden") from None
    return jsonify(status="undone", attendance_id=attendance_id)


@bp.get("/sessions/<slug>")
@staff_api
def session_info(slug: str):
    meeting = _session(slug)
    today = meeting.today()
    return jsonify(
        slug=meeting.slug,
        title=meeting.title,
        number=meeting.number,
        days=[d.date.isoformat() for d in meeting.days],
        hours={d.date.isoformat(): [d.starts_at.strftime("%H:%M"), d.ends_at.strftime("%H:%M")] for d in meeting.days},
        registration_open=meeting.welcomes_anyone(),
        # by name, as the registration form offers them and as POST .../registrations takes them
        entity_types=[entity_type.name for entity_type in meeting.entity_types],
        regions=[region.name for region in meeting.regions],
        timezone=meeting.timezone,
        venue=meeting.venue,
        hybrid=meeting.is_hybrid,
        in_person_capacity=meeting.in_person_capacity,
        allows_walk_ins=meeting.allows_walk_ins,
        today=today.isoformat(),
        today_is_a_meeting_day=any(d.date == today for d in meeting.days),
    )


@bp.get("/sessions/<slug>/delegates")
@staff_api
def lookup_delegates(slug: str):
    meeting = _session(slug)
    try:
        found = find_delegates(meeting, request.args.get("q", "")[:200], meeting.today())
    except ValueError as error:
        raise ApiError(400, str(error)) from None
    return jsonify(status="ok", delegates=found)


@bp.get("/sessions/<slug>/door-counts")
@staff_api
def counts(slug: str):
    meeting = _session(slug)
    return jsonify(door_counts(meeting, _day(request.args.get("day")) or meeting.today()))


def _organisers_session(slug: str) -> MeetingSession:
    """The session, for one of its organisers only (door staff do not see the headcount)."""
    meeting = _session(slug)
    if not g.actor.is_organiser:
        raise ApiError(403, "The headcount is for organisers.", "forbidden")
    if not g.actor.manages(meeting.id):
        raise ApiError(403, "You are not an organiser of this session.", "forbidden")
    return meeting


@bp.get("/sessions/<slug>/headcount")
@staff_api
def headcount_json(slug: str):
    """The headcount report's numbers; organisers only (door staff do not export data)."""
    # Not audited, unlike the report's files: counts only, no one's data, and a dashboard polling them every
    # minute would push all else out of the audit page.
    return jsonify(headcount(_organisers_session(slug)).as_dict())


@bp.get("/sessions/<slug>/headline")
@staff_api
def headline_json(slug: str):
    """The registrations page's four headline numbers, which it polls: cheap, unlike the whole headcount."""
    meeting = _organisers_session(slug)
    return jsonify(headline(meeting, meeting.today()))


@bp.post("/sessions/<slug>/registrations")
@staff_api
def add_registration_json(slug: str):
    """Registers a person: an organiser of the session, or door staff where the session takes walk-ins."""
    meeting = _session(slug)
    actor = g.actor
    if actor.is_organiser:
        if not actor.manages(meeting.id):
            raise ApiError(403, "You are not an organiser of this session.", "forbidden")
    elif not meeting.allows_walk_ins:
        raise ApiError(403, "This session does not take walk-ins: ask an organiser to add the person.", "forbidden")
    body = _json_body()
    errors, values = {}, {}
    for name in StaffEntry.__dataclass_fields__:
        value = body.get(name, "")
        if value is None:
            value = ""
        if not isinstance(value, str):
            errors[name] = "Must be a string."
        elif "\x00" in value:  # PostgreSQL's text cannot hold it
            errors[name] = "Contains a NUL character."
        else:
            values[name] = value[:1000]  # longer is refused by the rule's limits anyway
    check_in_now = body.get("check_in", False)
    if not isinstance(check_in_now, bool):
        errors["check_in"] = "Must be true or false."
        check_in_now = False
    mode = values.get("mode")
    answers, answer_errors = answers_from_json(
        meeting, body.get("answers"), Mode(mode) if mode is not None and mode in MODE_VALUES else None
    )
    errors.update(answer_errors)
    if errors:  # with what the rule says of the fields that could be read, so that one answer names them all
        rule = entry_errors(
            meeting, normalized(StaffEntry(**values)), check_in_now=check_in_now, by_organiser=actor.manages(meeting.id)
        )
        raise_invalid({**rule, **errors})
    try:
        added = add_registration(
            meeting,
            StaffEntry(**values),
            actor=actor,
            check_in_now=check_in_now,
            answers=answers,
            door=_text(body, "door", 80) or "",
            source=RegistrationSource.ORGANISER if actor.is_organiser else RegistrationSource.DESK,
        )
    except InvalidEntry as invalid:
        raise_invalid(invalid.errors)
    registration = added.registration
    return jsonify(
        id=registration.id,
        full_name=registration.full_name,
        status=registration.status.value,
        source=registration.source.value,
        badge_pdf=url_for("desk.badge", slug=meeting.slug, registration_id=registration.id, _external=True),
        checkin=added.checkin.payload if added.checkin else None,
    ), 201


def raise_invalid(errors: dict[str, str]):
    response = jsonify(status="invalid", reason="Some fields are wrong: see 'errors'.", errors=errors)
    response.status_code = 422
    abort(response)


@bp.get("/sessions/<slug>/roster")
@staff_api
def roster(slug: str):
    """The door's offline roster for today: hashes of the badge tokens, never the tokens. Answers 304 to a
    scanner that sends the ETag of the roster it holds."""
    meeting = _session(slug)
    response = jsonify(door_roster(meeting, meeting.today()))
    response.headers["Cache-Control"] = "private, no-cache"
    if not request.headers.get("Authorization"):
        # A page that reopened from the device's cache holds an old CSRF token: the roster brings a fresh one.
        response.headers["X-CSRFToken"] = generate_csrf()
    response.add_etag()
    return response.make_conditional(request)

"""The kiosk's JSON endpoints: a token check when the kiosk starts, and its check-ins."""

from flask import g, jsonify, request

from .. import transaction
from ..checkin.kiosk import kiosk_check_in, kiosk_refusal
from ..checkin.rule import NonceReused
from ..extensions import db, limiter
from ..models import MeetingSession
from . import bp
from .tokens import find_api_token
from .views import ApiError, _actor, _json_body, _scanner_key, _session, _text


def _kiosk(slug: str) -> MeetingSession:
    """The session, once the request's API token may run its kiosk; the caller is `g.actor`."""
    meeting = db.session.scalar(db.select(MeetingSession).filter_by(slug=slug))
    if meeting is None:
        raise ApiError(404, f"No session is called '{slug[:80]}'.")
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise ApiError(401, "The kiosk runs on an API token: send 'Authorization: Bearer <token>'.")
    refusal = kiosk_refusal(find_api_token(token.strip()), meeting)
    if refusal:
        raise ApiError(403, refusal, "forbidden")
    g.actor = _actor()  # the same checks as every scanner request
    return _session(slug)


@bp.get("/sessions/<slug>/kiosk")
def kiosk_start(slug: str):
    meeting = _kiosk(slug)
    return jsonify(status="ok", title=meeting.title)


@bp.post("/sessions/<slug>/kiosk/checkins")
@limiter.limit("600 per minute", key_func=_scanner_key)
def kiosk_checkin(slug: str):
    meeting = _kiosk(slug)
    body = _json_body()
    token = _text(body, "token", 200, required=True)
    try:
        answer = kiosk_check_in(g.actor, meeting, token, _text(body, "nonce", 64))
    except NonceReused as refusal:
        raise ApiError(422, str(refusal)) from None
    transaction.keep_writes()  # a refused badge (404, 409) is logged as refused
    return jsonify(answer.payload), answer.http_status

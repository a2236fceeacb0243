"""Zoom's webhook: signed deliveries of participants joining and leaving, turned into intervals.

Zoom signs each request with the app's secret token: `x-zm-signature: v0=<hex HMAC-SHA256 of
"v0:<x-zm-request-timestamp>:<raw body>">`. Each session stores the secret of the Zoom app that hosts its
meeting, so the meeting id in the body says which secret must have signed it.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import cast

import sqlalchemy as sa

from ..clock import key_text, utcnow
from ..dbutil import insert_or_ignore
from ..extensions import db
from ..json_input import parse_json
from ..models import Attendance, MeetingSession, OnlineInterval, SessionDay, Source, UnmatchedPresence, ZoomEvent
from .service import day_at, match, record_presence

MAX_AGE_SECONDS = 300
BAD_SIGNATURE = "Bad signature: this request is not signed with the secret token of its meeting's session."
PARTICIPANT_EVENTS = ("meeting.participant_joined", "meeting.participant_left")


@dataclass
class Answer:
    http_status: int
    body: dict


def signature(secret: str, timestamp: str, body: bytes) -> str:
    digest = hmac.new(secret.encode(), b"v0:" + timestamp.encode() + b":" + body, hashlib.sha256).hexdigest()
    return "v0=" + digest


def _signed_by(secret: str, timestamp: str, body: bytes, given: str) -> bool:
    return bool(secret) and hmac.compare_digest(signature(secret, timestamp, body), given)


def handle_delivery(body: bytes, timestamp: str, given_signature: str, now: float | None = None) -> Answer:
    """Checks, stores once and applies one webhook delivery. Every refusal says why."""
    if not timestamp or not given_signature:
        return Answer(401, {"status": "error", "reason": "Missing x-zm-request-timestamp or x-zm-signature."})
    if not (timestamp.isascii() and timestamp.isdigit()):
        return Answer(401, {"status": "error", "reason": "x-zm-request-timestamp is not a number."})
    # Seconds since 1970 have 10 digits until the year 2286; a longer number would not even fit in a float.
    if len(timestamp) > 11 or abs((now or utcnow().timestamp()) - int(timestamp)) > MAX_AGE_SECONDS:
        return Answer(401, {"status": "error", "reason": "Stale request: the timestamp is over five minutes off."})
    try:
        delivery = parse_json(body)
        event = delivery["event"]
        payload = delivery["payload"]
        if not isinstance(event, str) or not isinstance(payload, dict):
            raise TypeError
    except (ValueError, KeyError, TypeError):
        return Answer(400, {"status": "error", "reason": "The body is not a Zoom event (JSON with event and payload)."})

    if event == "endpoint.url_validation":
        return _url_validation(body, timestamp, given_signature, payload)

    meeting_id = str((payload.get("object") or {}).get("id", "")) if isinstance(payload.get("object"), dict) else ""
    meeting = db.session.scalar(sa.select(MeetingSession).filter_by(zoom_meeting_id=meeting_id)) if meeting_id else None
    # The same answer for a meeting id no session uses: an unsigned request must not learn which ids are set up.
    if meeting is None or not _signed_by(meeting.zoom_webhook_secret, timestamp, body, given_signature):
        return Answer(401, {"status": "error", "reason": BAD_SIGNATURE})

    digest = hashlib.sha256(body).hexdigest()
    event_id = insert_or_ignore(
        ZoomEvent,
        dict(body_sha256=digest, session_id=meeting.id, event=event[:80], body=body.decode("utf-8", "replace")),
        ["body_sha256"],
    )
    if event_id is None:
        db.session.rollback()
        return Answer(200, {"status": "duplicate"})
    outcome = _apply(meeting, event, payload["object"]) if event in PARTICIPANT_EVENTS else "ignored: event type"
    stored = db.session.get_one(ZoomEvent, event_id)
    stored.outcome = outcome[:200]
    if outcome.startswith("pending_leave"):
        stored.participant_key, stored.left_at = _pending_parts(payload["object"])
    return Answer(200, {"status": "ok", "outcome": outcome})


def _url_validation(body: bytes, timestamp: str, given_signature: str, payload: dict) -> Answer:
    """Zoom proves the endpoint: we answer with the token hashed by the secret that signed the request."""
    plain = payload.get("plainToken")
    if not isinstance(plain, str) or not plain:
        return Answer(400, {"status": "error", "reason": "url_validation without a plainToken."})
    secrets = db.session.scalars(
        sa.select(MeetingSession.zoom_webhook_secret).distinct().where(MeetingSession.zoom_webhook_secret != "")
    ).all()
    for secret in secrets:
        if _signed_by(secret, timestamp, body, given_signature):
            encrypted = hmac.new(secret.encode(), plain.encode(), hashlib.sha256).hexdigest()
            return Answer(200, {"plainToken": plain, "encryptedToken": encrypted})
    return Answer(401, {"status": "error", "reason": "The signature matches no session's Zoom secret token."})


def _zoom_time(value) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def _participant(meeting_object: dict) -> dict:
    participant = meeting_object.get("participant")
    return participant if isinstance(participant, dict) else {}


def _participant_key(participant: dict) -> str:
    return str(
        participant.get("participant_uuid")
        or participant.get("user_id")
        or participant.get("id")
        or participant.get("email")
        or participant.get("user_name")
        or ""
    )[:150]


def _pending_parts(meeting_object: dict) -> tuple[str, datetime | None]:
    participant = _participant(meeting_object)
    return _participant_key(participant), _zoom_time(participant.get("leave_time"))


def _apply(meeting: MeetingSession, event: str, meeting_object: dict) -> str:
    participant = _participant(meeting_object)
    key = _participant_key(participant)
    if not key:
        return "ignored: no participant in the event"
    if event == "meeting.participant_joined":
        joined = _zoom_time(participant.get("join_time"))
        if joined is None:
            return "ignored: no readable join_time"
        day = day_at(meeting, joined)
        if day is None:
            return "ignored: not a day of this session"
        left = _pending_leave(meeting, key, joined)
        registration = match(
            meeting,
            email=str(participant.get("email") or ""),
            name=str(participant.get("user_name") or ""),
            registrant_id=str(participant.get("registrant_id") or "") or None,
        )
        return record_presence(
            meeting,
            day,
            registration,
            joined_at=joined,
            left_at=left,
            source=Source.ZOOM_WEBHOOK,
            source_key=f"{key}|{key_text(joined)}",
            email=str(participant.get("email") or ""),
            name=str(participant.get("user_name") or ""),
        )
    left = _zoom_time(participant.get("leave_time"))
    if left is None:
        return "ignored: no readable leave_time"
    return "closed" if _close(meeting, key, left) else "pending_leave: no open join yet"


def _close(meeting: MeetingSession, key: str, left: datetime) -> bool:
    """Ends the participant's latest open interval (matched or not) that began before they left."""
    for model in (OnlineInterval, UnmatchedPresence):
        query = sa.select(model).where(
            model.source == Source.ZOOM_WEBHOOK,
            model.source_key.startswith(f"{key}|", autoescape=True),
            model.left_at.is_(None),
            model.joined_at <= left,
        )
        if model is UnmatchedPresence:
            query = query.where(model.session_id == meeting.id)
        else:
            query = query.join(Attendance).join(SessionDay).where(SessionDay.session_id == meeting.id)
        interval = cast(  # a select of either model: mypy reads it as their base class
            OnlineInterval | UnmatchedPresence | None,
            db.session.scalar(query.order_by(model.joined_at.desc()).limit(1)),
        )
        if interval is not None:
            interval.left_at = left
            return True
    return False


def _pending_leave(meeting: MeetingSession, key: str, joined: datetime) -> datetime | None:
    """A leave that arrived before its join (Zoom does not promise order) closes the join now."""
    pending = db.session.scalar(
        sa.select(ZoomEvent)
        .where(
            ZoomEvent.session_id == meeting.id,
            ZoomEvent.participant_key == key,
            ZoomEvent.outcome.startswith("pending_leave"),
            ZoomEvent.left_at >= joined,
        )
        .order_by(ZoomEvent.left_at)
        .limit(1)
    )
    if pending is None:
        return None
    pending.outcome = "closed (arrived before its join)"
    return pending.left_at

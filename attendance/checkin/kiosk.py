"""The self check-in kiosk: a tablet at the entrance where delegates show their own badge QR.

A kiosk runs on a scanner API token, never on a staff login, and learns nothing but the name of the person
whose badge it just read: its answers carry no organisation, no counts and nobody else's data. The welcome is
in the delegate's own language (the registration's locale), and the badge to print comes from a link that
works for a few minutes only, so that the tablet never holds the delegate's secret personal link.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from flask import current_app, url_for
from flask_babel import force_locale, gettext
from itsdangerous import BadSignature, URLSafeTimedSerializer

from ..auth import Actor
from ..extensions import db
from ..models import MeetingSession, Registration, ScanResult, Source
from ..text import FIRST_STRONG_ISOLATE, POP_DIRECTIONAL_ISOLATE
from .rule import check_in

KIOSK_DOOR = "kiosk"
BADGE_LINK_SECONDS = 300  # long enough to reach the printer, too short to matter once the person has gone
_WELCOMED = (ScanResult.OK, ScanResult.ALREADY_CHECKED_IN)


def kiosk_refusal(token, meeting: MeetingSession) -> str | None:
    """Why a kiosk may not run for `meeting` on `token` (a row of `api.tokens.find_api_token`, or None), or None.

    The one check the kiosk page and every kiosk request go through. A kiosk is a device left where anyone can
    reach it: an organiser token, which may check in for other days, is refused, and so is a token that is not bound
    to this very session (a lost tablet then opens no other door)."""
    if token is None:
        return gettext("Unknown API token.")
    if token.revoked_at is not None:
        return gettext("This API token was revoked.")
    if token.is_organiser:
        return gettext("An organiser token may not run a kiosk: create a door token for it.")
    if token.session_id != meeting.id:
        return gettext(
            "A kiosk runs on a token bound to this session only: create one with 'token add LABEL --session %(slug)s'.",
            slug=meeting.slug,
        )
    return None


@dataclass
class KioskAnswer:
    http_status: int
    payload: dict


def kiosk_check_in(actor: Actor, meeting: MeetingSession, badge_token: str, nonce: str | None) -> KioskAnswer:
    """Checks the badge in at `meeting`'s kiosk, with the same rule as every door, and says only what the person
    in front of the kiosk may read: a welcome in their language and their badge to print, or where to go."""
    outcome = check_in(
        actor=actor, token=badge_token, session_slug=meeting.slug, door=KIOSK_DOOR, source=Source.SCAN, nonce=nonce
    )
    if outcome.result not in _WELCOMED:
        # Cancelled, another session's, unknown: the kiosk names nobody, and the desk sorts it out.
        return KioskAnswer(
            outcome.http_status,
            {
                "status": outcome.payload["status"],
                "message": gettext("This badge cannot be used here. Please go to the registration desk."),
            },
        )
    registration = db.session.get(Registration, outcome.payload["registration_id"])
    assert registration is not None  # the check-in just found it
    with force_locale(registration.locale):
        return KioskAnswer(
            outcome.http_status,
            {
                "status": outcome.payload["status"],
                "lang": registration.locale,
                # The name set apart for direction, whatever its script: "John Smith Jr." in an Arabic welcome
                # keeps its full stop, "ليلى حداد 2" in an English one its number.
                "welcome": gettext(
                    "Welcome, %(name)s", name=FIRST_STRONG_ISOLATE + registration.full_name + POP_DIRECTIONAL_ISOLATE
                ),
                "message": gettext("You are checked in. Your badge is ready to print.")
                if outcome.result is ScanResult.OK
                else gettext("You were already checked in today. Your badge is ready to print."),
                "print": gettext("Print my badge"),
                "badge_url": url_for("checkin.kiosk_badge", link=badge_link(registration)),
            },
        )


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="attendance.kiosk-badge")


def _badge_fingerprint(registration: Registration) -> str:
    """Ties a link to the badge as it was: a badge reissued since is not printed from it."""
    return hashlib.sha256(registration.badge_token.encode()).hexdigest()[:16]


def badge_link(registration: Registration) -> str:
    """A signed, short-lived reference to the registration's badge PDF; it holds no secret of the delegate."""
    return _serializer().dumps([registration.id, _badge_fingerprint(registration)])


def registration_from_badge_link(link: str) -> Registration | None:
    """The registration whose badge `link` prints, or None when the link is forged, expired, or its badge was
    reissued or cancelled since."""
    try:
        registration_id, fingerprint = _serializer().loads(link, max_age=BADGE_LINK_SECONDS)
    except (BadSignature, ValueError, TypeError):
        return None
    registration = db.session.get(Registration, registration_id) if isinstance(registration_id, int) else None
    if registration is None or not registration.is_registered or _badge_fingerprint(registration) != fingerprint:
        return None
    return registration

"""The self check-in kiosk: runs on a door API token, welcomes the badge's holder in their own language, prints
their badge, and tells nobody anything else."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from pdf_tools import pdf_text

from attendance.api.tokens import create_api_token, revoke_api_token
from attendance.checkin import kiosk
from attendance.extensions import db
from attendance.models import Attendance, RegistrationStatus
from attendance.tokens import new_badge_token


@pytest.fixture
def meeting(make_session):
    return make_session(first_day=datetime.now(ZoneInfo("Europe/Brussels")).date())


@pytest.fixture
def kiosk_token(app_ctx, meeting):
    return create_api_token("Entrance kiosk", session_id=meeting.id)[1]


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def scan(client, meeting, badge_token: str, token: str):
    return client.post(
        f"/api/v1/sessions/{meeting.slug}/kiosk/checkins", json={"token": badge_token}, headers=bearer(token)
    )


def test_the_kiosk_page_is_public_and_shows_no_delegate(client, meeting, make_registration):
    make_registration(meeting, full_name="Hidden Person", organisation="Secret Office")
    response = client.get(f"/sessions/{meeting.slug}/kiosk")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert meeting.title in html and "Hidden Person" not in html and "Secret Office" not in html
    assert "'wasm-unsafe-eval'" in response.headers["Content-Security-Policy"]  # the camera's QR reader
    assert client.get("/sessions/no-such-session/kiosk").status_code == 404


def test_a_kiosk_starts_only_on_a_door_token_bound_to_its_session(client, login, meeting, kiosk_token, make_session):
    url = f"/api/v1/sessions/{meeting.slug}/kiosk"
    assert client.get(url, headers=bearer(kiosk_token)).get_json() == {"status": "ok", "title": meeting.title}
    assert client.get(url).status_code == 401
    assert client.get(url, headers=bearer("att_not-a-token")).get_json()["reason"] == "Unknown API token."
    organiser = client.get(url, headers=bearer(create_api_token("Laptop", organiser=True)[1]))
    assert organiser.status_code == 403 and "organiser token may not run a kiosk" in organiser.get_json()["reason"]
    unbound = client.get(url, headers=bearer(create_api_token("Door laptop")[1]))
    assert unbound.status_code == 403 and "bound to this session" in unbound.get_json()["reason"]
    other = make_session(title="Another meeting")
    elsewhere = client.get(url, headers=bearer(create_api_token("Other kiosk", session_id=other.id)[1]))
    assert elsewhere.status_code == 403 and "bound to this session" in elsewhere.get_json()["reason"]
    record, revoked = create_api_token("Stolen tablet", session_id=meeting.id)
    revoke_api_token(record)
    assert client.get(url, headers=bearer(revoked)).get_json()["reason"] == "This API token was revoked."
    login("door")  # a staff login is no kiosk: the tablet would hold a staff session
    assert client.get(url).status_code == 401
    assert client.get("/api/v1/sessions/no-such-session/kiosk", headers=bearer(kiosk_token)).status_code == 404


def test_a_delegate_is_welcomed_in_their_language_with_their_badge_and_nothing_else(
    client, meeting, make_registration, kiosk_token
):
    registration = make_registration(
        meeting, full_name="Amélie Dubois", organisation="Bureau régional Europe", locale="fr"
    )
    first = scan(client, meeting, registration.badge_token, kiosk_token)
    assert first.status_code == 201
    answer = first.get_json()
    assert answer["status"] == "ok" and answer["lang"] == "fr"
    assert answer["welcome"] == "Bienvenue, \u2068Amélie Dubois\u2069"
    assert set(answer) == {"status", "lang", "welcome", "message", "print", "badge_url"}  # no entity, door, staff
    assert "Bureau régional" not in first.get_data(as_text=True)
    attendance = db.session.scalar(sa.select(Attendance))
    assert attendance.registration_id == registration.id and attendance.door == "kiosk"

    badge = client.get(answer["badge_url"])
    assert badge.status_code == 200 and badge.mimetype == "application/pdf"
    assert "Amélie Dubois" in pdf_text(badge.data)
    assert registration.access_key not in answer["badge_url"]  # the kiosk never holds the personal link

    again = scan(client, meeting, registration.badge_token, kiosk_token)
    assert again.status_code == 200 and again.get_json()["welcome"] == "Bienvenue, \u2068Amélie Dubois\u2069"
    assert "déjà" in again.get_json()["message"]


@pytest.mark.parametrize("case", ["unknown", "cancelled", "other_session"])
def test_a_badge_the_kiosk_refuses_names_nobody(client, meeting, make_session, make_registration, kiosk_token, case):
    if case == "unknown":
        badge_token = new_badge_token()
    elif case == "cancelled":
        badge_token = make_registration(
            meeting, full_name="Cancelled Person", status=RegistrationStatus.CANCELLED
        ).badge_token
    else:
        badge_token = make_registration(make_session(), full_name="Elsewhere Person").badge_token
    response = scan(client, meeting, badge_token, kiosk_token)
    assert response.status_code in (404, 409)
    assert set(response.get_json()) == {"status", "message"}
    assert "registration desk" in response.get_json()["message"]
    assert "Person" not in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Attendance)) == 0


def test_a_refused_token_records_nothing(client, meeting, make_registration):
    registration = make_registration(meeting)
    response = scan(client, meeting, registration.badge_token, create_api_token("Laptop", organiser=True)[1])
    assert response.status_code == 403
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Attendance)) == 0


def test_a_badge_link_works_for_a_few_minutes_and_for_that_badge_only(client, meeting, make_registration, monkeypatch):
    registration = make_registration(meeting)
    with client.application.test_request_context():
        link = kiosk.badge_link(registration)
    assert kiosk.registration_from_badge_link(link) == registration
    assert kiosk.registration_from_badge_link(link[:-2] + ("AA" if not link.endswith("AA") else "BB")) is None
    assert client.get("/kiosk/badge/forged").status_code == 404
    monkeypatch.setattr(kiosk, "BADGE_LINK_SECONDS", -1)
    assert kiosk.registration_from_badge_link(link) is None
    assert client.get(f"/kiosk/badge/{link}").status_code == 404
    monkeypatch.undo()
    registration.badge_token = new_badge_token()  # lost badge, reissued: the old link prints nothing
    db.session.commit()
    assert kiosk.registration_from_badge_link(link) is None

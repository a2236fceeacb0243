"""Door check-in: the rule every door shares, the JSON API's status matrix, and the organisers' views of it."""

import json
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from flask import g
from helpers import csrf_token

from attendance.api.tokens import create_api_token, revoke_api_token
from attendance.auth import Actor
from attendance.checkin.rule import NotAllowed, check_in, undo_check_in
from attendance.clock import utcnow
from attendance.extensions import db
from attendance.models import (
    Attendance,
    AuditEvent,
    Mode,
    RegistrationPolicy,
    RegistrationStatus,
    ScanEvent,
    ScanResult,
    Source,
)

DOOR = Actor("user:900", "door1@example.org", False)
ORGANISER = Actor("user:901", "organiser@example.org", True)


def brussels_today():
    return datetime.now(ZoneInfo("Europe/Brussels")).date()


@pytest.fixture
def meeting(make_session):
    """A session running today and tomorrow, Brussels time."""
    return make_session(first_day=brussels_today())


@pytest.fixture
def door_token(app_ctx):
    return create_api_token("Door 2 scanner")[1]


@pytest.fixture
def organiser_token(app_ctx):
    return create_api_token("Secretariat laptop", organiser=True)[1]


def post(client, body, token=None, **kwargs):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return client.post("/api/v1/checkins", json=body, headers=headers, **kwargs)


def attendances() -> list[Attendance]:
    return db.session.scalars(sa.select(Attendance)).all()


def events() -> list[ScanEvent]:
    return db.session.scalars(sa.select(ScanEvent).order_by(ScanEvent.id)).all()


# ---- the domain rule ----


def test_second_scan_reports_first_scan_time_and_door(meeting, make_registration):
    registration = make_registration(meeting, full_name="Kofi Mensah")
    first = check_in(actor=DOOR, token=registration.badge_token, door="Door 2")
    second = check_in(actor=ORGANISER, token=registration.badge_token, door="Main entrance")
    assert first.result is ScanResult.OK and first.http_status == 201
    assert second.result is ScanResult.ALREADY_CHECKED_IN and second.http_status == 200
    first_at = datetime.fromisoformat(first.payload["checked_in_at"])
    assert second.payload["first_at"] == first.payload["checked_in_at"]
    assert second.payload["by"] == "door1@example.org" and second.payload["door"] == "Door 2"
    assert second.payload["message"] == f"Already checked in at {first_at:%H:%M} by door1@example.org at Door 2"
    [attendance] = attendances()
    assert (attendance.mode, attendance.source, attendance.door) == (Mode.IN_PERSON, Source.SCAN, "Door 2")
    assert [e.result for e in events()] == [ScanResult.OK, ScanResult.ALREADY_CHECKED_IN]


def test_online_registrant_who_walks_in_is_checked_in_in_person(meeting, make_registration):
    registration = make_registration(meeting, mode=Mode.ONLINE)
    outcome = check_in(actor=DOOR, token=registration.badge_token)
    assert outcome.result is ScanResult.OK
    assert outcome.payload["mode"] == "online"  # registered online; the record says in person
    assert attendances()[0].mode is Mode.IN_PERSON


def test_each_day_gets_its_own_check_in(make_session, make_registration):
    meeting = make_session(first_day=brussels_today() - timedelta(days=1))  # yesterday and today
    registration = make_registration(meeting)
    assert check_in(actor=DOOR, token=registration.badge_token).result is ScanResult.OK
    assert check_in(actor=ORGANISER, token=registration.badge_token, day=meeting.days[0].date).result is ScanResult.OK
    assert len(attendances()) == 2


@pytest.mark.parametrize("token", ["", "abc", "0" * 26, "a" * 26, "ÄÖÜ" * 9, "x" * 200, "O" * 26])
def test_unknown_or_malformed_tokens_are_invalid_and_logged_cut_short(meeting, make_registration, token):
    make_registration(meeting)
    outcome = check_in(actor=DOOR, token=token, session_slug=meeting.slug, door="Door 2")
    assert outcome.result is ScanResult.INVALID and outcome.http_status == 404
    assert attendances() == []
    [event] = events()
    assert event.result is ScanResult.INVALID and event.door == "Door 2" and event.recorded_by == DOOR.label
    assert len(event.token_excerpt) <= 8


def test_a_lowercased_badge_token_is_not_accepted(meeting, make_registration):
    registration = make_registration(meeting)
    assert check_in(actor=DOOR, token=registration.badge_token.lower()).result is ScanResult.INVALID


def test_revoked_token_is_invalid_after_a_reissue(client, login, meeting, make_registration):
    from attendance.registration.service import reissue_badge

    registration = make_registration(meeting)
    old = registration.badge_token
    reissue_badge(registration)
    assert check_in(actor=DOOR, token=old).result is ScanResult.INVALID
    assert check_in(actor=DOOR, token=registration.badge_token).result is ScanResult.OK


def test_cancelled_registration_is_refused(meeting, make_registration):
    registration = make_registration(meeting, status=RegistrationStatus.CANCELLED)
    outcome = check_in(actor=DOOR, token=registration.badge_token)
    assert outcome.result is ScanResult.CANCELLED and outcome.http_status == 409
    assert outcome.payload["name"] == registration.full_name
    assert attendances() == []


def test_a_day_outside_the_session_is_refused(make_session, make_registration):
    future = make_session(first_day=brussels_today() + timedelta(days=10))
    registration = make_registration(future)
    outcome = check_in(actor=DOOR, token=registration.badge_token)
    assert outcome.result is ScanResult.NOT_A_MEETING_DAY
    assert (
        check_in(actor=ORGANISER, token=registration.badge_token, day=future.days[0].date - timedelta(days=1)).result
        is ScanResult.NOT_A_MEETING_DAY
    )
    assert attendances() == []


def test_a_badge_of_another_session_is_refused_at_this_door(meeting, make_session, make_registration):
    other = make_session(first_day=brussels_today())
    registration = make_registration(other)
    outcome = check_in(actor=DOOR, token=registration.badge_token, session_slug=meeting.slug)
    assert outcome.result is ScanResult.WRONG_SESSION
    assert other.title in outcome.payload["message"]
    assert attendances() == []


def test_door_staff_may_not_name_another_day(meeting, make_registration):
    registration = make_registration(meeting)
    with pytest.raises(NotAllowed):
        check_in(actor=DOOR, token=registration.badge_token, day=meeting.days[1].date)
    assert attendances() == [] and events() == []


def test_same_nonce_twice_answers_the_same_and_records_once(meeting, make_registration):
    registration = make_registration(meeting)
    first = check_in(actor=DOOR, token=registration.badge_token, nonce="retry-1")
    db.session.commit()  # each scan is a request of its own
    again = check_in(actor=DOOR, token=registration.badge_token, nonce="retry-1")
    assert first.result is again.result is ScanResult.OK
    assert first.payload == again.payload
    assert len(attendances()) == 1 and len(events()) == 1


def _meanwhile(monkeypatch, change):
    """Runs `change` on a connection of its own, committed, right after check_in has read the badge."""
    from attendance.checkin import rule

    read = rule._find_badge

    def read_then_change(*args):
        found = read(*args)
        with db.engine.begin() as other:
            change(other)
        return found

    monkeypatch.setattr(rule, "_find_badge", read_then_change)


def test_a_rival_scan_between_the_read_and_the_write_wins(monkeypatch, meeting, make_registration):
    registration = make_registration(meeting)
    check_in(actor=DOOR, token=make_registration(meeting).badge_token)  # warm up
    db.session.commit()  # each scan is a request of its own
    day_id = meeting.days[0].id
    _meanwhile(
        monkeypatch,
        lambda other: other.execute(
            sa.insert(Attendance).values(
                registration_id=registration.id,
                day_id=day_id,
                mode=Mode.IN_PERSON,
                first_seen_at=utcnow(),
                source=Source.SCAN,
                actor="user:902",
                recorded_by="door2@example.org",
                door="Door 9",
                note="",
            )
        ),
    )
    outcome = check_in(actor=DOOR, token=registration.badge_token, door="Door 1")
    assert outcome.result is ScanResult.ALREADY_CHECKED_IN
    assert (outcome.payload["by"], outcome.payload["door"]) == ("door2@example.org", "Door 9")
    assert [a.door for a in attendances() if a.registration_id == registration.id] == ["Door 9"]
    assert json.loads(events()[-1].response) == outcome.payload


def test_a_scan_right_after_an_undo_checks_the_badge_in_again(monkeypatch, meeting, make_registration):
    """The scan read the check-in that an undo then took back: it must not answer "already in"."""
    registration = make_registration(meeting)
    check_in(actor=DOOR, token=registration.badge_token, door="Door 1")
    db.session.commit()  # each scan is a request of its own
    _meanwhile(
        monkeypatch,
        lambda other: other.execute(sa.delete(Attendance).where(Attendance.registration_id == registration.id)),
    )
    outcome = check_in(actor=DOOR, token=registration.badge_token, door="Door 2")
    assert outcome.result is ScanResult.OK
    assert [(a.id, a.door) for a in attendances()] == [(outcome.payload["attendance_id"], "Door 2")]
    assert json.loads(events()[-1].response) == outcome.payload


def test_undo_within_fifteen_minutes_by_the_same_person_or_an_organiser(meeting, make_registration):
    registration = make_registration(meeting)
    check_in(actor=DOOR, token=registration.badge_token)
    [attendance] = attendances()
    with pytest.raises(NotAllowed):
        undo_check_in(attendance, Actor("user:902", "door2@example.org", False))
    undo_check_in(attendance, DOOR)
    assert attendances() == []
    assert events()[-1].result is ScanResult.UNDONE

    check_in(actor=DOOR, token=registration.badge_token)
    undo_check_in(attendances()[0], ORGANISER)
    assert attendances() == []

    check_in(actor=DOOR, token=registration.badge_token)
    [attendance] = attendances()
    attendance.first_seen_at = utcnow() - timedelta(minutes=16)
    db.session.commit()
    with pytest.raises(NotAllowed, match="15 minutes. Ask an organiser"):
        undo_check_in(attendance, DOOR)
    with pytest.raises(NotAllowed, match="15 minutes. Remove it"):  # with a reason, which undo has not
        undo_check_in(attendance, ORGANISER)
    assert len(attendances()) == 1


# ---- the API ----


def test_api_checks_in_with_a_scanner_token(client, meeting, make_registration, door_token):
    registration = make_registration(meeting, full_name="Анна Смирнова", organisation="RILO CIS")
    response = post(client, {"token": registration.badge_token}, door_token)
    assert response.status_code == 201
    body = response.get_json()
    assert body["status"] == "ok"
    assert (body["name"], body["entity"], body["mode"]) == ("Анна Смирнова", "RILO CIS", "in_person")
    assert body["by"] == "Door 2 scanner"

    again = post(client, {"token": registration.badge_token}, door_token)
    assert again.status_code == 200
    assert again.get_json()["status"] == "already_checked_in"
    assert again.get_json()["first_at"] == body["checked_in_at"]


@pytest.mark.parametrize(
    "case, status, body_status",
    [
        ("unknown", 404, "invalid"),
        ("lowercase", 404, "invalid"),
        ("cancelled", 409, "cancelled"),
        ("other_session", 409, "wrong_session"),
        ("not_a_meeting_day", 409, "not_a_meeting_day"),
    ],
)
def test_api_status_matrix(
    client, meeting, make_session, make_registration, organiser_token, case, status, body_status
):
    registration = make_registration(
        meeting, status=RegistrationStatus.CANCELLED if case == "cancelled" else RegistrationStatus.REGISTERED
    )
    body = {"token": registration.badge_token, "session": meeting.slug}
    if case == "unknown":
        body["token"] = "Z" * 26
    elif case == "lowercase":
        body["token"] = registration.badge_token.lower()
    elif case == "other_session":
        body["token"] = make_registration(make_session(first_day=brussels_today())).badge_token
    elif case == "not_a_meeting_day":
        body["day"] = (meeting.days[-1].date + timedelta(days=1)).isoformat()
    response = post(client, body, organiser_token)
    assert response.status_code == status
    assert response.get_json()["status"] == body_status
    if case not in ("unknown", "lowercase"):
        assert response.get_json()["name"] == registration.full_name or case == "other_session"
    assert attendances() == []
    assert len(events()) == 1  # the refusal is logged
    if case == "not_a_meeting_day":  # dated as everywhere else: "21 February 2024"
        day = meeting.days[-1].date + timedelta(days=1)
        assert response.get_json()["message"].startswith(f"{day.day} {day:%B %Y} is not a day of")


def test_a_repeat_at_a_scanner_named_after_its_door_names_it_once(client, meeting, make_registration):
    _, token = create_api_token("Door 4")
    registration = make_registration(meeting)
    post(client, {"token": registration.badge_token, "door": "Door 4"}, token)
    message = post(client, {"token": registration.badge_token, "door": "Door 4"}, token).get_json()["message"]
    assert message.endswith(" by Door 4") and message.count("Door 4") == 1


def test_organiser_token_may_name_a_past_day_and_a_door_token_may_not(
    client, make_session, make_registration, door_token, organiser_token
):
    meeting = make_session(first_day=brussels_today() - timedelta(days=1))  # yesterday and today
    registration = make_registration(meeting)
    yesterday = meeting.days[0].date.isoformat()
    refused = post(client, {"token": registration.badge_token, "day": yesterday}, door_token)
    assert refused.status_code == 403 and "today only" in refused.get_json()["reason"]
    allowed = post(client, {"token": registration.badge_token, "day": yesterday}, organiser_token)
    assert allowed.status_code == 201 and allowed.get_json()["day"] == yesterday


def test_an_organiser_token_may_not_name_a_day_still_ahead(client, meeting, make_registration, organiser_token):
    """PRODUCT.md: an --organiser token may name another day; not one to come, whose first moment would be made up
    now and print hours nobody measured on the certificate."""
    registration = make_registration(meeting)
    tomorrow = meeting.days[1].date
    refused = post(client, {"token": registration.badge_token, "day": tomorrow.isoformat()}, organiser_token)
    assert refused.status_code == 422
    assert refused.get_json()["reason"] == (
        f"{tomorrow.day} {tomorrow:%B %Y} has not come yet: check people in on the day, or for a day gone by."
    )
    assert attendances() == [] and events() == []


def test_a_day_gone_by_checked_in_now_shows_no_time_on_the_attendance_page(
    client, login, make_session, make_registration, organiser_token
):
    """The organiser's token names yesterday: they came, but nobody measured when. The attendance page says so,
    as the certificate does, instead of today's time "counted to the day's end"."""
    meeting = make_session(first_day=brussels_today() - timedelta(days=1))
    late, today_s = (
        make_registration(meeting, full_name="Told Us Later"),
        make_registration(meeting, full_name="On Time"),
    )
    yesterday = meeting.days[0].date.isoformat()
    assert post(client, {"token": late.badge_token, "day": yesterday}, organiser_token).status_code == 201
    login("organiser")
    page = " ".join(client.get(f"/sessions/{meeting.slug}/attendance?day={yesterday}").get_data(as_text=True).split())
    row = page[page.index("Told Us Later") : page.index("</tr>", page.index("Told Us Later"))]
    assert "time not recorded (checked in after the day was over)" in row
    assert "counted to the day&#39;s end" not in row and "counted to the day's end" not in row
    assert post(client, {"token": today_s.badge_token}, organiser_token).status_code == 201
    page = " ".join(client.get(f"/sessions/{meeting.slug}/attendance").get_data(as_text=True).split())
    row = page[page.index("On Time") : page.index("</tr>", page.index("On Time"))]
    assert "time not recorded" not in row and "the day" in row


def test_api_accepts_a_body_that_starts_with_a_utf8_bom(client, meeting, make_registration, door_token):
    registration = make_registration(meeting)
    body = b"\xef\xbb\xbf" + json.dumps({"token": registration.badge_token}).encode()  # as some Windows clients send
    response = client.post(
        "/api/v1/checkins",
        data=body,
        content_type="application/json",
        headers={"Authorization": f"Bearer {door_token}"},
    )
    assert response.status_code == 201


def test_api_nonce_replay_answers_like_the_first_time(client, meeting, make_registration, door_token):
    registration = make_registration(meeting)
    body = {"token": registration.badge_token, "nonce": "3b9d1c1e-retry"}
    first, second = post(client, body, door_token), post(client, body, door_token)
    assert (first.status_code, second.status_code) == (201, 201)
    assert first.data == second.data  # the same bytes: a retry cannot tell it is one
    assert len(attendances()) == 1 and len(events()) == 1


@pytest.mark.parametrize(
    "kwargs, status, reason",
    [
        ({"data": "{not json", "content_type": "application/json"}, 400, "not a JSON object"),
        ({"data": "token=ABC", "content_type": "application/x-www-form-urlencoded"}, 415, "application/json"),
        ({"json": ["a", "list"]}, 400, "not a JSON object"),
        ({"json": {}}, 400, "Send the badge 'token'"),
        ({"json": {"token": 12345}}, 400, "'token' must be a string"),
        ({"json": {"token": "A" * 201}}, 400, "longer than 200"),
        ({"json": {"token": "A" * 26, "day": "19/02/2024"}}, 400, "YYYY-MM-DD"),
        ({"json": {"token": "A" * 26, "day": "20240219"}}, 400, "YYYY-MM-DD"),  # ISO's basic form, not ours
        ({"json": {"token": "A" * 26, "day": "2024-W08-1"}}, 400, "YYYY-MM-DD"),  # an ISO week date
        ({"json": {"token": "A" * 26, "day": "２０２４-02-19"}}, 400, "YYYY-MM-DD"),  # full-width digits
        ({"json": {"token": "A" * 26, "scanned_at": "0001-01-01T00:00:00+01:00"}}, 422, "not a day of the session"),
        ({"json": {"token": "A" * 26, "scanned_at": "9999-12-31T23:59:59-14:00"}}, 422, "in the future"),
        ({"json": {"token": "A" * 26, "nonce": "n" * 65}}, 400, "'nonce' is longer"),
        ({"json": {"registration_id": "7"}}, 400, "'registration_id' must be a registration's number"),
        ({"json": {"registration_id": 10**30}}, 400, "'registration_id' must be a registration's number"),
        ({"json": {"registration_id": 7}}, 400, "needs the door's 'session'"),
        ({"json": {"token": "A" * 26, "session": "no-such-session"}}, 404, "No session is called"),
        ({"json": {"token": "A" * 26, "door": "Door\x001"}}, 400, "'door' contains a NUL character"),
        (
            {"data": '{"token": "%s", "door": "\\ud800"}' % ("A" * 26), "content_type": "application/json"},
            400,
            "lone surrogate",
        ),
        ({"data": "[" * 100_000 + "]" * 100_000, "content_type": "application/json"}, 400, "nested too deeply"),
        ({"data": "x" * (3 * 1024 * 1024), "content_type": "application/json"}, 413, ""),
    ],
)
def test_api_bad_input_gets_a_json_reason_and_records_nothing(client, door_token, kwargs, status, reason):
    response = client.post("/api/v1/checkins", headers={"Authorization": f"Bearer {door_token}"}, **kwargs)
    assert response.status_code == status
    body = response.get_json()
    assert body["status"] == "error" and reason in body["reason"]
    assert attendances() == [] and events() == []


@pytest.mark.parametrize(
    "header, reason",
    [
        (None, "Log in as staff"),
        ("Bearer att_not-a-real-token", "Unknown API token"),
        ("Basic dXNlcjpwYXNz", "Authorization: Bearer"),
        ("revoked", "revoked"),
    ],
)
def test_api_refuses_unauthenticated_and_revoked_callers(client, meeting, make_registration, header, reason):
    registration = make_registration(meeting)
    if header == "revoked":
        record, token = create_api_token("Lost phone")
        revoke_api_token(record)
        header = f"Bearer {token}"
    response = client.post(
        "/api/v1/checkins",
        json={"token": registration.badge_token},
        headers={"Authorization": header} if header else {},
    )
    assert response.status_code == 401
    assert reason in response.get_json()["reason"]
    assert attendances() == []


def test_a_logged_in_browser_needs_the_csrf_header(client, login, meeting, make_registration):
    registration = make_registration(meeting)
    login("door")
    refused = client.post("/api/v1/checkins", json={"token": registration.badge_token})
    assert refused.status_code == 400 and "X-CSRFToken" in refused.get_json()["reason"]
    assert attendances() == []
    token = csrf_token(client, f"/sessions/{meeting.slug}/checkin")
    accepted = client.post(
        "/api/v1/checkins", json={"token": registration.badge_token, "door": "Door 1"}, headers={"X-CSRFToken": token}
    )
    assert accepted.status_code == 201 and accepted.get_json()["by"].startswith("door-")


def test_session_api_is_for_staff_only(client, meeting, door_token):
    assert client.get(f"/api/v1/sessions/{meeting.slug}").status_code == 401
    body = client.get(f"/api/v1/sessions/{meeting.slug}", headers={"Authorization": f"Bearer {door_token}"}).get_json()
    assert body["slug"] == meeting.slug and body["title"] == meeting.title
    assert body["days"] == [d.date.isoformat() for d in meeting.days]
    assert body["registration_open"] is True and body["today_is_a_meeting_day"] is True
    assert body["entity_types"] == [
        "Regional Office for Capacity Building (ROCB)",
        "Regional Training Centre (RTC)",
        "Observer/Guest",
    ]
    assert body["regions"] == ["Europe", "West and Central Africa"]


def test_session_api_answers_every_key_of_the_public_contract(client, meeting, door_token):
    # The product's contract: `{"slug", "title", "days": [...], "registration_open": bool,
    # "entity_types": [names], "regions": [names], ...}`; a scanner or form builder relies on each of them.
    promised = {"slug", "title", "days", "registration_open", "entity_types", "regions"}
    body = client.get(f"/api/v1/sessions/{meeting.slug}", headers={"Authorization": f"Bearer {door_token}"}).get_json()
    assert promised <= body.keys()
    assert all(isinstance(body[key], list) for key in ("days", "entity_types", "regions"))


def test_session_api_says_an_invitation_only_session_is_not_open_for_registration(client, make_session, door_token):
    meeting = make_session(first_day=brussels_today(), registration_policy=RegistrationPolicy.INVITATION)
    body = client.get(f"/api/v1/sessions/{meeting.slug}", headers={"Authorization": f"Bearer {door_token}"}).get_json()
    assert body["registration_open"] is False


def test_door_lookup_by_name_needs_three_characters_and_shows_only_door_fields(
    client, meeting, make_registration, door_token
):
    make_registration(meeting, full_name="Amélie Dubois", email="amelie@example.org")
    headers = {"Authorization": f"Bearer {door_token}"}
    short = client.get(f"/api/v1/sessions/{meeting.slug}/delegates?q=am", headers=headers)
    assert short.status_code == 400 and "at least 3" in short.get_json()["reason"]
    found = client.get(f"/api/v1/sessions/{meeting.slug}/delegates?q=AMÉ", headers=headers).get_json()["delegates"]
    assert [d["name"] for d in found] == ["Amélie Dubois"]
    assert "email" not in found[0] and "amelie@example.org" not in json.dumps(found)
    assert "badge_token" not in json.dumps(found) and found[0]["checked_in_at"] is None


@pytest.mark.parametrize("query", ["Сергей", "сергей", "СЕРГЕЙ", "Émile", "ÉMILE", "émile", "ØDEGÅRD"])
def test_door_lookup_by_name_ignores_case_in_every_script(client, meeting, make_registration, door_token, query):
    make_registration(meeting, full_name="Сергей Ковальчук")
    make_registration(meeting, full_name="Émile Ødegård")
    found = client.get(
        f"/api/v1/sessions/{meeting.slug}/delegates?q={query}", headers={"Authorization": f"Bearer {door_token}"}
    ).get_json()["delegates"]
    assert [d["name"] for d in found] == (["Сергей Ковальчук"] if "ерге" in query.lower() else ["Émile Ødegård"])


@pytest.mark.parametrize(
    "query, found",
    [
        ("nguyen", ["Nguyễn Văn Đức"]),
        ("van duc", ["Nguyễn Văn Đức"]),
        ("odegard emile", ["Émile Ødegård"]),
        ("strasse", ["Jürgen Straße"]),
        ("jurgen", ["Jürgen Straße"]),
        ("Сергеи", ["Сергей Ковальчук"]),
        ("محمد", ["مُحَمَّد الأمين"]),
        ("ＥＭＩＬＥ", ["Émile Ødegård"]),
        ("e m", None),
        ("́́́", None),
        # two Chinese, Japanese or Korean characters say as much as three letters: a name may have only two
        ("王伟", ["王伟"]),
        ("김민", ["김민"]),
        ("王", None),
        ("김", None),
        ("ＥＭ", None),
        # single letters narrow nothing: an initial is skipped, and letters alone would list everyone
        ("a e i", None),
        ("nguyen v d", ["Nguyễn Văn Đức"]),
        ("odegard\x00", ["Émile Ødegård"]),
        ("ana\x00", ["さとう はなこ"]),  # in Latin letters, はなこ is "hanako"
        # kana's voicing marks are not accents: さどう is another name
        ("さとう", ["さとう はなこ"]),
        ("さどう", []),
    ],
)
def test_door_lookup_by_name_ignores_accents_and_word_order(
    client, meeting, make_registration, door_token, query, found
):
    """Door staff type names as they hear them, on a phone keyboard without the accents."""
    for name in (
        "Nguyễn Văn Đức",
        "Émile Ødegård",
        "Jürgen Straße",
        "Сергей Ковальчук",
        "مُحَمَّد الأمين",
        "王伟",
        "김민",
        "さとう はなこ",
    ):
        make_registration(meeting, full_name=name)
    response = client.get(
        f"/api/v1/sessions/{meeting.slug}/delegates",
        query_string={"q": query},
        headers={"Authorization": f"Bearer {door_token}"},
    )
    if found is None:  # fewer than 3 letters once spaces and accents are gone
        assert response.status_code == 400 and "at least 3" in response.get_json()["reason"]
    else:
        assert [d["name"] for d in response.get_json()["delegates"]] == found


def test_door_lookup_lists_names_alphabetically_whatever_their_accents(client, meeting, make_registration, door_token):
    for name in ("Zoé Martin", "Édouard Martin", "eliane Martin", "Ève Martin"):
        make_registration(meeting, full_name=name)
    found = client.get(
        f"/api/v1/sessions/{meeting.slug}/delegates?q=martin", headers={"Authorization": f"Bearer {door_token}"}
    ).get_json()["delegates"]
    assert [d["name"] for d in found] == ["Édouard Martin", "eliane Martin", "Ève Martin", "Zoé Martin"]


def test_name_search_check_in_is_recorded_as_such(client, meeting, make_registration, door_token):
    registration = make_registration(meeting)
    response = post(client, {"registration_id": registration.id, "session": meeting.slug}, door_token)
    assert response.status_code == 201
    assert attendances()[0].source is Source.NAME_SEARCH


def test_door_counts(client, meeting, make_registration, door_token):
    people = [make_registration(meeting) for _ in range(3)]
    online = [make_registration(meeting, mode=Mode.ONLINE) for _ in range(2)]
    make_registration(meeting, status=RegistrationStatus.CANCELLED)

    def counts():
        answer = client.get(
            f"/api/v1/sessions/{meeting.slug}/door-counts", headers={"Authorization": f"Bearer {door_token}"}
        ).get_json()
        return answer["checked_in"], answer["expected_in_person"], answer["registered_in_person"]

    post(client, {"token": people[0].badge_token}, door_token)
    assert counts() == (1, 3, 3)
    post(client, {"token": online[0].badge_token}, door_token)  # registered online, walks in: expected now
    assert counts() == (2, 4, 3)
    people[0].status = RegistrationStatus.CANCELLED  # cancelled after coming in: neither in nor expected
    db.session.commit()
    assert counts() == (1, 3, 2)


def test_api_undo(client, meeting, make_registration, door_token):
    registration = make_registration(meeting)
    attendance_id = post(client, {"token": registration.badge_token}, door_token).get_json()["attendance_id"]
    response = client.post(f"/api/v1/checkins/{attendance_id}/undo", headers={"Authorization": f"Bearer {door_token}"})
    assert response.get_json()["status"] == "undone"
    assert attendances() == []
    assert (
        client.post(
            f"/api/v1/checkins/{attendance_id}/undo", headers={"Authorization": f"Bearer {door_token}"}
        ).status_code
        == 404
    )


# ---- pages ----


def test_scanner_page_is_for_staff(client, login, meeting):
    assert client.get(f"/sessions/{meeting.slug}/checkin").status_code == 302
    login("door")
    html = client.get(f"/sessions/{meeting.slug}/checkin").get_data(as_text=True)
    assert 'id="badge-input"' in html and "vendor/barcode-detector/barcode-detector.js" in html
    assert "https://" not in html.split("<main", 1)[1]  # nothing loaded from another host
    assert client.get(f"/sessions/{meeting.slug}/attendance").status_code == 403
    assert client.get(f"/sessions/{meeting.slug}/scans").status_code == 403


def test_only_the_camera_pages_may_compile_the_qr_readers_webassembly(client, login, meeting):
    login("door")
    assert "'wasm-unsafe-eval'" in client.get(f"/sessions/{meeting.slug}/checkin").headers["Content-Security-Policy"]
    assert "wasm" not in client.get("/checkin").headers["Content-Security-Policy"]
    wasm = client.get("/static/vendor/barcode-detector/zxing_reader.wasm")
    assert wasm.status_code == 200 and wasm.mimetype == "application/wasm"  # what streaming compilation needs
    wasm.close()


def test_organiser_checks_in_and_out_by_hand_with_a_reason(client, login, meeting, make_registration):
    registration = make_registration(meeting, full_name="Forgot Badge")
    login("organiser")
    url = f"/sessions/{meeting.slug}/attendance/{registration.id}?day={meeting.days[0].date}"
    client.post(url, data={"action": "check_in", "reason": "", "csrf_token": csrf_token(client)})
    assert attendances() == []
    client.post(url, data={"action": "check_in", "reason": "Badge left at hotel", "csrf_token": csrf_token(client)})
    [attendance] = attendances()
    assert attendance.source is Source.MANUAL and attendance.note == "Badge left at hotel"
    page = client.get(f"/sessions/{meeting.slug}/attendance").get_data(as_text=True)
    assert "Forgot Badge" in page.split("not yet come", 1)[0]

    client.post(
        url, data={"action": "remove", "reason": "Checked in the wrong person", "csrf_token": csrf_token(client)}
    )
    assert attendances() == []
    log = client.get(f"/sessions/{meeting.slug}/scans").get_data(as_text=True)
    assert "undone" in log and "Checked in the wrong person" in log


def test_a_reason_with_control_characters_changes_nothing_and_says_so_in_french(
    client, login, meeting, make_registration
):
    registration = make_registration(meeting, full_name="Forgot Badge")
    login("organiser")
    client.set_cookie("lang", "fr")
    page = client.post(
        f"/sessions/{meeting.slug}/attendance/{registration.id}?day={meeting.days[0].date}",
        data={"action": "check_in", "reason": "Badge\x07 at hotel", "csrf_token": csrf_token(client)},
        follow_redirects=True,
    ).get_data(as_text=True)
    assert "Rien n’a été modifié : retirez les caractères de contrôle du motif." in page
    assert attendances() == []


def test_an_arrival_time_still_to_come_checks_nobody_in(client, login, meeting, make_registration):
    registration = make_registration(meeting, full_name="Not Here Yet")
    login("organiser")
    url = f"/sessions/{meeting.slug}/attendance/{registration.id}?day={meeting.days[0].date}"
    later = (datetime.now(ZoneInfo("Europe/Brussels")) + timedelta(minutes=10)).strftime("%H:%M")
    if later < "00:10":
        pytest.skip("ten minutes before midnight: that time would be tomorrow's")
    page = client.post(
        url,
        data={"action": "check_in", "reason": "sheet", "time": later, "csrf_token": csrf_token(client)},
        follow_redirects=True,
    ).get_data(as_text=True)
    assert f"Not checked in: {later} has not come yet." in page and attendances() == []


def test_a_day_still_to_come_has_no_check_in_by_hand(client, login, meeting, make_registration):
    registration = make_registration(meeting, full_name="Early Bird")
    login("organiser")
    tomorrow = meeting.days[1].date
    page = client.get(f"/sessions/{meeting.slug}/attendance?day={tomorrow}").get_data(as_text=True)
    assert "Early Bird" in page and "On the day" in page and 'value="check_in"' not in page
    response = client.post(
        f"/sessions/{meeting.slug}/attendance/{registration.id}?day={tomorrow}",
        data={"action": "check_in", "reason": "Arrived early", "csrf_token": csrf_token(client)},
        follow_redirects=True,
    )
    assert "has not come yet" in response.get_data(as_text=True)
    assert attendances() == [] and db.session.scalars(sa.select(AuditEvent)).all() == []


def test_scan_log_summarises_invalid_scans_per_door(client, login, meeting, door_token):
    for _ in range(3):
        post(client, {"token": "BADCODE", "session": meeting.slug, "door": "Door 2"}, door_token)
    login("organiser")
    html = client.get(f"/sessions/{meeting.slug}/scans?result=invalid").get_data(as_text=True)
    assert "3 invalid scans at Door 2" in html
    assert "BADCODE" in html  # cut to 8 characters, which this short code fits in


def test_removing_a_day_with_attendance_is_refused(client, login, meeting, make_registration):
    registration = make_registration(meeting)
    check_in(actor=DOOR, token=registration.badge_token)
    login("organiser")
    form = {
        "series_name": meeting.series.name,
        "number": meeting.number,
        "title": meeting.title,
        "slug": meeting.slug,
        "timezone": meeting.timezone,
        "days-0-date": meeting.days[1].date.isoformat(),
        "certificate_online_percent": "50",
        "certificate_days_required": "1",
        "csrf_token": csrf_token(client),
    }
    response = client.post(f"/sessions/{meeting.slug}/edit", data=form)
    assert response.status_code == 400
    assert "has recorded attendance, so it stays" in response.get_data(as_text=True)
    db.session.refresh(meeting)
    assert len(meeting.days) == 2


def test_token_cli_prints_the_token_once_and_stores_only_its_hash(runner, app_ctx):
    from attendance.models import ApiToken

    result = runner.invoke(args=["token", "add", "Door 3 scanner", "--organiser"])
    assert result.exit_code == 0
    token = result.output.strip().splitlines()[-1]
    record = db.session.scalar(sa.select(ApiToken))
    assert token.startswith("att_") and token not in record.token_hash and record.is_organiser
    assert "Door 3 scanner" in runner.invoke(args=["token", "list"]).output
    assert token not in runner.invoke(args=["token", "list"]).output
    for unknown in ("99999999999999999999", "0", str(record.id + 1)):  # a clear error, never a traceback
        refused = runner.invoke(args=["token", "revoke", unknown])
        assert refused.exit_code == 2 and "TOKEN_ID" in refused.output and refused.exception.__class__ is SystemExit
    runner.invoke(args=["token", "revoke", str(record.id)])
    db.session.refresh(record)
    assert record.is_revoked


def test_organisers_session_page_shows_todays_headline_numbers(client, login, meeting, make_registration):
    people = [make_registration(meeting) for _ in range(3)]
    make_registration(meeting, mode=Mode.ONLINE)
    check_in(actor=DOOR, token=people[0].badge_token)
    login("organiser")
    html = " ".join(client.get(f"/sessions/{meeting.slug}/registrations").get_data(as_text=True).split())
    assert 'data-live="session.registered_in_person">3</span> registered in person' in html
    assert 'data-live="today.attended_in_person">1</span> in the room today' in html
    # what static/live.js polls to refresh them: the same numbers, organisers only
    assert client.get(f"/api/v1/sessions/{meeting.slug}/headline").get_json() == {
        "session": {"registered_in_person": 3, "registered_online": 1},
        "today": {"attended_in_person": 1, "attended_online": 0},
    }


def test_door_staff_cannot_read_the_headline_numbers(client, meeting, door_token):
    response = client.get(
        f"/api/v1/sessions/{meeting.slug}/headline", headers={"Authorization": f"Bearer {door_token}"}
    )
    assert response.status_code == 403 and response.get_json()["status"] == "forbidden"


def test_an_organiser_of_another_session_cannot_back_date_or_undo(client, meeting, make_registration, app_ctx):
    registration = make_registration(meeting)
    stranger = Actor("user:903", "other.organiser@example.org", True, frozenset())
    with pytest.raises(NotAllowed):
        check_in(actor=stranger, token=registration.badge_token, day=meeting.days[1].date)
    check_in(actor=DOOR, token=registration.badge_token)
    with pytest.raises(NotAllowed):
        undo_check_in(attendances()[0], stranger)
    assert len(attendances()) == 1


def test_a_name_search_check_in_only_reaches_the_doors_own_session(
    client, meeting, make_session, make_registration, door_token
):
    elsewhere = make_registration(make_session(first_day=brussels_today()), full_name="Someone Elsewhere")
    response = post(client, {"registration_id": elsewhere.id, "session": meeting.slug}, door_token)
    assert response.status_code == 404 and response.get_json()["status"] == "invalid"
    assert "Someone Elsewhere" not in response.get_data(as_text=True)
    assert attendances() == [] and events()[0].result is ScanResult.INVALID


def test_a_hand_check_in_must_name_a_meeting_day(client, login, meeting, make_registration):
    registration = make_registration(meeting)
    login("organiser")
    response = client.post(
        f"/sessions/{meeting.slug}/attendance/{registration.id}?day=2099-01-01",
        data={"action": "check_in", "reason": "test", "csrf_token": csrf_token(client)},
    )
    assert response.status_code == 400 and "not a day of this session" in response.get_data(as_text=True)
    assert attendances() == []


def test_numbers_too_big_for_the_database_are_not_found_rather_than_crashing(
    client, login, meeting, make_registration, door_token
):
    login("organiser")
    huge = "9" * 30
    assert client.get(f"/sessions/{meeting.slug}/registrations/{huge}").status_code == 404
    assert (
        client.get(f"/sessions/{meeting.slug}/registrations?entity_type={huge}&slug=x&_external=1").status_code == 200
    )
    assert (
        client.post(f"/api/v1/checkins/{huge}/undo", headers={"Authorization": f"Bearer {door_token}"}).status_code
        == 404
    )


def test_a_check_in_makes_a_fixed_small_number_of_queries(
    client, meeting, make_registration, door_token, count_queries
):
    """Pinned so that nobody adds a query to the door's hot path by accident (pretix caps theirs at 30)."""
    first, second = (make_registration(meeting).badge_token for _ in range(2))
    door = {"session": meeting.slug, "door": "Door 2"}  # as the scanner page sends it
    post(client, door | {"token": first, "nonce": "n0"}, door_token)  # warm up: the first request loads more
    with count_queries() as new_scan:
        assert post(client, door | {"token": second, "nonce": "n1"}, door_token).status_code == 201
    with count_queries() as repeat_scan:
        assert post(client, door | {"token": second, "nonce": "n2"}, door_token).status_code == 200
    # Exactly: the token; the badge with the day's attendance; the attendance and the log line, which are one
    # statement on PostgreSQL. A repeat writes only the log line.
    assert new_scan() == (4 if db.engine.dialect.name == "sqlite" else 3), new_scan.statements
    assert repeat_scan() == 3, repeat_scan.statements


def test_a_check_in_on_postgresql_waits_for_three_round_trips(
    client, login, meeting, make_registration, door_token, round_trips
):
    """No BEGIN and no COMMIT: the reads and the single write statement each commit on their own. A scanner
    token's look-up is one read; a door phone's page instead loads its logged-in door staff member."""
    first, second, third = (make_registration(meeting).badge_token for _ in range(3))
    post(client, {"token": first}, door_token)  # warm up
    db.session.commit()  # as in production, the request starts outside any transaction
    with round_trips() as new_scan:
        assert post(client, {"token": second, "nonce": "n1"}, door_token).status_code == 201
    with round_trips() as repeat_scan:
        assert post(client, {"token": second, "nonce": "n2"}, door_token).status_code == 200
    login("door")
    page = {"X-CSRFToken": csrf_token(client, f"/sessions/{meeting.slug}/checkin")}
    db.session.commit()
    # A request of its own loads its user afresh, door assignments and all, in one statement; the test client's
    # requests share the test's app context, where Flask-Login kept the page's user.
    g.pop("_login_user", None)
    with round_trips() as door_phone:
        assert client.post("/api/v1/checkins", json={"token": third}, headers=page).status_code == 201
    assert (new_scan(), repeat_scan(), door_phone()) == (3, 3, 3)
    assert [(e.nonce, e.result) for e in db.session.scalars(sa.select(ScanEvent).order_by(ScanEvent.id))][1:3] == [
        ("n1", ScanResult.OK),
        ("n2", ScanResult.ALREADY_CHECKED_IN),
    ]
    assert len(attendances()) == 3


def test_a_nonce_reused_for_another_badge_writes_nothing(client, meeting, make_registration, door_token):
    """The attendance and the log line are written together or not at all: a nonce that is taken already
    fails the log line, so the other badge's attendance must not stay behind."""
    first, second = (make_registration(meeting) for _ in range(2))
    answer = post(client, {"token": first.badge_token, "nonce": "n1"}, door_token)
    db.session.commit()  # as in production, the request starts outside any transaction
    again = post(client, {"token": second.badge_token, "nonce": "n1"}, door_token)
    assert answer.status_code == 201
    assert again.status_code == 422 and "nonce came with another scan" in again.json["reason"]  # not a retry
    assert [a.registration_id for a in attendances()] == [first.id]
    assert db.session.scalar(sa.select(sa.func.count(ScanEvent.id))) == 1


def test_undo_refuses_an_online_attendance_and_deletes_nothing(client, meeting, make_registration, app_ctx):
    from attendance.models import OnlineInterval

    registration = make_registration(meeting, mode=Mode.ONLINE)
    joined = utcnow() - timedelta(minutes=5)
    online = Attendance(
        registration=registration,
        day=meeting.days[0],
        mode=Mode.ONLINE,
        first_seen_at=joined,
        source=Source.ZOOM_REPORT,
    )
    online.intervals = [OnlineInterval(joined_at=joined, left_at=None, source=Source.ZOOM_REPORT, source_key="z1")]
    db.session.add(online)
    db.session.commit()
    organiser_token = create_api_token("Secretariat", organiser=True)[1]
    response = client.post(f"/api/v1/checkins/{online.id}/undo", headers={"Authorization": f"Bearer {organiser_token}"})
    assert response.status_code == 409
    assert response.get_json()["status"] == "not_undoable" and "online attendance" in response.get_json()["reason"]
    db.session.expire_all()
    assert [(a.mode, len(a.intervals)) for a in attendances()] == [(Mode.ONLINE, 1)]
    assert ScanResult.UNDONE not in [e.result for e in events()]


def test_a_refused_manual_check_in_is_not_audited_as_a_check_in(client, login, meeting, make_registration):
    registration = make_registration(meeting, full_name="Gone Away", status=RegistrationStatus.CANCELLED)
    login("organiser")
    url = f"/sessions/{meeting.slug}/attendance/{registration.id}?day={meeting.days[0].date}"
    page = client.post(
        url,
        data={"action": "check_in", "reason": "Says they registered", "csrf_token": csrf_token(client)},
        follow_redirects=True,
    ).get_data(as_text=True)
    assert "Registration cancelled" in page
    assert attendances() == []
    assert [e.result for e in events()] == [ScanResult.CANCELLED]  # the door log keeps the refusal
    assert db.session.scalars(sa.select(AuditEvent.action)).all() == []


def test_an_organiser_records_a_check_out_time_and_the_attendance_stays(client, login, meeting, make_registration):
    registration = make_registration(meeting, full_name="Leaves Early")
    zone = ZoneInfo("Europe/Brussels")
    first = datetime.combine(meeting.days[0].date, datetime.min.time().replace(hour=0, minute=1), tzinfo=zone)
    check_in(
        actor=DOOR,
        registration_id=registration.id,
        session_slug=meeting.slug,
        day=meeting.days[0].date,
        source=Source.NAME_SEARCH,
    )
    attendance = attendances()[0]
    attendance.first_seen_at = first
    db.session.commit()
    login("organiser")
    url = f"/sessions/{meeting.slug}/attendance/{registration.id}?day={meeting.days[0].date}"
    for bad, message in (("1５:00", "HH:MM"), ("25:00", "HH:MM"), ("00:00", "before the check-in at 00:01")):
        page = client.post(
            url, data={"action": "check_out", "time": bad, "csrf_token": csrf_token(client)}, follow_redirects=True
        ).get_data(as_text=True)
        assert "Not checked out" in page and message in page
        db.session.expire_all()
        assert attendances()[0].checked_out_at is None
    page = client.post(
        url, data={"action": "check_out", "time": "00:02", "csrf_token": csrf_token(client)}, follow_redirects=True
    ).get_data(as_text=True)
    assert "Leaves Early checked out at 00:02" in page
    db.session.expire_all()
    [attendance] = attendances()
    assert meeting.local(attendance.checked_out_at).strftime("%H:%M") == "00:02"
    assert ScanResult.CHECKED_OUT in [e.result for e in events()]
    assert "attendance.check_out" in db.session.scalars(sa.select(AuditEvent.action)).all()

"""Scans queued on a door phone while offline: `scanned_at`, the roster the phone keeps, and the conflicts."""

from collections import Counter
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from test_checkin_race import _all_at_once

from attendance.api.tokens import create_api_token
from attendance.checkin.roster import is_offline_conflict, token_hash
from attendance.checkin.rule import PROVISIONAL_ANSWERS, is_conflict
from attendance.extensions import db
from attendance.models import Attendance, RegistrationStatus, ScanEvent, ScanResult
from attendance.text import search_text

BRUSSELS = ZoneInfo("Europe/Brussels")


def brussels_now() -> datetime:
    return datetime.now(BRUSSELS)


@pytest.fixture
def meeting(make_session):
    """A session running today and tomorrow, Brussels time."""
    return make_session(first_day=brussels_now().date())


@pytest.fixture
def door_token(app_ctx):
    return create_api_token("Door 2 scanner")[1]


def post(client, body, token):
    return client.post("/api/v1/checkins", json=body, headers={"Authorization": f"Bearer {token}"})


def attendances() -> list[Attendance]:
    db.session.expire_all()
    return db.session.scalars(sa.select(Attendance)).all()


def events() -> list[ScanEvent]:
    db.session.expire_all()
    return db.session.scalars(sa.select(ScanEvent).order_by(ScanEvent.id)).all()


def earlier(minutes: int) -> datetime:
    """A moment `minutes` ago in Brussels; closer together just after midnight, so that it is still today (and
    a larger number still an earlier moment)."""
    now = brussels_now()
    since_midnight = now - now.replace(hour=0, minute=0, second=0, microsecond=0)
    return now - min(timedelta(minutes=minutes), since_midnight * minutes / 100)


def test_a_queued_scan_checks_in_at_the_moment_it_was_made(client, meeting, make_registration, door_token):
    registration = make_registration(meeting)
    scanned = earlier(10)
    response = post(
        client,
        {
            "token": registration.badge_token,
            "scanned_at": scanned.isoformat(),
            "nonce": "offline-1",
            "provisional": "ok",
        },
        door_token,
    )
    assert response.status_code == 201
    body = response.get_json()
    assert datetime.fromisoformat(body["checked_in_at"]) == scanned
    assert body["day"] == scanned.date().isoformat()
    [attendance] = attendances()
    assert attendance.first_seen_at == scanned
    [event] = events()
    assert (event.scanned_at, event.provisional) == (scanned, "ok")
    assert event.at > event.scanned_at  # received later than made


def test_a_scan_sent_twice_with_its_nonce_is_recorded_once(client, meeting, make_registration, door_token):
    registration = make_registration(meeting)
    body = {"token": registration.badge_token, "scanned_at": earlier(5).isoformat(), "nonce": "queued-7"}
    first, again = post(client, body, door_token), post(client, body, door_token)
    assert (first.status_code, again.status_code) == (201, 201) and first.data == again.data
    assert "conflict" not in first.get_json()  # no provisional, no verdict
    assert len(attendances()) == 1 and len(events()) == 1


def test_a_later_arriving_earlier_scan_moves_the_first_moment_back(client, meeting, make_registration):
    registration = make_registration(meeting)
    _, door_1 = create_api_token("Door 1")
    _, door_2 = create_api_token("Door 2")
    online = post(client, {"token": registration.badge_token, "door": "Door 1"}, door_1)
    assert online.status_code == 201

    offline_scan = earlier(20)  # door 2 let them in first, but was offline
    late = post(
        client,
        {
            "token": registration.badge_token,
            "door": "Door 2",
            "scanned_at": offline_scan.isoformat(),
            "provisional": "ok",
        },
        door_2,
    )
    assert late.status_code == 200
    answer = late.get_json()
    assert answer["status"] == "already_checked_in" and answer["earliest"] is True
    assert datetime.fromisoformat(answer["first_at"]) == offline_scan
    [attendance] = attendances()
    assert attendance.first_seen_at == offline_scan
    assert (attendance.door, attendance.recorded_by) == ("Door 2", "Door 2")

    # A scan made after that first moment changes nothing, and its door hears of the earlier one.
    later_scan = earlier(15)
    third = post(
        client,
        {
            "token": registration.badge_token,
            "door": "Door 1",
            "scanned_at": later_scan.isoformat(),
            "provisional": "ok",
        },
        door_1,
    ).get_json()
    assert third["status"] == "already_checked_in" and "earliest" not in third
    assert datetime.fromisoformat(third["first_at"]) == offline_scan and third["door"] == "Door 2"
    assert attendances()[0].first_seen_at == offline_scan
    # A plain scan now reports the earliest moment.
    now_scan = post(client, {"token": registration.badge_token}, door_1).get_json()
    assert now_scan["first_at"] == answer["first_at"]
    assert [e.result for e in events()] == [ScanResult.OK] + [ScanResult.ALREADY_CHECKED_IN] * 3


def test_queued_scans_of_one_badge_arriving_at_once_keep_the_earliest(live_server, meeting, make_registration):
    registration = make_registration(meeting)
    _, token = create_api_token("Door scanners")
    db.session.commit()  # read by the server's threads
    moments = [earlier(40 - i) for i in range(16)]
    bodies = [
        {"token": registration.badge_token, "scanned_at": moment.isoformat(), "door": f"Door {i}"}
        for i, moment in enumerate(reversed(moments))
    ]
    results = _all_at_once(bodies, live_server + "/api/v1/checkins", token)
    assert Counter(status for status, _ in results) == {201: 1, 200: 15}
    [attendance] = attendances()
    assert attendance.first_seen_at == min(moments)
    assert attendance.door == "Door 15"  # the last body holds the earliest moment
    assert len(events()) == 16


@pytest.mark.parametrize(
    "scanned_at, reason",
    [
        ("in 3 minutes", "in the future"),
        ("the day before yesterday", "door staff send the scans of today, and yesterday's until noon"),
        ("2024-02-19 09:12", "time zone offset"),
        ("19/02/2024 09:12", "ISO 8601"),
        ("soon", "ISO 8601"),
    ],
)
def test_an_impossible_scan_time_is_a_422_and_records_nothing(
    client, meeting, make_registration, door_token, scanned_at, reason
):
    registration = make_registration(meeting)
    value = {
        "in 3 minutes": (brussels_now() + timedelta(minutes=3)).isoformat(),
        "the day before yesterday": (brussels_now() - timedelta(days=2)).isoformat(),
    }.get(scanned_at, scanned_at)
    response = post(client, {"token": registration.badge_token, "scanned_at": value}, door_token)
    assert response.status_code == 422
    assert response.get_json()["status"] == "error" and reason in response.get_json()["reason"]
    assert attendances() == [] and events() == []


@pytest.fixture
def clock_at(monkeypatch):
    """Sets the server's clock to a moment of today in Brussels, HH:MM (the rule and the clock read it)."""
    from attendance import clock
    from attendance.checkin import rule

    def set_to(hour: int, minute: int = 0) -> datetime:
        moment = datetime.combine(brussels_now().date(), datetime.min.time(), BRUSSELS).replace(
            hour=hour, minute=minute
        )
        utc = moment.astimezone(ZoneInfo("UTC"))
        monkeypatch.setattr(clock, "utcnow", lambda: utc)
        monkeypatch.setattr(rule, "utcnow", lambda: utc)
        return moment

    return set_to


def test_scans_queued_in_the_afternoon_and_sent_the_next_morning_count_for_their_day(
    client, make_session, make_registration, door_token, clock_at
):
    """The venue's network went down at the end of the first day and came back the next morning: the door phone
    sends yesterday's scans then, and they count for yesterday, at the moment they were made. Not in the
    afternoon: yesterday's scans are not a standing way for door staff to fill in a day gone by."""
    today = brussels_now().date()
    meeting = make_session(first_day=today - timedelta(days=1))  # yesterday and today
    came, late = make_registration(meeting), make_registration(meeting, email="late@example.org")
    yesterday_at = datetime.combine(today - timedelta(days=1), datetime.min.time(), BRUSSELS).replace
    clock_at(8, 30)
    sent = post(client, {"token": came.badge_token, "scanned_at": yesterday_at(hour=16).isoformat()}, door_token)
    assert sent.status_code == 201 and sent.get_json()["day"] == meeting.days[0].date.isoformat()
    [attendance] = attendances()
    assert attendance.day_id == meeting.days[0].id and attendance.first_seen_at == yesterday_at(hour=16)
    # A second, earlier scan of yesterday from door staff adds nothing: it never lengthens a measured day.
    earlier_scan = post(client, {"token": came.badge_token, "scanned_at": yesterday_at(hour=9).isoformat()}, door_token)
    assert earlier_scan.status_code == 200 and not earlier_scan.get_json().get("earliest")
    assert attendances()[0].first_seen_at == yesterday_at(hour=16)
    # Naming another day than the scan's own, or a day with no scan time, stays an organiser's right.
    named = post(client, {"token": came.badge_token, "day": meeting.days[0].date.isoformat()}, door_token)
    assert named.status_code == 403 and "today only" in named.get_json()["reason"]
    clock_at(12, 5)
    refused = post(client, {"token": late.badge_token, "scanned_at": yesterday_at(hour=16).isoformat()}, door_token)
    assert refused.status_code == 422 and "yesterday's until noon" in refused.get_json()["reason"]
    assert len(attendances()) == 1


def test_a_device_clock_a_little_ahead_is_accepted(client, meeting, make_registration, door_token):
    registration = make_registration(meeting)
    ahead = brussels_now() + timedelta(seconds=60)
    if ahead.date() != brussels_now().date():
        pytest.skip("a minute before midnight: the scan would be of tomorrow")
    response = post(client, {"token": registration.badge_token, "scanned_at": ahead.isoformat()}, door_token)
    assert response.status_code == 201


def test_a_scan_time_off_the_named_day_or_the_session_is_refused(client, make_session, make_registration, app_ctx):
    _, organiser = create_api_token("Secretariat", organiser=True)
    meeting = make_session(first_day=brussels_now().date())
    registration = make_registration(meeting)
    other_day = post(
        client,
        {
            "token": registration.badge_token,
            "day": meeting.days[1].date.isoformat(),
            "scanned_at": earlier(5).isoformat(),
        },
        organiser,
    )
    assert other_day.status_code == 422 and "not on" in other_day.get_json()["reason"]
    before = brussels_now() - timedelta(days=3)
    off_session = post(client, {"token": registration.badge_token, "scanned_at": before.isoformat()}, organiser)
    assert off_session.status_code == 422 and "not a day of the session" in off_session.get_json()["reason"]
    assert attendances() == [] and events() == []


@pytest.mark.parametrize(
    "case",
    ["cancelled", "reissued", "earlier_door", "agrees", "became_first", "repeat", "by_eye", "by_eye_cancelled"],
)
def test_offline_conflicts_are_told_from_both_answers(client, meeting, make_registration, door_token, case):
    """by_eye: the device had no list, so its door checked the badge by eye and let the person in."""
    from attendance.registration.service import reissue_badge

    registration = make_registration(meeting)
    token = registration.badge_token
    if case in ("cancelled", "by_eye_cancelled"):
        registration.status = RegistrationStatus.CANCELLED
        db.session.commit()
    elif case == "reissued":
        reissue_badge(registration)
        db.session.commit()
    elif case == "earlier_door" or case == "became_first":
        post(client, {"token": token}, create_api_token("Door 1")[1])
    scanned = earlier(30) if case == "became_first" else brussels_now()
    provisional = {"repeat": "already_checked_in", "by_eye": "unchecked", "by_eye_cancelled": "unchecked"}.get(
        case, "ok"
    )
    answer = post(client, {"token": token, "scanned_at": scanned.isoformat(), "provisional": provisional}, door_token)
    expected = case in ("cancelled", "reissued", "earlier_door", "by_eye_cancelled")
    assert answer.get_json()["conflict"] is expected  # what the scanner shows
    assert is_offline_conflict(events()[-1]) is expected  # what the scan log lists
    assert len(attendances()) == (0 if "cancelled" in case or case == "reissued" else 1)


@pytest.mark.parametrize("status", [RegistrationStatus.CANCELLED, RegistrationStatus.PENDING, None])
def test_a_scan_the_door_refused_offline_is_logged_and_never_checks_in(
    client, meeting, make_registration, door_token, status
):
    """The door's list said no; the server logs the scan. When the server would have said yes (the list was
    older than the registration's approval), nobody came in all the same: a conflict, not an attendance."""
    registration = make_registration(meeting)
    if status is not None:
        registration.status = status
        db.session.commit()
    scanned = earlier(10)
    body = {
        "token": registration.badge_token,
        "scanned_at": scanned.isoformat(),
        "nonce": "red-1",
        "provisional": "refused",
    }
    response = post(client, body, door_token)
    again = post(client, body, door_token)  # sent twice: logged once
    assert attendances() == []
    [event] = events()
    assert (event.registration_id, event.scanned_at, event.provisional) == (registration.id, scanned, "refused")
    if status is None:
        assert response.status_code == 409 and again.data == response.data
        answer = response.get_json()
        assert answer["status"] == "turned_away" and answer["name"] == registration.full_name
        assert answer["conflict"] is True
        assert event.result is ScanResult.TURNED_AWAY and is_offline_conflict(event)
    else:
        assert response.status_code == 409 and event.result is not ScanResult.TURNED_AWAY
        assert response.get_json()["conflict"] is False
        assert not is_offline_conflict(event)


def test_a_badge_checked_in_elsewhere_and_turned_away_offline_stays_in_and_says_so(
    client, meeting, make_registration, door_token
):
    registration = make_registration(meeting)
    assert post(client, {"token": registration.badge_token}, create_api_token("Door 1")[1]).status_code == 201
    body = {"token": registration.badge_token, "scanned_at": earlier(1).isoformat(), "provisional": "refused"}
    answer = post(client, body, door_token)
    assert answer.status_code == 409 and answer.get_json()["status"] == "turned_away"
    assert answer.get_json()["message"].startswith("Checked in earlier today")
    [attendance] = attendances()  # still in, from Door 1's scan
    assert attendance.recorded_by == "Door 1"
    assert events()[-1].result is ScanResult.TURNED_AWAY and is_offline_conflict(events()[-1])


def test_an_unknown_badge_refused_offline_is_logged_as_invalid(client, meeting, door_token):
    response = post(
        client, {"token": "NOT-A-BADGE", "scanned_at": earlier(3).isoformat(), "provisional": "refused"}, door_token
    )
    assert response.status_code == 404 and response.get_json()["conflict"] is False
    [event] = events()
    assert (event.result, event.provisional, event.token_excerpt) == (ScanResult.INVALID, "refused", "NOT-A-BA")
    assert not is_offline_conflict(event)


@pytest.mark.parametrize(
    "cancelled, provisional, expected",
    [
        (False, "refused", True),  # the first try let them in; the door, offline, turned them away
        (False, "ok", False),
        (False, "already_checked_in", False),
        (True, "refused", False),
        (True, "unchecked", True),
    ],
)
def test_a_replayed_nonce_is_judged_against_what_the_door_showed_this_time(
    client, meeting, make_registration, door_token, cancelled, provisional, expected
):
    """The scan's first try reached the server but its answer never came back, so the door answered from its
    list, offline, and sends the scan again with the same nonce: the stored answer, judged against this request's
    `provisional` (the first try had none); nothing new is logged."""
    registration = make_registration(meeting, **({"status": RegistrationStatus.CANCELLED} if cancelled else {}))
    body = {"token": registration.badge_token, "nonce": "answer-lost"}
    first = post(client, body, door_token)
    assert first.status_code == (409 if cancelled else 201) and "conflict" not in first.get_json()
    again = post(client, body | {"scanned_at": earlier(1).isoformat(), "provisional": provisional}, door_token)
    assert again.status_code == first.status_code
    answer = again.get_json()
    assert answer.pop("conflict") is expected
    assert answer == first.get_json()  # every other field as the first answer
    assert len(events()) == 1 and events()[0].provisional is None


#: the server's answer (and for already_checked_in, its `earliest`) -> whether it is a conflict, for each of the
#: door's provisional answers in this order
_PROVISIONALS = ("ok", "already_checked_in", "refused", "unchecked")
_CONFLICTS = {
    (ScanResult.OK, False): (False, False, True, False),
    (ScanResult.ALREADY_CHECKED_IN, False): (True, False, True, False),
    (ScanResult.ALREADY_CHECKED_IN, True): (False, False, True, False),
    (ScanResult.INVALID, False): (True, True, False, True),
    (ScanResult.CANCELLED, False): (True, True, False, True),
    (ScanResult.NOT_APPROVED, False): (True, True, False, True),
    (ScanResult.NOT_A_MEETING_DAY, False): (True, True, False, True),
    (ScanResult.WRONG_SESSION, False): (True, True, False, True),
}


@pytest.mark.parametrize(
    "provisional, result, earliest, expected",
    [
        pytest.param(provisional, result, earliest, row[i], id=f"{provisional}-{result.value}{'-earliest' * earliest}")
        for (result, earliest), row in _CONFLICTS.items()
        for i, provisional in enumerate(_PROVISIONALS)
    ]
    + [pytest.param("refused", ScanResult.TURNED_AWAY, False, True, id="refused-turned_away")],
)
def test_an_offline_conflict_is_an_answer_other_than_the_doors(provisional, result, earliest, expected):
    assert is_conflict(provisional, result, earliest) is expected


def test_every_provisional_answer_has_its_conflicts_stated():
    assert set(PROVISIONAL_ANSWERS) == set(_PROVISIONALS)


def test_door_roster_names_badges_by_hash_and_says_who_is_in(client, login, meeting, make_registration, door_token):
    inside = make_registration(
        meeting, full_name="Ольга Петрова", organisation="RILO CIS", email="olga.petrova@customs.example.org"
    )
    outside = make_registration(meeting, status=RegistrationStatus.CANCELLED)
    post(client, {"token": inside.badge_token}, door_token)
    login("door")
    response = client.get(f"/api/v1/sessions/{meeting.slug}/roster")
    assert response.status_code == 200
    roster = response.get_json()
    assert inside.badge_token not in response.get_data(as_text=True)
    assert roster["day"] == brussels_now().date().isoformat() and roster["is_meeting_day"] is True
    by_hash = {badge["hash"]: badge for badge in roster["badges"]}
    assert by_hash[token_hash(inside.badge_token)] | {"first_at": None} == {
        "hash": token_hash(inside.badge_token),
        "registration_id": inside.id,
        "name": "Ольга Петрова",
        "search": search_text("Ольга Петрова", "RILO CIS"),
        "entity": "RILO CIS",
        "entity_type": meeting.entity_types[0].name,
        "mode": "in_person",
        "status": "registered",
        "in": True,
        "first_at": None,
    }
    assert by_hash[token_hash(outside.badge_token)]["status"] == "cancelled"
    assert by_hash[token_hash(outside.badge_token)]["in"] is False
    assert datetime.fromisoformat(roster["valid_until"]) > brussels_now()
    assert response.headers["X-CSRFToken"]

    etag = response.headers["ETag"]
    unchanged = client.get(f"/api/v1/sessions/{meeting.slug}/roster", headers={"If-None-Match": etag})
    assert unchanged.status_code == 304
    post(client, {"token": outside.badge_token}, door_token)  # refused: the roster stays the same
    assert client.get(f"/api/v1/sessions/{meeting.slug}/roster", headers={"If-None-Match": etag}).status_code == 304
    make_registration(meeting)
    assert client.get(f"/api/v1/sessions/{meeting.slug}/roster", headers={"If-None-Match": etag}).status_code == 200


def test_door_roster_lets_the_door_search_names_offline_but_holds_no_email(client, meeting, make_registration):
    olga = make_registration(
        meeting, full_name="Ольга Петрова", organisation="RILO CIS", email="Olga.Petrova@Customs.example.org"
    )
    token = create_api_token("Door 2 scanner")[1]
    response = client.get(f"/api/v1/sessions/{meeting.slug}/roster", headers={"Authorization": f"Bearer {token}"})
    [badge] = response.get_json()["badges"]
    assert badge["registration_id"] == olga.id
    search = badge["search"].split()
    assert {"ольга", "петрова", "olga", "petrova", "rilo", "cis"} <= set(search)  # found offline as "petrova" too
    body = response.get_data(as_text=True).lower()
    assert "olga.petrova" not in body and "customs.example" not in body and "@" not in body  # a lost phone


def test_door_roster_is_for_staff_only(client, meeting):
    response = client.get(f"/api/v1/sessions/{meeting.slug}/roster")
    assert response.status_code == 401 and response.get_json()["status"] == "error"
    assert client.get("/api/v1/sessions/no-such/roster").status_code == 401


def test_scan_log_lists_offline_conflicts_with_both_answers(client, login, meeting, make_registration, door_token):
    registration = make_registration(meeting, full_name="Kofi Mensah")
    post(client, {"token": registration.badge_token, "door": "Door 1"}, create_api_token("Door 1")[1])
    post(
        client,
        {
            "token": registration.badge_token,
            "scanned_at": brussels_now().isoformat(),
            "provisional": "ok",
            "door": "Door 2",
        },
        door_token,
    )
    login("organiser")
    page = client.get(f"/sessions/{meeting.slug}/scans").get_data(as_text=True)
    section = page.split('id="conflicts"', 1)[1].split("</section>", 1)[0]
    assert "Kofi Mensah" in section
    assert "Door showed: checked in" in section and "Server: already checked in" in section


def test_scan_log_without_conflicts_says_so(client, login, meeting):
    login("organiser")
    page = client.get(f"/sessions/{meeting.slug}/scans").get_data(as_text=True)
    assert "No conflicts between offline scans and the server." in page


def test_the_scanner_is_installable_with_a_worker_whose_scope_covers_the_scanner_pages(client, login, meeting):
    manifest = client.get(f"/sessions/{meeting.slug}/checkin/manifest.webmanifest")
    assert manifest.status_code == 200 and manifest.mimetype == "application/manifest+json"
    body = manifest.get_json()
    assert body["start_url"] == f"/sessions/{meeting.slug}/checkin" and body["display"] == "standalone"
    assert body["icons"]
    worker = client.get("/checkin-sw.js")
    assert worker.status_code == 200 and worker.mimetype == "text/javascript"
    assert worker.headers["Service-Worker-Allowed"] == "/sessions/"
    assert "no-cache" in worker.headers.get("Cache-Control", "") or "max-age=0" in worker.headers["Cache-Control"]
    login("door")
    page = client.get(f"/sessions/{meeting.slug}/checkin").get_data(as_text=True)
    assert f'href="/sessions/{meeting.slug}/checkin/manifest.webmanifest"' in page
    assert 'data-worker-url="/checkin-sw.js"' in page and "scanner-offline.js" in page

"""Simultaneous scans, through real HTTP on a threaded server: exactly one check-in per badge per day."""

import json
import threading
import urllib.error
import urllib.request
from collections import Counter
from datetime import datetime
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from attendance.api.tokens import create_api_token
from attendance.extensions import db
from attendance.models import Attendance, ScanEvent

THREADS = 32


def _post(url: str, token: str, body: dict) -> tuple[int, dict]:
    request = urllib.request.Request(
        url,
        data=json.dumps(body).encode(),
        method="POST",
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {token}"},
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def _all_at_once(bodies: list[dict], url: str, token: str) -> list[tuple[int, dict]]:
    results: list = [None] * len(bodies)
    barrier = threading.Barrier(len(bodies))

    def scan(i: int) -> None:
        barrier.wait()
        results[i] = _post(url, token, bodies[i])

    threads = [threading.Thread(target=scan, args=(i,)) for i in range(len(bodies))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def _today_session(make_session):
    return make_session(first_day=datetime.now(ZoneInfo("Europe/Brussels")).date())


def test_one_badge_scanned_by_many_doors_at_once_is_checked_in_exactly_once(
    live_server, make_session, make_registration
):
    registration = make_registration(_today_session(make_session))
    _, token = create_api_token("Door scanner")
    db.session.commit()  # read by the server's threads
    bodies = [{"token": registration.badge_token, "door": f"Door {i % 4}"} for i in range(THREADS)]
    results = _all_at_once(bodies, live_server + "/api/v1/checkins", token)

    assert Counter(status for status, _ in results) == {201: 1, 200: THREADS - 1}
    ok = next(body for status, body in results if status == 201)
    for status, body in results:
        if status == 200:
            assert body["status"] == "already_checked_in" and body["first_at"] == ok["checked_in_at"]
    db.session.expire_all()
    assert db.session.scalar(sa.select(sa.func.count(Attendance.id))) == 1
    assert db.session.scalar(sa.select(sa.func.count(ScanEvent.id))) == THREADS


def test_many_badges_with_repeats_all_at_once(live_server, make_session, make_registration):
    meeting = _today_session(make_session)
    people = [make_registration(meeting) for _ in range(THREADS // 2)]
    _, token = create_api_token("Door scanner")
    db.session.commit()  # read by the server's threads
    bodies = [{"token": people[i % len(people)].badge_token} for i in range(THREADS)]  # each badge twice
    results = _all_at_once(bodies, live_server + "/api/v1/checkins", token)
    assert Counter(status for status, _ in results) == {201: len(people), 200: len(people)}
    db.session.expire_all()
    assert db.session.scalar(sa.select(sa.func.count(Attendance.id))) == len(people)


def test_a_retried_nonce_racing_its_first_request_records_once(live_server, make_session, make_registration):
    registration = make_registration(_today_session(make_session))
    _, token = create_api_token("Flaky Wi-Fi scanner")
    db.session.commit()  # read by the server's threads
    bodies = [{"token": registration.badge_token, "nonce": "same-nonce"}] * 8
    results = _all_at_once(bodies, live_server + "/api/v1/checkins", token)
    assert {status for status, _ in results} == {201}
    assert len({json.dumps(body, sort_keys=True) for _, body in results}) == 1
    db.session.expire_all()
    assert db.session.scalar(sa.select(sa.func.count(ScanEvent.id))) == 1

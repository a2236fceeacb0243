"""Killing the server in the middle of a burst loses no acknowledged write and leaves no half-written one."""

import http.client
import http.cookiejar
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from datetime import datetime
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from helpers import free_port, wait_until_up

from attendance.api.tokens import create_api_token
from attendance.extensions import db
from attendance.models import Attendance, Registration, ScanEvent, ScanResult

CHECK_INS, REGISTRATIONS = 150, 16
#: the requests are spread over this many seconds, and the server is killed half-way
BURST_SECONDS = 5


def test_a_killed_server_keeps_every_acknowledged_write_and_no_half_written_one(app, make_session, make_registration):
    meeting = make_session(first_day=datetime.now(ZoneInfo("Europe/Brussels")).date())
    # Plain values: the threads below run outside the app context.
    people = [(r.id, r.badge_token) for r in (make_registration(meeting) for _ in range(CHECK_INS))]
    slug, type_id, region_id = meeting.slug, str(meeting.entity_types[0].id), str(meeting.regions[0].id)
    _, token = create_api_token("crash test")
    db.session.commit()  # read by the server's process
    port = free_port()
    env = {
        **os.environ,
        "SECRET_KEY": "crash-test",
        "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
        "RATELIMIT_ENABLED": "false",
        "OUTBOX_DIR": "/tmp/attendance-crash-outbox",
        "FLASK_APP": "attendance",
    }
    server = subprocess.Popen(
        [sys.executable, "-m", "flask", "run", "--port", str(port), "--no-reload"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    wait_until_up(base)

    acknowledged_check_ins, acknowledged_keys = [], []

    def check_in(person, delay: float) -> None:
        time.sleep(delay)
        registration_id, badge_token = person
        request = urllib.request.Request(
            base + "/api/v1/checkins",
            method="POST",
            data=json.dumps({"token": badge_token}).encode(),
            headers={"Content-Type": "application/json", "Authorization": f"Bearer {token}"},
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                if response.status == 201:
                    acknowledged_check_ins.append(registration_id)
        except (OSError, http.client.HTTPException):
            pass  # the server died, maybe in the middle of an answer: not acknowledged

    def register(n: int, delay: float) -> None:
        time.sleep(delay)
        opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()), _NoRedirect()
        )
        url = f"{base}/sessions/{slug}/register"
        try:
            form = opener.open(url, timeout=10).read().decode()
            fields = {
                "csrf_token": re.search(r'name="csrf_token"[^>]*value="([^"]+)"', form).group(1),
                "full_name": f"Burst {n}",
                "email": f"burst{n}@example.org",
                "organisation": "Org",
                "country": "BE",
                "entity_type": type_id,
                "region": region_id,
                "mode": "online",
                "consent": "y",
            }
            opener.open(urllib.request.Request(url, data=urllib.parse.urlencode(fields).encode()), timeout=10)
        except urllib.error.HTTPError as answer:
            if answer.code == 302:
                acknowledged_keys.append(answer.headers["Location"].rsplit("/", 1)[1])

        except (OSError, http.client.HTTPException, AttributeError):
            pass  # the server died, maybe in the middle of an answer: not acknowledged

    threads = [
        threading.Thread(target=register, args=(n, n * BURST_SECONDS / REGISTRATIONS)) for n in range(REGISTRATIONS)
    ]
    threads += [
        threading.Thread(target=check_in, args=(p, i * BURST_SECONDS / CHECK_INS)) for i, p in enumerate(people)
    ]
    for thread in threads:
        thread.start()
    time.sleep(BURST_SECONDS / 2)
    server.send_signal(signal.SIGKILL)  # mid-burst, no chance to clean up
    server.wait(timeout=10)
    for thread in threads:
        thread.join(timeout=15)

    db.session.expire_all()
    in_person = {a.registration_id for a in db.session.scalars(sa.select(Attendance))}
    logged_ok = set(db.session.scalars(sa.select(ScanEvent.registration_id).filter_by(result=ScanResult.OK)))
    keys = set(db.session.scalars(sa.select(Registration.access_key)))
    assert set(acknowledged_check_ins) <= in_person, "an acknowledged check-in was lost"
    assert set(acknowledged_keys) <= keys, "an acknowledged registration was lost"
    assert in_person == logged_ok, "a check-in without its scan-log line (or the reverse): half-written"
    if db.engine.dialect.name == "sqlite":
        with db.engine.connect() as connection:
            assert connection.exec_driver_sql("PRAGMA integrity_check").scalar() == "ok"
    print(
        f"acknowledged before the kill: {len(acknowledged_check_ins)} of {CHECK_INS} check-ins, "
        f"{len(acknowledged_keys)} of {REGISTRATIONS} registrations"
    )
    # The burst did reach the server before it died: the test proved something.
    assert acknowledged_check_ins or acknowledged_keys


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None

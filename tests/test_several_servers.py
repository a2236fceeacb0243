"""Several app servers against one database and one Redis: they share the secret key, the data and the limits.

Two real server processes on loopback ports; a browser-like client goes back and forth between them.
"""

import http.cookiejar
import os
import re
import subprocess
import sys
import urllib.error
import urllib.parse
import urllib.request
import uuid

import pytest
from helpers import free_port, redis_is_up, wait_until_up

pytestmark = pytest.mark.skipif(not redis_is_up(), reason="no Redis on 127.0.0.1:6379 (apt-get install redis-server)")


@pytest.fixture
def two_servers(app, tmp_path):
    env = {
        **os.environ,
        "SECRET_KEY": "shared-secret-for-both-servers",
        "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
        "RATELIMIT_STORAGE_URI": "redis://127.0.0.1:6379/0",
        "RATELIMIT_KEY_PREFIX": f"test-{uuid.uuid4().hex}",
        "FLASK_APP": "attendance",
    }
    ports, processes = [free_port(), free_port()], []
    for port in ports:
        processes.append(
            subprocess.Popen(
                [sys.executable, "-m", "flask", "run", "--port", str(port), "--no-reload"],
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        )
    for port in ports:
        wait_until_up(f"http://127.0.0.1:{port}")
    yield [f"http://127.0.0.1:{port}" for port in ports]
    for process in processes:
        process.terminate()
        process.wait(timeout=10)


def test_two_servers_share_sessions_data_and_rate_limits(two_servers, make_session):
    meeting = make_session()
    cookies = http.cookiejar.CookieJar()  # cookies do not depend on the port: one browser, two servers
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(cookies))

    def post(base, path, fields):
        try:
            return opener.open(
                urllib.request.Request(base + path, data=urllib.parse.urlencode(fields).encode(), method="POST"),
                timeout=10,
            ).status
        except urllib.error.HTTPError as error:
            return error.code

    page = opener.open(two_servers[0] + "/login", timeout=10).read().decode()
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    # A form from one server is accepted by the other: same secret key.
    statuses = [
        post(two_servers[i % 2], "/login", {"email": "x@example.org", "password": "guess", "csrf_token": token})
        for i in range(12)
    ]
    # The login limit is 10 a minute per client, counted in Redis across both servers.
    assert statuses[:10] == [200] * 10 and statuses[10:] == [429, 429]
    # And both see the same database.
    for base in two_servers:
        assert meeting.title in opener.open(base + "/", timeout=10).read().decode()

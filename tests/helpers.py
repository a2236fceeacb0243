"""Helpers the tests share: reading CSRF tokens as a browser would, and filled-in forms."""

import re
import socket
import time
import urllib.request

from attendance.models import MeetingSession

PASSWORD = "correct horse battery"


def csrf_token(client, url: str = "/login") -> str:
    """The CSRF token of the client's session, read from a page's form as a browser would."""
    html = client.get(url).get_data(as_text=True)
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html)
    assert match, f"no CSRF token on {url}"
    return match.group(1)


def registration_form(meeting: MeetingSession, **overrides) -> dict:
    data = {
        "full_name": "Amélie Dubois",
        "email": "amelie.dubois@example.org",
        "organisation": "ROCB Europe",
        "country": "BE",
        "entity_type": str(meeting.entity_types[0].id),
        "region": str(meeting.regions[0].id),
        "mode": "in_person",
        "consent": "y",
    }
    data.update(overrides)
    return data


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_until_up(base: str, seconds: float = 60) -> None:
    """A server process takes a few seconds to start, more on a busy machine."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            urllib.request.urlopen(base + "/healthz", timeout=2)
            return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def export(client, url: str):
    """A bulk export as an organiser gets it: asked for (the job runs at once in tests), then downloaded from the
    job's page. The download's response, or the first answer when it was not a job."""
    response = client.get(url)
    location = response.headers.get("Location", "")
    if response.status_code != 302 or "/jobs/" not in location:
        return response
    page = client.get(location).get_data(as_text=True)
    link = re.search(r'href="([^"]+/jobs/\d+/download)"', page)
    assert link, f"no download on the job's page: {page}"
    return client.get(link.group(1))


REDIS = ("127.0.0.1", 6379)


def redis_is_up() -> bool:
    """Whether a Redis answers on this machine (tests that need one are skipped, with the reason, otherwise)."""
    try:
        with socket.create_connection(REDIS, timeout=1):
            return True
    except OSError:
        return False

"""Helpers the tests share: reading CSRF tokens as a browser would, and filled-in forms."""
import re

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
        "full_name": "Amélie Dubois", "email": "amelie.dubois@example.org", "organisation": "ROCB Europe",
        "country": "BE", "entity_type": str(meeting.entity_types[0].id), "region": str(meeting.regions[0].id),
        "mode": "in_person", "consent": "y",
    }
    data.update(overrides)
    return data

"""Real report files and signed webhook deliveries, written the way Zoom and Teams write them."""

import hashlib
import hmac
import json
import time


def teams_report(
    activities: list[tuple[str, str, str, str, str]],
    title: str = "Global Meeting, day 1",
    start: str = "2/19/24, 9:28:15 AM",
) -> bytes:
    """Teams' attendance report: UTF-16 with a byte-order mark, tab-separated, three sections.
    `activities`: (name, join, leave, duration, email), one per join."""
    lines = [
        "1. Summary",
        f"Meeting title\t{title}",
        f"Attended participants\t{len({a[0] for a in activities})}",
        f"Start time\t{start}",
        "End time\t2/19/24, 5:02:11 PM",
        "Meeting duration\t7h 33m 56s",
        "Average attendance time\t5h 2m 1s",
        "",
        "2. Participants",
        "Name\tFirst Join\tLast Leave\tIn-Meeting Duration\tEmail\tParticipant ID (UPN)\tRole",
    ]
    for name in dict.fromkeys(a[0] for a in activities):
        mine = [a for a in activities if a[0] == name]
        lines.append(f"{name}\t{mine[0][1]}\t{mine[-1][2]}\t1h\t{mine[0][4]}\t{mine[0][4]}\tAttendee")
    lines += ["", "3. In-Meeting Activities", "Name\tJoin Time\tLeave Time\tDuration\tEmail\tRole"]
    lines += [
        f"{name}\t{join}\t{leave}\t{duration}\t{email}\tAttendee" for name, join, leave, duration, email in activities
    ]
    return ("\r\n".join(lines) + "\r\n").encode("utf-16")


def zoom_report(
    rows: list[tuple[str, str, str, str, int]], meeting_block: bool = True, duration_header: str = "Duration (Minutes)"
) -> bytes:
    """Zoom's participants CSV. `rows`: (name, email, join, leave, minutes)."""
    lines = []
    if meeting_block:
        lines += [
            "Meeting ID,Topic,Start Time,End Time,User Email,Duration (Minutes),Participants",
            "850 1234 5678,Global Meeting,02/19/2024 09:25:00 AM,02/19/2024 05:05:00 PM,host@example.org,460,3",
            "",
        ]
    lines.append(f"Name (Original Name),User Email,Join Time,Leave Time,{duration_header},Guest")
    lines += [f"{name},{email},{join},{leave},{minutes},No" for name, email, join, leave, minutes in rows]
    return ("\ufeff" + "\n".join(lines) + "\n").encode("utf-8")


def zoom_delivery(
    secret: str, event: str, meeting_id: str, participant: dict, timestamp: int | None = None
) -> tuple[bytes, dict]:
    """A webhook delivery as Zoom sends it: the JSON body and its signed headers."""
    body = json.dumps(
        {
            "event": event,
            "event_ts": int(time.time() * 1000),
            "payload": {
                "account_id": "acc",
                "object": {"id": meeting_id, "uuid": "uuid==", "topic": "Global Meeting", "participant": participant},
            },
        }
    ).encode()
    stamp = str(timestamp if timestamp is not None else int(time.time()))
    digest = hmac.new(secret.encode(), f"v0:{stamp}:".encode() + body, hashlib.sha256).hexdigest()
    return body, {"x-zm-request-timestamp": stamp, "x-zm-signature": f"v0={digest}", "Content-Type": "application/json"}

"""Headcount report timings, in-process against the bench database (DATABASE_URL): the large session's
10,000 registrations and about 20,000 attendance records.

    python bench/reports.py [REPEATS]

Prints one JSON object as its last line: ms (median) for `headcount(meeting).as_dict()`, which runs the SQL (and
the CPU time of this process for it),
and for each format of attendance/reports/formats.py given an already computed headcount.
"""

from __future__ import annotations

import json
import statistics
import sys
import time

import sqlalchemy as sa


def _median_ms(action, repeats: int, clock=time.perf_counter) -> float:
    times = []
    for _ in range(repeats):
        started = clock()
        action()
        times.append((clock() - started) * 1000)
    return statistics.median(times)


def measure(repeats: int) -> dict:
    from attendance.extensions import db
    from attendance.models import Attendance, MeetingSession, Registration, SessionDay
    from attendance.reports import formats
    from attendance.reports.headcount import headcount

    meeting = db.session.scalar(sa.select(MeetingSession).filter_by(slug="bench-large"))
    registrations = db.session.scalar(sa.select(sa.func.count(Registration.id)).filter_by(session_id=meeting.id))
    attendances = db.session.scalar(
        sa.select(sa.func.count(Attendance.id)).join(SessionDay).where(SessionDay.session_id == meeting.id)
    )
    report = headcount(meeting)  # warms the ORM, the SQL caches and the fonts of the PDF
    formats.to_pdf(report)
    result = {
        "registrations": registrations,
        "attendances": attendances,
        "headcount_ms": _median_ms(lambda: headcount(meeting).as_dict(), repeats),
        # this process's CPU alone (not the database server's): steadier than the time on a shared machine
        "headcount_cpu_ms": _median_ms(lambda: headcount(meeting).as_dict(), repeats, time.process_time),
    }
    for name in ("to_csv", "to_xlsx", "to_pdf"):
        render = getattr(formats, name)
        result[f"{name}_ms"] = _median_ms(lambda: render(report), repeats)
    return result


def main(repeats: int) -> dict:
    from attendance import create_app

    app = create_app()
    with app.app_context(), app.test_request_context("/", base_url="http://127.0.0.1"):
        return measure(repeats)


if __name__ == "__main__":
    print(json.dumps(main(int(sys.argv[1]) if len(sys.argv) > 1 else 5)))

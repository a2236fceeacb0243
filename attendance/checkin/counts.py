"""The door's counts: how many are in today, against how many are expected in person."""

from datetime import date

import sqlalchemy as sa

from ..extensions import db
from ..models import Attendance, MeetingSession, Mode, Registration, SessionDay


def door_counts(meeting: MeetingSession, day: date) -> dict:
    """Checked in on `day` against those expected at the door: the people registered to come in person, and
    anyone registered online who walked in that day (else the door read "6 of 5 expected"). Cancelled
    registrations count in neither. One query: each registration has at most one in-person attendance a day."""
    came_in = (
        sa.select(Attendance.id)
        .join(SessionDay)
        .where(Attendance.registration_id == Registration.id, Attendance.mode == Mode.IN_PERSON, SessionDay.date == day)
        .exists()
    )
    registered_in_person = Registration.mode == Mode.IN_PERSON
    checked_in, expected, registered = db.session.execute(
        sa.select(
            sa.func.count(Registration.id).filter(came_in),
            sa.func.count(Registration.id).filter(registered_in_person | came_in),
            sa.func.count(Registration.id).filter(registered_in_person),
        ).where(Registration.counted_in(meeting))
    ).one()
    return {
        "day": day.isoformat(),
        "checked_in": checked_in,
        "expected_in_person": expected,
        "registered_in_person": registered,
    }

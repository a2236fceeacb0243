"""The one clock: aware moments in and out of the database, and the day a moment falls on where a session meets."""

import ast
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

import attendance
from attendance.clock import UTCDateTime, key_text, utcnow
from attendance.extensions import db
from attendance.models import AuditEvent, MeetingSession

BRUSSELS, BOGOTA = ZoneInfo("Europe/Brussels"), ZoneInfo("America/Bogota")


def test_now_is_aware_utc():
    assert utcnow().utcoffset() == timedelta(0)


def test_no_module_reads_the_wall_clock_but_the_clock_module():
    """One "now" for the app (a test or a later fake clock moves it all); durations may still use time.monotonic."""
    wall_clocks = {"time.time", "datetime.now", "datetime.utcnow", "date.today", "time.time_ns"}
    package = Path(attendance.__file__).parent
    found = [
        f"{path.relative_to(package)} line {node.lineno}: {ast.unparse(node.func)}()"
        for path in sorted(package.rglob("*.py"))
        if path.name != "clock.py"
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.Call) and ast.unparse(node.func) in wall_clocks
    ]
    assert found == []


def test_every_moment_column_is_a_utc_datetime():
    moments = [
        f"{table.name}.{column.name}"
        for table in db.metadata.tables.values()
        for column in table.columns
        if isinstance(column.type, sa.DateTime)
    ]
    assert moments == []  # a plain DateTime column would hand out naive values
    assert any(isinstance(column.type, UTCDateTime) for column in AuditEvent.__table__.columns)


def test_a_moment_goes_in_with_any_offset_and_comes_back_in_utc(make_session):
    at = datetime(2024, 3, 31, 3, 30, 15, 250000, tzinfo=BRUSSELS)  # the first hour of summer time
    event = AuditEvent(actor="test", action="clock", target="round trip", at=at)
    db.session.add(event)
    db.session.commit()
    db.session.expire_all()

    stored = db.session.get(AuditEvent, event.id).at
    assert stored == at and stored.tzinfo is UTC
    assert stored == datetime(2024, 3, 31, 1, 30, 15, 250000, tzinfo=UTC)
    # Stored as naive UTC, as before the column type: rows written then read the same.
    raw = db.session.execute(sa.text("SELECT at FROM audit_events WHERE id = :id"), {"id": event.id}).scalar()
    assert str(raw).startswith("2024-03-31 01:30:15")
    # and compared in SQL as moments
    assert (
        db.session.scalar(
            sa.select(sa.func.count())
            .select_from(AuditEvent)
            .where(AuditEvent.at == datetime(2024, 3, 30, 20, 30, 15, 250000, tzinfo=BOGOTA))
        )
        == 1
    )


def test_a_naive_moment_is_refused_before_it_reaches_the_database(make_session):
    db.session.add(AuditEvent(actor="test", action="clock", target="naive", at=datetime(2024, 3, 31, 3, 30)))
    with pytest.raises(sa.exc.StatementError, match="naive datetime"):
        db.session.flush()
    db.session.rollback()
    with pytest.raises(sa.exc.StatementError, match="naive datetime"):
        db.session.scalars(sa.select(AuditEvent).where(AuditEvent.at < datetime(2024, 1, 1))).all()
    db.session.rollback()


def test_keys_spell_moments_as_they_were_stored_before():
    assert key_text(datetime(2024, 2, 19, 9, 40, tzinfo=BRUSSELS)) == "2024-02-19T08:40:00"


def _session_in(zone: str) -> MeetingSession:
    return MeetingSession(timezone=zone)


@pytest.mark.parametrize(
    "zone, moment, day",
    [
        # Brussels (UTC+1 in winter): local midnight is 23:00 UTC the evening before
        ("Europe/Brussels", datetime(2024, 2, 18, 22, 59, tzinfo=UTC), date(2024, 2, 18)),
        ("Europe/Brussels", datetime(2024, 2, 18, 23, 0, tzinfo=UTC), date(2024, 2, 19)),
        # Bogotá (UTC-5): local midnight is 05:00 UTC the next morning
        ("America/Bogota", datetime(2024, 2, 20, 4, 59, tzinfo=UTC), date(2024, 2, 19)),
        ("America/Bogota", datetime(2024, 2, 20, 5, 0, tzinfo=UTC), date(2024, 2, 20)),
        # Brussels around the night summer time begins (31 March 2024, 02:00 -> 03:00): midnight before it is at
        # 23:00 UTC, the midnight after it at 22:00 UTC
        ("Europe/Brussels", datetime(2024, 3, 30, 23, 0, tzinfo=UTC), date(2024, 3, 31)),
        ("Europe/Brussels", datetime(2024, 3, 31, 21, 59, tzinfo=UTC), date(2024, 3, 31)),
        ("Europe/Brussels", datetime(2024, 3, 31, 22, 0, tzinfo=UTC), date(2024, 4, 1)),
        # and the night it ends (27 October 2024, 03:00 -> 02:00): the day lasts 25 hours
        ("Europe/Brussels", datetime(2024, 10, 26, 22, 0, tzinfo=UTC), date(2024, 10, 27)),
        ("Europe/Brussels", datetime(2024, 10, 27, 22, 59, tzinfo=UTC), date(2024, 10, 27)),
        ("Europe/Brussels", datetime(2024, 10, 27, 23, 0, tzinfo=UTC), date(2024, 10, 28)),
    ],
)
def test_day_on_is_the_date_where_the_session_meets(zone, moment, day):
    assert _session_in(zone).day_on(moment) == day
    # the same instant written with another offset is the same day
    assert _session_in(zone).day_on(moment.astimezone(timezone(timedelta(hours=14)))) == day


def test_day_on_refuses_a_naive_moment():
    with pytest.raises(ValueError, match="naive datetime"):
        _session_in("Europe/Brussels").day_on(datetime(2024, 2, 19, 9, 0))


def test_today_is_the_date_now_where_the_session_meets():
    meeting = _session_in("America/Bogota")
    before, today, after = (datetime.now(BOGOTA).date(), meeting.today(), datetime.now(BOGOTA).date())
    assert today in (before, after)  # the date may turn between the looks
    # 25 hours apart: never the same date at once
    assert _session_in("Pacific/Kiritimati").today() > _session_in("Pacific/Pago_Pago").today()

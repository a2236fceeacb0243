"""Minutes attended: the union of a day's joined/left intervals, clipped to the day's scheduled hours."""

import functools
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

from ..models import SessionDay


@dataclass(frozen=True)
class Minutes:
    minutes: float
    #: some interval had no leave time and was counted to the day's end
    open_ended: bool = False


def day_window(day: SessionDay) -> tuple[datetime, datetime]:
    """The day's scheduled hours, as moments in UTC."""
    return _window(day.date, day.starts_at, day.ends_at, day.session.timezone)


@functools.lru_cache(maxsize=1024)  # the headcount asks it for each day of each of 10,000 registrations
def _window(day: date, starts_at: time, ends_at: time, zone_name: str) -> tuple[datetime, datetime]:
    zone = ZoneInfo(zone_name)

    def utc(moment: time) -> datetime:
        return datetime.combine(day, moment, tzinfo=zone).astimezone(UTC)

    return utc(starts_at), utc(ends_at)


def minutes_attended(intervals: Iterable[tuple[datetime, datetime | None]], start: datetime, end: datetime) -> Minutes:
    """Overlapping and repeated intervals count once; time outside [start, end] does not count."""
    clipped, open_ended = [], False
    for joined, left in intervals:
        if left is None:
            left, open_ended = end, True
        joined, left = max(joined, start), min(left, end)
        if left > joined:
            clipped.append((joined, left))
    clipped.sort()
    total, current_start, current_end = 0.0, None, None
    for joined, left in clipped:
        if current_end is None or joined > current_end:
            if current_end is not None:
                total += (current_end - current_start).total_seconds()
            current_start, current_end = joined, left
        else:
            current_end = max(current_end, left)
    if current_end is not None:
        total += (current_end - current_start).total_seconds()
    return Minutes(round(total / 60, 2), open_ended)

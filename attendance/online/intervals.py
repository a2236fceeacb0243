"""Minutes attended: the union of a day's joined/left intervals, clipped to the day's scheduled hours."""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from ..models import SessionDay


@dataclass(frozen=True)
class Minutes:
    minutes: float
    #: some interval had no leave time and was counted to the day's end
    open_ended: bool = False


def day_window(day: SessionDay) -> tuple[datetime, datetime]:
    """The day's scheduled hours as naive UTC, the way the database keeps times."""
    zone = day.session.zone

    def utc(moment) -> datetime:
        return datetime.combine(day.date, moment).replace(tzinfo=zone).astimezone(UTC).replace(tzinfo=None)

    return utc(day.starts_at), utc(day.ends_at)


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
    total = 0.0
    current: tuple[datetime, datetime] | None = None  # the stretch being merged: its start and end
    for joined, left in clipped:
        if current is None or joined > current[1]:
            if current is not None:
                total += (current[1] - current[0]).total_seconds()
            current = (joined, left)
        else:
            current = (current[0], max(current[1], left))
    if current is not None:
        total += (current[1] - current[0]).total_seconds()
    return Minutes(round(total / 60, 2), open_ended)

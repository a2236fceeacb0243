"""The one clock: every moment is an aware datetime in UTC, and a day is a date where the session meets.

`utcnow()` is the only "now" of the app. Moments are stored through `UTCDateTime` (naive UTC in the database, as
they always were; aware UTC in Python), so no naive datetime slips into a comparison or onto the page. A meeting
session's `today()` and `day_on(moment)` (see MeetingSession) read the date in the session's own time zone.
"""

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import sqlalchemy as sa


def utcnow() -> datetime:
    return datetime.now(UTC)


def aware(moment: datetime) -> datetime:
    """`moment` itself, once it is known to carry its offset: a naive one would be read as the server's time."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"A naive datetime ({moment.isoformat()}) where an aware one is needed: say its time zone")
    return moment


def key_text(moment: datetime) -> str:
    """A moment as the keys kept in the database spell it (an online interval's source key): ISO 8601 of naive
    UTC, as they were written before moments were aware, so that a report imported again matches its rows."""
    return aware(moment).astimezone(UTC).replace(tzinfo=None).isoformat()


def date_in(zone: ZoneInfo, moment: datetime | None = None) -> date:
    """The date in `zone` at `moment` (now by default)."""
    return aware(moment or utcnow()).astimezone(zone).date()


class UTCDateTime(sa.TypeDecorator):
    """A moment: aware datetimes in (any offset), aware UTC out; stored as naive UTC, as a DateTime column was."""

    impl = sa.DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        return aware(value).astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect) -> datetime | None:
        return value.replace(tzinfo=UTC) if value is not None else None

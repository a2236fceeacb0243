"""Template filters for dates and times, in one style everywhere."""

from collections.abc import Sequence
from datetime import UTC, date, datetime

from babel import Locale
from babel.dates import format_date as babel_format_date
from babel.dates import format_datetime as babel_format_datetime
from babel.lists import format_list
from flask import Flask
from flask_babel import get_locale, gettext
from flask_babel import lazy_gettext as _l

from .clock import aware


def _locale() -> str:
    return str(get_locale() or "en")


def format_day(day: date) -> str:
    return babel_format_date(day, "d MMMM y", locale=_locale())


def format_days(days: Sequence) -> str:
    """'19–20 February 2024', '30 June – 1 July 2025', '28 and 30 November 2026' (days with a gap), or '' when
    no days are set."""
    dates = [getattr(d, "date", d) for d in days]
    if not dates:
        return ""
    first, last = dates[0], dates[-1]
    if (last - first).days != len(dates) - 1:  # a gap: a range would include the days between
        if (first.year, first.month) == (last.year, last.month):
            return format_list([str(d.day) for d in dates[:-1]] + [format_day(last)], locale=_locale())
        return format_list([format_day(d) for d in dates], locale=_locale())
    if first == last:
        return format_day(first)
    if (first.year, first.month) == (last.year, last.month):
        return f"{first.day}{range_dash()}{format_day(last)}"
    if first.year == last.year:
        return f"{babel_format_date(first, 'd MMMM', locale=_locale())} – {format_day(last)}"
    return f"{format_day(first)} – {format_day(last)}"


def range_dash(locale: str | None = None) -> str:
    """The en dash between two numbers of a range ('19–20', '09:30–17:00'). In a right-to-left language it has
    left-to-right marks on both sides: a bare dash between two numbers takes the text's direction, and the range
    shows reversed ('20–19')."""
    right_to_left = Locale.parse(locale or _locale()).character_order == "right-to-left"
    return "\u200e–\u200e" if right_to_left else "–"


def format_moment(moment: datetime | None, meeting=None) -> str:
    """A moment, in the session's zone when one is given (else in UTC), in the page's language."""
    if moment is None:
        return ""
    local = meeting.local(moment) if meeting is not None else aware(moment).astimezone(UTC)
    return f"{babel_format_datetime(local, 'd MMM y HH:mm', tzinfo=local.tzinfo, locale=_locale())} {local.tzname()}"


def format_duration(minutes: float) -> str:
    """'7 h 30 min', in whole minutes (119.7 minutes are '2 h 00 min', never '1 h 60 min')."""
    hours, rest = divmod(round(minutes), 60)
    return gettext("%(hours)d h %(minutes)02d min", hours=hours, minutes=rest)


# By the language's ordinal category (CLDR): English "1st", "2nd", "3rd", "4th"; French "1re", "2e"...
_IN_LINE = {
    "one": _l("%(num)dst in line"),
    "two": _l("%(num)dnd in line"),
    "few": _l("%(num)drd in line"),
    "other": _l("%(num)dth in line"),
}


def in_line(place: int) -> str:
    """A place on a waiting list: "3rd in line"."""
    category = Locale.parse(_locale()).ordinal_form(place)
    return str(_IN_LINE.get(category, _IN_LINE["other"])) % {"num": place}


def init_app(app: Flask) -> None:
    app.add_template_filter(in_line)
    app.add_template_filter(format_duration)
    app.add_template_filter(format_day)
    app.add_template_filter(format_days)
    app.add_template_filter(format_moment)
    app.add_template_global(range_dash)

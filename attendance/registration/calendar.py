"""A session's days as times: each day's hours in the session's time zone, and the delegate's calendar.ics."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from babel.dates import format_date, format_time
from flask_babel import force_locale, get_locale, gettext
from icalendar import Calendar, Event

from ..clock import utcnow
from ..formatting import range_dash
from ..links import public_url
from ..models import MeetingSession, Mode, Registration, RegistrationStatus


@dataclass(frozen=True)
class DayTimes:
    """A day's scheduled hours as aware moments in the session's zone."""

    date: date
    starts: datetime
    ends: datetime
    #: the session's IANA zone, "Europe/Brussels"
    zone: str

    @property
    def label(self) -> str:
        """'Monday 19 February 2024', in the page's or mail's language."""
        return format_date(self.date, "EEEE d MMMM y", locale=str(get_locale() or "en"))

    @property
    def hours(self) -> str:
        """'09:30–17:00', in the session's zone."""
        locale = str(get_locale() or "en")
        start, end = format_time(self.starts, "HH:mm", locale=locale), format_time(self.ends, "HH:mm", locale=locale)
        return f"{start}{range_dash(locale)}{end}"

    @property
    def zone_name(self) -> str:
        """'Europe/Brussels, UTC+01:00' (the offset of that day: summer time shows as +02:00); 'UTC' for UTC."""
        if self.zone in ("UTC", "Etc/UTC"):
            return "UTC"
        offset = self.starts.utcoffset() or timedelta(0)
        sign, minutes = ("+" if offset >= timedelta(0) else "-"), abs(int(offset.total_seconds())) // 60
        return f"{self.zone}, UTC{sign}{minutes // 60:02d}:{minutes % 60:02d}"

    def utc(self, moment: datetime) -> str:
        """An ISO 8601 instant in UTC, for the page's script to show in the browser's zone."""
        return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def day_times(meeting: MeetingSession) -> list[DayTimes]:
    """Each day of the session with its hours, in the session's time zone."""
    zone = meeting.zone
    return [
        DayTimes(
            day.date,
            datetime.combine(day.date, day.starts_at, tzinfo=zone),
            datetime.combine(day.date, day.ends_at, tzinfo=zone),
            meeting.timezone,
        )
        for day in meeting.days
    ]


def event_uid(registration: Registration, day: date) -> str:
    """Stable across downloads and edits, so that importing the file again updates the events instead of
    doubling them; made of ids, never of the delegate's secret."""
    return f"attendance-session{registration.session_id}-registration{registration.id}-{day:%Y%m%d}"


def calendar_ics(registration: Registration) -> bytes:
    """The session's days as iCalendar events (RFC 5545) for this delegate, in their language: one per day in
    the session's time zone (with its VTIMEZONE), at the venue for in-person delegates or at their join link for
    online ones. A cancelled registration's events say CANCELLED, so that a calendar importing it again drops them."""
    meeting = registration.session
    with force_locale(registration.locale):
        calendar = Calendar()
        calendar.add("prodid", "-//attendance//calendar//EN")
        calendar.add("version", "2.0")
        calendar.add("calscale", "GREGORIAN")
        calendar.add("method", "PUBLISH")
        calendar.add("x-wr-calname", meeting.title)
        stamp = utcnow().replace(microsecond=0)
        days = day_times(meeting)
        for number, day in enumerate(days, start=1):
            event = Event()
            event.add("uid", event_uid(registration, day.date))
            event.add("dtstamp", stamp)
            event.add("dtstart", day.starts)
            event.add("dtend", day.ends)
            event.add(
                "summary",
                meeting.title
                if len(days) == 1
                else gettext(
                    "%(title)s (day %(number)d of %(count)d)", title=meeting.title, number=number, count=len(days)
                ),
            )
            if registration.is_cancelled or registration.status is RegistrationStatus.DECLINED:
                event.add("status", "CANCELLED")
                event.add("description", gettext("Your registration is cancelled."))
            elif registration.status is RegistrationStatus.PENDING:
                event.add("status", "TENTATIVE")
                event.add("description", gettext("Your registration is pending approval."))
            elif registration.mode is Mode.ONLINE:
                join_url = public_url("registration.join", access_key=registration.access_key)
                event.add("status", "CONFIRMED")
                event.add("location", join_url)
                event.add("url", join_url)
                event.add(
                    "description",
                    gettext(
                        "You attend online. Join with your personal link (keep it to yourself): %(url)s", url=join_url
                    ),
                )
            else:
                event.add("status", "CONFIRMED")
                if meeting.venue:
                    event.add("location", meeting.venue)
                event.add(
                    "description",
                    gettext("You attend in person. Bring your badge: its QR code is scanned at the entrance."),
                )
            calendar.add_component(event)
        if days:  # the zone's rules around the meeting only: a short file that calendars read the same
            calendar.add_missing_timezones(
                first_date=days[0].date - timedelta(days=366), last_date=days[-1].date + timedelta(days=366)
            )
        return calendar.to_ical()

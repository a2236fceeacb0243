"""Forms for setting up sessions and fixing registrations."""
import re
from datetime import time
from zoneinfo import available_timezones

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (BooleanField, DateField, DateTimeLocalField, EmailField, FieldList, Form, FormField, IntegerField,
                     SelectField, StringField, TextAreaField, TimeField, URLField)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import (DataRequired, Email, InputRequired, Length, NumberRange, Optional, Regexp, URL,
                                ValidationError)

from ..extensions import db
from ..i18n import LANGUAGES
from ..models import Attendance, MeetingSeries, MeetingSession, Mode, Role, SessionDay
from ..registration.forms import DelegateFields, _no_control_characters, _strip

# UTC and the Area/City names of the continents and oceans. Left out: localtime, Factory, EST5EDT, posix/...,
# the old country aliases (US/Eastern, Canada/Pacific) and Etc/GMT+3, which is three hours *behind* UTC.
AREAS = ("Africa", "America", "Antarctica", "Arctic", "Asia", "Atlantic", "Australia", "Europe", "Indian", "Pacific")
TIMEZONES = sorted(zone for zone in available_timezones() if zone == "UTC" or zone.split("/")[0] in AREAS)

# A day's hours when the organiser leaves them empty.
DEFAULT_START, DEFAULT_END = time(9, 0), time(17, 0)
# Dates a meeting can have: beyond them, converting between time zones would leave the calendar.
FIRST_YEAR, LAST_YEAR = 1970, 2200
URL_MESSAGE = "Enter a full link, like https://meet.example.org/global-meeting."


def _plausible_date(_form, field) -> None:
    if field.data and not FIRST_YEAR <= field.data.year <= LAST_YEAR:
        raise ValidationError(f"Give a date between {FIRST_YEAR} and {LAST_YEAR}.")


class DayForm(Form):
    """One row of the days table; a row without a date is left out."""
    date = DateField("Date", validators=[Optional(), _plausible_date])
    starts_at = TimeField("Starts", validators=[Optional()])
    ends_at = TimeField("Ends", validators=[Optional()])

    @property
    def hours(self) -> tuple[time, time]:
        return self.starts_at.data or DEFAULT_START, self.ends_at.data or DEFAULT_END

    def validate_date(self, field) -> None:
        # Checked with the date, which every row that counts has: an empty time is its default, which must fit the
        # time given (an empty field's own validators never run).
        starts, ends = self.hours
        if field.data and ends <= starts:
            raise ValidationError(f"The day must end after it starts ({starts:%H:%M}).")


class SessionForm(FlaskForm):
    series_name = StringField("Meeting series", filters=[_strip], render_kw={"list": "series-names"},
                              validators=[DataRequired("Name the meeting series."), Length(max=200),
                                          _no_control_characters])
    number = IntegerField("Session number", validators=[InputRequired("Give the session's number."),
                                                        NumberRange(min=1, max=10000)])
    title = StringField("Title", filters=[_strip], validators=[DataRequired("Give the session a title."),
                                                               Length(max=300), _no_control_characters])
    slug = StringField(
        "Short name in links", filters=[_strip],
        validators=[DataRequired("Choose a short name for links."), Length(max=80),
                    Regexp(r"^[a-z0-9]+(?:-[a-z0-9]+)*$",
                           message="Use lowercase letters, digits and single hyphens, like global-meeting-20.")],
    )
    venue = StringField("Venue", filters=[_strip], validators=[Length(max=300), _no_control_characters])
    timezone = SelectField("Time zone", choices=[SelectChoice(tz, tz) for tz in TIMEZONES], default="Europe/Brussels")
    online_meeting_url = URLField("Online meeting link", filters=[_strip],
                                  validators=[Optional(), URL(message=URL_MESSAGE), Length(max=1000)])
    zoom_meeting_id = StringField("Zoom meeting id (for the webhook)", filters=[_strip],
                                  validators=[Optional(), Length(max=40),
                                              Regexp(r"^[0-9 ]+$", message="Zoom meeting ids are digits.")])
    zoom_webhook_secret = StringField("Zoom app's secret token (signs its webhook requests)", filters=[_strip],
                                      validators=[Optional(), Length(max=200)])
    in_person_capacity = IntegerField("In-person seats (empty: no limit)",
                                      validators=[Optional(), NumberRange(min=0, max=1_000_000, message="Enter a number of seats from 0 up, or leave it empty.")])
    chair_name = StringField("Chair's name (signs the certificates)", filters=[_strip],
                             validators=[Length(max=200), _no_control_characters])
    chair_title = StringField("Chair's title", filters=[_strip], validators=[Length(max=200), _no_control_characters])
    certificate_online_percent = IntegerField(
        "Attended online: platform minutes from this share of the day's scheduled time (%)", default=50,
        validators=[InputRequired("Give a share from 0 to 100."),
                    NumberRange(min=0, max=100, message="Give a share from 0 to 100.")])
    certificate_accepts_link_click = BooleanField("Count a join-link click when the platform has no data for that person")
    certify_scheduled_hours = BooleanField(
        "Certify the scheduled hours for in-person days (printed as \u201cscheduled programme\u201d) instead of the "
        "time measured from check-in to check-out")
    certificate_language = SelectField(
        "Certificate language", default="",
        choices=[SelectChoice("", "Each delegate's own (the language they registered in)")]
        + [SelectChoice(code, name) for code, name in LANGUAGES.items()])
    certificate_days_required = IntegerField(
        "Days of attendance needed for a certificate", default=1,
        validators=[InputRequired("Give the number of days."), NumberRange(min=1, max=366, message="At least 1 day.")])
    allows_walk_ins = BooleanField("Door staff may register walk-ins at the desk (they are checked in at once)")
    secretariat_email = EmailField("Secretariat's email (shown to delegates wherever they are told to contact it)",
                                   filters=[_strip],
                                   validators=[Optional(), Length(max=254),
                                               Email("Enter a valid email address, like secretariat@example.org.",
                                                     check_deliverability=False)])
    secretariat_phone = StringField(
        "Secretariat's phone (optional)", filters=[_strip],
        validators=[Optional(), Length(max=40, message="Use at most 40 characters."),
                    Regexp(r"^\+?[0-9 ().-]{4,40}\Z",
                           message="Write the phone number with digits 0-9, spaces, and + ( ) - . only, like "
                                   "+32 2 209 92 11.")])
    registration_opens_at = DateTimeLocalField("Registration opens (session time)",
                                               validators=[Optional(), _plausible_date])
    registration_closes_at = DateTimeLocalField("Registration closes (session time)",
                                                validators=[Optional(), _plausible_date])
    days = FieldList(FormField(DayForm), min_entries=1)

    def __init__(self, *args, editing: MeetingSession | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self._editing = editing
        if editing is not None and editing.timezone not in TIMEZONES:  # an older name (Singapore, GMT): kept as is
            self.timezone.choices = [SelectChoice(editing.timezone, editing.timezone), *self.timezone.choices]

    def validate_slug(self, field) -> None:
        taken = db.session.scalar(db.select(MeetingSession).filter_by(slug=field.data))
        if taken is not None and taken is not self._editing:
            raise ValidationError("Another session already uses this short name.")

    def validate_zoom_meeting_id(self, field) -> None:
        if field.data:
            field.data = field.data.replace(" ", "")
            taken = db.session.scalar(db.select(MeetingSession).filter_by(zoom_meeting_id=field.data))
            if taken is not None and taken is not self._editing:
                raise ValidationError("Another session already uses this Zoom meeting.")

    def validate_timezone(self, field) -> None:
        # Check-ins and online minutes are stored in UTC and read in the session's zone: another zone would move
        # them to other hours, or other days, and change who earned a certificate already issued.
        meeting = self._editing
        if meeting is not None and field.data != meeting.timezone and db.session.scalar(
                sa.select(Attendance.id).join(SessionDay).where(SessionDay.session_id == meeting.id).limit(1)):
            raise ValidationError(f"This session has recorded attendance, so its time zone stays {meeting.timezone}: "
                                  "another would move every check-in and online minute to other hours.")

    def validate_number(self, field) -> None:
        if field.errors:  # out of range: no query with a number the database cannot hold
            return
        clash = db.session.scalar(
            db.select(MeetingSession).join(MeetingSession.series)
            .where(MeetingSeries.matches(self.series_name.data or ""), MeetingSession.number == field.data)
        )
        if clash is not None and clash is not self._editing:
            raise ValidationError("This series already has a session with this number.")

    def validate_registration_opens_at(self, field) -> None:
        dates = [row.date.data for row in self.days if row.date.data]
        if field.data and not field.errors and dates and field.data.date() > max(dates):
            raise ValidationError(f"Registration would open after the session's last day ({max(dates):%d %B %Y}).")

    def validate_registration_closes_at(self, field) -> None:
        opens = self.registration_opens_at.data
        if opens and field.data and field.data <= opens:
            raise ValidationError("Registration must close after it opens.")

    def validate_days(self, field) -> None:
        dates = [row.date.data for row in field if row.date.data]
        if not dates:
            raise ValidationError("Give the session at least one day.")
        if len(dates) != len(set(dates)):
            raise ValidationError("A date is listed twice.")

    def validate_certificate_days_required(self, field) -> None:
        days = len({row.date.data for row in self.days if row.date.data})
        if field.data and days and field.data > days:
            raise ValidationError(f"The session has only {days} {'day' if days == 1 else 'days'}.")


class VocabularyForm(FlaskForm):
    name = StringField("Name", filters=[_strip],
                       validators=[DataRequired("Enter a name."), Length(max=200), _no_control_characters])
    position = IntegerField("Order", default=0, validators=[Optional(), NumberRange(min=0, max=10000)])


class RegistrationEditForm(DelegateFields):
    mode = SelectField("Registered mode", choices=[SelectChoice(m.value, m.label) for m in Mode])
    role = SelectField("Role", choices=[SelectChoice(r.value, r.label) for r in Role])
    locale = SelectField(_l("Language of their e-mails, badge and certificate"),
                         choices=[SelectChoice(code, name) for code, name in LANGUAGES.items()])
    personal_join_url = URLField("Personal join link on the platform (optional)", filters=[_strip],
                                 validators=[Optional(), URL(message=URL_MESSAGE), Length(max=1000)])
    zoom_registrant_id = StringField("Zoom registrant id (optional)", filters=[_strip],
                                     validators=[Optional(), Length(max=100)])

    def email_optional(self) -> None:
        # A new list for this form only: the field class's validators are shared by every form
        self.email.validators = [Optional()] + [v for v in self.email.validators if not isinstance(v, DataRequired)]


class CancelForm(FlaskForm):
    reason = TextAreaField("Reason for cancelling", filters=[_strip],
                           validators=[DataRequired("Say why the registration is cancelled."), Length(max=500)])

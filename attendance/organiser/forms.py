"""Forms for setting up sessions and fixing registrations."""

from datetime import time
from zoneinfo import available_timezones

import sqlalchemy as sa
from flask_babel import gettext, ngettext
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    DateTimeLocalField,
    EmailField,
    FieldList,
    Form,
    FormField,
    IntegerField,
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
    TimeField,
    URLField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import (
    URL,
    DataRequired,
    Email,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    Regexp,
    ValidationError,
)

from ..extensions import db
from ..formatting import format_day
from ..i18n import LANGUAGES
from ..models import Attendance, MeetingSeries, MeetingSession, Mode, RegistrationPolicy, Role, SessionDay
from ..models.meeting import POLICY_LABELS
from ..registration.forms import DelegateFields, _no_control_characters
from ..text import strip_edges


class WholeNumberField(IntegerField):
    """An IntegerField that reads only the digits 0-9: `int()` would also take "٣" or full-width digits."""

    def process_formdata(self, valuelist):
        if (
            valuelist
            and valuelist[0].strip()
            and not (valuelist[0].strip().isascii() and valuelist[0].strip().lstrip("-").isdigit())
        ):
            self.data = None
            raise ValueError(gettext("Write the number with the digits 0-9."))
        super().process_formdata(valuelist)


# UTC and the Area/City names of the continents and oceans. Left out: localtime, Factory, EST5EDT, posix/...,
# the old country aliases (US/Eastern, Canada/Pacific) and Etc/GMT+3, which is three hours *behind* UTC.
AREAS = ("Africa", "America", "Antarctica", "Arctic", "Asia", "Atlantic", "Australia", "Europe", "Indian", "Pacific")
TIMEZONES = sorted(zone for zone in available_timezones() if zone == "UTC" or zone.split("/")[0] in AREAS)

# A day's hours when the organiser leaves them empty.
DEFAULT_START, DEFAULT_END = time(9, 0), time(17, 0)
# Dates a meeting can have: beyond them, converting between time zones would leave the calendar.
FIRST_YEAR, LAST_YEAR = 1970, 2200
URL_MESSAGE = _l("Enter a full link, like https://meet.example.org/global-meeting.")


def _plausible_date(_form, field) -> None:
    if field.data and not FIRST_YEAR <= field.data.year <= LAST_YEAR:
        raise ValidationError(gettext("Give a date between %(first)d and %(last)d.", first=FIRST_YEAR, last=LAST_YEAR))


class DayForm(Form):
    """One row of the days table; a row without a date is left out."""

    date = DateField(_l("Date"), validators=[Optional(), _plausible_date])
    starts_at = TimeField(_l("Starts"), validators=[Optional()])
    ends_at = TimeField(_l("Ends"), validators=[Optional()])

    @property
    def hours(self) -> tuple[time, time]:
        return self.starts_at.data or DEFAULT_START, self.ends_at.data or DEFAULT_END

    def validate_date(self, field) -> None:
        # Checked with the date, which every row that counts has: an empty time is its default, which must fit the
        # time given (an empty field's own validators never run).
        starts, ends = self.hours
        if field.data and ends <= starts:
            raise ValidationError(
                gettext("The day must end after it starts (%(time)s).", time=starts.strftime("%H:%M"))
            )


class SessionForm(FlaskForm):
    series_name = StringField(
        _l("Meeting series"),
        filters=[strip_edges],
        render_kw={"list": "series-names"},
        validators=[DataRequired(_l("Name the meeting series.")), Length(max=200), _no_control_characters],
    )
    number = WholeNumberField(
        _l("Session number"),
        validators=[InputRequired(_l("Give the session's number.")), NumberRange(min=1, max=10000)],
    )
    title = StringField(
        _l("Title"),
        filters=[strip_edges],
        validators=[DataRequired(_l("Give the session a title.")), Length(max=300), _no_control_characters],
    )
    slug = StringField(
        _l("Short name in links"),
        filters=[strip_edges],
        validators=[
            DataRequired(_l("Choose a short name for links.")),
            Length(max=80),
            Regexp(
                r"^[a-z0-9]+(?:-[a-z0-9]+)*$",
                message=_l("Use lowercase letters, digits and single hyphens, like global-meeting-20."),
            ),
        ],
    )
    venue = StringField(_l("Venue"), filters=[strip_edges], validators=[Length(max=300), _no_control_characters])
    timezone = SelectField(
        _l("Time zone"), choices=[SelectChoice(tz, tz) for tz in TIMEZONES], default="Europe/Brussels"
    )
    online_meeting_url = URLField(
        _l("Online meeting link"),
        filters=[strip_edges],
        validators=[Optional(), URL(message=URL_MESSAGE), Length(max=1000)],
    )
    zoom_meeting_id = StringField(
        _l("Zoom meeting id (for the webhook)"),
        filters=[strip_edges],
        validators=[Optional(), Length(max=40), Regexp(r"^[0-9 ]+$", message=_l("Zoom meeting ids are digits."))],
    )
    zoom_webhook_secret = StringField(
        _l("Zoom app's secret token (signs its webhook requests)"),
        filters=[strip_edges],
        validators=[Optional(), Length(max=200)],
    )
    in_person_capacity = WholeNumberField(
        _l("In-person seats (empty: no limit)"),
        validators=[
            Optional(),
            NumberRange(min=0, max=1_000_000, message=_l("Enter a number of seats from 0 up, or leave it empty.")),
        ],
    )
    reminder_days_before = WholeNumberField(
        _l("Email a reminder this many days before the first day (empty or 0: no reminder)"),
        validators=[Optional(), NumberRange(min=0, max=365, message=_l("Enter a number of days from 0 to 365."))],
    )
    chair_name = StringField(
        _l("Chair's name (signs the certificates)"),
        filters=[strip_edges],
        validators=[Length(max=200), _no_control_characters],
    )
    chair_title = StringField(
        _l("Chair's title"), filters=[strip_edges], validators=[Length(max=200), _no_control_characters]
    )
    certificate_online_percent = WholeNumberField(
        _l("Attended online: platform minutes from this share of the day's scheduled time (%)"),
        default=50,
        validators=[
            InputRequired(_l("Give a share from 0 to 100.")),
            NumberRange(min=0, max=100, message=_l("Give a share from 0 to 100.")),
        ],
    )
    certificate_accepts_link_click = BooleanField(
        _l("Count a join-link click when the platform has no data for that person")
    )
    certify_scheduled_hours = BooleanField(
        _l(
            "Certify the scheduled hours for in-person days (printed as \u201cscheduled programme\u201d) "
            "instead of the time measured from check-in to check-out"
        )
    )
    certificate_language = SelectField(
        _l("Certificate language"),
        default="",
        choices=[SelectChoice("", _l("Each delegate's own (the language they registered in)"))]
        + [SelectChoice(code, name) for code, name in LANGUAGES.items()],
    )
    certificate_days_required = WholeNumberField(
        _l("Days of attendance needed for a certificate"),
        default=1,
        validators=[
            InputRequired(_l("Give the number of days.")),
            NumberRange(min=1, max=366, message=_l("At least 1 day.")),
        ],
    )
    allows_walk_ins = BooleanField(_l("Door staff may register walk-ins at the desk (they are checked in at once)"))
    registration_policy = RadioField(
        _l("Who may register"),
        validators=[Optional()],
        choices=[SelectChoice(policy.value, POLICY_LABELS[policy]) for policy in RegistrationPolicy],
    )
    secretariat_email = EmailField(
        _l("Secretariat's email (shown to delegates wherever they are told to contact it)"),
        filters=[strip_edges],
        validators=[
            Optional(),
            Length(max=254),
            Email(_l("Enter a valid email address, like secretariat@example.org."), check_deliverability=False),
        ],
    )
    secretariat_phone = StringField(
        _l("Secretariat's phone (optional)"),
        filters=[strip_edges],
        validators=[
            Optional(),
            Length(max=40, message=_l("Use at most 40 characters.")),
            Regexp(
                r"^\+?[0-9 ().-]{4,40}\Z",
                message=_l("Write the phone number with digits 0-9, spaces, and + ( ) - . only, like +32 2 209 92 11."),
            ),
        ],
    )
    registration_opens_at = DateTimeLocalField(
        _l("Registration opens (session time)"), validators=[Optional(), _plausible_date]
    )
    registration_closes_at = DateTimeLocalField(
        _l("Registration closes (session time)"), validators=[Optional(), _plausible_date]
    )
    days = FieldList(FormField(DayForm), min_entries=1)

    def __init__(self, *args, editing: MeetingSession | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self._editing = editing
        if editing is not None and editing.timezone not in TIMEZONES:  # an older name (Singapore, GMT): kept as is
            self.timezone.choices = [SelectChoice(editing.timezone, editing.timezone), *self.timezone.choices]

    def validate_slug(self, field) -> None:
        taken = db.session.scalar(db.select(MeetingSession).filter_by(slug=field.data))
        if taken is not None and taken is not self._editing:
            raise ValidationError(gettext("Another session already uses this short name."))

    def validate_zoom_meeting_id(self, field) -> None:
        if field.data:
            field.data = field.data.replace(" ", "")
            taken = db.session.scalar(db.select(MeetingSession).filter_by(zoom_meeting_id=field.data))
            if taken is not None and taken is not self._editing:
                raise ValidationError(gettext("Another session already uses this Zoom meeting."))

    def validate_timezone(self, field) -> None:
        # Check-ins and online minutes are stored in UTC and read in the session's zone: another zone would move
        # them to other hours, or other days, and change who earned a certificate already issued.
        meeting = self._editing
        if (
            meeting is not None
            and field.data != meeting.timezone
            and db.session.scalar(
                sa.select(Attendance.id).join(SessionDay).where(SessionDay.session_id == meeting.id).limit(1)
            )
        ):
            raise ValidationError(
                gettext(
                    "This session has recorded attendance, so its time zone stays %(zone)s: "
                    "another would move every check-in and online minute to other hours.",
                    zone=meeting.timezone,
                )
            )

    def validate_number(self, field) -> None:
        if field.errors:  # out of range: no query with a number the database cannot hold
            return
        clash = db.session.scalar(
            db.select(MeetingSession)
            .join(MeetingSession.series)
            .where(MeetingSeries.matches(self.series_name.data or ""), MeetingSession.number == field.data)
        )
        if clash is not None and clash is not self._editing:
            raise ValidationError(gettext("This series already has a session with this number."))

    def validate_registration_opens_at(self, field) -> None:
        dates = [row.date.data for row in self.days if row.date.data]
        if field.data and not field.errors and dates and field.data.date() > max(dates):
            raise ValidationError(
                gettext("Registration would open after the session's last day (%(day)s).", day=format_day(max(dates)))
            )

    def validate_registration_closes_at(self, field) -> None:
        opens = self.registration_opens_at.data
        if opens and field.data and field.data <= opens:
            raise ValidationError(gettext("Registration must close after it opens."))

    def validate_days(self, field) -> None:
        dates = [row.date.data for row in field if row.date.data]
        if not dates:
            raise ValidationError(gettext("Give the session at least one day."))
        if len(dates) != len(set(dates)):
            raise ValidationError(gettext("A date is listed twice."))

    def validate_certificate_days_required(self, field) -> None:
        days = len({row.date.data for row in self.days if row.date.data})
        if field.data and days and field.data > days:
            raise ValidationError(
                ngettext("The session has only %(num)d day.", "The session has only %(num)d days.", days)
            )


#: the languages session content may be entered in besides its default (the title, venue and names as typed)
CONTENT_LANGUAGES = [code for code in LANGUAGES if code != "en"]
for _code in CONTENT_LANGUAGES:
    setattr(
        SessionForm,
        f"title_{_code}",
        StringField(
            _l("Title in %(language)s", language=LANGUAGES[_code]),
            filters=[strip_edges],
            validators=[Length(max=300), _no_control_characters],
        ),
    )
    setattr(
        SessionForm,
        f"venue_{_code}",
        StringField(
            _l("Venue in %(language)s", language=LANGUAGES[_code]),
            filters=[strip_edges],
            validators=[Length(max=300), _no_control_characters],
        ),
    )


def session_translations(form: SessionForm) -> dict | None:
    """{"fr": {"title": ..., "venue": ...}, ...} from the form, without empty fields; None when there is none."""
    found = {
        code: {field: value for field in ("title", "venue") if (value := form[f"{field}_{code}"].data)}
        for code in CONTENT_LANGUAGES
    }
    return {code: fields for code, fields in found.items() if fields} or None


def term_translations(values) -> dict | None:
    """{"fr": "Bureau régional ..."} from a vocabulary row's name_<language> inputs; None when there is none."""
    found = {code: " ".join(values.get(f"name_{code}", "").split())[:200] for code in CONTENT_LANGUAGES}
    return {code: name for code, name in found.items() if name and name.isprintable()} or None


class VocabularyForm(FlaskForm):
    name = StringField(
        _l("Name"),
        filters=[strip_edges],
        validators=[DataRequired(_l("Enter a name.")), Length(max=200), _no_control_characters],
    )
    position = WholeNumberField(_l("Order"), default=0, validators=[Optional(), NumberRange(min=0, max=10000)])


class RegistrationEditForm(DelegateFields):
    mode = SelectField(_l("Registered mode"), choices=[SelectChoice(m.value, m.label) for m in Mode])
    role = SelectField(_l("Role"), choices=[SelectChoice(r.value, r.label) for r in Role])
    locale = SelectField(
        _l("Language of their e-mails, badge and certificate"),
        choices=[SelectChoice(code, name) for code, name in LANGUAGES.items()],
    )
    personal_join_url = URLField(
        _l("Personal join link on the platform (optional)"),
        filters=[strip_edges],
        validators=[Optional(), URL(message=URL_MESSAGE), Length(max=1000)],
    )
    zoom_registrant_id = StringField(
        _l("Zoom registrant id (optional)"), filters=[strip_edges], validators=[Optional(), Length(max=100)]
    )

    def __init__(self, meeting: MeetingSession, *args, **kwargs):
        super().__init__(meeting, *args, **kwargs)
        # Labels in the reader's language: the class attributes above were made once, at import, in English.
        self.mode.choices = [SelectChoice(m.value, m.label) for m in Mode]
        self.role.choices = [SelectChoice(r.value, r.label) for r in Role]

    def email_optional(self) -> None:
        # A new list for this form only: the field class's validators are shared by every form
        self.email.validators = [Optional()] + [v for v in self.email.validators if not isinstance(v, DataRequired)]


class CancelForm(FlaskForm):
    reason = TextAreaField(
        _l("Reason for cancelling"),
        filters=[strip_edges],
        validators=[DataRequired(_l("Say why the registration is cancelled.")), Length(max=500)],
    )

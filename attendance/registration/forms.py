"""The public registration form."""

from functools import lru_cache

from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from markupsafe import Markup, escape
from wtforms import BooleanField, EmailField, RadioField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Email, InputRequired, Length, ValidationError
from wtforms.widgets import Select, html_params

from ..countries import countries
from ..models import MeetingSession, Mode
from ..text import strip_edges

NAME_MAX = 200
#: the registration form's third answer to "how will you attend?" when in-person seats are full
WAITING_LIST = "waiting_list"


def _with_prompt(pairs) -> list[SelectChoice]:
    return [SelectChoice("", _l("Choose…"))] + [SelectChoice(value, label) for value, label in pairs]


class LongListSelect(Select):
    """wtforms' select, for a long list that every form in a language shows alike (the ~250 countries): the options
    are escaped once per process and list, not once per form, and only the chosen one is marked. Rendering them
    option by option (`html_params` and Markup formatting each) took 60 % of the registration page's CPU."""

    def __call__(self, field, **kwargs):
        kwargs.setdefault("id", field.id)
        for flag in self.validation_attrs:
            if getattr(field.flags, flag, False) and flag not in kwargs:
                kwargs[flag] = getattr(field.flags, flag)
        options = _escaped_options(tuple((choice.value, str(choice.label)) for choice in field.choices))
        if field.data:
            value = escape(field.data)
            options = options.replace(f'<option value="{value}">', f'<option selected value="{value}">', 1)
        return Markup(f"<select {html_params(name=field.name, **kwargs)}>{options}</select>")


@lru_cache(maxsize=16)
def _escaped_options(choices: tuple[tuple[str, str], ...]) -> str:
    return "".join(f'<option value="{escape(value)}">{escape(label or value)}</option>' for value, label in choices)


@lru_cache(maxsize=8)
def _country_choices(locale: str) -> tuple[SelectChoice, ...]:
    """The same for every form in a language: made once, and a tuple, as nothing may change them."""
    return tuple(_with_prompt(countries(locale).items()))


def _is_offered(field) -> bool:
    return any(choice.value == field.data for choice in field.choices if choice.value)


def _no_control_characters(_form, field) -> None:
    if field.data and any(ord(ch) < 32 or ord(ch) == 127 for ch in field.data):
        raise ValidationError(_l("Remove the control characters from this field."))


class DelegateFields(FlaskForm):
    """What a delegate is asked, shared by the public form and the organisers' edit form."""

    full_name = StringField(
        _l("Full name, as it should appear on your badge and certificate"),
        filters=[strip_edges],
        validators=[
            DataRequired(_l("Enter your full name.")),
            Length(max=NAME_MAX, message=_l("Use at most 200 characters.")),
            _no_control_characters,
        ],
    )
    email = EmailField(
        _l("Email"),
        filters=[strip_edges],
        validators=[
            DataRequired(_l("Enter your email address.")),
            Length(max=254, message=_l("Use at most 254 characters.")),
            Email(_l("Enter a valid email address, like name@example.org."), check_deliverability=False),
        ],
    )
    organisation = StringField(
        _l("Organisation or entity you represent"),
        filters=[strip_edges],
        validators=[
            DataRequired(_l("Enter the organisation you represent.")),
            Length(max=200, message=_l("Use at most 200 characters.")),
            _no_control_characters,
        ],
    )
    country = SelectField(
        _l("Country"),
        validate_choice=False,
        validators=[InputRequired(_l("Choose your country."))],
        widget=LongListSelect(),
    )
    entity_type = SelectField(
        _l("Entity type"), validate_choice=False, validators=[InputRequired(_l("Choose your entity type."))]
    )
    region = SelectField(_l("Region"), validate_choice=False, validators=[InputRequired(_l("Choose your region."))])

    def __init__(self, meeting: MeetingSession, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.country.choices = _country_choices(str(get_locale()))
        self.entity_type.choices = _with_prompt((str(t.id), t.local_name) for t in meeting.entity_types)
        self.region.choices = _with_prompt((str(r.id), r.local_name) for r in meeting.regions)

    def delegate_fields(self) -> dict:
        return {
            "full_name": self.full_name.data,
            "email": self.email.data,
            "organisation": self.organisation.data,
            "country": self.country.data,
            "entity_type_id": int(self.entity_type.data),
            "region_id": int(self.region.data),
        }

    # Choices are checked here rather than by WTForms, to say which list the answer must come from.
    def validate_country(self, field) -> None:
        if field.data not in countries():
            raise ValidationError(_l("Choose a country from the list."))

    def validate_entity_type(self, field) -> None:
        if not _is_offered(field):
            raise ValidationError(_l("Choose an entity type from the list."))

    def validate_region(self, field) -> None:
        if not _is_offered(field):
            raise ValidationError(_l("Choose a region from the list."))


class RegistrationForm(DelegateFields):
    mode = RadioField(
        _l("How will you attend?"),
        choices=[
            SelectChoice(Mode.IN_PERSON.value, _l("In person, at the venue")),
            SelectChoice(Mode.ONLINE.value, _l("Online")),
        ],
        validators=[InputRequired(_l("Choose how you will attend."))],
    )

    def offer_waiting_list(self, meeting: MeetingSession) -> None:
        """In-person seats are full: the in-person choice stays visible but cannot be picked; the waiting list
        for a seat can (a waiting delegate is registered online, which only a hybrid session can say)."""
        if any(choice.value == WAITING_LIST for choice in self.mode.choices):
            return  # offered already
        label = (
            _l("Join the waiting list for a seat in the room (registered online meanwhile)")
            if meeting.is_hybrid
            else _l("Join the waiting list for a seat in the room")
        )
        self.mode.choices = [
            SelectChoice(c.value, c.label, render_kw={"disabled": True}) if c.value == Mode.IN_PERSON.value else c
            for c in self.mode.choices
        ] + [SelectChoice(WAITING_LIST, label)]
        if not self.mode.data:
            self.mode.data = Mode.ONLINE.value

    @property
    def wants_waiting_list(self) -> bool:
        return self.mode.data == WAITING_LIST

    @property
    def chosen_mode(self) -> Mode:
        return Mode.IN_PERSON if self.wants_waiting_list else Mode(self.mode.data)

    consent = BooleanField(
        _l(
            "I agree that the secretariat stores these details to organise the meeting, "
            "record my attendance and issue my certificate."
        ),
        validators=[DataRequired(_l("You need to agree to this to register."))],
    )
    keep_name_on_certificate = BooleanField(
        _l(
            "Optional: when the secretariat deletes the meeting's personal data, keep my name on my certificate's "
            "public verification page."
        )
    )

"""The desk's walk-in form and the organiser's "add registration" form: both feed `add_registration`, whose rule
checks every answer; these fields only carry them (and the CSRF token)."""

from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, SelectField, StringField
from wtforms.fields.choices import SelectChoice

from ..countries import countries
from ..models import MeetingSession, Mode
from ..registration.staff_entry import StaffEntry


class StaffEntryForm(FlaskForm):
    full_name = StringField(_l("Full name, as on the badge"))
    organisation = StringField(_l("Organisation"))
    country = SelectField(_l("Country"), validate_choice=False)
    entity_type = SelectField(_l("Entity type"), validate_choice=False)
    region = SelectField(_l("Region"), validate_choice=False)
    mode = SelectField(
        _l("Registered mode"),
        validate_choice=False,
        choices=[SelectChoice(Mode.IN_PERSON.value, _l("In person")), SelectChoice(Mode.ONLINE.value, _l("Online"))],
    )
    email = EmailField(_l("Email (optional for a walk-in checked in now)"))

    def __init__(self, meeting: MeetingSession, *args, **kwargs):
        super().__init__(*args, **kwargs)
        prompt = [SelectChoice("", _l("Choose…"))]
        self.country.choices = prompt + [
            SelectChoice(code, name) for code, name in countries(str(get_locale())).items()
        ]
        # By name: the rule takes names, as the JSON API does
        self.entity_type.choices = prompt + [SelectChoice(t.name, t.local_name) for t in meeting.entity_types]
        self.region.choices = prompt + [SelectChoice(r.name, r.local_name) for r in meeting.regions]

    def entry(self) -> StaffEntry:
        return StaffEntry(**{name: getattr(self, name).data or "" for name in StaffEntry.__dataclass_fields__})

    def show_errors(self, errors: dict[str, str]) -> list[str]:
        """Puts each reason beside its field; returns those of no field on this form, for the top of the page."""
        others = []
        for name, message in errors.items():
            field = getattr(self, name, None)
            if field is not None and name in StaffEntry.__dataclass_fields__ | {"check_in": None}:
                field.errors = [*field.errors, message]
            else:
                others.append(message)
        return others


class OrganiserEntryForm(StaffEntryForm):
    email = EmailField(_l("Email (optional: without one, the person gets no mail)"))
    check_in = BooleanField(_l("Check them in now (a walk-in at the venue today)"))

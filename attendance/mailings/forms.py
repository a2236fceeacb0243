"""The organiser's message form: whom (filters), what (subject and body)."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length

from ..models import MeetingSession, Mode, RegistrationStatus
from ..registration.forms import _no_control_characters
from ..text import strip_edges
from .service import Group

ANY = ""
_YES_NO = [SelectChoice(ANY, _l("Any")), SelectChoice("yes", _l("Yes")), SelectChoice("no", _l("No"))]


def _yes_no(value: str) -> bool | None:
    return None if value == ANY else value == "yes"


class MessageForm(FlaskForm):
    # A filter left out of the request is "any": a default, not an invalid choice.
    mode = SelectField(_l("Attending"), default=ANY)
    entity_type = SelectField(_l("Entity type"), default=ANY)
    region = SelectField(_l("Region"), default=ANY)
    status = SelectField(
        _l("Status"),
        default=RegistrationStatus.REGISTERED.value,
        choices=[SelectChoice(s.value, s.label) for s in RegistrationStatus]
        + [SelectChoice(ANY, _l("Registered or cancelled"))],
    )
    checked_in = SelectField(_l("Checked in at the door"), choices=_YES_NO, default=ANY)
    waiting = SelectField(_l("On the waiting list for a seat"), choices=_YES_NO, default=ANY)
    subject = StringField(
        _l("Subject"),
        filters=[strip_edges],
        validators=[
            DataRequired(_l("Write a subject.")),
            Length(max=200, message=_l("Use at most 200 characters.")),
            _no_control_characters,
        ],
    )
    body = TextAreaField(
        _l("Message"),
        filters=[strip_edges],
        render_kw={"rows": 10},
        validators=[
            DataRequired(_l("Write the message.")),
            Length(max=10000, message=_l("Use at most 10,000 characters.")),
        ],
    )
    #: the count the organiser saw in the preview: a group that changed since is shown again before it is sent
    expected = HiddenField()
    #: a new one with each preview: a Send posted twice (double click, resubmit, second tab) sends once
    send_token = HiddenField()

    def __init__(self, meeting: MeetingSession, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.mode.choices = [SelectChoice(ANY, _l("In person or online"))] + [
            SelectChoice(m.value, m.label) for m in Mode
        ]
        self.entity_type.choices = [SelectChoice(ANY, _l("Any"))] + [
            SelectChoice(str(t.id), t.local_name) for t in meeting.entity_types
        ]
        self.region.choices = [SelectChoice(ANY, _l("Any"))] + [
            SelectChoice(str(r.id), r.local_name) for r in meeting.regions
        ]

    def group(self) -> Group:
        return Group(
            mode=Mode(self.mode.data) if self.mode.data else None,
            entity_type_id=int(self.entity_type.data) if self.entity_type.data else None,
            region_id=int(self.region.data) if self.region.data else None,
            status=RegistrationStatus(self.status.data) if self.status.data else None,
            checked_in=_yes_no(self.checked_in.data),
            waiting=_yes_no(self.waiting.data),
        )

"""The questions as fields of the registration form, and the organiser's form for one question."""

import re

from flask import request
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, RadioField, SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, Optional, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from ..i18n import LANGUAGES
from ..models import MODE_VALUES, Mode, Question, QuestionKind, Registration
from ..models.questions import CHOICE_SEPARATOR
from ..text import has_control_characters, strip_edges
from .service import ANSWER_MAX, answer_values, asks, clean_answers, parse_choices
from .visa import REVOKE_REASON_MAX

FIELD_PREFIX = "question_"
_QUESTION_FIELD = re.compile(rf"^{FIELD_PREFIX}(\d+)$")


class MultiCheckboxField(SelectMultipleField):
    """Several choices as checkboxes (the form's field macro renders them like radio buttons)."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


def _no_control_characters(_form, field) -> None:
    if field.data and has_control_characters(field.data):
        raise ValidationError(gettext("Remove the control characters from this field."))


def _field_for(question: Question, *, for_staff: bool = False):
    """The question's field: as the delegate reads it on their form, or `for_staff`, about the delegate."""
    label = question.label_for_staff if for_staff else question.local_label
    if question.kind is QuestionKind.VISA_LETTER and for_staff:
        hint = gettext(
            "Yes lists the delegate on the Visa letters page. No, or no answer, revokes a letter already issued "
            "to them."
        )
    elif question.kind is QuestionKind.VISA_LETTER:
        hint = gettext("Only if you attend in person: the secretariat then issues a letter for your visa application.")
    else:
        hint = "" if question.required else gettext("Optional.")
    if question.kind is QuestionKind.TEXT:
        return StringField(label, filters=[strip_edges], render_kw={"maxlength": ANSWER_MAX}, description=hint)
    if question.kind is QuestionKind.SEVERAL_CHOICES:
        return MultiCheckboxField(label, choices=_choices(question), validate_choice=False, description=hint)
    return RadioField(label, choices=_choices(question), validate_choice=False, description=hint)


def _choices(question: Question) -> list[SelectChoice]:
    return [SelectChoice(key, label) for key, label in question.choice_pairs()]


def with_questions(
    form_class: type[FlaskForm], questions: list[Question], mode: Mode | None = None, *, for_staff: bool = False
) -> type[FlaskForm]:
    """`form_class` with a field per question, named question_<id>, checked by `clean_answers` on the server: as
    a delegate attending in the form's chosen mode, or in `mode` when the form has no mode field. `for_staff`:
    worded for staff answering about the delegate."""
    fields = {f"{FIELD_PREFIX}{q.id}": _field_for(q, for_staff=for_staff) for q in questions}

    class WithQuestions(form_class):
        def validate(self, extra_validators=None) -> bool:
            valid = super().validate(extra_validators)
            foreign = [name for name in request.form if _QUESTION_FIELD.match(name) and name not in fields]
            if foreign:
                self.form_errors.append(
                    gettext(
                        "This form holds answers to questions that this session does not "
                        "ask. Reload the page and register again."
                    )
                )
            _values, errors = clean_answers(questions, self._submitted(), self._mode())
            for question_id, message in errors.items():
                self[f"{FIELD_PREFIX}{question_id}"].errors = [message]
            return valid and not foreign and not errors

        def _mode(self) -> Mode | None:
            chosen = getattr(self, "mode", None)
            if chosen is None:
                return mode
            return Mode(chosen.data) if chosen.data in MODE_VALUES else None

        def _submitted(self) -> dict[int, list[str]]:
            submitted = {}
            for question in questions:
                data = self[f"{FIELD_PREFIX}{question.id}"].data
                submitted[question.id] = [data] if isinstance(data, str) else list(data or [])
            return submitted

        def answers(self) -> dict[int, str]:
            """The answers to store, once the form is valid."""
            return clean_answers(questions, self._submitted(), self._mode())[0]

        def question_fields(self) -> list:
            return [self[name] for name in fields]

    for name, unbound in fields.items():
        setattr(WithQuestions, name, unbound)
    return WithQuestions


def answers_form(registration: Registration, questions: list[Question]) -> FlaskForm:
    """The organiser's form for a registration's answers: the questions its delegate is asked, checked as the
    delegate's form checks them (required ones too), filled with the answers stored."""
    asked = [question for question in questions if asks(question, registration.mode)]
    stored = answer_values(registration)
    data = {
        f"{FIELD_PREFIX}{q.id}": stored[q.id].split(CHOICE_SEPARATOR)
        if q.kind is QuestionKind.SEVERAL_CHOICES
        else stored[q.id]
        for q in asked
        if q.id in stored
    }
    return with_questions(FlaskForm, asked, mode=registration.mode, for_staff=True)(data=data)


def _choices_valid(form, field) -> None:
    if QuestionKind(form.kind.data).has_choices and len(parse_choices(field.data or "")) < 2:
        raise ValidationError(gettext("Give at least two choices, one a line."))


def _label_needed(form, field) -> None:
    if form.kind.data != QuestionKind.VISA_LETTER.value and not field.data:
        raise ValidationError(gettext("Write the question."))


CONTENT_LANGUAGES = [code for code in LANGUAGES if code != "en"]


class QuestionForm(FlaskForm):
    kind = SelectField(_l("Kind"), validators=[InputRequired()])
    label = StringField(
        _l("Question (English)"),
        filters=[strip_edges],
        validators=[_label_needed, Length(max=300), _no_control_characters],
    )
    choices = TextAreaField(
        _l("Choices, one a line; other languages after a “|”: English | French | Spanish | Arabic"),
        filters=[strip_edges],
        validators=[_choices_valid, Length(max=5000)],
    )
    required = BooleanField(_l("An answer is required"))
    position = StringField(_l("Order"), validators=[Optional()])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.kind.choices = [SelectChoice(kind.value, kind.label) for kind in QuestionKind]  # in the reader's language

    def translations(self) -> dict | None:
        found = {code: request.form.get(f"label_{code}", "").strip()[:300] for code in CONTENT_LANGUAGES}
        return {code: text for code, text in found.items() if text} or None

    def validate_position(self, field) -> None:
        if field.data and not (field.data.isascii() and field.data.isdigit() and int(field.data) < 10_000):
            raise ValidationError(gettext("Write the number with the digits 0-9."))


class RevokeLetterForm(FlaskForm):
    reason = TextAreaField(
        _l("Reason (optional)"),
        description=_l("Kept in the audit log for the secretariat; never shown on the verification page."),
        filters=[strip_edges],
        validators=[Length(max=REVOKE_REASON_MAX), _no_control_characters],
    )

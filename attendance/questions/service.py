"""The rules for a session's questions: checking and saving answers, the organiser's changes, the summary."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

import sqlalchemy as sa
from flask_babel import gettext, ngettext

from .. import audit
from ..dbutil import serialized_writes
from ..extensions import db
from ..i18n import LANGUAGES
from ..models import Answer, MeetingSession, Mode, Question, QuestionKind, Registration, RegistrationStatus, VisaLetter
from ..models.questions import CHOICE_SEPARATOR, VISA_QUESTION, YES
from ..text import has_control_characters
from .visa import withdraw_letter

ANSWER_MAX = 500
#: the languages of a choice line, in order: "Vegetarian | Végétarien | Vegetariano | نباتي"
CHOICE_LANGUAGES = list(LANGUAGES)


def questions_of(meeting: MeetingSession) -> list[Question]:
    return list(
        db.session.scalars(
            sa.select(Question).filter_by(session_id=meeting.id).order_by(Question.position, Question.id)
        )
    )


def asks(question: Question, mode: Mode | None) -> bool:
    """Whether a delegate attending in `mode` answers the question: the visa letter is for in-person delegates."""
    return question.kind is not QuestionKind.VISA_LETTER or mode is Mode.IN_PERSON


def clean_answers(
    questions: list[Question], submitted: dict[int, list[str]], mode: Mode | None, *, by_staff: bool = False
) -> tuple[dict[int, str], dict[int, str]]:
    """The answers to keep (question id -> stored value) and the reasons for refusing the others. A required
    question needs an answer from the delegate (staff registering someone may leave it); a choice must be one the
    question offers."""
    values: dict[int, str] = {}
    errors: dict[int, str] = {}
    for question in questions:
        if not asks(question, mode):
            continue
        given = [value.strip() for value in submitted.get(question.id, []) if value and value.strip()]
        if not given:
            if question.required and not by_staff:
                errors[question.id] = gettext("Answer this question.")
        elif question.kind is QuestionKind.TEXT:
            if len(given[0]) > ANSWER_MAX:
                errors[question.id] = gettext("Use at most %(count)d characters.", count=ANSWER_MAX)
            elif has_control_characters(given[0]):
                errors[question.id] = gettext("Remove the control characters from this field.")
            else:
                values[question.id] = given[0]
        else:
            offered = [key for key, _label in question.choice_pairs()]
            if any(value not in offered for value in given) or (
                len(given) > 1 and question.kind is not QuestionKind.SEVERAL_CHOICES
            ):
                errors[question.id] = gettext("Choose from the answers offered.")
            else:
                values[question.id] = CHOICE_SEPARATOR.join(key for key in offered if key in given)
    return values, errors


def answers_from_json(meeting: MeetingSession, given, mode: Mode | None) -> tuple[dict[int, str], dict[str, str]]:
    """Staff's answers sent to the API, {"<question id>": "answer" or ["key", ...]}: the values to store, and the
    reasons for refusing, keyed "answers" or "answers.<id>". Answers to another session's questions are refused."""
    if given is None:
        return {}, {}
    if not isinstance(given, dict):
        return {}, {"answers": "Must be an object: question id -> answer."}
    questions = questions_of(meeting)
    ids = {str(q.id): q.id for q in questions}
    foreign = sorted(str(key)[:20] for key in given if key not in ids)
    if foreign:
        return {}, {"answers": f"Not questions of this session: {', '.join(foreign[:10])}."}
    submitted = {}
    for key, value in given.items():
        keys = value if isinstance(value, list) else [value]
        if not all(isinstance(v, str) for v in keys):
            return {}, {f"answers.{key}": "An answer is a string (a choice's key), or a list of keys."}
        submitted[ids[key]] = keys
    values, errors = clean_answers(questions, submitted, mode, by_staff=True)
    return values, {f"answers.{question_id}": message for question_id, message in errors.items()}


class ForeignQuestion(ValueError):
    """An answer to a question that is not this session's: a forged form or a wrong API call."""


def add_answers(registration: Registration, values: dict[int, str]) -> None:
    """Adds a new registration's answers to the caller's transaction; refuses, adding none, any answer to a
    question of another session."""
    if not values:
        return
    questions = {q.id: q for q in db.session.scalars(sa.select(Question).where(Question.id.in_(list(values))))}
    foreign = [qid for qid in values if qid not in questions or questions[qid].session_id != registration.session_id]
    if foreign:
        raise ForeignQuestion(foreign)
    db.session.add_all(Answer(registration=registration, question_id=qid, value=value) for qid, value in values.items())


def answer_values(registration: Registration) -> dict[int, str]:
    """The registration's stored answers: question id -> value."""
    rows = db.session.execute(
        sa.select(Answer.question_id, Answer.value).where(Answer.registration_id == registration.id)
    )
    return {question_id: value for question_id, value in rows}


@dataclass
class SavedAnswers:
    #: the questions whose answer changed
    changed: list[Question]
    #: the visa letter revoked because the answer no longer asks for one
    withdrawn: VisaLetter | None = None


def replace_answers(
    registration: Registration, questions: list[Question], values: dict[int, str], *, by: str
) -> SavedAnswers:
    """Sets the registration's answers to the questions asked of it (those of `questions` that `asks` its mode) to
    `values`, checked by `clean_answers`: an answer given is stored, one left blank removed; answers to questions
    not asked stay. Audited, naming the questions changed. A visa answer changed to anything but yes withdraws the
    letter in force (`visa.withdraw_letter`). In the caller's transaction, under a lock on the registration: two
    organisers saving at once are saved one after the other, the second over the first's answers."""
    with serialized_writes():
        db.session.refresh(registration, with_for_update=True)
        asked = [question for question in questions if asks(question, registration.mode)]
        stored = {
            answer.question_id: answer
            for answer in db.session.scalars(
                sa.select(Answer).where(
                    Answer.registration_id == registration.id, Answer.question_id.in_([q.id for q in asked])
                )
            )
        }
        changed = []
        for question in asked:
            value, answer = values.get(question.id), stored.get(question.id)
            if value is None and answer is not None:
                db.session.delete(answer)
            elif value is not None and answer is None:
                db.session.add(Answer(registration=registration, question_id=question.id, value=value))
            elif value is not None and answer is not None and answer.value != value:
                answer.value = value
            else:
                continue
            changed.append(question)
        db.session.flush()
        audit.record(
            "registration.answers",
            session_id=registration.session_id,
            target=f"registration {registration.id}",
            details="changed: " + ", ".join(f"question {q.id}" for q in changed) if changed else "no change",
            actor=by,
        )
        withdrawn = None
        if any(q.kind is QuestionKind.VISA_LETTER and values.get(q.id) != YES for q in changed):
            withdrawn = withdraw_letter(registration, by=by)
    return SavedAnswers(changed, withdrawn)


def answers_of(registration: Registration) -> list[tuple[Question, str]]:
    """The registration's answers as (question, answer as the reader sees it), in the form's order."""
    rows = db.session.execute(
        sa.select(Question, Answer.value)
        .join(Answer, Answer.question_id == Question.id)
        .where(Answer.registration_id == registration.id)
        .order_by(Question.position, Question.id)
    ).all()
    return [(question, question.describe(value)) for question, value in rows]


def answers_by_registration(meeting: MeetingSession) -> dict[int, dict[int, str]]:
    """Every stored answer of the session: registration id -> question id -> value."""
    found: dict[int, dict[int, str]] = defaultdict(dict)
    for registration_id, question_id, value in db.session.execute(
        sa.select(Answer.registration_id, Answer.question_id, Answer.value)
        .join(Question)
        .where(Question.session_id == meeting.id)
    ):
        found[registration_id][question_id] = value
    return found


def answer_count(question: Question) -> int:
    return db.session.scalar(sa.select(sa.func.count(Answer.id)).where(Answer.question_id == question.id)) or 0


# The organiser's changes.


class QuestionRefused(Exception):
    """A change to a question that would lose answers or make no sense; `args[0]` says why, for the organiser."""


def parse_choices(text: str) -> list[dict]:
    """One choice a line, its labels separated by "|" in the order English, French, Spanish, Arabic."""
    choices = []
    for line in text.splitlines():
        labels = [part.strip() for part in line.split("|")]
        if not labels[0]:
            continue
        translations = {code: label for code, label in zip(CHOICE_LANGUAGES[1:], labels[1:]) if label}
        choices.append({"label": labels[0], "translations": translations})
    return choices


def choices_text(question: Question) -> str:
    """The choices as the organiser edits them (`parse_choices` reads it back)."""
    lines = []
    for choice in question.choices or []:
        labels = [choice["label"]] + [(choice.get("translations") or {}).get(code, "") for code in CHOICE_LANGUAGES[1:]]
        while labels and not labels[-1]:
            labels.pop()
        lines.append(" | ".join(labels))
    return "\n".join(lines)


def save_question(
    question: Question,
    *,
    kind: QuestionKind,
    label: str,
    translations: dict | None,
    choices: list[dict],
    required: bool,
    position: int,
) -> None:
    """Adds or changes a question, or raises QuestionRefused and changes nothing.

    Answers store a choice's key, so a choice keeps its answers when its labels change; it is matched by its
    English label, else by its place in the list. A choice that someone chose cannot be removed, nor can a
    question that has answers change kind: its answers would no longer mean anything.
    """
    if kind.has_choices and len(choices) < 2:
        raise QuestionRefused(gettext("Give at least two choices, one a line."))
    if kind is QuestionKind.VISA_LETTER and db.session.scalar(
        sa.select(Question.id)
        .where(
            Question.session_id == question.session.id,
            Question.kind == QuestionKind.VISA_LETTER,
            Question.id != question.id,
        )
        .limit(1)
    ):
        raise QuestionRefused(gettext("This session already asks the visa letter question."))
    if not kind.has_choices:
        choices = []
    if question.id is not None:
        if kind is not question.kind and answer_count(question):
            raise QuestionRefused(gettext("This question has answers, so its kind stays. Add a new question instead."))
        choices = _keep_keys(question, choices)
    else:
        choices = [dict(choice, key=f"c{n}") for n, choice in enumerate(choices, 1)]
    if kind is QuestionKind.VISA_LETTER:
        label, translations, required = VISA_QUESTION, None, False
    question.kind, question.label, question.translations = kind, label, translations
    question.choices, question.required, question.position = choices or None, required, position
    db.session.add(question)
    db.session.flush()


def _keep_keys(question: Question, choices: list[dict]) -> list[dict]:
    old = question.choices or []
    by_label = {c["label"].casefold(): c["key"] for c in old}
    taken = set()
    for place, choice in enumerate(choices):
        key = by_label.get(choice["label"].casefold())
        if (
            key is None
            and place < len(old)
            and old[place]["label"].casefold() not in {c["label"].casefold() for c in choices}
        ):
            key = old[place]["key"]  # the choice at this place was renamed
        choice["key"] = key if key and key not in taken else None
        taken.add(choice["key"])
    next_number = max([int(c["key"][1:]) for c in old] + [0]) + 1
    for choice in choices:
        if choice["key"] is None:
            choice["key"], next_number = f"c{next_number}", next_number + 1
    kept = {choice["key"] for choice in choices}
    for choice in old:
        if choice["key"] not in kept:
            chosen = _times_chosen(question.id, choice["key"])
            if chosen:
                raise QuestionRefused(
                    ngettext(
                        "“%(choice)s” was chosen %(num)d time, so it stays: rename it rather than remove it.",
                        "“%(choice)s” was chosen %(num)d times, so it stays: rename it rather than remove it.",
                        chosen,
                        choice=choice["label"],
                    )
                )
    return choices


def _times_chosen(question_id: int, key: str) -> int:
    values = db.session.scalars(sa.select(Answer.value).where(Answer.question_id == question_id))
    return sum(1 for value in values if key in value.split(CHOICE_SEPARATOR))


def delete_question(question: Question) -> None:
    """Deletes the question and its answers (the page asked first, telling how many)."""
    db.session.delete(question)  # its answers go by the database's ON DELETE CASCADE
    db.session.flush()


# The summary on the session's page.


@dataclass
class SummaryRow:
    label: str
    in_person: int = 0
    online: int = 0

    @property
    def total(self) -> int:
        return self.in_person + self.online


@dataclass
class QuestionSummary:
    question: Question
    #: a row per choice (or yes and no); for a text question, one row: how many answered
    rows: list[SummaryRow] = field(default_factory=list)


def summary(meeting: MeetingSession, questions: list[Question] | None = None) -> list[QuestionSummary]:
    """How registered delegates answered each question, in person and online: "12 vegetarian, 3 wheelchair
    access". Cancelled registrations do not count."""
    questions = questions_of(meeting) if questions is None else questions
    if not questions:
        return []
    counts = db.session.execute(
        sa.select(Answer.question_id, Answer.value, Registration.mode, sa.func.count())
        .join(Registration, Registration.id == Answer.registration_id)
        .where(Registration.session_id == meeting.id, Registration.status == RegistrationStatus.REGISTERED)
        .group_by(Answer.question_id, Answer.value, Registration.mode)
    ).all()
    found: dict[int, dict[str, SummaryRow]] = {}
    result = []
    for question in questions:
        if question.kind is QuestionKind.TEXT:
            rows = {"": SummaryRow(gettext("Answered"))}
        else:
            rows = {key: SummaryRow(label) for key, label in question.choice_pairs()}
        found[question.id] = rows
        result.append(QuestionSummary(question, list(rows.values())))
    for question_id, value, mode, count in counts:
        rows = found.get(question_id, {})
        keys = [""] if "" in rows else value.split(CHOICE_SEPARATOR)
        for key in keys:
            if key in rows:
                row = rows[key]
                if mode is Mode.IN_PERSON:
                    row.in_person += count
                else:
                    row.online += count
    return result

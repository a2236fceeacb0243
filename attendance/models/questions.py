"""Questions an organiser adds to a session's registration form, the delegates' answers, and visa letters."""

from __future__ import annotations

import enum
from datetime import datetime

import sqlalchemy as sa
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import Model
from .certificate import new_certificate_id
from .meeting import MeetingSession, _translated, utcnow
from .registration import Registration, _enum


class QuestionKind(enum.StrEnum):
    TEXT = "text"
    ONE_CHOICE = "one_choice"
    SEVERAL_CHOICES = "several_choices"
    YES_NO = "yes_no"
    #: built in: the yes/no question "I need a visa support letter", asked of in-person delegates only
    VISA_LETTER = "visa_letter"

    @property
    def label(self) -> str:
        return str(_KIND_LABELS[self])

    @property
    def has_choices(self) -> bool:
        return self in (QuestionKind.ONE_CHOICE, QuestionKind.SEVERAL_CHOICES)


_KIND_LABELS = {
    QuestionKind.TEXT: _l("Short text"),
    QuestionKind.ONE_CHOICE: _l("One choice"),
    QuestionKind.SEVERAL_CHOICES: _l("Several choices"),
    QuestionKind.YES_NO: _l("Yes or no"),
    QuestionKind.VISA_LETTER: _l("Visa support letter (yes or no, in person only)"),
}

YES, NO = "yes", "no"


def N_(message: str) -> str:
    """Marks `message` for the catalogues (pybabel extracts N_ by default) and leaves it in English."""
    return message


#: the built-in visa question as the delegate reads it, on their form and their page: stored in English as the
#: question's label, read in the reader's language
VISA_QUESTION = N_("I need a visa support letter to attend in person")
#: the same question as staff read it, about the delegate: the organiser's answers form and registration page
VISA_QUESTION_FOR_STAFF = N_("Needs a visa support letter to attend in person")
#: how the keys of several choices are stored in one answer's value
CHOICE_SEPARATOR = "\n"


class Question(Model):
    __tablename__ = "registration_questions"

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(sa.ForeignKey("meeting_sessions.id", ondelete="CASCADE"), index=True)
    #: order on the form
    position: Mapped[int] = mapped_column(default=0)
    kind: Mapped[QuestionKind] = mapped_column(_enum(QuestionKind, "question_kind"))
    #: in the session's default language (English); `translations` holds {"fr": "..."}
    label: Mapped[str] = mapped_column(sa.String(300))
    translations: Mapped[dict | None] = mapped_column(sa.JSON)
    #: [{"key": "c1", "label": "Vegetarian", "translations": {"fr": "Végétarien"}}, ...]: answers store the key, so
    #: that a choice renamed keeps its answers
    choices: Mapped[list | None] = mapped_column(sa.JSON)
    required: Mapped[bool] = mapped_column(default=False)

    session: Mapped[MeetingSession] = relationship()

    def label_in(self, language: str | None = None) -> str:
        if self.kind is QuestionKind.VISA_LETTER:
            return gettext(VISA_QUESTION)
        return _translated(self.label, self.translations, language)

    @property
    def local_label(self) -> str:
        return self.label_in()

    @property
    def label_for_staff(self) -> str:
        """The question as staff read it, about the delegate: the visa question in its own words, others as the
        organiser wrote them."""
        if self.kind is QuestionKind.VISA_LETTER:
            return gettext(VISA_QUESTION_FOR_STAFF)
        return self.local_label

    def choice_pairs(self, language: str | None = None) -> list[tuple[str, str]]:
        """(key, label in `language`) for each answer the question offers."""
        if self.kind in (QuestionKind.YES_NO, QuestionKind.VISA_LETTER):
            return [(YES, gettext("Yes")), (NO, gettext("No"))]
        return [(c["key"], _translated(c["label"], c.get("translations"), language)) for c in self.choices or []]

    def describe(self, value: str, language: str | None = None) -> str:
        """An answer as a reader sees it: the labels of the chosen keys, or the text as typed."""
        if self.kind is QuestionKind.TEXT:
            return value
        labels = dict(self.choice_pairs(language))
        return ", ".join(labels.get(key, key) for key in value.split(CHOICE_SEPARATOR) if key)


class Answer(Model):
    __tablename__ = "registration_answers"
    __table_args__ = (sa.UniqueConstraint("registration_id", "question_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    registration_id: Mapped[int] = mapped_column(sa.ForeignKey("registrations.id", ondelete="CASCADE"), index=True)
    question_id: Mapped[int] = mapped_column(sa.ForeignKey("registration_questions.id", ondelete="CASCADE"), index=True)
    #: the text typed, a choice's key, "yes"/"no", or several keys one per line
    value: Mapped[str] = mapped_column(sa.Text)

    question: Mapped[Question] = relationship()
    registration: Mapped[Registration] = relationship()


class VisaLetter(Model):
    """A visa support letter issued to an in-person delegate; verifiable at /verify/<public_id> like a certificate.
    A delegate has at most one letter in force; the revoked ones stay, so that their verification page says so."""

    __tablename__ = "visa_letters"
    __table_args__ = (
        sa.Index(
            "uq_visa_letters_registration_id_in_force",
            "registration_id",
            unique=True,
            sqlite_where=sa.text("revoked_at IS NULL"),
            postgresql_where=sa.text("revoked_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    registration_id: Mapped[int] = mapped_column(sa.ForeignKey("registrations.id", ondelete="CASCADE"), index=True)
    public_id: Mapped[str] = mapped_column(sa.String(32), unique=True, default=new_certificate_id)
    issued_at: Mapped[datetime] = mapped_column(default=utcnow)
    issued_by: Mapped[str] = mapped_column(sa.String(254), default="")
    #: revoked by an organiser: its verification page says so, and the delegate can no longer download it
    revoked_at: Mapped[datetime | None]
    #: the organiser's reason, internal: never on the public verification page
    revoke_reason: Mapped[str] = mapped_column(sa.String(500), default="")
    revoked_by: Mapped[str] = mapped_column(sa.String(254), default="")
    #: revoked because the delegate's answer stopped asking for a letter, not by an organiser's decision: when they
    #: ask again, a new letter (with a new id) may be issued
    withdrawn: Mapped[bool] = mapped_column(default=False)

    registration: Mapped[Registration] = relationship()

    @property
    def is_revoked(self) -> bool:
        return self.revoked_at is not None

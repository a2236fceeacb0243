"""Organisers' pages for a session's questions and visa letters; the delegate's own letter."""

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext, ngettext
from flask_login import current_user

from .. import audit
from ..auth import organiser_required
from ..extensions import db
from ..lookup import in_session_or_404, managed_session_or_404, registration_by_key_or_404
from ..models import Question, QuestionKind, Registration
from . import bp
from .forms import CONTENT_LANGUAGES, QuestionForm, RevokeLetterForm, answers_form
from .service import (
    QuestionRefused,
    answer_count,
    choices_text,
    delete_question,
    parse_choices,
    questions_of,
    replace_answers,
    save_question,
    summary,
)
from .visa import (
    NotIssuable,
    issue_letter,
    letter_of,
    refusal,
    revoke_letter,
    visa_letter_pdf,
    visa_question,
    visa_requests,
    why_unusable,
)


@bp.route("/sessions/<slug>/questions", methods=["GET", "POST"])
@organiser_required
def questions(slug: str):
    """The session's questions, what delegates answered, and the form to add one."""
    meeting = managed_session_or_404(slug)
    form = QuestionForm()
    if request.method == "GET":
        form.position.data = str(len(questions_of(meeting)))
    elif _saved(form, Question(session=meeting)):
        return redirect(url_for("questions.questions", slug=slug))
    return render_template(
        "questions/questions.html",
        meeting=meeting,
        questions=questions_of(meeting),
        form=form,
        summary=summary(meeting),
        content_languages=CONTENT_LANGUAGES,
    ), 400 if request.method == "POST" else 200


def _question_or_404(slug: str, question_id: int) -> Question:
    meeting = managed_session_or_404(slug)
    return in_session_or_404(Question, question_id, meeting)


@bp.route("/sessions/<slug>/questions/<int:question_id>", methods=["GET", "POST"])
@organiser_required
def edit_question(slug: str, question_id: int):
    question = _question_or_404(slug, question_id)
    form = QuestionForm(
        data={
            "kind": question.kind.value,
            "label": question.label,
            "required": question.required,
            "choices": choices_text(question),
            "position": str(question.position),
        }
    )
    if request.method == "POST" and _saved(form, question):
        return redirect(url_for("questions.questions", slug=slug))
    return render_template(
        "questions/edit.html",
        meeting=question.session,
        question=question,
        form=form,
        answers=answer_count(question),
        content_languages=CONTENT_LANGUAGES,
    ), 400 if request.method == "POST" else 200


def _saved(form: QuestionForm, question: Question) -> bool:
    """Saves the form's question, audited; False (with the reasons on the form) when it was refused."""
    if not form.validate_on_submit():
        return False
    is_new = question.id is None
    try:
        audit.record(
            "questions.save",
            session_id=question.session.id,
            target=form.label.data,
            details="added" if is_new else f"question {question.id}",
        )
        save_question(
            question,
            kind=QuestionKind(form.kind.data),
            label=form.label.data or "",
            translations=form.translations(),
            choices=parse_choices(form.choices.data or ""),
            required=form.required.data,
            position=int(form.position.data or 0),
        )
    except QuestionRefused as refused:
        db.session.rollback()
        form.form_errors.append(refused.args[0])
        return False
    flash(gettext("Question added.") if is_new else gettext("Question saved."))
    return True


@bp.post("/sessions/<slug>/questions/<int:question_id>/delete")
@organiser_required
def remove_question(slug: str, question_id: int):
    """Deletes a question; one with answers only once the organiser confirms that its answers go too."""
    question = _question_or_404(slug, question_id)
    answers = answer_count(question)
    if answers and request.form.get("confirm") != "yes":
        flash(
            ngettext(
                "Nothing was deleted: tick the box to confirm that its %(num)d answer goes too.",
                "Nothing was deleted: tick the box to confirm that its %(num)d answers go too.",
                answers,
            ),
            "warning",
        )
        return redirect(url_for("questions.edit_question", slug=slug, question_id=question_id))
    audit.record(
        "questions.delete",
        session_id=question.session_id,
        target=question.label,
        details=f"question {question.id}, {answers} answers",
    )
    delete_question(question)
    flash(gettext("Question deleted."))
    return redirect(url_for("questions.questions", slug=slug))


@bp.route("/sessions/<slug>/registrations/<int:registration_id>/answers", methods=["GET", "POST"])
@organiser_required
def edit_answers(slug: str, registration_id: int):
    """The organiser corrects a delegate's answers, checked as the delegate's form checks them; audited."""
    registration = _registration_or_404(slug, registration_id)
    meeting = registration.session
    back = url_for("organiser.edit_registration", slug=slug, registration_id=registration_id, _anchor="answers")
    if meeting.purged_at is not None:
        flash(gettext("This session's personal data was deleted."), "warning")
        return redirect(back)
    questions = questions_of(meeting)
    form = answers_form(registration, questions)
    if form.validate_on_submit():
        saved = replace_answers(registration, questions, form.answers(), by=current_user.email)
        flash(gettext("Answers saved. The delegate's page shows them."))
        if saved.withdrawn is not None:
            flash(
                gettext(
                    "Visa letter %(id)s revoked: the delegate no longer asks for one. If they ask again, a new "
                    "letter can be issued.",
                    id=saved.withdrawn.public_id,
                )
            )
        return redirect(back)
    return render_template(
        "questions/answers.html", meeting=meeting, registration=registration, form=form
    ), 400 if request.method == "POST" else 200


@bp.get("/sessions/<slug>/visa-letters")
@organiser_required
def visa_letters(slug: str):
    meeting = managed_session_or_404(slug)
    return render_template(
        "questions/visa_letters.html",
        meeting=meeting,
        asked=visa_question(meeting) is not None,
        rows=[(r, letter, refusal(r)) for r, letter in visa_requests(meeting)],
    )


def _registration_or_404(slug: str, registration_id: int) -> Registration:
    meeting = managed_session_or_404(slug)
    return in_session_or_404(Registration, registration_id, meeting)


@bp.post("/sessions/<slug>/visa-letters/<int:registration_id>")
@organiser_required
def issue_visa_letter(slug: str, registration_id: int):
    registration = _registration_or_404(slug, registration_id)
    try:
        letter = issue_letter(registration, by=current_user.email)
    except NotIssuable as refused:
        flash(gettext("No letter was issued: %(reason)s", reason=refused.args[0]), "warning")
    else:
        flash(
            gettext("Visa letter %(id)s issued. The delegate can download it from their own page.", id=letter.public_id)
        )
    return redirect(url_for("questions.visa_letters", slug=slug))


@bp.route("/sessions/<slug>/visa-letters/<int:registration_id>/revoke", methods=["GET", "POST"])
@organiser_required
def revoke_visa_letter(slug: str, registration_id: int):
    """Asks first (with an optional internal reason), then revokes the delegate's letter."""
    registration = _registration_or_404(slug, registration_id)
    letter = letter_of(registration)
    if letter is None:
        abort(404)
    if letter.is_revoked:
        flash(gettext("Visa letter %(id)s is already revoked.", id=letter.public_id))
        return redirect(url_for("questions.visa_letters", slug=slug))
    form = RevokeLetterForm()
    if form.validate_on_submit():
        revoke_letter(letter, reason=form.reason.data or "", by=current_user.email)
        flash(
            gettext(
                "Visa letter %(id)s revoked: its verification page says so, and the delegate can no longer "
                "download it.",
                id=letter.public_id,
            )
        )
        return redirect(url_for("questions.visa_letters", slug=slug))
    return render_template(
        "questions/confirm_revoke_letter.html",
        meeting=registration.session,
        registration=registration,
        letter=letter,
        form=form,
    ), 400 if request.method == "POST" else 200


@bp.get("/sessions/<slug>/visa-letters/<int:registration_id>.pdf")
@organiser_required
def organiser_visa_letter(slug: str, registration_id: int):
    letter = letter_of(_registration_or_404(slug, registration_id))
    if letter is None:
        abort(404)
    return _pdf(letter)


@bp.get("/me/<access_key>/visa-letter.pdf")
def my_visa_letter(access_key: str):
    registration = registration_by_key_or_404(access_key)
    letter = letter_of(registration)
    if letter is None:
        abort(404, gettext("The secretariat has not issued a visa letter for you (yet)."))
    unusable = why_unusable(letter)  # what its verification page says, as the delegate's page offers it
    if unusable is not None:
        abort(403, unusable[1])
    return _pdf(letter)


def _pdf(letter):
    return (
        visa_letter_pdf(letter),
        200,
        {
            "Content-Type": "application/pdf",
            "Content-Disposition": f'inline; filename="visa-letter-{letter.public_id}.pdf"',
        },
    )

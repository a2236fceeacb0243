"""Custom registration questions: the form asks them, the server checks them, organisers see and export the
answers, the delegate downloads them, the purge clears them; and visa support letters."""

import csv
import io
import re
from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy as sa
from helpers import csrf_token, registration_form
from openpyxl import load_workbook
from pdf_tools import pdf_text, qr_codes

from attendance.extensions import db
from attendance.models import Answer, AuditEvent, Mode, Question, QuestionKind, Registration, RegistrationStatus
from attendance.privacy import purge_session
from attendance.questions.service import (
    ForeignQuestion,
    QuestionRefused,
    clean_answers,
    parse_choices,
    save_question,
    summary,
)
from attendance.questions.visa import issue_letter
from attendance.registration.service import Delegate, register


def add_question(
    meeting,
    kind=QuestionKind.ONE_CHOICE,
    label="Meal",
    choices="Vegetarian | Végétarien\nAny | Tout",
    required=False,
    translations=None,
    position=0,
) -> Question:
    question = Question(session=meeting)
    save_question(
        question,
        kind=kind,
        label=label,
        translations=translations,
        choices=parse_choices(choices),
        required=required,
        position=position,
    )
    return question


@pytest.fixture
def meeting_with_questions(make_session):
    meeting = make_session()
    add_question(meeting, translations={"fr": "Repas"}, required=True)
    add_question(
        meeting,
        QuestionKind.SEVERAL_CHOICES,
        "Access needs",
        "Wheelchair access | Accès en fauteuil\nSign language | Langue des signes",
        position=1,
    )
    add_question(meeting, QuestionKind.YES_NO, "First time at this meeting?", "", position=2)
    add_question(meeting, QuestionKind.TEXT, "Dietary details", "", position=3)
    add_question(meeting, QuestionKind.VISA_LETTER, "", "", position=4)
    return meeting


def questions(meeting) -> dict[str, Question]:
    return {q.label: q for q in db.session.scalars(sa.select(Question).filter_by(session_id=meeting.id))}


def post(client, meeting, headers=None, **answers):
    url = f"/sessions/{meeting.slug}/register"
    data = registration_form(meeting, csrf_token=csrf_token(client, url))
    data.update(answers)
    return client.post(url, data=data, headers=headers or {})


def field(question: Question) -> str:
    return f"question_{question.id}"


def test_the_form_asks_the_questions_in_the_delegates_language(client, meeting_with_questions):
    html = client.get(f"/sessions/{meeting_with_questions.slug}/register", headers={"Accept-Language": "fr"}).get_data(
        as_text=True
    )
    assert "Repas" in html and "Végétarien" in html and "Accès en fauteuil" in html
    assert "Access needs" in html  # no French label given: the English one
    assert "lettre" in html.lower()  # the built-in visa question, translated
    assert 'type="checkbox"' in html


def test_answers_are_saved_with_the_registration(client, meeting_with_questions):
    q = questions(meeting_with_questions)
    response = post(
        client,
        meeting_with_questions,
        **{
            field(q["Meal"]): "c1",
            field(q["Access needs"]): ["c1", "c2"],
            field(q["First time at this meeting?"]): "yes",
            field(q["Dietary details"]): "No nuts, please",
        },
    )
    assert response.status_code == 302
    registration = db.session.scalar(sa.select(Registration))
    stored = {a.question.label: a.value for a in db.session.scalars(sa.select(Answer))}
    assert stored == {
        "Meal": "c1",
        "Access needs": "c1\nc2",
        "First time at this meeting?": "yes",
        "Dietary details": "No nuts, please",
    }
    assert registration.full_name == "Amélie Dubois"


def test_a_text_answer_pasted_with_invisible_characters_is_stored_without_them(client, meeting_with_questions):
    """The same filter as the form's name: a zero-width space or a direction mark pasted around an answer is no
    part of it (a plain strip() keeps them)."""
    q = questions(meeting_with_questions)
    response = post(
        client,
        meeting_with_questions,
        **{field(q["Meal"]): "c1", field(q["Dietary details"]): "\u200b\u200fNo nuts, please\u200e\ufeff"},
    )
    assert response.status_code == 302
    answer = db.session.scalar(sa.select(Answer).filter_by(question_id=q["Dietary details"].id))
    assert answer.value == "No nuts, please"


@pytest.mark.parametrize(
    "answers, message",
    [
        ({}, "Answer this question."),
        ({"Meal": "c9"}, "Choose from the answers offered."),
        ({"Meal": "c1", "Access needs": ["c1", "nope"]}, "Choose from the answers offered."),
    ],
)
def test_a_missing_or_unknown_answer_is_refused_and_nothing_saved(client, meeting_with_questions, answers, message):
    q = questions(meeting_with_questions)
    response = post(client, meeting_with_questions, **{field(q[label]): value for label, value in answers.items()})
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count(Registration.id))) == 0
    assert db.session.scalar(sa.select(sa.func.count(Answer.id))) == 0


def test_an_answer_to_another_sessions_question_is_refused_and_nothing_saved(
    client, make_session, meeting_with_questions
):
    other = make_session()
    foreign = add_question(other, label="Other session's question")
    q = questions(meeting_with_questions)
    response = post(client, meeting_with_questions, **{field(q["Meal"]): "c1", field(foreign): "c1"})
    assert response.status_code == 400
    assert "questions that this session does not ask" in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count(Registration.id))) == 0
    assert db.session.scalar(sa.select(sa.func.count(Answer.id))) == 0


def test_the_service_refuses_another_sessions_question_and_keeps_nothing(make_session, meeting_with_questions):
    foreign = add_question(make_session(), label="Elsewhere")
    meeting = meeting_with_questions
    delegate = Delegate(
        full_name="Kofi Mensah",
        email="kofi@example.org",
        organisation="RTC",
        country="GH",
        entity_type_id=meeting.entity_types[0].id,
        region_id=meeting.regions[0].id,
        mode=Mode.IN_PERSON,
    )
    with pytest.raises(ForeignQuestion):
        register(meeting, delegate, {questions(meeting)["Meal"].id: "c1", foreign.id: "c1"})
    assert db.session.scalar(sa.select(sa.func.count(Registration.id))) == 0
    assert db.session.scalar(sa.select(sa.func.count(Answer.id))) == 0


def test_the_visa_question_is_only_for_delegates_attending_in_person(meeting_with_questions):
    q = questions(meeting_with_questions)
    visa, meal = q["I need a visa support letter to attend in person"], q["Meal"]
    values, errors = clean_answers(list(q.values()), {visa.id: ["yes"], meal.id: ["c2"]}, Mode.ONLINE)
    assert values == {meal.id: "c2"} and errors == {}
    values, _ = clean_answers(list(q.values()), {visa.id: ["yes"], meal.id: ["c2"]}, Mode.IN_PERSON)
    assert values[visa.id] == "yes"


def test_answers_on_the_registration_page_and_in_the_export(client, login, meeting_with_questions):
    q = questions(meeting_with_questions)
    post(
        client,
        meeting_with_questions,
        **{field(q["Meal"]): "c1", field(q["Access needs"]): ["c2"], field(q["Dietary details"]): "=1+1"},
    )
    login()
    registration = db.session.scalar(sa.select(Registration))
    page = client.get(f"/sessions/{meeting_with_questions.slug}/registrations/{registration.id}").get_data(as_text=True)
    assert "Vegetarian" in page and "Sign language" in page
    text = client.get(f"/sessions/{meeting_with_questions.slug}/registrations.csv").get_data(as_text=True)
    rows = list(csv.DictReader(io.StringIO(text.lstrip("\ufeff"))))
    assert rows[0]["Meal"] == "Vegetarian" and rows[0]["Access needs"] == "Sign language"
    assert rows[0]["Dietary details"] == "'=1+1"  # formula-escaped, as every cell
    assert rows[0]["First time at this meeting?"] == ""
    workbook = load_workbook(io.BytesIO(client.get(f"/sessions/{meeting_with_questions.slug}/registrations.xlsx").data))
    header, first = list(workbook.active.values)[:2]
    answers = dict(zip(header, first))
    assert answers["Meal"] == "Vegetarian" and answers["Dietary details"] == "=1+1"  # kept as text, not a formula
    assert workbook.active.cell(2, header.index("Dietary details") + 1).data_type == "s"


def test_the_delegate_downloads_their_answers_and_the_purge_clears_them(app, client, make_session):
    meeting = make_session(first_day=date.today() - timedelta(days=200))
    meeting.registration_opens_at = meeting.registration_closes_at = None
    db.session.commit()
    meal = add_question(meeting)
    delegate = Delegate(
        full_name="Ana Souza",
        email="ana@example.org",
        organisation="RILO",
        country="BR",
        entity_type_id=meeting.entity_types[0].id,
        region_id=meeting.regions[0].id,
        mode=Mode.ONLINE,
    )
    with app.test_request_context():  # register() checks the window: the session is past, so add directly
        registration = Registration(session=meeting, **vars(delegate))
        db.session.add(registration)
        db.session.add(Answer(registration=registration, question=meal, value="c1"))
        db.session.commit()
    data = client.get(f"/me/{registration.access_key}/data.json").get_json()
    assert data["answers"] == [{"question": "Meal", "answer": "Vegetarian"}]
    purge_session(meeting, 90)
    assert db.session.scalar(sa.select(sa.func.count(Answer.id))) == 0
    assert db.session.get(Question, meal.id) is not None  # the questions stay; the answers went


# The organiser corrects a delegate's answers.


def stored_answers(registration) -> dict[str, str]:
    db.session.expire_all()
    return {
        a.question.label: a.value
        for a in db.session.scalars(sa.select(Answer).filter_by(registration_id=registration.id))
    }


def test_an_organiser_edits_a_delegates_answers_and_the_delegate_sees_them(client, login, meeting_with_questions):
    meeting, q = meeting_with_questions, questions(meeting_with_questions)
    visa = q["I need a visa support letter to attend in person"]
    post(
        client,
        meeting,
        **{field(q["Meal"]): "c1", field(q["Dietary details"]): "No nuts", field(visa): "yes", "mode": "in_person"},
    )
    registration = db.session.scalar(sa.select(Registration))
    login()
    page = client.get(f"/sessions/{meeting.slug}/registrations/{registration.id}").get_data(as_text=True)
    url = f"/sessions/{meeting.slug}/registrations/{registration.id}/answers"
    assert f'href="{url}"' in page
    form = client.get(url).get_data(as_text=True)
    assert re.search(rf'name="{field(q["Meal"])}"[^>]*value="c1"[^>]*checked|checked[^>]*value="c1"', form)
    assert 'value="No nuts"' in form

    response = client.post(
        url,
        data={
            field(q["Meal"]): "c2",
            field(q["Access needs"]): ["c1", "c2"],
            field(q["First time at this meeting?"]): "no",
            field(q["Dietary details"]): "",  # left blank: the answer goes
            field(visa): "no",
            "csrf_token": csrf_token(client, url),
        },
    )
    assert response.status_code == 302 and response.headers["Location"].endswith("#answers")
    assert stored_answers(registration) == {
        "Meal": "c2",
        "Access needs": "c1\nc2",
        "First time at this meeting?": "no",
        "I need a visa support letter to attend in person": "no",
    }
    event = db.session.scalar(sa.select(AuditEvent).filter_by(action="registration.answers"))
    assert event.target == f"registration {registration.id}"
    changed = [q["Meal"], q["Access needs"], q["First time at this meeting?"], q["Dietary details"], visa]
    assert event.details == "changed: " + ", ".join(f"question {question.id}" for question in changed)

    mine = client.get(f"/me/{registration.access_key}", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "Your answers" in mine and "<bdi>Any</bdi>" in mine and "<bdi>Wheelchair access, Sign language</bdi>" in mine
    assert "No nuts" not in mine


@pytest.mark.parametrize(
    "answers, message",
    [
        ({"Meal": ""}, "Answer this question."),  # required, as on the delegate's form
        ({"Meal": "c9"}, "Choose from the answers offered."),
        ({"Meal": "c1", "Access needs": ["c1", "nope"]}, "Choose from the answers offered."),
        ({"Meal": "c1", "Dietary details": "x" * 501}, "Use at most 500 characters."),
        ({"Meal": "c1", "Dietary details": "a\x07b"}, "Remove the control characters from this field."),
        ({"Meal": "c1", "Elsewhere": "c1"}, "questions that this session does not ask"),
    ],
)
def test_an_organisers_wrong_answer_is_refused_and_nothing_changes(
    client, login, make_session, meeting_with_questions, answers, message
):
    meeting, q = meeting_with_questions, questions(meeting_with_questions)
    q["Elsewhere"] = add_question(make_session(), label="Elsewhere")
    post(client, meeting, **{field(q["Meal"]): "c1", field(q["Dietary details"]): "No nuts"})
    registration = db.session.scalar(sa.select(Registration))
    before = stored_answers(registration)
    login()
    url = f"/sessions/{meeting.slug}/registrations/{registration.id}/answers"
    data = {field(q[label]): value for label, value in answers.items()}
    response = client.post(url, data=data | {"csrf_token": csrf_token(client, url)})
    assert response.status_code == 400 and message in response.get_data(as_text=True)
    assert stored_answers(registration) == before
    assert db.session.scalar(sa.select(AuditEvent).filter_by(action="registration.answers")) is None


def test_an_online_delegate_is_not_asked_the_visa_question_and_keeps_its_answer(client, login, meeting_with_questions):
    meeting, q = meeting_with_questions, questions(meeting_with_questions)
    visa = q["I need a visa support letter to attend in person"]
    post(client, meeting, **{field(q["Meal"]): "c1", field(visa): "yes", "mode": "in_person"})
    registration = db.session.scalar(sa.select(Registration))
    registration.mode = Mode.ONLINE  # moved online by the organiser since
    db.session.commit()
    login()
    url = f"/sessions/{meeting.slug}/registrations/{registration.id}/answers"
    assert field(visa) not in client.get(url).get_data(as_text=True)
    response = client.post(url, data={field(q["Meal"]): "c2", "csrf_token": csrf_token(client, url)})
    assert response.status_code == 302
    assert stored_answers(registration) == {"Meal": "c2", "I need a visa support letter to attend in person": "yes"}


def test_the_answers_of_a_purged_session_cannot_be_edited(client, login, meeting_with_questions):
    meeting, q = meeting_with_questions, questions(meeting_with_questions)
    post(client, meeting, **{field(q["Meal"]): "c1"})
    registration = db.session.scalar(sa.select(Registration))
    meeting.purged_at = datetime.now(UTC)
    db.session.commit()
    login()
    url = f"/sessions/{meeting.slug}/registrations/{registration.id}/answers"
    token = csrf_token(client, f"/sessions/{meeting.slug}/questions")
    response = client.post(url, data={field(q["Meal"]): "c2", "csrf_token": token}, follow_redirects=True)
    assert "personal data was deleted" in response.get_data(as_text=True)
    assert stored_answers(registration) == {"Meal": "c1"}


def test_summary_counts_registered_delegates_in_person_and_online(make_session, make_registration):
    meeting = make_session()
    meal = add_question(meeting)
    access = add_question(meeting, QuestionKind.SEVERAL_CHOICES, "Access", "Wheelchair\nSign language")
    text = add_question(meeting, QuestionKind.TEXT, "Notes", "")
    for mode, meal_key, access_value, status in [
        (Mode.IN_PERSON, "c1", "c1", RegistrationStatus.REGISTERED),
        (Mode.IN_PERSON, "c1", "c1\nc2", RegistrationStatus.REGISTERED),
        (Mode.ONLINE, "c1", None, RegistrationStatus.REGISTERED),
        (Mode.IN_PERSON, "c2", "c2", RegistrationStatus.REGISTERED),
        (Mode.IN_PERSON, "c1", "c1", RegistrationStatus.CANCELLED),
    ]:
        registration = make_registration(meeting, mode=mode, status=status)
        db.session.add(Answer(registration=registration, question=meal, value=meal_key))
        if access_value:
            db.session.add(Answer(registration=registration, question=access, value=access_value))
            db.session.add(Answer(registration=registration, question=text, value="something"))
    db.session.commit()
    result = {s.question.label: {row.label: (row.in_person, row.online) for row in s.rows} for s in summary(meeting)}
    assert result["Meal"] == {"Vegetarian": (2, 1), "Any": (1, 0)}
    assert result["Access"] == {"Wheelchair": (2, 0), "Sign language": (2, 0)}
    assert result["Notes"] == {"Answered": (3, 0)}


def test_the_summary_is_on_the_sessions_page(client, login, meeting_with_questions, make_registration):
    meal = questions(meeting_with_questions)["Meal"]
    for _ in range(3):
        db.session.add(Answer(registration=make_registration(meeting_with_questions), question=meal, value="c1"))
    db.session.commit()
    login()
    html = client.get(f"/sessions/{meeting_with_questions.slug}/registrations").get_data(as_text=True)
    table = html[html.index("Answers to the questions") :]
    assert re.search(r"Vegetarian</th><td class=\"num\">3</td>", table.replace("<bdi>", "").replace("</bdi>", ""))


def test_a_chosen_choice_stays_and_a_renamed_one_keeps_its_answers(make_session, make_registration):
    meeting = make_session()
    meal = add_question(meeting)
    db.session.add(Answer(registration=make_registration(meeting), question=meal, value="c1"))
    db.session.commit()
    with pytest.raises(QuestionRefused, match="Vegetarian"):
        save_question(
            meal,
            kind=meal.kind,
            label="Meal",
            translations=None,
            choices=parse_choices("Any\nFish"),
            required=False,
            position=0,
        )
    db.session.rollback()
    save_question(
        meal,
        kind=meal.kind,
        label="Meal",
        translations=None,
        choices=parse_choices("Vegetarian (no fish)\nAny\nHalal"),
        required=False,
        position=0,
    )
    assert [c["key"] for c in meal.choices] == ["c1", "c2", "c3"]
    assert meal.describe("c1") == "Vegetarian (no fish)"
    with pytest.raises(QuestionRefused):
        save_question(
            meal, kind=QuestionKind.TEXT, label="Meal", translations=None, choices=[], required=False, position=0
        )


def test_organiser_adds_edits_and_deletes_a_question(client, login, make_session):
    meeting = make_session()
    login()
    url = f"/sessions/{meeting.slug}/questions"
    token = csrf_token(client, url)
    refused = client.post(url, data={"csrf_token": token, "kind": "one_choice", "label": "Meal", "choices": "Only one"})
    assert refused.status_code == 400 and "at least two choices" in refused.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count(Question.id))) == 0
    added = client.post(
        url,
        data={
            "csrf_token": token,
            "kind": "one_choice",
            "label": "Meal",
            "label_fr": "Repas",
            "choices": "Vegetarian | Végétarien\nAny",
            "required": "y",
            "position": "0",
        },
    )
    assert added.status_code == 302
    question = db.session.scalar(sa.select(Question))
    assert question.translations == {"fr": "Repas"} and question.required
    assert question.choice_pairs("fr") == [("c1", "Végétarien"), ("c2", "Any")]
    assert "Meal" in client.get(f"/sessions/{meeting.slug}/register").get_data(as_text=True)
    client.post(f"{url}/{question.id}/delete", data={"csrf_token": token})
    assert db.session.scalar(sa.select(sa.func.count(Question.id))) == 0
    actions = db.session.scalars(sa.select(AuditEvent.action).order_by(AuditEvent.id)).all()
    assert actions == ["questions.save", "questions.delete"]


# Visa support letters.


def read_in_english(client, url: str):
    """A page of a delegate who registered in French, read on a browser whose switcher chose English (their own
    pages speak French otherwise)."""
    client.set_cookie("lang", "en")
    try:
        return client.get(url)
    finally:
        client.delete_cookie("lang")


def register_for_visa(client, meeting, mode="in_person", email="kofi@example.org", name="Kofi Mensah"):
    visa = questions(meeting)["I need a visa support letter to attend in person"]
    meal = questions(meeting)["Meal"]
    response = post(
        client,
        meeting,
        headers={"Accept-Language": "fr"},
        **{field(meal): "c1", field(visa): "yes", "mode": mode, "email": email, "full_name": name, "country": "GH"},
    )
    assert response.status_code == 302
    return db.session.scalar(sa.select(Registration).filter_by(email=email))


def test_organiser_issues_a_visa_letter_that_the_delegate_downloads_and_anyone_verifies(
    app, client, login, meeting_with_questions
):
    meeting = meeting_with_questions
    meeting.chair_name, meeting.chair_title = "Dr Amina Yusuf", "Director, ROCB West and Central Africa"
    meeting.secretariat_email = "secretariat@example.org"
    db.session.commit()
    delegate = register_for_visa(client, meeting)
    online = register_for_visa(client, meeting, mode="online", email="online@example.org", name="Online Person")
    assert client.get(f"/me/{delegate.access_key}/visa-letter.pdf").status_code == 404  # not issued yet
    login()
    page = client.get(f"/sessions/{meeting.slug}/visa-letters").get_data(as_text=True)
    assert "Kofi Mensah" in page and "Online Person" not in page  # online delegates are not asked
    token = csrf_token(client, f"/sessions/{meeting.slug}/visa-letters")
    client.post(f"/sessions/{meeting.slug}/visa-letters/{delegate.id}", data={"csrf_token": token})
    refused = client.post(
        f"/sessions/{meeting.slug}/visa-letters/{online.id}", data={"csrf_token": token}, follow_redirects=True
    ).get_data(as_text=True)
    assert "Only a delegate attending in person can have a visa letter" in refused
    letter_id = db.session.scalar(sa.select(AuditEvent.details).filter_by(action="visa_letter.issue"))
    assert re.fullmatch(r"[0-9A-F]{24}", letter_id)

    me_page = client.get(f"/me/{delegate.access_key}").get_data(as_text=True)
    assert f"/me/{delegate.access_key}/visa-letter.pdf" in me_page
    pdf = client.get(f"/me/{delegate.access_key}/visa-letter.pdf").data
    text = pdf_text(pdf)
    assert "Kofi Mensah" in text and "Ghana" in text and "Brussels" in text
    assert "Dr Amina Yusuf" in text and "secretariat@example.org" in text and letter_id in text
    assert "Lettre" in text  # in the language the delegate registered in
    first_day = meeting.days[0].date
    assert str(first_day.day) in text and str(first_day.year) in text
    [verify_url] = qr_codes(pdf)
    assert verify_url.endswith(f"/verify/{letter_id}")
    verification = client.get(verify_url.split("localhost", 1)[-1]).get_data(as_text=True)
    assert "VALID" in verification and "Kofi Mensah" in verification and "NOT VALID" not in verification

    delegate.mode = Mode.ONLINE  # moved online: the page says why there is no letter to download
    db.session.commit()
    me_page = client.get(f"/me/{delegate.access_key}").get_data(as_text=True)  # in French, as they registered
    assert "visa-letter.pdf" not in me_page and "pas inscrit·e en présentiel" in me_page
    assert "NOT VALID" in client.get(f"/verify/{letter_id}").get_data(as_text=True)
    delegate.mode = Mode.IN_PERSON
    delegate.status = RegistrationStatus.CANCELLED
    db.session.commit()
    assert "NOT VALID" in client.get(f"/verify/{letter_id}").get_data(as_text=True)
    refused = read_in_english(client, f"/me/{delegate.access_key}/visa-letter.pdf")
    assert refused.status_code == 403 and "no longer valid" in refused.get_data(as_text=True)


def test_a_visa_letter_is_dated_where_the_session_meets_and_signed_by_the_secretariat_without_a_chair(
    client, meeting_with_questions
):
    meeting = meeting_with_questions
    meeting.timezone = "Pacific/Kiritimati"  # UTC+14: the evening of 10 March in UTC is the 11th there
    meeting.chair_name = ""
    meeting.secretariat_email = "secretariat@example.org"
    db.session.commit()
    delegate = register_for_visa(client, meeting)
    issue_letter(delegate, by="organiser@example.org").issued_at = datetime(2026, 3, 10, 20, 0, tzinfo=UTC)
    db.session.commit()
    pdf = client.get(f"/me/{delegate.access_key}/visa-letter.pdf").data
    text = " ".join(pdf_text(pdf).split())  # the delegate registered in French
    assert "11 mars 2026" in text and "10 mars 2026" not in text
    assert "Le secrétariat secretariat@example.org" in text
    assert "La présidence" not in text


def test_an_organiser_revokes_a_visa_letter_after_confirming_and_it_no_longer_verifies_or_downloads(
    client, login, meeting_with_questions
):
    meeting = meeting_with_questions
    delegate = register_for_visa(client, meeting)
    letter = issue_letter(delegate, by="organiser@example.org")
    db.session.commit()
    organiser = login()
    url = f"/sessions/{meeting.slug}/visa-letters/{delegate.id}/revoke"
    assert f'href="{url}"' in client.get(f"/sessions/{meeting.slug}/visa-letters").get_data(as_text=True)
    asked = client.get(url).get_data(as_text=True)  # asks first: nothing changes yet
    assert "Revoke the visa letter of" in asked and "Kofi Mensah" in asked and letter.public_id in asked
    db.session.expire_all()
    assert not letter.is_revoked

    too_long = client.post(url, data={"reason": "x" * 501, "csrf_token": csrf_token(client, url)})
    assert too_long.status_code == 400 and "500 characters" in too_long.get_data(as_text=True)
    db.session.expire_all()
    assert (
        not letter.is_revoked
        and db.session.scalar(sa.select(AuditEvent).filter_by(action="visa_letter.revoke")) is None
    )

    done = client.post(url, data={"reason": "Passport number mismatch", "csrf_token": csrf_token(client, url)})
    assert done.status_code == 302
    db.session.expire_all()
    assert letter.is_revoked and letter.revoke_reason == "Passport number mismatch"
    assert letter.revoked_by == organiser
    event = db.session.scalar(sa.select(AuditEvent).filter_by(action="visa_letter.revoke"))
    assert (event.target, event.details) == (letter.public_id, "Passport number mismatch")
    listed = client.get(f"/sessions/{meeting.slug}/visa-letters").get_data(as_text=True)
    assert "revoked" in listed and "Passport number mismatch" in listed and f'href="{url}"' not in listed
    again = client.post(
        f"/sessions/{meeting.slug}/visa-letters/{delegate.id}",
        data={"csrf_token": csrf_token(client, f"/sessions/{meeting.slug}/questions")},
        follow_redirects=True,
    ).get_data(as_text=True)
    assert "letter was revoked" in again

    verification = client.get(f"/verify/{letter.public_id}").get_data(as_text=True)
    assert "REVOKED" in verification and "Passport number mismatch" not in verification  # the reason is internal
    refused = read_in_english(client, f"/me/{delegate.access_key}/visa-letter.pdf")
    assert refused.status_code == 403 and "revoked" in refused.get_data(as_text=True)
    me_page = client.get(f"/me/{delegate.access_key}").get_data(as_text=True)
    assert "visa-letter.pdf" not in me_page and "visa-letter-revoked" in me_page
    assert client.get(f"/me/{delegate.access_key}/data.json").get_json()["visa_letter"]["revoked"] is True


def test_revoking_needs_no_reason_and_the_purge_blanks_one(client, login, make_session, make_registration):
    from attendance.models import VisaLetter
    from attendance.questions.visa import revoke_letter

    meeting = make_session(first_day=date.today() - timedelta(days=200))
    visa = add_question(meeting, QuestionKind.VISA_LETTER, "", "")
    quiet, named = make_registration(meeting), make_registration(meeting)
    for registration in (quiet, named):
        db.session.add(Answer(registration=registration, question=visa, value="yes"))
    db.session.commit()
    quiet_letter, named_letter = (issue_letter(r, by="organiser@example.org") for r in (quiet, named))
    db.session.commit()
    login()
    url = f"/sessions/{meeting.slug}/visa-letters/{quiet.id}/revoke"
    assert client.post(url, data={"reason": "", "csrf_token": csrf_token(client, url)}).status_code == 302
    revoke_letter(named_letter, reason="Ana Souza's embassy called", by="organiser@example.org")
    db.session.commit()
    purge_session(meeting, 90)
    db.session.commit()
    db.session.expire_all()
    assert [(letter.is_revoked, letter.revoke_reason) for letter in db.session.scalars(sa.select(VisaLetter))] == [
        (True, ""),
        (True, ""),
    ]
    assert "REVOKED" in client.get(f"/verify/{named_letter.public_id}").get_data(as_text=True)
    details = db.session.scalars(sa.select(AuditEvent.details).filter_by(action="visa_letter.revoke")).all()
    assert "Ana Souza" not in " ".join(details)


def test_no_letter_for_a_cancelled_delegate(client, login, meeting_with_questions):
    delegate = register_for_visa(client, meeting_with_questions)
    delegate.status = RegistrationStatus.CANCELLED
    db.session.commit()
    login()
    url = f"/sessions/{meeting_with_questions.slug}/visa-letters"
    page = client.post(
        f"{url}/{delegate.id}", data={"csrf_token": csrf_token(client, url)}, follow_redirects=True
    ).get_data(as_text=True)
    assert "Only a registered delegate can have a visa letter" in page
    assert client.get(f"/me/{delegate.access_key}/visa-letter.pdf").status_code == 404


# Staff through the API: answers optional, checked the same way.


def api_entry(meeting, **answers) -> dict:
    body = {
        "full_name": "Olga Petrova",
        "organisation": "RILO Europe",
        "country": "UA",
        "entity_type": meeting.entity_types[0].name,
        "region": meeting.regions[0].name,
        "mode": "in_person",
        "email": "olga@example.org",
    }
    return body | ({"answers": answers} if answers else {})


def test_the_api_saves_staffs_answers_and_needs_none(client, meeting_with_questions):
    from attendance.api.tokens import create_api_token

    token = create_api_token("Secretariat", organiser=True)[1]
    q = questions(meeting_with_questions)
    url = f"/api/v1/sessions/{meeting_with_questions.slug}/registrations"
    response = client.post(
        url,
        json=api_entry(meeting_with_questions, **{str(q["Access needs"].id): ["c2"]}),
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 201, response.get_json()
    assert [(a.question.label, a.value) for a in db.session.scalars(sa.select(Answer))] == [("Access needs", "c2")]


@pytest.mark.parametrize(
    "answers, field",
    [
        ({"999999": "c1"}, "answers"),
        ({"MEAL": "c9"}, "answers.MEAL"),
        ({"MEAL": 3}, "answers.MEAL"),
    ],
)
def test_the_api_refuses_wrong_answers_and_saves_nothing(client, make_session, meeting_with_questions, answers, field):
    from attendance.api.tokens import create_api_token

    token = create_api_token("Secretariat", organiser=True)[1]
    meal = str(questions(meeting_with_questions)["Meal"].id)
    foreign = add_question(make_session(), label="Elsewhere")
    answers = {
        (meal if key == "MEAL" else str(foreign.id) if key == "999999" else key): value
        for key, value in answers.items()
    }
    response = client.post(
        f"/api/v1/sessions/{meeting_with_questions.slug}/registrations",
        json=api_entry(meeting_with_questions, **answers),
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 422
    assert set(response.get_json()["errors"]) == {field.replace("MEAL", meal)}
    assert db.session.scalar(sa.select(sa.func.count(Registration.id))) == 0
    assert db.session.scalar(sa.select(sa.func.count(Answer.id))) == 0


def test_the_demos_open_session_asks_a_meal_preference_and_offers_visa_letters(runner, client, app_ctx):
    assert runner.invoke(args=["seed-demo"]).exit_code == 0
    html = client.get("/sessions/global-meeting-20/register", headers={"Accept-Language": "fr"}).get_data(as_text=True)
    assert "Préférence de repas" in html and "Végétalien" in html and "lettre d’appui" in html


def test_a_focal_point_answers_the_questions_for_a_nominee_and_the_answer_is_exported(
    client, login, meeting_with_questions
):
    from attendance.organiser.invitations import Invitee, invite

    meeting = meeting_with_questions
    invitation = invite(
        meeting,
        Invitee("Focal Point", "focal@example.org", "RILO Europe", meeting.entity_types[0].name),
        by="o@example.org",
        places=2,
    )
    db.session.commit()
    link = f"/invitations/{invitation.token}"
    page = client.get(link).get_data(as_text=True)
    assert "Meal" in page and "Vegetarian" in page and "visa" in page.lower()
    q = questions(meeting)
    visa = next(question for question in q.values() if question.kind is QuestionKind.VISA_LETTER)
    nominee = registration_form(
        meeting, csrf_token=csrf_token(client, link), full_name="Nominee One", email="nominee1@example.org"
    )
    refused = client.post(link, data=nominee)  # the required question left unanswered
    assert refused.status_code == 400 and "Answer this question." in refused.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count(Registration.id))) == 0
    assert client.post(link, data={**nominee, field(q["Meal"]): "c1", field(visa): "yes"}).status_code == 302
    login()
    text = client.get(f"/sessions/{meeting.slug}/registrations.csv").get_data(as_text=True)
    rows = list(csv.DictReader(io.StringIO(text.lstrip("\ufeff"))))
    assert rows[0]["Meal"] == "Vegetarian" and "Nominee One" in rows[0].values()
    assert db.session.scalar(sa.select(Answer.value).filter_by(question_id=visa.id)) == "yes"


def test_downgrading_below_revocation_is_refused_while_a_letter_is_revoked(tmp_path):
    """The schema before it cannot say a letter is revoked: a downgrade would make it verify as valid again."""
    import pytest
    from test_registration import database_before

    with database_before(
        "b2d4f6a8c0e1",
        tmp_path,
        [dict(full_name="Visa", name_key="visa", email="v@example.org", email_key="v@example.org")],
    ) as (upgrade, downgrade):
        upgrade(revision="d4f6b8c0e2a3")
        db.session.execute(
            sa.text(
                "INSERT INTO visa_letters (registration_id, public_id, issued_at, issued_by, revoked_at, revoke_reason,"
                " revoked_by) SELECT id, 'LETTER1', '2026-01-01 00:00:00', 'o', '2026-01-02 00:00:00', 'forged', 'o'"
                " FROM registrations"
            )
        )
        db.session.commit()
        with pytest.raises(SystemExit):  # flask db downgrade stops, saying why (logged)
            downgrade(revision="b2d4f6a8c0e1")
        db.session.rollback()
        revoked = db.session.execute(sa.text("SELECT revoked_at FROM visa_letters")).scalar()
        assert revoked is not None  # still revoked

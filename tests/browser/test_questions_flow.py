"""Custom questions in a real browser: an organiser adds one, a delegate answers it on the form (checkboxes and
radio buttons), and the organiser reads the count in the summary on the session's page; axe finds no serious
violation on the pages on the way."""

import re

from helpers import PASSWORD
from playwright.sync_api import expect
from test_accessibility import assert_accessible

from attendance.auth import ensure_staff
from attendance.extensions import db
from attendance.models import StaffRole

ORGANISER_EMAIL = "organiser.questions@example.org"


def test_a_question_added_by_the_organiser_is_answered_and_counted(live_server, new_page, app_ctx, make_session):
    page = new_page(bypass_csp=True)  # so that axe can be injected
    meeting = make_session(title="20th Session")
    user, _ = ensure_staff(ORGANISER_EMAIL, StaffRole.ORGANISER, PASSWORD)
    meeting.organisers.append(user)
    db.session.commit()

    page.goto(live_server + "/login")
    page.get_by_label("Email").fill(ORGANISER_EMAIL)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.goto(f"{live_server}/sessions/{meeting.slug}/questions")
    assert_accessible(page, "the questions page")
    page.get_by_label("Kind").select_option("several_choices")
    page.get_by_label("Question (English)").fill("Access needs")
    page.get_by_label(re.compile("^Choices")).fill("Wheelchair access | Accès en fauteuil\nSign language")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("status").filter(has_text="Question added")).to_be_visible()

    delegate = new_page(bypass_csp=True)
    delegate.goto(f"{live_server}/sessions/{meeting.slug}/register")
    assert_accessible(delegate, "the registration form with a question")
    delegate.get_by_label(re.compile("^Full name")).fill("Chen Wei")
    delegate.get_by_label("Email").fill("chen.wei@example.org")
    delegate.get_by_label(re.compile("^Organisation")).fill("RILO Asia Pacific")
    delegate.get_by_label("Country").select_option("CN")
    delegate.get_by_label("Entity type").select_option(index=1)
    delegate.get_by_label("Region").select_option(index=1)
    delegate.get_by_label("In person, at the venue").check()
    delegate.get_by_role("group", name="Access needs").get_by_label("Wheelchair access").check()
    delegate.get_by_label("I agree").check()
    delegate.get_by_role("button", name="Register").click()
    expect(delegate.get_by_role("heading", name="Chen Wei")).to_be_visible()

    page.goto(f"{live_server}/sessions/{meeting.slug}/registrations")
    assert_accessible(page, "the registrations page with the answers' summary")
    table = page.locator("table.answers").filter(has_text="Access needs")
    # in person, online, total
    expect(table.get_by_role("row", name=re.compile("Wheelchair access")).get_by_role("cell")).to_have_text(
        ["1", "0", "1"]
    )
    expect(table.get_by_role("row", name=re.compile("Sign language")).get_by_role("cell")).to_have_text(["0", "0", "0"])


def test_an_organiser_corrects_an_answer_and_revokes_a_visa_letter(
    live_server, new_page, app_ctx, make_session, make_registration
):
    from attendance.models import Answer, Question, QuestionKind
    from attendance.questions.visa import issue_letter

    page = new_page(bypass_csp=True)  # so that axe can be injected
    meeting = make_session(title="20th Session")
    user, _ = ensure_staff(ORGANISER_EMAIL, StaffRole.ORGANISER, PASSWORD)
    meeting.organisers.append(user)
    meal = Question(
        session=meeting,
        kind=QuestionKind.ONE_CHOICE,
        label="Meal",
        required=True,
        choices=[{"key": "c1", "label": "Vegetarian"}, {"key": "c2", "label": "Vegan"}],
    )
    visa = Question(session=meeting, kind=QuestionKind.VISA_LETTER, label="", position=1)
    delegate = make_registration(meeting, full_name="Kofi Mensah")
    db.session.add_all([meal, visa])
    db.session.add_all(
        [
            Answer(registration=delegate, question=meal, value="c1"),
            Answer(registration=delegate, question=visa, value="yes"),
        ]
    )
    db.session.commit()
    letter = issue_letter(delegate, by=ORGANISER_EMAIL)
    db.session.commit()

    page.goto(live_server + "/login")
    page.get_by_label("Email").fill(ORGANISER_EMAIL)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.goto(f"{live_server}/sessions/{meeting.slug}/registrations/{delegate.id}")
    page.get_by_role("link", name="Edit the answers").click()
    assert_accessible(page, "the organiser's form for a delegate's answers")
    expect(page.get_by_role("group", name="Meal").get_by_label("Vegetarian")).to_be_checked()
    page.get_by_role("group", name="Meal").get_by_label("Vegan").check()
    page.get_by_role("button", name="Save the answers").click()
    expect(page.get_by_role("status").filter(has_text="Answers saved")).to_be_visible()
    expect(page.locator("#answers")).to_contain_text("Vegan")

    page.goto(f"{live_server}/sessions/{meeting.slug}/visa-letters")
    page.get_by_role("link", name="Revoke…").click()
    assert_accessible(page, "the confirmation of a visa letter's revocation")
    page.get_by_label("Reason (optional)").fill("Passport number mismatch")
    page.get_by_role("button", name="Yes, revoke the letter").click()
    expect(page.get_by_role("status").filter(has_text=f"Visa letter {letter.public_id} revoked")).to_be_visible()
    expect(page.get_by_role("cell", name=re.compile("revoked"))).to_contain_text("Passport number mismatch")

    mine = new_page(bypass_csp=True)
    mine.goto(f"{live_server}/me/{delegate.access_key}")
    expect(mine.get_by_role("region", name="Your answers")).to_contain_text("Vegan")
    expect(mine.get_by_role("region", name="Visa support letter")).to_contain_text("revoked")
    assert_accessible(mine, "the delegate's page with answers and a revoked letter")
    mine.goto(f"{live_server}/verify/{letter.public_id}")
    expect(mine.get_by_role("status")).to_contain_text("REVOKED")
    expect(mine.locator("body")).not_to_contain_text("Passport number mismatch")

"""A visa letter follows the delegate's answer: answering no withdraws the letter issued (it verifies as revoked, the
delegate's page stops offering it), answering yes again lets an organiser issue a new one; the delegate's page
offers a letter exactly while its verification page says it is valid; organisers read the visa question about
the delegate."""

import re

import pytest
import sqlalchemy as sa
from helpers import csrf_token
from pdf_tools import qr_codes
from test_questions import (  # noqa: F401
    field,
    meeting_with_questions,
    post,
    questions,
    read_in_english,
    register_for_visa,
)

from attendance.extensions import db
from attendance.models import AuditEvent, Mode, RegistrationStatus, VisaLetter
from attendance.questions.visa import issue_letter, revoke_letter

VISA = "I need a visa support letter to attend in person"


def answer_visa(client, meeting, registration, value: str):
    """The organiser's answers form, saved with the visa question answered `value` ("" for no answer)."""
    q = questions(meeting)
    url = f"/sessions/{meeting.slug}/registrations/{registration.id}/answers"
    response = client.post(
        url,
        data={field(q["Meal"]): "c1", field(q[VISA]): value, "csrf_token": csrf_token(client, url)},
        follow_redirects=True,
    )
    assert response.status_code == 200
    return response.get_data(as_text=True)


def verdict(client, letter_id: str) -> str:
    page = client.get(f"/verify/{letter_id}").get_data(as_text=True)
    return re.search(r'class="verdict[^"]*"[^>]*><strong>([^<]+)</strong>', page).group(1)


def in_english(client, url: str) -> str:
    return read_in_english(client, url).get_data(as_text=True)


def offered(client, registration) -> bool:
    """Whether the delegate's page offers their letter to download."""
    page = client.get(f"/me/{registration.access_key}").get_data(as_text=True)
    return f"/me/{registration.access_key}/visa-letter.pdf" in page


def download(client, registration):
    return client.get(f"/me/{registration.access_key}/visa-letter.pdf")


@pytest.mark.parametrize("answer", ["no", ""])
def test_answering_no_withdraws_the_letter_issued_and_the_delegates_page_stops_offering_it(
    client, login, meeting_with_questions, answer
):
    meeting = meeting_with_questions
    delegate = register_for_visa(client, meeting)
    letter = issue_letter(delegate, by="organiser@example.org")
    db.session.commit()
    assert verdict(client, letter.public_id) == "VALID" and offered(client, delegate)
    organiser = login()

    saved = answer_visa(client, meeting, delegate, answer)
    assert f"Visa letter {letter.public_id} revoked: the delegate no longer asks for one" in saved

    assert verdict(client, letter.public_id) == "REVOKED"
    mine = in_english(client, f"/me/{delegate.access_key}")
    assert "visa-letter.pdf" not in mine and "withdrawn when your answer said you no longer need one" in mine
    refused = read_in_english(client, f"/me/{delegate.access_key}/visa-letter.pdf")
    assert refused.status_code == 403 and "withdrawn" in refused.get_data(as_text=True)
    revocation = db.session.scalar(sa.select(AuditEvent).filter_by(action="visa_letter.revoke"))
    assert (revocation.target, revocation.actor) == (letter.public_id, organiser)
    assert "no longer asks for a visa letter" in revocation.details
    listed = client.get(f"/sessions/{meeting.slug}/visa-letters").get_data(as_text=True)
    assert "Kofi Mensah" not in listed  # no longer asks


def test_answering_yes_again_lets_an_organiser_issue_a_new_letter_while_the_old_one_stays_revoked(
    client, login, meeting_with_questions
):
    meeting = meeting_with_questions
    delegate = register_for_visa(client, meeting)
    old = issue_letter(delegate, by="organiser@example.org")
    db.session.commit()
    login()
    answer_visa(client, meeting, delegate, "no")
    answer_visa(client, meeting, delegate, "yes")
    assert not offered(client, delegate)  # asked again: nothing to download until a letter is issued

    letters_page = f"/sessions/{meeting.slug}/visa-letters"
    listed = client.get(letters_page).get_data(as_text=True)
    issue_url = f"{letters_page}/{delegate.id}"
    assert "Kofi Mensah" in listed and f'action="{issue_url}"' in listed
    issued = client.post(issue_url, data={"csrf_token": csrf_token(client, letters_page)}, follow_redirects=True)
    new_id = re.search(r"Visa letter ([0-9A-F]{24}) issued", issued.get_data(as_text=True)).group(1)

    assert new_id != old.public_id
    assert (verdict(client, new_id), verdict(client, old.public_id)) == ("VALID", "REVOKED")
    assert offered(client, delegate)
    [verify_url] = qr_codes(download(client, delegate).data)
    assert verify_url.endswith(f"/verify/{new_id}")
    data = client.get(f"/me/{delegate.access_key}/data.json").get_json()
    assert data["visa_letter"]["id"] == new_id and not data["visa_letter"]["revoked"]
    assert [(e["id"], e["revoked"], e["withdrawn"]) for e in data["earlier_visa_letters"]] == [
        (old.public_id, True, True)
    ]
    # and once more: the new letter goes the same way, and the old one is not brought back
    answer_visa(client, meeting, delegate, "no")
    assert (verdict(client, new_id), verdict(client, old.public_id)) == ("REVOKED", "REVOKED")


def test_an_organisers_revocation_stays_when_the_delegate_answers_no_then_yes(client, login, meeting_with_questions):
    meeting = meeting_with_questions
    delegate = register_for_visa(client, meeting)
    letter = issue_letter(delegate, by="organiser@example.org")
    revoke_letter(letter, reason="Passport number mismatch", by="organiser@example.org")
    db.session.commit()
    login()
    answer_visa(client, meeting, delegate, "no")
    answer_visa(client, meeting, delegate, "yes")
    letters_page = f"/sessions/{meeting.slug}/visa-letters"
    refused = client.post(
        f"{letters_page}/{delegate.id}", data={"csrf_token": csrf_token(client, letters_page)}, follow_redirects=True
    ).get_data(as_text=True)
    assert "letter was revoked" in refused
    assert db.session.scalar(sa.select(sa.func.count()).select_from(VisaLetter)) == 1
    assert db.session.scalars(sa.select(AuditEvent.details).filter_by(action="visa_letter.revoke")).all() == [
        "Passport number mismatch"
    ]
    mine = client.get(f"/me/{delegate.access_key}").get_data(as_text=True)
    assert "visa-letter-revoked" in mine and "withdrawn" not in mine


def test_changing_another_answer_leaves_the_letter_in_force(client, login, meeting_with_questions):
    meeting = meeting_with_questions
    delegate = register_for_visa(client, meeting)
    letter = issue_letter(delegate, by="organiser@example.org")
    db.session.commit()
    login()
    answer_visa(client, meeting, delegate, "yes")  # the meal changes, the visa answer stays yes
    assert verdict(client, letter.public_id) == "VALID" and offered(client, delegate)


def moved_online(registration):
    registration.mode = Mode.ONLINE


def cancelled(registration):
    registration.status = RegistrationStatus.CANCELLED


def revoked(registration):
    revoke_letter(db.session.scalar(sa.select(VisaLetter)), reason="", by="organiser@example.org")


def moved_online_and_back(registration):
    registration.mode = Mode.ONLINE
    db.session.commit()
    registration.mode = Mode.IN_PERSON


@pytest.mark.parametrize("change", [None, moved_online, cancelled, revoked, moved_online_and_back])
def test_the_delegates_page_offers_the_letter_exactly_while_its_verification_says_valid(
    client, meeting_with_questions, change
):
    """The page asks the verification's own rule (`visa.is_valid`): whatever that rule becomes, the page, the
    download and the public verification page cannot disagree."""
    delegate = register_for_visa(client, meeting_with_questions)
    letter = issue_letter(delegate, by="organiser@example.org")
    db.session.commit()
    if change:
        change(delegate)
        db.session.commit()
    valid = verdict(client, letter.public_id) == "VALID"
    assert offered(client, delegate) is valid
    assert (download(client, delegate).status_code == 200) is valid
    assert valid is (change in (None, moved_online_and_back))


def test_organisers_read_the_visa_question_about_the_delegate(client, login, meeting_with_questions):
    meeting = meeting_with_questions
    delegate = register_for_visa(client, meeting)
    form = client.get(f"/sessions/{meeting.slug}/register", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert VISA in form and "Only if you attend in person" in form  # the delegate's own form, addressed to them
    login()
    staff_pages = [
        f"/sessions/{meeting.slug}/registrations/{delegate.id}/answers",
        f"/sessions/{meeting.slug}/registrations/{delegate.id}",
        f"/sessions/{meeting.slug}/registrations",
    ]
    for url in staff_pages:
        page = client.get(url).get_data(as_text=True)
        assert "Needs a visa support letter to attend in person" in page, url
        assert VISA not in page and "Only if you attend in person" not in page, url
    answers_form = client.get(staff_pages[0]).get_data(as_text=True)
    assert "No, or no answer, revokes a letter already issued to them" in answers_form
    mine = in_english(client, f"/me/{delegate.access_key}")
    assert VISA in mine  # "Your answers", as the delegate answered


def test_downgrading_below_several_letters_is_refused_while_a_delegate_has_two(tmp_path):
    """The schema before it holds one letter per delegate: a downgrade would have to lose a revoked one."""
    from test_registration import database_before

    with database_before(
        "a7c9e1b3d5f7",
        tmp_path,
        [dict(full_name="Visa", name_key="visa", email="v@example.org", email_key="v@example.org")],
    ) as (upgrade, downgrade):
        upgrade(revision="25b371767c84")
        db.session.execute(
            sa.text(
                "INSERT INTO visa_letters (registration_id, public_id, issued_at, issued_by, revoked_at, revoke_reason,"
                " revoked_by, withdrawn) SELECT id, 'LETTER1', '2026-01-01 00:00:00', 'o', '2026-01-02 00:00:00', '',"
                " 'o', true FROM registrations"
            )
        )
        db.session.execute(
            sa.text(
                "INSERT INTO visa_letters (registration_id, public_id, issued_at, issued_by, revoke_reason,"
                " revoked_by, withdrawn) SELECT id, 'LETTER2', '2026-01-03 00:00:00', 'o', '', '', false"
                " FROM registrations"
            )
        )
        db.session.commit()
        with pytest.raises(sa.exc.IntegrityError):  # the schema itself keeps one letter in force per delegate
            db.session.execute(
                sa.text(
                    "INSERT INTO visa_letters (registration_id, public_id, issued_at, issued_by, revoke_reason,"
                    " revoked_by, withdrawn) SELECT id, 'LETTER3', '2026-01-04 00:00:00', 'o', '', '', false"
                    " FROM registrations"
                )
            )
        db.session.rollback()
        with pytest.raises(SystemExit):  # flask db downgrade stops, saying why (logged)
            downgrade(revision="a7c9e1b3d5f7")
        db.session.rollback()
        kept = db.session.execute(sa.text("SELECT public_id FROM visa_letters ORDER BY id")).scalars().all()
        assert kept == ["LETTER1", "LETTER2"]

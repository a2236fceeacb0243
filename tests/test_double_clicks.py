"""A button sent twice at the same instant (a double click, a retried post) does its work once: two threads, each
with its own connection and transaction, released together, as two gunicorn workers would run them."""

import threading
from collections.abc import Callable

import sqlalchemy as sa
from test_approval import nominate

from attendance import transaction
from attendance.extensions import db
from attendance.models import Invitation, InvitationList, MeetingSession, OutboxMail, Registration
from attendance.organiser.invitations import (
    Invitee,
    invite,
    invitee_preview,
    save_invitee_list,
    upload_invitee_list,
)
from attendance.organiser.registration_import import fingerprint
from attendance.registration.service import cancel, reinstate
from attendance.registration.waitlist import in_person_count


def twice_at_once(app, action: Callable[[], None]) -> list[Exception]:
    """Runs `action` in two threads at the same instant, each in its own app context; what they raised."""
    barrier, errors = threading.Barrier(2), []

    def run():
        with app.app_context():
            try:
                action(barrier)
                transaction.commit()
            except Exception as error:  # the test says which it expects
                errors.append(error)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return errors


def on_registration(registration_id: int, service: Callable[[Registration], object]):
    def action(barrier):
        registration = db.session.get(Registration, registration_id)
        _ = registration.session.in_person_capacity  # read before, as the page did
        barrier.wait(timeout=30)
        service(registration)

    return action


def test_reinstate_twice_at_once_gives_the_free_seat_once(app, make_session, make_registration):
    for _ in range(3):
        meeting = make_session(in_person_capacity=2)
        make_registration(meeting)
        person = make_registration(meeting)
        cancel(person, "by mistake")
        transaction.commit()
        assert twice_at_once(app, on_registration(person.id, reinstate)) == []
        db.session.expire_all()
        assert (person.mode.value, person.is_waiting, in_person_count(meeting)) == ("in_person", False, 2)


def focal_point_with_nominees(client, meeting, count: int) -> Invitation:
    invitation = invite(
        meeting,
        Invitee("Focal Point", "focal@example.org", "RILO Europe", meeting.entity_types[0].name),
        by="o",
        places=3,
    )
    transaction.commit()
    for n in range(1, count + 1):
        assert nominate(client, f"/invitations/{invitation.token}", meeting, n).status_code == 302
    return invitation


def test_a_nominee_reinstated_twice_at_once_takes_one_place(app, client, make_session):
    meeting = make_session()
    invitation = focal_point_with_nominees(client, meeting, 1)
    nominee = db.session.scalar(sa.select(Registration).filter_by(email="nominee1@example.org"))
    cancel(nominee, "by mistake")
    transaction.commit()
    assert twice_at_once(app, on_registration(nominee.id, reinstate)) == []
    db.session.expire_all()
    assert invitation.used == 1 and nominee.is_registered


def test_a_nominee_cancelled_twice_at_once_gives_back_one_place(app, client, make_session):
    meeting = make_session()
    invitation = focal_point_with_nominees(client, meeting, 2)
    nominee = db.session.scalar(sa.select(Registration).filter_by(email="nominee1@example.org"))
    assert twice_at_once(app, on_registration(nominee.id, lambda r: cancel(r, "x", tell=True))) == []
    db.session.expire_all()
    assert invitation.used == 1
    notices = db.session.scalar(
        sa.select(sa.func.count()).select_from(OutboxMail).filter_by(registration_id=nominee.id, purpose="cancelled")
    )
    assert notices == 1


def test_an_invitee_list_saved_twice_at_once_invites_each_person_once(app, make_session):
    meeting = make_session()
    content = b"Full name,E-mail\nAna Souza,ana@example.org\nKofi Mensah,kofi@example.org\n"
    upload = upload_invitee_list(meeting, "invitees.csv", content, by="o@example.org")
    transaction.commit()
    seen = fingerprint(upload, invitee_preview(meeting, upload))
    upload_id, meeting_id = upload.id, meeting.id

    def save(barrier):
        session, saved_list = db.session.get(MeetingSession, meeting_id), db.session.get(InvitationList, upload_id)
        _ = saved_list.saved_at, saved_list.content, session.entity_types, session.regions
        barrier.wait(timeout=30)
        save_invitee_list(session, saved_list, seen, by="o@example.org")

    errors = twice_at_once(app, save)
    assert [type(error).__name__ for error in errors] == ["StaleConfirmation"]
    invited = db.session.scalars(sa.select(Invitation.email).filter_by(session_id=meeting_id)).all()
    assert sorted(invited) == ["ana@example.org", "kofi@example.org"]
    mails = sa.select(sa.func.count()).select_from(OutboxMail).where(OutboxMail.invitation_id.is_not(None))
    assert db.session.scalar(mails) == 2


def test_one_person_invited_twice_at_once_is_invited_once(app, make_session):
    meeting_id = make_session().id
    transaction.commit()

    def send(barrier):
        session = db.session.get(MeetingSession, meeting_id)
        _ = session.entity_types, session.regions, session.certificate_language
        barrier.wait(timeout=30)
        invite(session, Invitee("Ana Souza", "ana@example.org"), by="o")

    errors = twice_at_once(app, send)
    assert [type(error).__name__ for error in errors] == ["InvalidEntry"]  # "already invited", said to the second
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Invitation).filter_by(session_id=meeting_id)) == 1


def test_two_organisers_saving_a_delegates_first_answer_at_once_both_succeed(app, make_session, make_registration):
    from test_questions import add_question

    from attendance.models import Answer, AuditEvent
    from attendance.questions.service import questions_of, replace_answers

    meeting = make_session()
    meal = add_question(meeting)
    meeting_id, question_id = meeting.id, meal.id
    for _ in range(3):
        registration_id = make_registration(meeting).id
        transaction.commit()

        def save(barrier, registration_id=registration_id):
            registration = db.session.get(Registration, registration_id)
            questions = questions_of(db.session.get(MeetingSession, meeting_id))
            barrier.wait(timeout=30)
            replace_answers(registration, questions, {question_id: "c1"}, by="organiser@example.org")

        assert twice_at_once(app, save) == []
        answers = db.session.scalars(sa.select(Answer.value).filter_by(registration_id=registration_id)).all()
        assert answers == ["c1"]
        audited = db.session.scalars(
            sa.select(AuditEvent.details).filter_by(
                action="registration.answers", target=f"registration {registration_id}"
            )
        ).all()
        # the second read the answer the first had saved: it changed nothing, and its audit line says so
        assert sorted(audited) == [f"changed: question {question_id}", "no change"]


def test_a_visa_letter_issued_twice_at_once_is_issued_once(app, make_session, make_registration):
    from test_questions import add_question

    from attendance.models import Answer, AuditEvent, QuestionKind, VisaLetter
    from attendance.questions.visa import issue_letter

    meeting = make_session()
    visa = add_question(meeting, QuestionKind.VISA_LETTER, "", "")
    registration = make_registration(meeting)
    db.session.add(Answer(registration=registration, question=visa, value="yes"))
    transaction.commit()
    ids = []

    def issue(barrier):
        delegate = db.session.get(Registration, registration.id)
        _ = delegate.session.purged_at
        barrier.wait(timeout=30)
        ids.append(issue_letter(delegate, by="organiser@example.org").public_id)

    assert twice_at_once(app, issue) == []
    letters = db.session.scalars(sa.select(VisaLetter.public_id)).all()
    assert len(letters) == 1 and ids == letters * 2  # the second was given the first's letter
    assert (
        db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent).filter_by(action="visa_letter.issue")) == 1
    )

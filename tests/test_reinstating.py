"""Reinstating a cancelled registration gives it back what it was (registered, pending approval, declined), tells
the delegate once."""

import email
import email.policy

import sqlalchemy as sa
from helpers import csrf_token
from pdf_tools import qr_codes
from test_approval import APPROVAL, approvals_row, attachments_of, body_of, delegate, mails
from test_cli_and_mail import smtp_server  # noqa: F401  (the local SMTP server, a fixture)
from test_double_clicks import on_registration, twice_at_once

from attendance import transaction
from attendance.extensions import db
from attendance.models import AuditEvent, Mode, OutboxMail, RegistrationPolicy, RegistrationSource, RegistrationStatus
from attendance.registration.approval import decide
from attendance.registration.service import cancel, register, reinstate
from attendance.registration.waitlist import in_person_count, waiting_list


def reinstate_page(client, meeting, registration, **form) -> str:
    """The organiser's Reinstate button, and the registration's page it leads to."""
    base = f"/sessions/{meeting.slug}/registrations/{registration.id}"
    response = client.post(
        base + "/reinstate", data={"csrf_token": csrf_token(client, base), **form}, follow_redirects=True
    )
    assert response.status_code == 200
    return " ".join(response.get_data(as_text=True).split())


def reinstated_mails(app) -> list[email.message.EmailMessage]:
    return [m for m in mails(app) if "reinstated" in m["Subject"] or "declined" in m["Subject"]]


# ---- what a reinstated registration is ----


def test_a_pending_registration_cancelled_and_reinstated_awaits_approval_again_without_badge_or_seat(
    app, client, login, make_session
):
    meeting = make_session(registration_policy=APPROVAL, in_person_capacity=1)
    seated = register(meeting, delegate(meeting, 1))
    decide(seated, approve=True)
    pending = register(meeting, delegate(meeting, 2))
    transaction.commit()
    cancel(pending, "sent twice by mistake")
    transaction.commit()
    login()
    page = reinstate_page(
        client, meeting, pending
    )  # the room is full, but a pending delegate takes no seat: no question
    assert "Registration reinstated: it awaits approval again, as it did before its cancellation." in page
    assert "The delegate is being told by email." in page
    db.session.refresh(pending)
    assert pending.status is RegistrationStatus.PENDING and pending.mode is Mode.IN_PERSON
    assert in_person_count(meeting) == 1
    assert client.get(f"/me/{pending.access_key}/badge.pdf").status_code == 403
    assert "Pending approval." in client.get(f"/me/{pending.access_key}").get_data(as_text=True)
    assert "Approve" in approvals_row(client, meeting, pending)  # back among those who wait for a decision
    [mail] = reinstated_mails(app)
    assert mail["Subject"] == f"Registration reinstated, awaiting approval: {meeting.title}"
    text = " ".join(body_of(mail).split())
    assert "is reinstated: it awaits approval again" in text and f"/me/{pending.access_key}" in text
    assert attachments_of(mail) == []  # no badge, no calendar while pending
    assert db.session.scalar(sa.select(AuditEvent.details).filter_by(action="registration.reinstate")) == (
        "pending, as before its cancellation"
    )


def test_an_approved_registration_cancelled_and_reinstated_is_registered_again(app, client, login, make_session):
    meeting = make_session(registration_policy=APPROVAL)
    registration = register(meeting, delegate(meeting, 1))
    decide(registration, approve=True)
    transaction.commit()
    cancel(registration, "by mistake")
    transaction.commit()
    login()
    assert "Registration reinstated. The delegate is being told by email." in reinstate_page(
        client, meeting, registration
    )
    db.session.refresh(registration)
    assert registration.is_registered
    assert client.get(f"/me/{registration.access_key}/badge.pdf").status_code == 200
    [mail] = reinstated_mails(app)
    assert mail["Subject"] == f"Registration reinstated: {meeting.title}"
    assert "is reinstated: you are registered again." in " ".join(body_of(mail).split())
    assert attachments_of(mail) == ["badge.pdf", "calendar.ics"]


def test_a_declined_registration_cancelled_and_reinstated_stays_declined(app, client, login, make_session):
    meeting = make_session(registration_policy=APPROVAL)
    registration = register(meeting, delegate(meeting, 1))
    decide(registration, approve=False, message="The delegation is complete.")
    transaction.commit()
    cancel(registration, "tidying up")
    transaction.commit()
    login()
    page = reinstate_page(client, meeting, registration)
    assert "Registration reinstated: it stays declined, as it was before its cancellation." in page
    db.session.refresh(registration)
    assert registration.status is RegistrationStatus.DECLINED
    assert client.get(f"/me/{registration.access_key}/badge.pdf").status_code == 403
    told = [m for m in mails(app) if m["Subject"] == f"Registration declined: {meeting.title}"]
    assert len(told) == 2  # the decision, then the reinstatement that leaves it standing
    assert any("no longer cancelled, but it stays declined" in " ".join(body_of(m).split()) for m in told)


def test_without_a_recorded_approval_only_staffs_own_registrations_come_back_registered_in_an_approval_session(
    make_session, make_registration
):
    """Registered while the session was open, cancelled after it began to require approval: nothing says an
    organiser approved them, so a reinstatement does not; one an organiser added is registered whatever the policy."""
    meeting = make_session()
    from_form = make_registration(meeting, source=RegistrationSource.FORM)
    added = make_registration(meeting, source=RegistrationSource.ORGANISER)
    meeting.registration_policy = RegistrationPolicy.APPROVAL
    for registration in (from_form, added):
        cancel(registration, "by mistake")
    transaction.commit()
    reinstate(from_form)
    reinstate(added)
    transaction.commit()
    assert from_form.status is RegistrationStatus.PENDING and not from_form.is_registered
    assert added.is_registered

    meeting.registration_policy = RegistrationPolicy.OPEN  # open now: a reinstatement registers, as the form would
    cancel(from_form, "again")
    transaction.commit()
    reinstate(from_form)
    transaction.commit()
    assert from_form.is_registered


def test_a_pending_delegate_who_asked_for_a_seat_comes_back_pending_with_the_wish_not_in_line(
    client, login, make_session
):
    meeting = make_session(registration_policy=APPROVAL, in_person_capacity=1)
    seated = register(meeting, delegate(meeting, 1))
    decide(seated, approve=True)
    wisher = register(meeting, delegate(meeting, 2), wait_for_seat=True)
    transaction.commit()
    cancel(wisher, "by mistake")
    transaction.commit()
    assert reinstate(wisher) is None  # not in line: approval puts them there
    transaction.commit()
    assert wisher.status is RegistrationStatus.PENDING and wisher.waiting_since is not None
    assert waiting_list(meeting) == [] and in_person_count(meeting) == 1
    login()
    row = approvals_row(client, meeting, wisher)
    assert "Asks for a seat: the room is full, so approving puts them on the waiting list, 1st in line." in row
    decide(wisher, approve=True)
    transaction.commit()
    assert wisher.is_waiting and waiting_list(meeting) == [wisher]


# ---- the mail ----


def test_the_reinstated_delegate_is_mailed_in_their_language_with_their_link_over_smtp(
    client,
    login,
    make_session,
    make_registration,
    smtp_server,  # noqa: F811
):
    meeting = make_session()
    registration = make_registration(meeting, email="amelie@example.org", full_name="Amélie Dubois", locale="fr")
    cancel(registration, "by mistake")
    login()
    reinstate_page(client, meeting, registration)
    assert smtp_server.received.wait(5)
    [envelope] = smtp_server.messages
    assert envelope.rcpt_tos == ["amelie@example.org"]
    message = email.message_from_bytes(envelope.content, policy=email.policy.default)
    text = message.get_body(("plain",)).get_content()
    assert text.startswith("Bonjour") and "Le secrétariat" in text and "Votre page personnelle" in text
    assert f"/me/{registration.access_key}" in text
    badge = next(part for part in message.iter_attachments() if part.get_filename() == "badge.pdf")
    assert qr_codes(badge.get_content()) == [registration.badge_token]  # their badge admits them again


def test_a_double_click_on_reinstate_mails_once_over_smtp(client, login, make_session, make_registration, smtp_server):  # noqa: F811
    meeting = make_session()
    registration = make_registration(meeting)
    cancel(registration, "by mistake")
    login()
    reinstate_page(client, meeting, registration)
    reinstate_page(client, meeting, registration)  # the second click finds them registered
    assert smtp_server.received.wait(5)
    smtp_server.received.clear()
    assert not smtp_server.received.wait(1)
    assert len(smtp_server.messages) == 1


def test_two_reinstatements_at_the_same_instant_queue_one_mail(app, make_session, make_registration):
    meeting = make_session(registration_policy=APPROVAL)
    registration = make_registration(meeting, status=RegistrationStatus.PENDING)
    cancel(registration, "by mistake")
    transaction.commit()
    assert twice_at_once(app, on_registration(registration.id, reinstate)) == []
    db.session.expire_all()
    assert registration.status is RegistrationStatus.PENDING
    assert db.session.scalar(sa.select(sa.func.count(OutboxMail.id)).filter_by(purpose="reinstated")) == 1


def test_each_reinstatement_is_mailed_and_one_cancelled_again_before_its_mail_went_is_not(app, make_session):
    meeting = make_session()
    registration = register(meeting, delegate(meeting, 1))
    for _ in range(2):
        cancel(registration, "by mistake")
        transaction.commit()
        reinstate(registration)
        transaction.commit()
    assert len(reinstated_mails(app)) == 2  # a second cancellation undone is a second mail

    cancel(registration, "by mistake")
    transaction.commit()
    reinstate(registration)
    cancel(registration, "after all")  # before the reinstatement's mail went
    transaction.commit()
    assert len(reinstated_mails(app)) == 2

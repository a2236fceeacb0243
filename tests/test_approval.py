"""Who may come: sessions that require approval, personal invitations, and focal points' nominations."""

import csv
import email
import html
import io
import os
import re
import threading
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from helpers import csrf_token, registration_form
from openpyxl import Workbook

from attendance import transaction
from attendance.api.tokens import create_api_token
from attendance.extensions import db
from attendance.models import (
    AuditEvent,
    Invitation,
    InvitationKind,
    Mode,
    OutboxMail,
    Registration,
    RegistrationPolicy,
    RegistrationStatus,
)
from attendance.organiser.invitations import Invitee, invite
from attendance.registration.approval import NotPending, decide
from attendance.registration.service import Delegate, InPersonFull, InvitationRequired, InvitationUsed, cancel, register

APPROVAL, INVITATION = RegistrationPolicy.APPROVAL, RegistrationPolicy.INVITATION


def mails(app) -> list[email.message.EmailMessage]:
    folder = app.config["OUTBOX_DIR"]
    return [
        email.message_from_bytes(open(os.path.join(folder, name), "rb").read(), policy=email.policy.default)
        for name in sorted(os.listdir(folder))
    ]


def body_of(message) -> str:
    return message.get_body(("plain",)).get_content()


def attachments_of(message) -> list[str]:
    return [part.get_filename() for part in message.iter_attachments()]


def post_registration(client, meeting, url=None, **overrides):
    url = url or f"/sessions/{meeting.slug}/register"
    data = registration_form(meeting, csrf_token=csrf_token(client, url))
    data.update(overrides)
    return client.post(url, data=data)


def registrations() -> list[Registration]:
    return db.session.scalars(sa.select(Registration).order_by(Registration.id)).all()


def delegate(meeting, n: int = 1, mode=Mode.IN_PERSON) -> Delegate:
    return Delegate(
        f"Delegate {n}",
        f"d{n}@example.org",
        "ROCB Europe",
        "BE",
        meeting.entity_types[0].id,
        meeting.regions[0].id,
        mode,
    )


def invitation_link(message) -> str:
    match = re.search(r"http://[^\s]+/invitations/([A-Za-z0-9_-]+)", body_of(message))
    assert match, body_of(message)
    return f"/invitations/{match.group(1)}"


def brussels_today() -> date:
    return datetime.now(ZoneInfo("Europe/Brussels")).date()


# ---- approval required ----


def test_an_open_session_registers_at_once_as_before(client, make_session):
    meeting = make_session()
    response = post_registration(client, meeting)
    assert response.status_code == 302
    assert registrations()[0].status is RegistrationStatus.REGISTERED


def test_a_pending_registration_has_no_badge_no_join_link_and_is_told_so(app, client, make_session):
    meeting = make_session(registration_policy=APPROVAL)
    form = client.get(f"/sessions/{meeting.slug}/register").get_data(as_text=True)
    assert "The secretariat approves each registration" in form
    response = post_registration(client, meeting)
    assert response.status_code == 302
    registration = registrations()[0]
    assert registration.status is RegistrationStatus.PENDING
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Pending approval." in page and "waits for the secretariat" in page
    assert "badge.pdf" not in page and "/join/" not in page and 'class="qr"' not in page
    assert client.get(f"/me/{registration.access_key}/badge.pdf").status_code == 403
    assert client.get(f"/join/{registration.access_key}").status_code == 409
    [mail] = mails(app)
    assert mail["Subject"].startswith("Registration received, awaiting approval")
    assert attachments_of(mail) == []  # no badge, no calendar yet


def test_pending_people_are_not_counted_and_the_headcount_says_how_many_wait(
    client, make_session, make_registration, login
):
    meeting = make_session(registration_policy=APPROVAL)
    make_registration(meeting)
    make_registration(meeting, status=RegistrationStatus.PENDING)
    make_registration(meeting, status=RegistrationStatus.PENDING, mode=Mode.ONLINE)
    make_registration(meeting, status=RegistrationStatus.DECLINED)
    login()
    report = client.get(f"/api/v1/sessions/{meeting.slug}/headcount").get_json()
    total = report["scopes"][0]["total"] if "scopes" in report else None
    assert report["pending_approval"] == 2
    html = client.get(f"/sessions/{meeting.slug}/reports/headcount").get_data(as_text=True)
    assert "2 registrations wait for approval: they are not counted in this report." in html
    assert total is None or total.get("registered_in_person", 1) == 1
    csv = client.get(f"/sessions/{meeting.slug}/registrations.csv").get_data(as_text=True)
    assert csv.count(",pending,") == 2 and csv.count(",declined,") == 1  # listed, with their status


def test_the_door_refuses_pending_and_declined_badges_saying_why(client, make_session, make_registration, app_ctx):
    meeting = make_session(registration_policy=APPROVAL, first_day=brussels_today())
    pending = make_registration(meeting, status=RegistrationStatus.PENDING)
    declined = make_registration(meeting, status=RegistrationStatus.DECLINED)
    token = create_api_token("Door 1")[1]
    for registration, status, message in (
        (pending, "pending", "Pending approval"),
        (declined, "declined", "Registration declined"),
    ):
        answer = client.post(
            "/api/v1/checkins", json={"token": registration.badge_token}, headers={"Authorization": f"Bearer {token}"}
        )
        assert answer.status_code == 409
        assert answer.get_json()["status"] == status and message in answer.get_json()["message"]


def test_approving_registers_and_mails_the_confirmation_with_badge_and_calendar(app, client, make_session, login):
    meeting = make_session(registration_policy=APPROVAL)
    post_registration(client, meeting)
    registration = registrations()[0]
    login()
    page = client.get(f"/sessions/{meeting.slug}/approvals").get_data(as_text=True)
    assert "Amélie Dubois" in page and "1 registration waits for approval." in page
    response = client.post(
        f"/sessions/{meeting.slug}/approvals",
        data={
            "csrf_token": csrf_token(client, f"/sessions/{meeting.slug}/approvals"),
            "one": f"approve-{registration.id}",
            "message": "Welcome to Brussels.",
        },
    )
    assert response.status_code == 302
    db.session.refresh(registration)
    assert registration.status is RegistrationStatus.REGISTERED
    approved = [m for m in mails(app) if m["Subject"].startswith("Registration approved")]
    assert len(approved) == 1
    assert attachments_of(approved[0]) == ["badge.pdf", "calendar.ics"]
    assert "Welcome to Brussels." in body_of(approved[0])
    own_page = client.get(f"/me/{registration.access_key}").get_data(as_text=True)
    assert 'class="qr"' in own_page and "badge.pdf" in own_page
    assert db.session.scalar(sa.select(AuditEvent.action).filter_by(action="registration.approve"))


def test_declining_tells_the_delegate_with_the_message(app, client, make_session, make_registration, login):
    meeting = make_session(registration_policy=APPROVAL)
    registration = make_registration(meeting, status=RegistrationStatus.PENDING)
    decide(registration, approve=False, message="The delegation is complete.")
    db.session.refresh(registration)
    assert registration.status is RegistrationStatus.DECLINED
    transaction.commit()  # the request's end: the mail goes to the queue
    [mail] = mails(app)
    assert mail["Subject"].startswith("Registration declined") and "The delegation is complete." in body_of(mail)
    page = client.get(f"/me/{registration.access_key}").get_data(as_text=True)
    assert "Your registration was declined." in page and "The delegation is complete." in page
    assert "badge.pdf" not in page


def test_approving_a_registration_cancelled_meanwhile_changes_nothing(
    app, client, make_session, make_registration, login
):
    meeting = make_session(registration_policy=APPROVAL)
    registration = make_registration(meeting, status=RegistrationStatus.PENDING, full_name="Late Canceller")
    login()
    token = csrf_token(client, f"/sessions/{meeting.slug}/approvals")  # the organiser's page shows them pending
    cancel(registration, "cannot travel")
    response = client.post(
        f"/sessions/{meeting.slug}/approvals",
        data={"csrf_token": token, "one": f"approve-{registration.id}"},
        follow_redirects=True,
    )
    assert "Late Canceller was not changed: the registration is cancelled now, no longer pending." in response.get_data(
        as_text=True
    )
    db.session.refresh(registration)
    assert registration.status is RegistrationStatus.CANCELLED
    assert db.session.scalar(sa.select(sa.func.count(OutboxMail.id)).filter_by(purpose="approved")) == 0
    with pytest.raises(NotPending):
        decide(registration, approve=True)


def test_bulk_approval_approves_the_pending_and_reports_the_rest(client, make_session, make_registration, login):
    meeting = make_session(registration_policy=APPROVAL)
    first, second = (make_registration(meeting, status=RegistrationStatus.PENDING) for _ in range(2))
    gone = make_registration(meeting, status=RegistrationStatus.CANCELLED, full_name="Gone Person")
    login()
    response = client.post(
        f"/sessions/{meeting.slug}/approvals",
        data={
            "csrf_token": csrf_token(client, f"/sessions/{meeting.slug}/approvals"),
            "bulk": "approve",
            "ids": [str(first.id), str(second.id), str(gone.id)],
        },
        follow_redirects=True,
    )
    html = response.get_data(as_text=True)
    assert "2 registrations approved" in html and "Gone Person was not changed" in html
    assert [r.status for r in registrations()] == [RegistrationStatus.REGISTERED] * 2 + [RegistrationStatus.CANCELLED]


def test_approval_refuses_an_in_person_seat_beyond_capacity(make_session, make_registration):
    meeting = make_session(registration_policy=APPROVAL, in_person_capacity=1)
    make_registration(meeting)
    waiting = make_registration(meeting, status=RegistrationStatus.PENDING)
    with pytest.raises(InPersonFull):
        decide(waiting, approve=True)
    db.session.refresh(waiting)
    assert waiting.status is RegistrationStatus.PENDING


def test_two_organisers_approving_at_once_approve_once(app, make_session, make_registration):
    meeting = make_session(registration_policy=APPROVAL)
    registration_id = make_registration(meeting, status=RegistrationStatus.PENDING).id
    results, barrier = [], threading.Barrier(4)

    def attempt() -> None:
        with app.app_context():
            registration = db.session.get(Registration, registration_id)
            barrier.wait()
            try:
                decide(registration, approve=True)
                transaction.commit()  # as the request's end does
                results.append("ok")
            except NotPending:
                results.append("not pending")
            finally:
                db.session.remove()

    threads = [threading.Thread(target=attempt) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == ["not pending"] * 3 + ["ok"]
    assert db.session.scalar(sa.select(sa.func.count(OutboxMail.id)).filter_by(purpose="approved")) == 1


# ---- invitations ----


def test_an_invitation_only_session_creates_nothing_without_an_invitation(client, make_session):
    meeting = make_session(registration_policy=INVITATION)
    page = client.get(f"/sessions/{meeting.slug}/register").get_data(as_text=True)
    assert "by invitation only" in page and 'name="full_name"' not in page
    token = csrf_token(client, "/me")
    client.post(f"/sessions/{meeting.slug}/register", data=registration_form(meeting, csrf_token=token))
    assert registrations() == []
    with pytest.raises(InvitationRequired):
        register(meeting, delegate(meeting))


def test_a_personal_invitation_prefills_the_form_and_registers_once(app, client, make_session, login):
    meeting = make_session(registration_policy=INVITATION)
    login()
    response = client.post(
        f"/sessions/{meeting.slug}/invitations",
        data={
            "csrf_token": csrf_token(client, f"/sessions/{meeting.slug}/invitations"),
            "kind": "personal",
            "full_name": "Jean Kouassi",
            "email": "jean.kouassi@example.org",
            "organisation": "RTC Abidjan",
            "entity_type": meeting.entity_types[1].name,
            "region": meeting.regions[1].name,
            "mode": "online",
        },
    )
    assert response.status_code == 302
    [mail] = mails(app)
    assert mail["To"] == "jean.kouassi@example.org" and mail["Subject"].startswith("Invitation")
    link = invitation_link(mail)
    visitor = client  # (one client: the tests' app context, and so `g`'s CSRF token, is shared by clients)
    form = visitor.get(link)
    assert form.headers["Referrer-Policy"] == "no-referrer"
    html = form.get_data(as_text=True)
    assert 'value="Jean Kouassi"' in html and 'value="jean.kouassi@example.org"' in html
    assert f'<option selected value="{meeting.entity_types[1].id}"' in html
    data = registration_form(
        meeting,
        csrf_token=csrf_token(visitor, link),
        full_name="Jean Kouassi",
        email="jean.kouassi@example.org",
        mode="online",
    )
    response = visitor.post(link, data=data)
    assert response.status_code == 302
    assert "/me/" in response.headers["Location"]
    [registration] = registrations()
    assert registration.status is RegistrationStatus.REGISTERED and registration.invitation_id is not None
    again = visitor.get(link)
    assert again.status_code == 410 and "already used" in again.get_data(as_text=True)
    assert visitor.post(link, data=data).status_code == 410
    assert len(registrations()) == 1
    listing = client.get(f"/sessions/{meeting.slug}/invitations").get_data(as_text=True)
    assert "invitation-used" in listing


def test_a_person_invited_or_registered_already_is_not_invited_twice_unless_revoked(make_session, make_registration):
    from attendance.organiser.invitations import revoke
    from attendance.registration.staff_entry import InvalidEntry

    meeting = make_session(registration_policy=INVITATION)
    make_registration(meeting, email="Registered@Example.org")
    first = invite(meeting, Invitee("Ana Lima", "ana@example.org"), by="o@example.org")
    for address, reason in (
        ("ANA@example.org", "This person already has an invitation to this session."),
        ("registered@example.org", "This email address is already registered for this session."),
    ):
        with pytest.raises(InvalidEntry) as refused:
            invite(meeting, Invitee("Someone", address), by="o@example.org")
        assert refused.value.errors == {"email": reason}
    revoke(first, "o@example.org")
    assert invite(meeting, Invitee("Ana Lima", "ana@example.org"), by="o@example.org").id != first.id


def test_an_invited_person_in_an_approval_session_is_approved_at_once(make_session):
    meeting = make_session(registration_policy=APPROVAL)
    invitation = invite(meeting, Invitee("Ana Lima", "ana@example.org"), by="organiser@example.org")
    registration = register(meeting, delegate(meeting), invitation=invitation)
    assert registration.status is RegistrationStatus.REGISTERED


def test_a_forged_or_revoked_invitation_link_shows_a_clear_page_and_creates_nothing(client, make_session, login):
    meeting = make_session(registration_policy=INVITATION)
    forged = client.get("/invitations/" + "x" * 43)
    assert forged.status_code == 404 and "not valid" in forged.get_data(as_text=True)
    invitation = invite(meeting, Invitee("Ana Lima", "ana@example.org"), by="organiser@example.org")
    login()
    url = f"/sessions/{meeting.slug}/invitations/{invitation.id}/revoke"
    assert "Revoke the invitation of Ana Lima?" in client.get(url).get_data(as_text=True)
    client.post(url, data={"csrf_token": csrf_token(client, url), "confirmed": "yes"})
    revoked = client.get(f"/invitations/{invitation.token}")
    assert revoked.status_code == 410 and "withdrawn" in revoked.get_data(as_text=True)
    with pytest.raises(InvitationUsed):
        register(meeting, delegate(meeting), invitation=db.session.get(Invitation, invitation.id))
    assert registrations() == []


def test_two_tabs_sending_one_invitation_at_once_make_one_registration(app, make_session):
    meeting = make_session(registration_policy=INVITATION)
    invitation_id = invite(meeting, Invitee("Ana Lima", "ana@example.org"), by="o@example.org").id
    transaction.commit()  # the organiser's request ended before the tabs were opened
    meeting_id = meeting.id
    results, barrier = [], threading.Barrier(6)

    def attempt(n: int) -> None:
        with app.app_context():
            from attendance.models import MeetingSession

            session = db.session.get(MeetingSession, meeting_id)
            barrier.wait()
            try:
                register(session, delegate(session, n), invitation=db.session.get(Invitation, invitation_id))
                transaction.commit()  # as the request's end does
                results.append("ok")
            except InvitationUsed:
                results.append("used")
            finally:
                db.session.remove()

    threads = [threading.Thread(target=attempt, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == ["ok"] + ["used"] * 5
    assert len(registrations()) == 1


# ---- nominations ----


def nominate(client, link, meeting, n, **overrides):
    data = registration_form(
        meeting, csrf_token=csrf_token(client, link), full_name=f"Nominee {n}", email=f"nominee{n}@example.org"
    )
    data.update(overrides)
    return client.post(link, data=data)


def upload_invitees(client, meeting, content: bytes, filename: str = "invitees.csv"):
    """Posts an invitee list from the invitations page: a redirect to its preview, or the page saying why not."""
    url = f"/sessions/{meeting.slug}/invitations"
    return client.post(
        f"{url}/upload", data={"csrf_token": csrf_token(client, url), "invitees": (io.BytesIO(content), filename)}
    )


def confirm_invitees(client, uploaded, preview: str):
    """Confirms the list whose preview (the page `uploaded` led to) is `preview`, as its button does."""
    fingerprint = re.search(r'name="fingerprint" value="([0-9a-f]+)"', preview).group(1)
    location = uploaded.headers["Location"]
    return client.post(location, data={"csrf_token": csrf_token(client, location), "fingerprint": fingerprint})


def test_a_focal_point_nominates_up_to_n_and_the_next_is_refused(app, client, make_session):
    meeting = make_session(registration_policy=APPROVAL)
    invitation = invite(
        meeting,
        Invitee("Focal Point", "focal@example.org", "RILO Europe", meeting.entity_types[0].name),
        by="o@example.org",
        places=2,
    )
    link = f"/invitations/{invitation.token}"
    for n in (1, 2):
        assert nominate(client, link, meeting, n).status_code == 302
    page = client.get(link).get_data(as_text=True)
    assert "Nominee 1" in page and "Nominee 2" in page and "2 of 2 places used." in page
    assert page.count("Pending approval") == 2  # nominees of an approval session wait for it
    refused = nominate(client, link, meeting, 3)
    assert refused.status_code == 409
    assert "You have nominated all 2 people your invitation allows" in refused.get_data(as_text=True)
    assert [r.full_name for r in registrations()] == ["Nominee 1", "Nominee 2"]
    assert all(r.invitation_id == invitation.id for r in registrations())


def test_a_focal_points_page_names_no_organisation_when_the_invitation_has_none(client, make_session):
    meeting = make_session(registration_policy=INVITATION)
    invitation = invite(
        meeting,
        Invitee("Focal Point", "focal@example.org", "", meeting.entity_types[0].name),
        by="o@example.org",
        places=2,
    )
    page = html.unescape(re.sub(r"<[^>]+>", "", client.get(f"/invitations/{invitation.token}").get_data(as_text=True)))
    assert "Focal Point, you nominate the delegates." in page
    assert "delegates of ." not in page and "delegates of  " not in page


def test_a_focal_point_nominating_into_a_full_room_is_offered_the_waiting_list(client, make_session):
    meeting = make_session(in_person_capacity=1)
    invitation = invite(
        meeting,
        Invitee("Focal Point", "focal@example.org", "RILO Europe", meeting.entity_types[0].name),
        by="o@example.org",
        places=3,
    )
    link = f"/invitations/{invitation.token}"
    assert nominate(client, link, meeting, 1).status_code == 302  # takes the one seat
    full = nominate(client, link, meeting, 2)
    assert full.status_code == 200
    page = html.unescape(full.get_data(as_text=True))
    assert "In-person seats are now full. You can still register to attend online." in page
    assert "Join the waiting list for a seat in the room" in page
    assert [r.full_name for r in registrations()] == ["Nominee 1"]


def test_a_nominee_is_of_the_focal_points_entity_type(client, make_session):
    meeting = make_session()
    invitation = invite(
        meeting,
        Invitee("Focal Point", "focal@example.org", "RILO Europe", meeting.entity_types[0].name),
        by="o@example.org",
        places=3,
    )
    link = f"/invitations/{invitation.token}"
    response = nominate(client, link, meeting, 1, entity_type=str(meeting.entity_types[2].id))
    assert response.status_code == 400 and "Choose an entity type from the list." in response.get_data(as_text=True)
    assert registrations() == []


def test_nominees_racing_for_the_last_places_get_exactly_n(app, make_session):
    meeting = make_session()
    invitation_id = invite(
        meeting,
        Invitee("Focal", "focal@example.org", "RILO", meeting.entity_types[0].name),
        by="o@example.org",
        places=2,
    ).id
    transaction.commit()  # the organiser's request ended before the nominations
    meeting_id = meeting.id
    results, barrier = [], threading.Barrier(6)

    def attempt(n: int) -> None:
        with app.app_context():
            from attendance.models import MeetingSession

            session = db.session.get(MeetingSession, meeting_id)
            barrier.wait()
            try:
                register(session, delegate(session, n), invitation=db.session.get(Invitation, invitation_id))
                transaction.commit()  # as the request's end does
                results.append("ok")
            except InvitationUsed:
                results.append("refused")
            finally:
                db.session.remove()

    threads = [threading.Thread(target=attempt, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == ["ok"] * 2 + ["refused"] * 4
    assert len(registrations()) == 2
    assert db.session.get(Invitation, invitation_id).used == 2


def test_a_nomination_needs_an_entity_type_and_a_sensible_number(client, make_session, login):
    meeting = make_session()
    login()
    url = f"/sessions/{meeting.slug}/invitations"
    response = client.post(
        url,
        data={
            "csrf_token": csrf_token(client, url),
            "kind": "nomination",
            "full_name": "Focal",
            "email": "focal@example.org",
            "places": "0",
        },
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "Choose the entity type of the delegation the focal point nominates." in html
    assert "A focal point may nominate from 1 to 100 people." in html
    assert db.session.scalar(sa.select(sa.func.count(Invitation.id))) == 0


# ---- invitee lists ----


def xlsx(rows) -> bytes:
    workbook = Workbook()
    for row in rows:
        workbook.active.append(row)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def test_an_invitee_list_shows_each_bad_rows_reason_and_saves_nothing_until_confirmed(
    app, client, make_session, make_registration, login
):
    meeting = make_session(registration_policy=INVITATION)
    make_registration(meeting, email="already@example.org")
    login()
    content = (
        b"Full name,E-mail,Organisation,Entity type,Region,Mode\n"
        b"Ana Lima,ana@example.org,RTC,Observer/Guest,Europe,online\n"
        b",nobody@example.org,RTC,,,\n"
        b"Bad Mail,not-an-address,RTC,,,\n"
        b"Wrong Type,wrong@example.org,RTC,Embassy,Mars,by pigeon\n"
        b"Ana Again,ana@example.org,RTC,,,\n"
        b"Known,already@example.org,RTC,,,\n"
    )
    response = upload_invitees(client, meeting, content)
    assert response.status_code == 302
    preview = html.unescape(client.get(response.headers["Location"]).get_data(as_text=True))
    for reason in (
        "Enter the person's full name.",
        "Enter a valid email address",
        "Choose one of this session's entity types.",
        "Choose one of this session's regions.",
        "Choose in_person or online.",
        "already on line 2 of this list",
        "This email address is already registered for this session.",
    ):
        assert reason in preview, reason
    assert db.session.scalar(sa.select(sa.func.count(Invitation.id))) == 0 and mails(app) == []
    saved = confirm_invitees(client, response, preview)
    assert saved.status_code == 302
    [invitation] = db.session.scalars(sa.select(Invitation)).all()
    assert (invitation.full_name, invitation.kind, invitation.mode) == (
        "Ana Lima",
        InvitationKind.PERSONAL,
        Mode.ONLINE,
    )
    assert [m["To"] for m in mails(app)] == ["ana@example.org"]


def test_an_invitee_list_invites_focal_points_with_their_places_and_refuses_bad_numbers(
    app, client, make_session, login
):
    meeting = make_session(registration_policy=INVITATION)
    rilo = meeting.entity_types[0].name
    login()
    content = (
        "Full name,E-mail,Organisation,Entity type,Places\n"
        f"Focal Three,focal3@example.org,RILO Europe,{rilo},3\n"
        "Ana Lima,ana@example.org,RTC,,\n"
        f"Zero Places,zero@example.org,RILO,{rilo},0\n"
        f"Word Places,word@example.org,RILO,{rilo},two\n"
        f"Half Places,half@example.org,RILO,{rilo},2.5\n"
        f"Too Many,many@example.org,RILO,{rilo},101\n"
        "No Type,notype@example.org,RILO,,2\n"
    ).encode()
    response = upload_invitees(client, meeting, content)
    assert response.status_code == 302, response.get_data(as_text=True)
    preview = html.unescape(client.get(response.headers["Location"]).get_data(as_text=True))
    assert "Focal point: 3 nominees" in preview and "Invite 2 people" in preview
    rows = dict(re.findall(r'<tr class="import-\w+">\s*<td>(\d+)</td>(.*?)</tr>', preview, re.S))
    for line, reason in (
        ("4", "A focal point may nominate from 1 to 100 people."),
        ("5", "“two” is not a whole number: give the number of places, like 3."),
        ("6", "“2.5” is not a whole number: give the number of places, like 3."),
        ("7", "A focal point may nominate from 1 to 100 people."),
        ("8", "Choose the entity type of the delegation the focal point nominates."),
    ):
        assert "<strong>error</strong>" in rows[line] and reason in rows[line], (line, rows[line])
    assert db.session.scalar(sa.select(sa.func.count(Invitation.id))) == 0 and mails(app) == []

    confirm_invitees(client, response, preview)
    invited = {i.email: i for i in db.session.scalars(sa.select(Invitation))}
    assert sorted(invited) == ["ana@example.org", "focal3@example.org"]
    focal = invited["focal3@example.org"]
    assert (focal.kind, focal.places, focal.entity_type.name) == (InvitationKind.NOMINATION, 3, rilo)
    assert (invited["ana@example.org"].kind, invited["ana@example.org"].places) == (InvitationKind.PERSONAL, 1)
    nomination_mail = next(m for m in mails(app) if m["To"] == "focal3@example.org")
    assert nomination_mail["Subject"].startswith("Nominate your delegation")
    assert "up to 3 delegates" in body_of(nomination_mail)


def test_an_xlsx_invitee_list_is_read_like_the_delegation_lists(client, make_session, login):
    meeting = make_session(registration_policy=INVITATION)
    login()
    content = xlsx([["Name", "Email"], ["Kim Min-jun", "kim@example.org"], ["=HYPERLINK(1)", "x@example.org"]])
    response = upload_invitees(client, meeting, content, "invitees.xlsx")
    preview = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Kim Min-jun" in preview and "starts like a spreadsheet formula" in preview
    assert "Invite 1 person" in preview


def test_a_list_without_an_email_column_is_refused_whole(client, make_session, login):
    meeting = make_session(registration_policy=INVITATION)
    login()
    response = upload_invitees(client, meeting, b"Name\nAna\n")
    assert response.status_code == 400 and "The list has no column “E-mail”" in response.get_data(as_text=True)


def test_an_organiser_working_in_french_uploads_an_invitee_list_in_french(client, make_session, login):
    """The page names the columns in French, a list headed in French is read, and its refusals and each row's
    reasons are in French."""
    meeting = make_session(registration_policy=INVITATION)
    login()
    client.set_cookie("lang", "fr")
    page = html.unescape(client.get(f"/sessions/{meeting.slug}/invitations").get_data(as_text=True))
    assert "dont la première ligne nomme les colonnes : Nom complet et Courriel, et en option Organisation" in page

    refused = upload_invitees(client, meeting, b"Nom complet\nAna\n")
    assert refused.status_code == 400
    assert "La liste n’a pas de colonne « Courriel »." in html.unescape(refused.get_data(as_text=True))

    content = (
        "Nom complet,Courriel,Mode,Langue,Places\n"
        "Ana Lima,ana@example.org,En ligne,espagnol,\n"
        "Ana Again,ana@example.org,,,x\n"
    )
    response = upload_invitees(client, meeting, content.encode())
    assert response.status_code == 302
    preview = html.unescape(client.get(response.headers["Location"]).get_data(as_text=True))
    rows = dict(re.findall(r'<tr class="import-\w+">\s*<td>(\d+)</td>(.*?)</tr>', preview, re.S))
    assert "<td>En ligne</td>" in rows["2"] and "<td>Español</td>" in rows["2"]
    assert "<strong>Courriel :</strong> Cette adresse e-mail figure déjà à la ligne 2 de cette liste." in rows["3"]
    assert "<strong>Places :</strong> « x » n'est pas un nombre entier" in rows["3"]
    assert "Inviter 1 personne" in preview


def test_the_session_settings_choose_the_policy_open_by_default(client, make_session, login):
    from test_organiser import _session_form

    meeting = make_session()
    assert meeting.registration_policy is RegistrationPolicy.OPEN
    login()
    page = client.get(f"/sessions/{meeting.slug}/edit").get_data(as_text=True)
    assert re.search(r'<input checked[^>]*value="open"', page)
    fields = dict(slug=meeting.slug, number=str(meeting.number), series_name=meeting.series.name)
    response = client.post(
        f"/sessions/{meeting.slug}/edit", data=_session_form(client, **fields, registration_policy="approval")
    )
    assert response.status_code == 302
    db.session.refresh(meeting)
    assert meeting.registration_policy is APPROVAL
    assert client.post(f"/sessions/{meeting.slug}/edit", data=_session_form(client, **fields)).status_code == 302
    db.session.refresh(meeting)
    assert meeting.registration_policy is APPROVAL  # a form without the choice keeps it


def test_purge_deletes_invitations_and_the_organisers_messages(runner, make_session, make_registration):
    from datetime import timedelta

    from attendance.clock import utcnow
    from attendance.models import InvitationList

    meeting = make_session(first_day=utcnow().date() - timedelta(days=100))
    invite(meeting, Invitee("Zébulon Quaternion", "zebulon@example.org"), by="o@example.org")
    db.session.add(
        InvitationList(
            session_id=meeting.id, filename="zebulon.csv", content=b"Zebulon", sha256="x", uploaded_by="o@example.org"
        )
    )
    declined = make_registration(
        meeting, status=RegistrationStatus.DECLINED, decision_message="Zébulon Quaternion is not a member"
    )
    result = runner.invoke(args=["purge", meeting.slug, "--older-than", "90"])
    assert result.exit_code == 0, result.output
    db.session.expire_all()
    assert db.session.scalar(sa.select(sa.func.count(Invitation.id))) == 0
    assert db.session.scalar(sa.select(sa.func.count(InvitationList.id))) == 0
    assert db.session.get(Registration, declined.id).decision_message == ""


def test_a_decline_before_the_confirmation_went_sends_only_the_decline(app, make_session):
    meeting = make_session(registration_policy=APPROVAL)
    registration = register(meeting, delegate(meeting))  # its "received" mail waits in the outbox
    decide(registration, approve=False)
    transaction.commit()
    assert [m["Subject"].split(":")[0] for m in mails(app)] == ["Registration declined"]


def test_cancelling_a_nominee_frees_their_place_for_another(client, make_session):
    meeting = make_session()
    invitation = invite(
        meeting,
        Invitee("Focal Point", "focal@example.org", "RILO Europe", meeting.entity_types[0].name),
        by="o@example.org",
        places=2,
    )
    transaction.commit()
    link = f"/invitations/{invitation.token}"
    for n in (1, 2):
        assert nominate(client, link, meeting, n).status_code == 302
    assert nominate(client, link, meeting, 3).status_code == 409  # the N-th place is taken
    second = db.session.scalar(sa.select(Registration).filter_by(email="nominee2@example.org"))
    cancel(second, "replaced by their focal point")
    transaction.commit()
    db.session.refresh(invitation)
    assert invitation.used == 1
    cancel(second, "cancelled twice")  # a second cancel frees nothing more
    transaction.commit()
    db.session.refresh(invitation)
    assert invitation.used == 1
    assert nominate(client, link, meeting, 3).status_code == 302  # the freed place, taken again
    assert nominate(client, link, meeting, 4).status_code == 409
    db.session.refresh(invitation)
    assert invitation.used == 2


def test_cancelling_a_personally_invited_registration_keeps_the_link_used(client, make_session):
    meeting = make_session(registration_policy=INVITATION)
    invitation = invite(
        meeting,
        Invitee("Jean Kouassi", "jean.kouassi@example.org", "RTC Abidjan", meeting.entity_types[0].name),
        by="o@example.org",
    )
    transaction.commit()
    registration = register(meeting, delegate(meeting), invitation=invitation)
    transaction.commit()
    cancel(registration, "cannot come")
    transaction.commit()
    db.session.refresh(invitation)
    assert invitation.used == 1
    with pytest.raises(InvitationUsed):
        register(meeting, delegate(meeting, 2), invitation=invitation)


def test_reinstating_a_nominee_takes_a_place_again_or_is_refused_when_none_is_left(client, make_session, login):
    meeting = make_session()
    invitation = invite(
        meeting,
        Invitee("Focal Point", "focal@example.org", "RILO Europe", meeting.entity_types[0].name),
        by="o@example.org",
        places=1,
    )
    transaction.commit()
    link = f"/invitations/{invitation.token}"
    assert nominate(client, link, meeting, 1).status_code == 302
    first = db.session.scalar(sa.select(Registration).filter_by(email="nominee1@example.org"))
    cancel(first, "replaced")
    transaction.commit()
    assert nominate(client, link, meeting, 2).status_code == 302  # the freed place, given to another
    login()
    url = f"/sessions/{meeting.slug}/registrations/{first.id}/reinstate"
    page = client.post(
        url, data={"csrf_token": csrf_token(client, f"/sessions/{meeting.slug}/registrations/{first.id}")}
    )
    assert "the focal point has used all the places" in client.get(page.headers["Location"]).get_data(as_text=True)
    db.session.refresh(first)
    db.session.refresh(invitation)
    assert first.is_cancelled and invitation.used == 1

    second = db.session.scalar(sa.select(Registration).filter_by(email="nominee2@example.org"))
    cancel(second, "replaced back")
    transaction.commit()
    client.post(url, data={"csrf_token": csrf_token(client, f"/sessions/{meeting.slug}/registrations/{first.id}")})
    db.session.refresh(first)
    db.session.refresh(invitation)
    assert first.is_registered and invitation.used == 1


def test_revoking_an_invitation_asks_first_and_a_post_without_the_confirmation_revokes_nothing(
    client, make_session, login
):
    meeting = make_session(registration_policy=INVITATION)
    invitation = invite(meeting, Invitee("Ana Lima", "ana@example.org"), by="organiser@example.org")
    transaction.commit()
    login()
    page = client.get(f"/sessions/{meeting.slug}/invitations").get_data(as_text=True)
    url = f"/sessions/{meeting.slug}/invitations/{invitation.id}/revoke"
    assert f'href="{url}"' in page  # the list's Revoke leads to the question, it does not act
    response = client.post(url, data={"csrf_token": csrf_token(client, url)})
    assert response.status_code == 200 and "Yes, revoke the invitation" in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Invitation, invitation.id).revoked_at is None
    assert client.get(f"/invitations/{invitation.token}").status_code == 200  # the link still registers


def test_a_delegate_who_chose_the_waiting_list_waits_for_approval_then_joins_the_line(client, make_session):
    meeting = make_session(registration_policy=APPROVAL, in_person_capacity=1)
    seated = register(meeting, delegate(meeting, 1))
    decide(seated, approve=True)
    transaction.commit()
    wisher = register(meeting, delegate(meeting, 2), wait_for_seat=True)
    transaction.commit()
    assert wisher.status is RegistrationStatus.PENDING and wisher.waiting_since is not None
    assert "in line" not in client.get(f"/me/{wisher.access_key}").get_data(as_text=True)  # not in line yet

    decide(wisher, approve=True)  # the room is full: approved, and in line rather than refused
    transaction.commit()
    assert wisher.status is RegistrationStatus.REGISTERED and wisher.mode is Mode.ONLINE and wisher.is_waiting
    assert "1st in line" in client.get(f"/me/{wisher.access_key}").get_data(as_text=True)


def test_a_delegate_who_chose_the_waiting_list_is_seated_on_approval_when_a_seat_is_free(make_session):
    meeting = make_session(registration_policy=APPROVAL, in_person_capacity=1)
    seated = register(meeting, delegate(meeting, 1))
    decide(seated, approve=True)
    wisher = register(meeting, delegate(meeting, 2), wait_for_seat=True)
    transaction.commit()
    cancel(seated, "Cannot travel")  # a seat comes free before the decision
    transaction.commit()
    decide(wisher, approve=True)
    transaction.commit()
    assert wisher.status is RegistrationStatus.REGISTERED and wisher.mode is Mode.IN_PERSON
    assert not wisher.is_waiting


def approvals_row(client, meeting, registration, status: str = "pending") -> str:
    page = client.get(f"/sessions/{meeting.slug}/approvals?status={status}").get_data(as_text=True)
    row = page[page.index(f'data-registration="{registration.id}"') :]
    return html.unescape(re.sub(r"\s+", " ", row[: row.index("</tr>")]))


def test_the_approvals_page_shows_a_pending_delegates_wish_to_wait_for_a_seat(client, login, make_session):
    meeting = make_session(registration_policy=APPROVAL, in_person_capacity=1)
    seated = register(meeting, delegate(meeting, 1))
    decide(seated, approve=True)
    in_line = register(meeting, delegate(meeting, 2), wait_for_seat=True)
    decide(in_line, approve=True)
    wisher = register(meeting, delegate(meeting, 3), wait_for_seat=True)
    plain = register(meeting, delegate(meeting, 4, mode=Mode.ONLINE))
    transaction.commit()
    login()
    row = approvals_row(client, meeting, wisher)
    assert "Asks for a seat: the room is full, so approving puts them on the waiting list, 2nd in line." in row
    assert "They attend online meanwhile." in row and "In person" in row and "Online" not in row
    assert "Asks for a seat" not in approvals_row(client, meeting, plain)

    cancel(seated, "cannot travel")  # the first in line takes the seat; the room is full again, nobody ahead
    transaction.commit()
    assert "on the waiting list, 1st in line." in approvals_row(client, meeting, wisher)
    meeting.in_person_capacity = 3
    transaction.commit()
    assert "Asks for a seat: one is free, so approving seats them." in approvals_row(client, meeting, wisher)


def test_in_a_room_only_session_the_wish_says_there_is_no_badge_until_a_seat(client, login, make_session):
    meeting = make_session(registration_policy=APPROVAL, in_person_capacity=0, online_meeting_url="")
    wisher = register(meeting, delegate(meeting, 1), wait_for_seat=True)
    transaction.commit()
    login()
    row = approvals_row(client, meeting, wisher)
    assert "on the waiting list, 1st in line. No badge until a seat is theirs." in row and "online" not in row
    url = f"/sessions/{meeting.slug}/approvals"
    done = client.post(
        url, data={"one": f"approve-{wisher.id}", "csrf_token": csrf_token(client, url)}, follow_redirects=True
    )
    assert "The room is full, so these are on the waiting list for a seat: Delegate 1." in done.get_data(as_text=True)


def test_the_declined_list_shows_a_delegate_who_asked_for_a_seat_as_in_person(client, login, make_session):
    meeting = make_session(registration_policy=APPROVAL, in_person_capacity=1)
    seated = register(meeting, delegate(meeting, 1))
    decide(seated, approve=True)
    wisher = register(meeting, delegate(meeting, 2), wait_for_seat=True)
    online = register(meeting, delegate(meeting, 3, mode=Mode.ONLINE))
    transaction.commit()
    for registration in (wisher, online):
        decide(registration, approve=False)
    transaction.commit()
    login()
    row = approvals_row(client, meeting, wisher, "declined")
    assert "In person" in row and "Asked to wait for a seat in the room." in row and "Online" not in row
    row = approvals_row(client, meeting, online, "declined")
    assert "Online" in row and "seat" not in row


@pytest.mark.parametrize("hybrid", [True, False], ids=["hybrid", "room-only"])
def test_the_mail_of_a_delegate_approved_into_the_line_gives_their_place(app, make_session, hybrid):
    meeting = make_session(
        registration_policy=APPROVAL,
        in_person_capacity=1,
        online_meeting_url="https://meet.example.org/test" if hybrid else "",
    )
    seated = register(meeting, delegate(meeting, 1))
    decide(seated, approve=True)
    first = register(meeting, delegate(meeting, 2), wait_for_seat=True)
    decide(first, approve=True)
    wisher = register(meeting, delegate(meeting, 3), wait_for_seat=True)
    transaction.commit()
    decide(wisher, approve=True)
    transaction.commit()
    [mail] = [m for m in mails(app) if m["To"] == wisher.email and m["Subject"].startswith("Registration approved")]
    text = " ".join(body_of(mail).split())
    assert "is approved" in text
    assert "In-person seats are full: you are on the waiting list for a seat in the room, 2nd in line." in text
    if hybrid:
        assert "Meanwhile you attend online" in text and f"/join/{wisher.access_key}" in text
        assert attachments_of(mail) == ["badge.pdf", "calendar.ics"]
    else:
        assert "You have no badge yet: when a seat comes free" in text and "online" not in text
        assert attachments_of(mail) == []


# ---- the language of an invitation, and where its registrations came from ----


def test_an_invitation_is_mailed_in_the_language_the_organiser_chose(app, client, make_session, login):
    meeting = make_session(registration_policy=INVITATION)
    login()
    url = f"/sessions/{meeting.slug}/invitations"
    page = client.get(url).get_data(as_text=True)
    assert re.search(r'<option selected value="en">English</option>', page)  # the session's language
    response = client.post(
        url,
        data={
            "csrf_token": csrf_token(client, url),
            "kind": "personal",
            "full_name": "Jean Kouassi",
            "email": "jean.kouassi@example.org",
            "language": "fr",
        },
    )
    assert response.status_code == 302
    [mail] = mails(app)
    assert mail["Subject"] == f"Invitation : {meeting.title}"
    assert "Vous êtes invité·e à" in body_of(mail)
    assert db.session.scalar(sa.select(Invitation.locale)) == "fr"
    assert "jean.kouassi@example.org · Français" in client.get(url).get_data(as_text=True)

    # The link opens in French on an English browser; the language switcher still wins there.
    invitee = app.test_client()
    link = invitation_link(mail)
    page = invitee.get(link, headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert '<html lang="fr"' in page and "Nom complet" in page
    invitee.set_cookie("lang", "es")
    assert '<html lang="es"' in invitee.get(link).get_data(as_text=True)


def test_a_delegates_own_page_speaks_their_language_unless_the_browser_chose_one(app, make_session, make_registration):
    registration = make_registration(make_session(), locale="ar")
    reader = app.test_client()
    page = reader.get(f"/me/{registration.access_key}", headers={"Accept-Language": "en-GB,en"})
    assert '<html lang="ar" dir="rtl"' in page.get_data(as_text=True)
    reader.set_cookie("lang", "en")
    assert '<html lang="en" dir="ltr"' in reader.get(f"/me/{registration.access_key}").get_data(as_text=True)


def test_every_page_of_a_personal_link_speaks_the_delegates_language(app, make_session, make_registration):
    """Not only their page: the join link before the meeting opens, a refused certificate."""
    meeting = make_session(online_meeting_url="https://example.org/meet", first_day=date.today() + timedelta(days=9))
    registration = make_registration(meeting, locale="fr", mode=Mode.ONLINE)
    reader = app.test_client()
    english = {"Accept-Language": "en"}
    join = reader.get(f"/join/{registration.access_key}", headers=english).get_data(as_text=True)
    assert "La réunion n’a pas encore commencé" in join
    refused = reader.get(f"/me/{registration.access_key}/certificate.pdf", headers=english)
    assert refused.status_code == 403 and "Pas de certificat pour cette inscription" in refused.get_data(as_text=True)


def test_an_invitee_lists_language_column_chooses_each_mails_language_else_the_sessions(
    app, client, make_session, login
):
    meeting = make_session(registration_policy=INVITATION, certificate_language="es")
    login()
    content = (
        b"Full name,E-mail,Language\n"
        b"Jean Kouassi,jean@example.org,fr\n"
        b"Layla Haddad,layla@example.org,Arabic\n"
        b"Ana Lima,ana@example.org,\n"
        b"Kim Min-jun,kim@example.org,Klingon\n"
    )
    response = upload_invitees(client, meeting, content)
    assert response.status_code == 302
    preview = html.unescape(client.get(response.headers["Location"]).get_data(as_text=True))
    assert "Choose one of these languages: English (en), Français (fr), Español (es), العربية (ar)." in preview
    assert "Invite 3 people" in preview and "<td>Español</td>" in preview  # the blank cell, as it will be sent
    assert mails(app) == []
    confirm_invitees(client, response, preview)
    assert dict(db.session.execute(sa.select(Invitation.email, Invitation.locale)).all()) == {
        "jean@example.org": "fr",
        "layla@example.org": "ar",
        "ana@example.org": "es",
    }
    subjects = {m["To"]: m["Subject"] for m in mails(app)}
    assert subjects == {
        "jean@example.org": f"Invitation : {meeting.title}",
        "layla@example.org": f"دعوة: {meeting.title}",
        "ana@example.org": f"Invitación: {meeting.title}",
    }


def test_invitees_and_nominees_show_how_they_came_on_the_organisers_pages_and_export(client, make_session, login):
    meeting = make_session()
    personal = invite(meeting, Invitee("Jean Kouassi", "jean@example.org"), by="o@example.org")
    focal = invite(
        meeting,
        Invitee("Focal Point", "focal@example.org", "RILO Europe", meeting.entity_types[0].name),
        by="o@example.org",
        places=2,
    )
    transaction.commit()
    invited = register(meeting, delegate(meeting, 1), invitation=personal)
    transaction.commit()
    assert nominate(client, f"/invitations/{focal.token}", meeting, 2).status_code == 302
    post_registration(client, meeting, email="walkup@example.org")
    nominee = db.session.scalar(sa.select(Registration).filter_by(email="nominee2@example.org"))
    assert [r.source.value for r in registrations()] == ["invitation", "nomination", "form"]

    login()
    listing = client.get(f"/sessions/{meeting.slug}/registrations").get_data(as_text=True)
    assert "Personal invitation" in listing and "Nominated by a focal point" in listing and "Public form" in listing
    for registration, label in ((invited, "Personal invitation"), (nominee, "Nominated by a focal point")):
        page = client.get(f"/sessions/{meeting.slug}/registrations/{registration.id}").get_data(as_text=True)
        assert f"source: {label}" in page
    export = csv.DictReader(
        io.StringIO(client.get(f"/sessions/{meeting.slug}/registrations.csv").data.decode("utf-8-sig"))
    )
    assert {row["email"]: row["source"] for row in export} == {
        "d1@example.org": "invitation",
        "nominee2@example.org": "nomination",
        "walkup@example.org": "form",
    }


def test_the_migration_marks_invited_registrations_and_gives_invitations_english_and_goes_back(tmp_path):
    from test_registration import database_before

    names = ("walk-up", "invited", "nominee")
    with database_before(
        "b2d4f6a8c0e1",
        tmp_path,
        [dict(full_name=n, name_key=n, email=f"{n}@example.org", email_key=f"{n}@example.org") for n in names],
    ) as (upgrade, downgrade):
        session_id = db.session.execute(sa.text("SELECT id FROM meeting_sessions")).scalar_one()
        for name, kind in (("invited", "personal"), ("nominee", "nomination")):
            db.session.execute(
                sa.text(
                    "INSERT INTO invitations (session_id, kind, token, full_name, email, organisation, places, used,"
                    " created_by, created_at) VALUES (:session, :kind, :kind, 'I', 'i@example.org', '', 1, 1, '',"
                    " '2026-01-01 00:00:00')"
                ),
                {"session": session_id, "kind": kind},
            )
            db.session.execute(
                sa.text(
                    "UPDATE registrations SET invitation_id = (SELECT id FROM invitations WHERE kind = :kind) "
                    "WHERE full_name = :name"
                ),
                {"kind": kind, "name": name},
            )
        db.session.commit()
        upgrade()
        sources = dict(db.session.execute(sa.text("SELECT full_name, source FROM registrations")).all())
        assert sources == {"walk-up": "form", "invited": "invitation", "nominee": "nomination"}
        assert db.session.execute(sa.text("SELECT locale FROM invitations")).scalars().all() == ["en", "en"]
        downgrade(revision="b2d4f6a8c0e1")
        sources = dict(db.session.execute(sa.text("SELECT full_name, source FROM registrations")).all())
        assert set(sources.values()) == {"form"}

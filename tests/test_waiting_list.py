"""The in-person waiting list: joining from the full form, the place in line, leaving, and promotion of the first
in line when a seat frees (a cancellation, a switch to online, more seats), race-free."""

import csv
import email
import email.policy
import io
import os
import threading
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from helpers import csrf_token, registration_form
from pdf_tools import qr_codes

from attendance import transaction
from attendance.api.tokens import create_api_token
from attendance.certificates.service import eligibility
from attendance.checkin.roster import token_hash
from attendance.clock import utcnow
from attendance.extensions import db
from attendance.models import AuditEvent, MailStatus, Mode, OutboxMail, Registration, RegistrationStatus, StaffUser
from attendance.organiser.service import DayHours, save_session, update_registration
from attendance.registration.service import cancel, reinstate
from attendance.registration.waitlist import in_person_count, place_in_line, waiting_list
from attendance.reports.headcount import headcount, headline


def outbox_mails(app) -> list[email.message.EmailMessage]:
    folder = app.config["OUTBOX_DIR"]
    return [
        email.message_from_bytes(open(os.path.join(folder, name), "rb").read(), policy=email.policy.default)
        for name in sorted(os.listdir(folder))
    ]


def waiting(meeting, make_registration, count: int, start: int = 0) -> list[Registration]:
    """Delegates on the waiting list, in this order (each a minute after the one before)."""
    people = []
    for n in range(count):
        person = make_registration(
            meeting, full_name=f"Waiting {start + n}", email=f"waiting{start + n}@example.org", mode=Mode.ONLINE
        )
        person.waiting_since = utcnow() - timedelta(minutes=100 - n)
        people.append(person)
    db.session.commit()
    return people


def test_a_full_form_offers_the_waiting_list_and_registers_the_delegate_online_meanwhile(
    app, client, make_session, make_registration
):
    meeting = make_session(in_person_capacity=1)
    make_registration(meeting)
    page = client.get(f"/sessions/{meeting.slug}/register").get_data(as_text=True)
    assert 'value="waiting_list"' in page and "join the waiting list" in page.lower()

    response = client.post(
        f"/sessions/{meeting.slug}/register",
        data=registration_form(
            meeting, mode="waiting_list", csrf_token=csrf_token(client, f"/sessions/{meeting.slug}/register")
        ),
    )
    assert response.status_code == 302
    person = db.session.scalar(sa.select(Registration).filter_by(email="amelie.dubois@example.org"))
    assert person.mode is Mode.ONLINE and person.is_waiting and in_person_count(meeting) == 1
    me = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "1st in line" in me and "Leave the waiting list" in me and f"/join/{person.access_key}" in me
    confirmation = outbox_mails(app)[-1].get_body(("plain",)).get_content()
    assert "you are on the waiting list for a seat in the room, 1st in line." in confirmation
    assert "Meanwhile you attend online" in confirmation and f"/join/{person.access_key}" in confirmation


def test_a_session_held_only_in_the_room_offers_the_list_without_promising_online(
    client, make_session, make_registration
):
    meeting = make_session(in_person_capacity=1, online_meeting_url="")
    make_registration(meeting)
    page = client.get(f"/sessions/{meeting.slug}/register").get_data(as_text=True)
    assert "Join the waiting list for a seat in the room" in page and "registered online meanwhile" not in page


def test_choosing_the_waiting_list_when_a_seat_is_free_gives_the_seat(client, make_session):
    meeting = make_session(in_person_capacity=1)
    client.post(
        f"/sessions/{meeting.slug}/register",
        data=registration_form(
            meeting, mode="waiting_list", csrf_token=csrf_token(client, f"/sessions/{meeting.slug}/register")
        ),
    )
    person = db.session.scalar(sa.select(Registration).filter_by(email="amelie.dubois@example.org"))
    assert person.mode is Mode.IN_PERSON and not person.is_waiting


def test_the_delegate_page_shows_the_place_in_line_and_leaving_moves_the_others_up(
    client, make_session, make_registration
):
    meeting = make_session(in_person_capacity=0)
    first, second, third = waiting(meeting, make_registration, 3)
    assert "3rd in line" in client.get(f"/me/{third.access_key}").get_data(as_text=True)
    assert "2nd in line" in client.get(f"/me/{second.access_key}").get_data(as_text=True)

    response = client.post(
        f"/me/{first.access_key}/waiting-list/leave", data={"csrf_token": csrf_token(client, f"/me/{first.access_key}")}
    )
    assert response.status_code == 302
    db.session.expire_all()
    assert not first.is_waiting and first.status is RegistrationStatus.REGISTERED and first.mode is Mode.ONLINE
    assert "1st in line" in client.get(f"/me/{second.access_key}").get_data(as_text=True)
    assert "2nd in line" in client.get(f"/me/{third.access_key}").get_data(as_text=True)
    assert "in line" not in client.get(f"/me/{first.access_key}").get_data(as_text=True)
    assert client.get(f"/me/{second.access_key}/data.json").json["registration"]["waiting_for_a_seat_since"]
    assert client.get(f"/me/{first.access_key}/data.json").json["registration"]["waiting_for_a_seat_since"] is None


def test_a_cancellation_promotes_the_first_in_line_with_a_new_badge_by_mail(app, make_session, make_registration):
    meeting = make_session(in_person_capacity=1)
    seated = make_registration(meeting)
    first, second = waiting(meeting, make_registration, 2)
    old_badge = first.badge_token

    cancel(seated, "cannot travel", tell=True)
    transaction.commit()  # the request's end: the promotion's mail goes to the queue

    db.session.expire_all()
    assert first.mode is Mode.IN_PERSON and not first.is_waiting and first.badge_token != old_badge
    assert second.is_waiting and place_in_line(second) == 1 and in_person_count(meeting) == 1
    mail = next(m for m in outbox_mails(app) if m["To"] == first.email)
    assert "A seat in the room is yours" in mail["Subject"]
    assert [part.get_filename() for part in mail.iter_attachments()] == ["badge.pdf"]
    assert (
        db.session.scalar(sa.select(OutboxMail.status).filter_by(registration_id=first.id, purpose="promoted"))
        is MailStatus.SENT
    )
    assert (
        db.session.scalar(sa.select(AuditEvent.target).filter_by(action="registration.promote"))
        == f"registration {first.id}"
    )


def test_cancelling_an_online_delegate_promotes_nobody(make_session, make_registration):
    meeting = make_session(in_person_capacity=1)
    make_registration(meeting)
    online = make_registration(meeting, mode=Mode.ONLINE)
    (person,) = waiting(meeting, make_registration, 1)
    assert cancel(online, "") == []
    db.session.expire_all()
    assert person.is_waiting


def test_an_organiser_moving_a_delegate_online_promotes_the_first_in_line(make_session, make_registration):
    meeting = make_session(in_person_capacity=1)
    seated = make_registration(meeting)
    (person,) = waiting(meeting, make_registration, 1)
    promoted = update_registration(seated, mode=Mode.ONLINE, role=seated.role)
    assert promoted == [person] and person.mode is Mode.IN_PERSON and in_person_count(meeting) == 1


def test_more_seats_promote_as_many_as_fit_in_order(make_session, make_registration):
    meeting = make_session(in_person_capacity=1)
    make_registration(meeting)
    people = waiting(meeting, make_registration, 4)
    organiser = StaffUser(email="o@example.org", role="organiser", password_hash="x")
    save_session(
        meeting,
        series_name=meeting.series.name,
        organiser=organiser,
        in_person_capacity=3,
        days=[DayHours(d.date, d.starts_at, d.ends_at) for d in meeting.days],
    )
    db.session.expire_all()
    assert [p.mode for p in people] == [Mode.IN_PERSON, Mode.IN_PERSON, Mode.ONLINE, Mode.ONLINE]
    assert waiting_list(meeting) == people[2:] and in_person_count(meeting) == 3

    save_session(
        meeting,
        series_name=meeting.series.name,
        organiser=organiser,
        in_person_capacity=None,
        days=[DayHours(d.date, d.starts_at, d.ends_at) for d in meeting.days],
    )
    assert waiting_list(meeting) == [] and in_person_count(meeting) == 5


def test_the_organiser_sees_the_waiting_list_in_order(client, login, make_session, make_registration):
    meeting = make_session(in_person_capacity=0)
    login()
    waiting(meeting, make_registration, 3)
    page = client.get(f"/sessions/{meeting.slug}/registrations").get_data(as_text=True)
    listed = page[page.index('<ol class="waiting-list">') :]
    assert listed.index("Waiting 0") < listed.index("Waiting 1") < listed.index("Waiting 2")


def test_the_registrations_list_and_export_tell_who_waits_and_who_asked_for_a_seat(
    client, login, make_session, make_registration
):
    """In line, or asked for a seat without being in line (pending, declined or cancelled): both are online in the
    list's mode column, so the list says which, and the export says since when; nobody else gets a mark."""
    meeting = make_session(in_person_capacity=0)
    login()
    in_line = waiting(meeting, make_registration, 1)[0]
    pending = waiting(meeting, make_registration, 1, start=1)[0]
    pending.status = RegistrationStatus.PENDING
    online = make_registration(meeting, full_name="Online By Choice", email="online@example.org", mode=Mode.ONLINE)
    db.session.commit()
    page = client.get(f"/sessions/{meeting.slug}/registrations").get_data(as_text=True)
    rows = {name: page[page.index(name) : page.index("</tr>", page.index(name))] for name in ("Waiting 0", "Waiting 1")}
    rows["Online By Choice"] = page[
        page.index("Online By Choice") : page.index("</tr>", page.index("Online By Choice"))
    ]
    assert "waiting for a seat" in rows["Waiting 0"] and "Asked to wait" not in rows["Waiting 0"]
    assert (
        "Asked to wait for a seat in the room." in rows["Waiting 1"] and "waiting for a seat<" not in rows["Waiting 1"]
    )
    assert "seat" not in rows["Online By Choice"]

    export = {
        row["email"]: row
        for row in csv.DictReader(
            io.StringIO(client.get(f"/sessions/{meeting.slug}/registrations.csv").data.decode("utf-8-sig"))
        )
    }
    for person in (in_line, pending):
        assert export[person.email]["waiting_since_utc"] == person.waiting_since.strftime("%Y-%m-%d %H:%M:%S")
    assert export[online.email]["waiting_since_utc"] == ""
    assert export[pending.email]["status"] == "pending" and export[pending.email]["mode"] == "online"


def test_two_cancellations_at_the_same_instant_promote_exactly_two(app, make_session, make_registration):
    """Two threads, each its own connection and transaction, cancel the two seated delegates at once: the two
    first in line are promoted, once each, and the room never holds more than its seats. Several rounds, so that
    the two transactions really overlap."""
    for round_ in range(4):
        meeting = make_session(in_person_capacity=2)
        seated = [make_registration(meeting), make_registration(meeting)]
        people = waiting(meeting, make_registration, 3, start=10 * round_)
        barrier = threading.Barrier(2)
        errors = []

        def cancel_at_once(registration_id: int, barrier=barrier, errors=errors) -> None:
            with app.app_context():
                try:
                    registration = db.session.get(Registration, registration_id)
                    _ = registration.session.in_person_capacity  # loaded before the race, as a request would
                    barrier.wait(timeout=30)
                    cancel(registration, "race")
                    transaction.commit()  # as the request's end does
                except Exception as error:  # reported in the main thread
                    errors.append(error)
                finally:
                    db.session.remove()

        threads = [threading.Thread(target=cancel_at_once, args=(r.id,)) for r in seated]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        assert errors == []
        db.session.expire_all()
        assert [p.mode for p in people] == [Mode.IN_PERSON, Mode.IN_PERSON, Mode.ONLINE]
        assert [p.is_waiting for p in people] == [False, False, True]
        assert in_person_count(meeting) == 2
        assert (
            db.session.scalar(
                sa.select(sa.func.count())
                .select_from(OutboxMail)
                .where(OutboxMail.purpose == "promoted", OutboxMail.registration_id.in_([p.id for p in people]))
            )
            == 2
        )


def test_waiting_for_a_seat_in_a_session_held_only_in_the_room_gives_no_badge_and_no_admission(
    client, login, make_session, make_registration
):
    today = datetime.now(ZoneInfo("Europe/Brussels")).date()
    meeting = make_session(in_person_capacity=1, online_meeting_url="", first_day=today)
    seated = make_registration(meeting, mode=Mode.IN_PERSON)
    [person] = waiting(meeting, make_registration, 1)
    assert not person.is_registered and person.waits_without_seat

    me = client.get(f"/me/{person.access_key}").get_data(as_text=True)
    assert "1st in line" in me and "Your badge" not in me and f"/join/{person.access_key}" not in me
    refused = client.get(f"/me/{person.access_key}/badge.pdf")
    assert refused.status_code == 403 and "waiting list" in refused.get_data(as_text=True)
    login("organiser")  # the desk says why, in the same words as the organiser's pages
    desk = client.get(f"/sessions/{meeting.slug}/desk/people/{person.id}/new-badge")
    assert desk.status_code == 409 and "On the waiting list: no seat yet, so no badge" in desk.get_data(as_text=True)

    token = create_api_token("Door 1")[1]
    answer = client.post(
        "/api/v1/checkins", json={"token": person.badge_token}, headers={"Authorization": f"Bearer {token}"}
    )
    assert answer.status_code == 409
    assert (
        answer.get_json()["status"] == "waiting" and "On the waiting list: no seat yet" in answer.get_json()["message"]
    )
    door_token = create_api_token("Door 1", session_id=meeting.id)[1]

    def on_the_roster() -> str:
        """What an offline door phone would answer for the waiting delegate."""
        roster = client.get(
            f"/api/v1/sessions/{meeting.slug}/roster", headers={"Authorization": f"Bearer {door_token}"}
        ).get_json()
        return {badge["hash"]: badge["status"] for badge in roster["badges"]}[token_hash(person.badge_token)]

    assert on_the_roster() == "waiting"  # refused offline too
    numbers = headline(meeting, today)["session"]
    assert numbers == {"registered_in_person": 1, "registered_online": 0}
    total = headcount(meeting).session.total.counts
    assert (total["registered_in_person"], total["registered_online"]) == (1, 0)
    assert "You are on the waiting list: no seat yet." in eligibility(person).reasons

    cancel(seated, "cannot come")  # the seat frees: the waiting delegate is promoted and gets the badge
    transaction.commit()
    assert person.mode is Mode.IN_PERSON and person.is_registered
    assert client.get(f"/me/{person.access_key}/badge.pdf").status_code == 200
    assert on_the_roster() == "registered"
    answer = client.post(
        "/api/v1/checkins", json={"token": person.badge_token}, headers={"Authorization": f"Bearer {token}"}
    )
    assert answer.status_code == 201


def test_the_confirmation_of_a_delegate_waiting_in_a_room_only_session_promises_no_online_meeting(
    app, client, make_session, make_registration
):
    meeting = make_session(in_person_capacity=1, online_meeting_url="")
    make_registration(meeting)
    waiting(meeting, make_registration, 1)
    url = f"/sessions/{meeting.slug}/register"
    client.post(url, data=registration_form(meeting, mode="waiting_list", csrf_token=csrf_token(client, url)))
    [mail] = [m for m in outbox_mails(app) if m["To"] == "amelie.dubois@example.org"]
    text = " ".join(mail.get_body(("plain",)).get_content().split())
    assert "you are on the waiting list for a seat in the room, 2nd in line." in text
    assert "You have no badge yet: when a seat comes free, it goes to the first in line at once" in text
    assert "online" not in text.lower() and "You will attend" not in text
    assert [part.get_filename() for part in mail.iter_attachments()] == []


def test_waiting_in_a_hybrid_session_keeps_the_badge_for_online_meanwhile(client, make_session, make_registration):
    meeting = make_session(in_person_capacity=1)
    make_registration(meeting, mode=Mode.IN_PERSON)
    [person] = waiting(meeting, make_registration, 1)
    assert person.is_registered and not person.waits_without_seat
    assert client.get(f"/me/{person.access_key}/badge.pdf").status_code == 200


def test_leaving_the_waiting_list_of_a_session_held_only_in_the_room_cancels(client, make_session, make_registration):
    meeting = make_session(in_person_capacity=1, online_meeting_url="")
    make_registration(meeting, mode=Mode.IN_PERSON)
    [person] = waiting(meeting, make_registration, 1)
    page = f"/me/{person.access_key}"
    response = client.post(f"{page}/waiting-list/leave", data={"csrf_token": csrf_token(client, page)})
    assert "your registration is cancelled" in client.get(response.headers["Location"]).get_data(as_text=True)
    db.session.refresh(person)
    assert person.is_cancelled and not person.is_waiting


def test_reinstating_into_a_full_room_puts_the_delegate_at_the_end_of_the_line(make_session, make_registration):
    meeting = make_session(in_person_capacity=1)
    seated = make_registration(meeting)
    (first,) = waiting(meeting, make_registration, 1)
    cancel(seated, "cancelled by mistake")  # the seat goes to the first in line at once
    transaction.commit()
    (later,) = waiting(meeting, make_registration, 1, start=1)
    later.waiting_since = utcnow()
    transaction.commit()

    assert reinstate(seated) == 2
    transaction.commit()
    assert seated.is_registered and seated.mode is Mode.ONLINE and seated.is_waiting
    assert first.mode is Mode.IN_PERSON and in_person_count(meeting) == 1 and waiting_list(meeting) == [later, seated]
    assert db.session.scalar(sa.select(AuditEvent.details).filter_by(action="registration.reinstate")) == (
        "on the waiting list"
    )


def test_reinstating_into_a_full_room_only_session_gives_no_badge_until_a_seat(client, make_session, make_registration):
    meeting = make_session(in_person_capacity=1, online_meeting_url="")
    seated = make_registration(meeting)
    cancel(seated, "by mistake")
    make_registration(meeting)  # the seat is taken meanwhile
    assert reinstate(seated) == 1
    transaction.commit()
    assert seated.waits_without_seat and not seated.is_registered
    assert client.get(f"/me/{seated.access_key}/badge.pdf").status_code == 403


def test_reinstating_one_who_waited_in_a_room_only_session_puts_them_back_in_line_or_seats_them(
    app, make_session, make_registration
):
    meeting = make_session(in_person_capacity=1, online_meeting_url="")
    seated = make_registration(meeting)
    (person,) = waiting(meeting, make_registration, 1)
    cancel(person, "by mistake")
    transaction.commit()
    assert reinstate(person) == 1  # not an "online" delegate of a session with no online meeting, badge in hand
    transaction.commit()
    assert person.waits_without_seat and in_person_count(meeting) == 1

    cancel(person, "again")
    cancel(seated, "cannot come")  # the seat frees with nobody in line
    transaction.commit()
    assert reinstate(person) is None
    transaction.commit()
    assert person.mode is Mode.IN_PERSON and person.is_registered and in_person_count(meeting) == 1
    # One mail per reinstatement, the reinstatement's: in line with no badge, then seated with the new badge
    told = [m for m in outbox_mails(app) if m["To"] == person.email]
    assert [m["Subject"] for m in told] == [f"Registration reinstated: {meeting.title}"] * 2
    in_line, seated_mail = sorted(told, key=lambda m: len(list(m.iter_attachments())))
    assert (
        "you are on the waiting list for a seat in the room, 1st in line." in in_line.get_body(("plain",)).get_content()
    )
    badge = next(part for part in seated_mail.iter_attachments() if part.get_filename() == "badge.pdf")
    assert qr_codes(badge.get_content()) == [person.badge_token]  # the badge of the promotion, not the old one


def test_reinstating_with_a_free_seat_or_online_changes_nothing_else(make_session, make_registration):
    meeting = make_session(in_person_capacity=2)
    make_registration(meeting)
    seated, online = make_registration(meeting), make_registration(meeting, mode=Mode.ONLINE)
    cancel(seated, "")
    cancel(online, "")
    make_registration(meeting, mode=Mode.ONLINE)
    assert reinstate(seated) is None and reinstate(online) is None
    assert seated.mode is Mode.IN_PERSON and not seated.is_waiting and online.mode is Mode.ONLINE


def test_the_organiser_reinstating_into_a_full_room_is_asked_line_or_over_capacity(
    client, login, make_session, make_registration
):
    meeting = make_session(in_person_capacity=1)
    seated = make_registration(meeting, full_name="Mistaken Cancel")
    (first,) = waiting(meeting, make_registration, 1)
    cancel(seated, "by mistake")
    login()
    base = f"/sessions/{meeting.slug}/registrations/{seated.id}"
    asked = client.post(base + "/reinstate", data={"csrf_token": csrf_token(client, base)})
    page = asked.get_data(as_text=True)
    assert asked.status_code == 200 and "The room is full: reinstate Mistaken Cancel how?" in page
    assert "They join the end of the line: 1st in line." in page
    assert "The room will be over capacity: 2 people for 1 seat." in page
    db.session.refresh(seated)
    assert seated.is_cancelled  # nothing before the organiser chooses

    done = client.post(
        base + "/reinstate",
        data={"seat": "over_capacity", "csrf_token": csrf_token(client, base)},
        follow_redirects=True,
    )
    assert "Registration reinstated with a seat: the room now has 2 people for 1 seat." in done.get_data(as_text=True)
    db.session.refresh(seated)
    assert seated.is_registered and seated.mode is Mode.IN_PERSON and in_person_count(meeting) == 2
    assert (
        db.session.scalar(sa.select(AuditEvent.details).filter_by(action="registration.reinstate"))
        == "over capacity, on the organiser's word"
    )

    cancel(first, "changed plans")  # one over capacity: the seat freed goes to nobody
    transaction.commit()
    assert in_person_count(meeting) == 1
    cancel(seated, "again")
    transaction.commit()
    make_registration(meeting)
    done = client.post(
        base + "/reinstate", data={"seat": "line", "csrf_token": csrf_token(client, base)}, follow_redirects=True
    )
    assert (
        "Registration reinstated. The room is full: they are on the waiting list, 1st in line. They attend online "
        "meanwhile." in done.get_data(as_text=True)
    )


def test_two_reinstatements_at_the_same_instant_take_the_one_free_seat_once(app, make_session, make_registration):
    """Two organisers reinstate two cancelled delegates at once, with one seat free: one is seated, the other put
    in line, whatever the order. Several rounds, so that the two transactions really overlap."""
    for round_ in range(4):
        meeting = make_session(in_person_capacity=2)
        make_registration(meeting)
        cancelled = [make_registration(meeting), make_registration(meeting)]
        for registration in cancelled:
            cancel(registration, "race")
        transaction.commit()
        barrier = threading.Barrier(2)
        errors = []

        def reinstate_at_once(registration_id: int, barrier=barrier, errors=errors) -> None:
            with app.app_context():
                try:
                    registration = db.session.get(Registration, registration_id)
                    _ = registration.session.in_person_capacity  # loaded before the race, as a request would
                    barrier.wait(timeout=30)
                    reinstate(registration)
                    transaction.commit()
                except Exception as error:  # reported in the main thread
                    errors.append(error)
                finally:
                    db.session.remove()

        threads = [threading.Thread(target=reinstate_at_once, args=(r.id,)) for r in cancelled]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        assert errors == [], round_
        db.session.expire_all()
        assert in_person_count(meeting) == 2 and sorted(r.is_waiting for r in cancelled) == [False, True]


def test_reinstating_one_who_waited_in_a_hybrid_session_puts_them_back_in_line(make_session, make_registration):
    """Cancelled by mistake while waiting for a seat: reinstated, they wait again (at the end of the line), online
    meanwhile, rather than come back as a plain online delegate who never asked for a seat."""
    meeting = make_session(in_person_capacity=1)
    make_registration(meeting, mode=Mode.IN_PERSON)
    first, second = waiting(meeting, make_registration, 2)
    cancel(first, "by mistake")
    transaction.commit()
    assert place_in_line(second) == 1
    assert reinstate(first) == 2
    transaction.commit()
    assert first.is_waiting and first.mode is Mode.ONLINE and first.is_registered
    assert [r.id for r in waiting_list(meeting)] == [second.id, first.id]

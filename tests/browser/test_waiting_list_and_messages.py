"""In Chromium: a delegate joins the full session's waiting list and sees their place in line; an organiser
previews a message to a group and sends it. Screenshots of both pages go to SHOTS_DIR when it is set."""

import os
import re

from helpers import PASSWORD
from playwright.sync_api import expect

from attendance.auth import ensure_staff
from attendance.clock import utcnow
from attendance.extensions import db
from attendance.models import Mode, StaffRole

SHOTS = os.environ.get("SHOTS_DIR", "")


def shot(page, name: str) -> None:
    if SHOTS:
        os.makedirs(SHOTS, exist_ok=True)
        page.screenshot(path=os.path.join(SHOTS, name), full_page=True)


def test_a_delegate_joins_the_waiting_list_and_sees_their_place(
    live_server, page, app_ctx, make_session, make_registration
):
    meeting = make_session(in_person_capacity=1, title="20th Session")
    make_registration(meeting)
    make_registration(meeting, mode=Mode.ONLINE, waiting_since=utcnow())  # one ahead in line

    page.goto(f"{live_server}/sessions/{meeting.slug}/register")
    expect(page.get_by_text("All in-person seats are taken")).to_be_visible()
    expect(page.get_by_label("In person, at the venue")).to_be_disabled()
    page.get_by_label(re.compile("^Full name")).fill("Nadia Haddad")
    page.get_by_label("Email").fill("nadia@example.org")
    page.get_by_label(re.compile("^Organisation")).fill("RILO Near East")
    page.get_by_label("Country").select_option("JO")
    page.get_by_label("Entity type").select_option(label=meeting.entity_types[0].name)
    page.get_by_label("Region").select_option(label=meeting.regions[0].name)
    page.get_by_label(re.compile("Join the waiting list")).check()
    page.get_by_label("I agree").check()
    page.get_by_role("button", name="Register").click()

    expect(page.get_by_role("heading", name="Waiting list for a seat in the room")).to_be_visible()
    expect(page.get_by_text("2nd in line")).to_be_visible()
    expect(page.get_by_role("link", name="Join the meeting online")).to_be_visible()
    shot(page, "delegate-in-line.png")
    page.get_by_role("button", name="Leave the waiting list").click()
    expect(page.get_by_text("You left the waiting list")).to_be_visible()
    expect(page.get_by_text("in line")).to_have_count(0)


def test_an_organiser_previews_a_message_to_online_delegates_of_an_entity_type(
    live_server, page, app_ctx, make_session, make_registration
):
    meeting = make_session(title="20th Session")
    user, _ = ensure_staff("organiser-messages@example.org", StaffRole.ORGANISER, PASSWORD)
    meeting.organisers.append(user)
    db.session.commit()
    rtc = meeting.entity_types[1]
    for name in ("Kofi Mensah", "Aiko Tanaka", "Олег Петров"):
        make_registration(meeting, full_name=name, mode=Mode.ONLINE, entity_type=rtc)
    make_registration(meeting, full_name="In Person", mode=Mode.IN_PERSON, entity_type=rtc)

    page.goto(live_server + "/login")
    page.get_by_label("Email").fill(user.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.goto(f"{live_server}/sessions/{meeting.slug}/registrations")
    page.get_by_role("navigation", name="Session").get_by_role("link", name="Messages").click()
    page.get_by_label("Attending").select_option("online")
    page.get_by_label("Entity type").select_option(label=rtc.name)
    page.get_by_label("Subject").fill("Connection test on Monday")
    page.get_by_label("Message").fill("Please join the connection test on Monday at 10:00 (Brussels time).")
    page.get_by_role("button", name="Preview and count").click()

    expect(page.get_by_text("This message goes to 3 people.")).to_be_visible()
    expect(page.locator("pre.mail-body")).to_contain_text("Dear Kofi Mensah")
    shot(page, "message-preview.png")
    page.get_by_role("button", name="Send to 3 people").click()
    expect(page.get_by_text(re.compile("Done: 3 sent"))).to_be_visible()

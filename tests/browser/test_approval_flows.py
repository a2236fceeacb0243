"""Who may come, in a real browser, both sides: a session that requires approval (pending, then approved, then the
badge), a personal invitation used once, and a focal point whose N-th nominee is accepted and N+1-th refused."""

import email
import os
import re
from pathlib import Path

from helpers import PASSWORD
from playwright.sync_api import expect

from attendance.auth import ensure_staff
from attendance.extensions import db
from attendance.models import RegistrationPolicy, StaffRole

ORGANISER_EMAIL = "organiser.approvals@example.org"
#: screenshots a person looks at (the pending page, the approval list, the focal point's page)
SHOTS = Path(os.environ.get("APPROVAL_SHOTS", "/tmp/shots-approval"))
WIDE = {"viewport": {"width": 1280, "height": 900}}


def organiser_of(meeting):
    user, _ = ensure_staff(ORGANISER_EMAIL, StaffRole.ORGANISER, PASSWORD)
    meeting.organisers.append(user)
    db.session.commit()


def log_in(page, base):
    page.goto(base + "/login")
    page.get_by_label("Email").fill(ORGANISER_EMAIL)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name=re.compile("Your sessions|Sessions"))).to_be_visible()


def shoot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / name), full_page=True)


def fill_delegate(page, name: str, address: str, *, entity_type: str | None = "Regional Training Centre (RTC)"):
    page.get_by_label(re.compile("^Full name")).fill(name)
    page.get_by_label("Email").fill(address)
    page.get_by_label(re.compile("^Organisation")).fill("RTC Nairobi")
    page.get_by_label("Country").select_option("KE")
    if entity_type:
        page.get_by_label("Entity type").select_option(label=entity_type)
    page.get_by_label("Region").select_option(label="West and Central Africa")
    page.get_by_label("Online").check()
    page.locator("input[name=consent]").check()


def last_link_mailed_to(app, address: str) -> str:
    folder = app.config["OUTBOX_DIR"]
    for name in sorted(os.listdir(folder), reverse=True):
        with open(os.path.join(folder, name), "rb") as file:
            message = email.message_from_bytes(file.read(), policy=email.policy.default)
        if message["To"] == address:
            match = re.search(r"https?://\S+/invitations/[A-Za-z0-9_-]+", message.get_body(("plain",)).get_content())
            assert match, "the invitation carries the personal link"
            return match.group(0)
    raise AssertionError(f"no mail to {address}")


def test_approval_pending_then_approved_then_the_badge(live_server, new_page, app_ctx, make_session):
    meeting = make_session(title="Regional Heads Meeting", registration_policy=RegistrationPolicy.APPROVAL)
    organiser_of(meeting)
    delegate = new_page(**WIDE)
    delegate.goto(f"{live_server}/sessions/{meeting.slug}/register")
    expect(delegate.locator(".approval-notice")).to_contain_text("The secretariat approves each registration")
    fill_delegate(delegate, "Wanjiru Kamau", "wanjiru@example.org")
    delegate.get_by_role("button", name="Register").click()
    expect(delegate.locator(".registration-pending")).to_contain_text("Pending approval.")
    expect(delegate.get_by_role("heading", name="Your badge")).to_have_count(0)
    expect(delegate.get_by_role("link", name="Join the meeting online")).to_have_count(0)
    shoot(delegate, "pending-page.png")
    own_page = delegate.url

    organiser = new_page(**WIDE)
    log_in(organiser, live_server)
    organiser.goto(f"{live_server}/sessions/{meeting.slug}/registrations")
    organiser.get_by_role("navigation", name="Session").get_by_role("link", name="Approvals").click()
    expect(organiser.locator(".pending-count")).to_have_text("1 registration waits for approval.")
    row = organiser.get_by_role("row").filter(has_text="Wanjiru Kamau")
    expect(row).to_be_visible()
    shoot(organiser, "approval-list.png")
    row.get_by_role("button", name="Approve").click()
    expect(organiser.get_by_role("status").filter(has_text="1 registration approved")).to_be_visible()
    expect(organiser.locator(".pending-count")).to_have_text("0 registrations wait for approval.")

    delegate.goto(own_page)
    expect(delegate.get_by_role("heading", name="Your badge")).to_be_visible()
    expect(delegate.locator(".qr-box svg")).to_be_visible()
    expect(delegate.locator(".registration-pending")).to_have_count(0)
    response = delegate.request.get(own_page + "/badge.pdf")
    assert response.status == 200 and response.body()[:4] == b"%PDF"


def test_a_personal_invitation_registers_once(live_server, app, new_page, app_ctx, make_session):
    meeting = make_session(title="Observers Briefing", registration_policy=RegistrationPolicy.INVITATION)
    organiser_of(meeting)
    organiser = new_page(**WIDE)
    log_in(organiser, live_server)
    organiser.goto(f"{live_server}/sessions/{meeting.slug}/invitations")
    organiser.get_by_label(re.compile("A person: their link")).check()
    organiser.get_by_label("Full name").fill("Chidi Okafor")
    organiser.get_by_label("Email").fill("chidi@example.org")
    organiser.get_by_label("Organisation").fill("RTC Lagos")
    organiser.get_by_label("Entity type").select_option(label="Regional Training Centre (RTC)")
    organiser.get_by_role("button", name="Send the invitation").click()
    expect(organiser.get_by_role("status").filter(has_text="Chidi Okafor is invited.")).to_be_visible()
    expect(organiser.get_by_role("row").filter(has_text="Chidi Okafor")).to_contain_text("Sent")

    # The public form says it is by invitation, and offers no form.
    visitor = new_page(**WIDE)
    visitor.goto(f"{live_server}/sessions/{meeting.slug}/register")
    expect(visitor.get_by_role("status")).to_contain_text("by invitation only")
    expect(visitor.get_by_role("button", name="Register")).to_have_count(0)

    link = last_link_mailed_to(app, "chidi@example.org")
    invitee = new_page(**WIDE)
    invitee.goto(link)
    expect(invitee.get_by_label(re.compile("^Full name"))).to_have_value("Chidi Okafor")
    expect(invitee.get_by_label("Email")).to_have_value("chidi@example.org")
    fill_delegate(invitee, "Chidi Okafor", "chidi@example.org")
    invitee.get_by_role("button", name="Register").click()
    expect(invitee.get_by_role("heading", name="Your badge")).to_be_visible()

    invitee.goto(link)  # the second use
    expect(invitee.locator(".invitation-unusable")).to_contain_text("already used")
    expect(invitee.get_by_role("button", name="Register")).to_have_count(0)
    organiser.reload()
    expect(organiser.get_by_role("row").filter(has_text="Chidi Okafor")).to_contain_text("Used")


def test_a_focal_point_nominates_n_and_the_next_is_refused(live_server, app, new_page, app_ctx, make_session):
    meeting = make_session(title="Enforcement Network Meeting", registration_policy=RegistrationPolicy.APPROVAL)
    organiser_of(meeting)
    organiser = new_page(**WIDE)
    log_in(organiser, live_server)
    organiser.goto(f"{live_server}/sessions/{meeting.slug}/invitations")
    organiser.get_by_label(re.compile("A focal point: their link")).check()
    organiser.get_by_label("Full name").fill("Fatou Diop")
    organiser.get_by_label("Email").fill("fatou@example.org")
    organiser.get_by_label("Organisation").fill("RILO West Africa")
    organiser.get_by_label("Entity type").select_option(label="Regional Training Centre (RTC)")
    organiser.get_by_label(re.compile("^Nominees allowed")).fill("2")
    organiser.get_by_role("button", name="Send the invitation").click()
    expect(organiser.get_by_role("row").filter(has_text="Fatou Diop")).to_contain_text("0 of 2 nominees")

    link = last_link_mailed_to(app, "fatou@example.org")
    focal = new_page(**WIDE)
    focal.goto(link)
    fill_delegate(focal, "Awa Ndiaye", "awa@example.org", entity_type=None)
    focal.get_by_role("button", name="Nominate").click()
    expect(focal.get_by_role("status").filter(has_text="Awa Ndiaye is nominated.")).to_be_visible()
    expect(focal.locator(".places")).to_contain_text("1 of 2 places used.")

    # Two tabs with the last place open: the first to send takes it (the N-th), the other is refused (N+1-th).
    other_tab = new_page(**WIDE)
    other_tab.goto(link)
    fill_delegate(focal, "Moussa Sow", "moussa@example.org", entity_type=None)
    fill_delegate(other_tab, "Ibrahima Fall", "ibrahima@example.org", entity_type=None)
    focal.get_by_role("button", name="Nominate").click()
    expect(focal.get_by_role("status").filter(has_text="Moussa Sow is nominated.")).to_be_visible()
    expect(focal.locator(".places")).to_contain_text("2 of 2 places used.")
    other_tab.get_by_role("button", name="Nominate").click()
    expect(other_tab.get_by_role("alert")).to_contain_text("You have nominated all 2 people your invitation allows")
    expect(other_tab.get_by_role("button", name="Nominate")).to_have_count(0)

    nominees = focal.locator("table.nominees tbody tr")
    expect(nominees).to_have_count(2)
    expect(nominees.filter(has_text="Awa Ndiaye")).to_contain_text("Pending approval")
    expect(focal.get_by_text("Ibrahima Fall")).to_have_count(0)
    shoot(focal, "focal-point-page.png")

    organiser.goto(f"{live_server}/sessions/{meeting.slug}/approvals")
    expect(organiser.locator(".pending-count")).to_have_text("2 registrations wait for approval.")


def test_an_organiser_invites_focal_points_from_a_list_in_their_languages(
    live_server, app, new_page, app_ctx, make_session, tmp_path
):
    meeting = make_session(title="Capacity Building Forum", registration_policy=RegistrationPolicy.INVITATION)
    organiser_of(meeting)
    rtc = "Regional Training Centre (RTC)"
    invitees = tmp_path / "invitees.csv"
    invitees.write_text(
        "Full name,E-mail,Organisation,Entity type,Language,Places\n"
        f"Fatou Diop,fatou@example.org,RTC Dakar,{rtc},Français,3\n"
        "Chidi Okafor,chidi@example.org,RTC Lagos,,,\n"
        f"Layla Haddad,layla@example.org,RTC Cairo,{rtc},ar,many\n",
        encoding="utf-8",
    )
    organiser = new_page(**WIDE)
    log_in(organiser, live_server)
    organiser.goto(f"{live_server}/sessions/{meeting.slug}/invitations")
    expect(organiser.get_by_label("Language of the invitation")).to_have_value("en")  # the session's language
    organiser.get_by_label(re.compile("^List of invitees")).set_input_files(invitees)
    organiser.get_by_role("button", name="Upload and preview").click()

    rows = organiser.locator("table.import-rows tbody tr")
    expect(rows.filter(has_text="Fatou Diop")).to_contain_text("Focal point: 3 nominees")
    expect(rows.filter(has_text="Fatou Diop")).to_contain_text("Français")
    expect(rows.filter(has_text="Chidi Okafor")).to_contain_text("English")
    expect(rows.filter(has_text="Layla Haddad")).to_contain_text("“many” is not a whole number")
    shoot(organiser, "invitee-list-preview.png")
    organiser.get_by_role("button", name="Invite 2 people").click()

    expect(organiser.get_by_role("status")).to_contain_text("2 people invited")
    expect(organiser.get_by_role("row").filter(has_text="Fatou Diop")).to_contain_text("0 of 3 nominees")
    expect(organiser.get_by_role("row").filter(has_text="Fatou Diop")).to_contain_text("Français")
    expect(organiser.get_by_role("row").filter(has_text="Layla Haddad")).to_have_count(0)
    shoot(organiser, "invitations-page.png")

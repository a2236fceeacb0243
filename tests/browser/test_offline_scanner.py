"""The door keeps working when the network does not (issue 19's "Done when"): offline answers from the roster on the
device, a durable queue sent when the network is back, conflicts shown; and the scanner on a phone."""

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from browser.conftest import ARTIFACTS
from helpers import PASSWORD
from playwright.sync_api import expect

from attendance.api.tokens import create_api_token
from attendance.auth import ensure_staff
from attendance.extensions import db
from attendance.models import Attendance, ScanEvent, ScanResult, StaffRole

UNKNOWN_BADGE = "Z" * 26  # a badge's shape, but nobody's


def _log_in(page, live_server, email):
    page.goto(live_server + "/login")
    page.wait_for_selector("html[data-door-data-wiped]", state="attached")  # the login page's wipe is done
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(re.compile(r"^(?!.*/login)"))
    return page


def _open_scanner(page, live_server, meeting, door):
    page.goto(f"{live_server}/sessions/{meeting.slug}/checkin")
    page.get_by_label("Which door is this device at?").fill(door)
    page.get_by_role("button", name="Save door").click()


def _wedge_scan(page, code):
    """A keyboard-wedge scanner: a key event per character, into whatever has the focus, then Enter.

    Not keyboard.type: for a character missing from a US layout (é, è, ç, à) it inserts text with no key event,
    which with nothing focused goes nowhere, while a real scanner on an AZERTY phone sends a keydown for it. So
    each character is a key press, as the browser gets it from a keyboard: key down with its text, key up."""
    keys = page.context.new_cdp_session(page)
    try:
        for character in code:
            keys.send(
                "Input.dispatchKeyEvent",
                {"type": "keyDown", "key": character, "text": character, "unmodifiedText": character},
            )
            keys.send("Input.dispatchKeyEvent", {"type": "keyUp", "key": character})
    finally:
        keys.detach()
    page.keyboard.press("Enter")


def _next(page):
    page.keyboard.press("Enter")
    expect(page.locator("#result")).to_be_hidden()


def _shot(page, name):
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"offline-{name}.png"))


def _kept_for_offline(page):
    """The roster is on the device and the service worker keeps the page: ready to lose the network, as the page
    says. What it says is checked against the cache itself."""
    expect(page.locator("#roster-status")).to_contain_text("known offline")
    expect(page.locator("#roster-status")).to_contain_text("this page opens offline", timeout=20000)
    page.wait_for_function(
        """async () => {
        if (!navigator.serviceWorker.controller) return false;
        const cache = await caches.open("door-scanner-v1");
        // The page, every file it loaded, and the camera's QR reader, loaded only when the camera starts: one
        // missing, and the page reopened offline runs without it.
        const files = [location.href, "/static/vendor/barcode-detector/zxing_reader.wasm"];
        document.querySelectorAll("script[src], link[rel=stylesheet], link[rel=icon], link[rel=manifest]")
            .forEach((el) => files.push(el.src || el.href));
        const kept = await Promise.all(files.map((url) => cache.match(url, {ignoreSearch: true})));
        return kept.every(Boolean);
    }""",
        polling=200,
        timeout=20000,
    )


@pytest.fixture
def staff(app_ctx):
    for email in ("door.offline@example.org", "door.other@example.org"):
        ensure_staff(email, StaffRole.DOOR, PASSWORD)
    db.session.commit()


def test_offline_scans_wait_on_the_device_and_are_sent_when_the_network_is_back(
    live_server, browser, staff, make_session, make_registration, client, login
):
    meeting = make_session(first_day=datetime.now(ZoneInfo("Europe/Brussels")).date())
    ana = make_registration(meeting, full_name="Ana Souza", organisation="ROCB South America")
    kofi = make_registration(meeting, full_name="Kofi Mensah", organisation="RTC WCA")
    context = browser.new_context(viewport={"width": 1000, "height": 900})
    other_door = browser.new_context(viewport={"width": 1000, "height": 900})
    try:
        page = _log_in(context.new_page(), live_server, "door.offline@example.org")
        _open_scanner(page, live_server, meeting, "Door 3")
        _kept_for_offline(page)
        expect(page.locator("#queue-count")).to_have_text("0 scans waiting")

        context.set_offline(True)
        expect(page.locator("#offline-banner")).to_be_visible()

        # Meanwhile another door, online, lets Kofi in: this door's roster does not know it yet.
        other = _log_in(other_door.new_page(), live_server, "door.other@example.org")
        _open_scanner(other, live_server, meeting, "Door 1")
        _wedge_scan(other, kofi.badge_token)
        expect(other.locator("#result")).to_have_class(re.compile("result-ok"))
        expect(other.locator("#result-provisional")).to_be_hidden()  # online: the server's answer

        offline_from = datetime.now().astimezone()
        _wedge_scan(page, ana.badge_token)
        expect(page.locator("#result")).to_have_class(re.compile("result-ok"))
        expect(page.locator("#result-name")).to_have_text("Ana Souza")
        expect(page.locator("#result-provisional")).to_have_text("offline – will be sent")
        _shot(page, "provisional-answer")
        _next(page)

        _wedge_scan(page, kofi.badge_token)
        expect(page.locator("#result")).to_have_class(re.compile("result-ok"))
        expect(page.locator("#result-provisional")).to_be_visible()
        _next(page)

        _wedge_scan(page, ana.badge_token)  # again: this device let her in a moment ago
        expect(page.locator("#result")).to_have_class(re.compile("result-already"))
        expect(page.locator("#result-provisional")).to_have_text("offline – will be sent")
        _next(page)

        _wedge_scan(page, UNKNOWN_BADGE)
        expect(page.locator("#result")).to_have_class(re.compile("result-refused"))
        expect(page.locator("#result-provisional")).to_have_text("offline – will be logged")
        _next(page)
        expect(page.locator("#queue-count")).to_have_text("4 scans waiting")  # the refused one too, for the log
        expect(page.locator("#last-result")).to_contain_text("REFUSED")
        _shot(page, "banner-and-waiting")

        page.reload()  # still offline: the service worker's copy of the page, the queue from IndexedDB
        expect(page.locator("#queue-count")).to_have_text("4 scans waiting")
        expect(page.locator("#offline-banner")).to_be_visible()
        expect(page.locator("#scanner")).to_be_visible()
        db.session.expire_all()
        assert (
            db.session.scalar(sa.select(sa.func.count()).select_from(ScanEvent).where(ScanEvent.door == "Door 3")) == 0
        )  # nothing reached the server yet
        offline_until = datetime.now().astimezone()

        context.set_offline(False)
        expect(page.locator("#queue-count")).to_have_text("0 scans waiting", timeout=20000)
        expect(page.locator("#offline-banner")).to_be_hidden()
        conflicts = page.locator("#conflicts")
        expect(conflicts).to_be_visible()
        expect(page.locator("#conflict-count")).to_have_text("1 conflict: see below")
        expect(conflicts.locator("li")).to_have_count(1)
        expect(conflicts.locator("li")).to_contain_text("Kofi Mensah")
        expect(conflicts.locator("li")).to_contain_text("this door showed CHECKED IN")
        expect(conflicts.locator("li")).to_contain_text("the server said ALREADY CHECKED IN")
        _shot(page, "conflict-list")

        # The API has both check-ins: Ana's at the moment this door scanned her offline, Kofi's by the other door.
        token = create_api_token("Checker")[1]
        roster = client.get(
            f"/api/v1/sessions/{meeting.slug}/roster", headers={"Authorization": f"Bearer {token}"}
        ).get_json()
        from attendance.checkin.roster import token_hash

        by_hash = {badge["hash"]: badge for badge in roster["badges"]}
        ana_in, kofi_in = by_hash[token_hash(ana.badge_token)], by_hash[token_hash(kofi.badge_token)]
        assert ana_in["in"] and kofi_in["in"]
        ana_first = datetime.fromisoformat(ana_in["first_at"])
        assert offline_from - timedelta(seconds=1) <= ana_first <= offline_until  # not when it was sent
        db.session.expire_all()
        ana_attendance = db.session.scalar(sa.select(Attendance).filter_by(registration_id=ana.id))
        assert ana_attendance.door == "Door 3"
        kofi_attendance = db.session.scalar(sa.select(Attendance).filter_by(registration_id=kofi.id))
        assert kofi_attendance.door == "Door 1"
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Attendance)) == 2

        # The organiser's scan log shows the duplicate and the conflict, each scan with its offline time.
        events = db.session.scalars(sa.select(ScanEvent).where(ScanEvent.door == "Door 3").order_by(ScanEvent.id)).all()
        assert [(e.registration_id, e.result, e.provisional) for e in events] == [
            (ana.id, ScanResult.OK, "ok"),
            (kofi.id, ScanResult.ALREADY_CHECKED_IN, "ok"),
            (ana.id, ScanResult.ALREADY_CHECKED_IN, "already_checked_in"),
            (None, ScanResult.INVALID, "refused"),  # the unknown badge: logged, and no conflict
        ]
        assert all(e.scanned_at < e.at for e in events)
        login("organiser")
        log = client.get(f"/sessions/{meeting.slug}/scans").get_data(as_text=True)
        assert log.count("(scanned offline ") == 4
        assert "1 invalid scan at Door 3" in log
        assert "1 already checked in scan at Door 3" not in log and "2 already checked in scans at Door 3" in log
        section = log.split('id="conflicts"', 1)[1].split("</section>", 1)[0]
        assert "Kofi Mensah" in section and "Ana Souza" not in section
    finally:
        context.close()
        other_door.close()


def test_a_door_phone_at_360_px(live_server, browser, staff, make_session, make_registration):
    meeting = make_session(first_day=datetime.now(ZoneInfo("Europe/Brussels")).date())
    lea = make_registration(meeting, full_name="Léa Dupont")
    context = browser.new_context(
        viewport={"width": 360, "height": 740}, is_mobile=True, has_touch=True, device_scale_factor=2
    )
    try:
        page = _log_in(context.new_page(), live_server, "door.offline@example.org")
        _open_scanner(page, live_server, meeting, "Main entrance")
        page.reload()
        expect(page.locator("#roster-status")).to_contain_text("known offline")
        # No physical keyboard: the field leaves the screen to the camera, not to the phone's keyboard.
        expect(page.locator("#badge-input")).not_to_be_focused()
        camera = page.locator("#camera-start")
        box = camera.bounding_box()
        assert box["y"] + box["height"] <= 740, f"the camera button is {box['y']:.0f} px down: below the screen"
        # A Bluetooth scanner set up for a US keyboard, on a phone with an AZERTY layout, types the digit row
        # unshifted; the page reads the code, and the field has the focus from then on.
        azerty = lea.badge_token.translate(str.maketrans("1234567890", "&é\"'(-è_çà"))
        _wedge_scan(page, azerty)
        expect(page.locator("#result")).to_have_class(re.compile("result-ok"))
        expect(page.locator("#result-name")).to_have_text("Léa Dupont")
        _next(page)
        expect(page.locator("#badge-input")).to_be_focused()
        last = page.locator("#last-result")
        expect(last).to_contain_text("Léa Dupont")
        box = last.bounding_box()
        assert box["y"] + box["height"] <= 740
        _shot(page, "phone-360")
        # Typed by hand in groups of four, with spaces or hyphens: the same badge.
        grouped = " ".join(lea.badge_token[i : i + 4] for i in range(0, 26, 4))
        page.locator("#badge-input").fill(grouped)
        page.locator("#badge-input").press("Enter")
        expect(page.locator("#result")).to_have_class(re.compile("result-already"))
        _next(page)
        page.locator("#badge-input").fill("-".join(lea.badge_token[i : i + 4] for i in range(0, 26, 4)))
        page.locator("#badge-input").press("Enter")
        expect(page.locator("#result")).to_have_class(re.compile("result-already"))
    finally:
        context.close()


def test_a_fast_azerty_scan_with_nothing_focused_keeps_every_character(
    live_server, browser, staff, make_session, make_registration
):
    """The first characters arrive while nothing has the focus yet: none is lost, accented ones included."""
    meeting = make_session(first_day=datetime.now(ZoneInfo("Europe/Brussels")).date())
    lea = make_registration(meeting, full_name="Léa Dupont")
    lea.badge_token = "2790" + lea.badge_token[4:]  # typed é, è, ç, à on AZERTY: not on a US keyboard
    db.session.commit()
    context = browser.new_context(viewport={"width": 360, "height": 740}, is_mobile=True, has_touch=True)
    try:
        page = _log_in(context.new_page(), live_server, "door.offline@example.org")
        _open_scanner(page, live_server, meeting, "Main entrance")
        page.reload()
        expect(page.locator("#roster-status")).to_contain_text("known offline")
        expect(page.locator("#badge-input")).not_to_be_focused()
        _wedge_scan(page, lea.badge_token.translate(str.maketrans("1234567890", "&é\"'(-è_çà")))
        expect(page.locator("#result")).to_have_class(re.compile("result-ok"))
        expect(page.locator("#result-name")).to_have_text("Léa Dupont")
    finally:
        context.close()


def test_without_storage_the_page_says_offline_scanning_is_off_and_works_online(
    live_server, browser, staff, make_session, make_registration
):
    meeting = make_session(first_day=datetime.now(ZoneInfo("Europe/Brussels")).date())
    sam = make_registration(meeting, full_name="Sam Okoro")
    context = browser.new_context()
    # As in a private window whose storage is off: IndexedDB refuses to open.
    context.add_init_script("Object.defineProperty(window, 'indexedDB', {get() { return undefined; }});")
    try:
        page = _log_in(context.new_page(), live_server, "door.offline@example.org")
        _open_scanner(page, live_server, meeting, "Door 5")
        expect(page.locator("#offline-off")).to_contain_text("Offline scanning is off")
        _wedge_scan(page, sam.badge_token)
        expect(page.locator("#result")).to_have_class(re.compile("result-ok"))
        expect(page.locator("#result-provisional")).to_be_hidden()
    finally:
        context.close()


_READ_STORE = """async (name) => await new Promise((resolve, reject) => {
    const opening = indexedDB.open("attendance-door");
    opening.onerror = () => reject(opening.error);
    opening.onsuccess = () => {
        const db = opening.result;
        const reading = db.transaction(name).objectStore(name).getAll();
        reading.onsuccess = () => { db.close(); resolve(reading.result); };
    };
})"""

_CHANGE_ROSTER = """async (change) => await new Promise((resolve, reject) => {
    const opening = indexedDB.open("attendance-door");
    opening.onerror = () => reject(opening.error);
    opening.onsuccess = () => {
        const db = opening.result;
        const store = db.transaction("rosters", "readwrite").objectStore("rosters");
        store.getAll().onsuccess = (event) => {
            for (const roster of event.target.result) {
                Object.assign(roster, change.fields || {});
                for (const [hash, badge] of Object.entries(change.badges || {})) {
                    roster.badges[hash] = Object.assign(roster.badges[hash] || {}, badge);
                }
                store.put(roster);
            }
            store.transaction.oncomplete = () => { db.close(); resolve(); };
        };
    };
})"""


def test_logout_wipes_the_roster_but_keeps_the_waiting_scans(
    live_server, browser, staff, make_session, make_registration
):
    meeting = make_session(first_day=datetime.now(ZoneInfo("Europe/Brussels")).date())
    rita = make_registration(meeting, full_name="Rita Alves")
    context = browser.new_context()
    try:
        page = _log_in(context.new_page(), live_server, "door.offline@example.org")
        _open_scanner(page, live_server, meeting, "Door 6")
        expect(page.locator("#roster-status")).to_contain_text("1 badge known offline")
        page.route("**/api/v1/checkins", lambda route: route.abort("internetdisconnected"))  # Wi-Fi down
        _wedge_scan(page, rita.badge_token)
        expect(page.locator("#result-provisional")).to_be_visible()
        _next(page)
        expect(page.locator("#queue-count")).to_have_text("1 scan waiting")
        page.unroute("**/api/v1/checkins")
        page.route("**/api/v1/checkins", lambda route: route.abort("internetdisconnected"))

        page.get_by_role("button", name="Log out").click()
        page.wait_for_url("**/login")
        page.wait_for_function(f"async () => (await ({_READ_STORE})('rosters')).length === 0", polling=200)
        assert len(page.evaluate(_READ_STORE, "queue")) == 1  # nothing scanned is lost

        page.unroute("**/api/v1/checkins")
        _log_in(page, live_server, "door.offline@example.org")
        page.goto(f"{live_server}/sessions/{meeting.slug}/checkin")
        expect(page.locator("#queue-count")).to_have_text("0 scans waiting", timeout=20000)
        db.session.expire_all()
        assert db.session.scalar(sa.select(Attendance.door).filter_by(registration_id=rita.id)) == "Door 6"
    finally:
        context.close()


def test_a_roster_whose_day_is_over_is_wiped(live_server, browser, staff, make_session, make_registration):
    meeting = make_session(first_day=datetime.now(ZoneInfo("Europe/Brussels")).date())
    nadia = make_registration(meeting, full_name="Nadia Haddad")
    context = browser.new_context()
    try:
        page = _log_in(context.new_page(), live_server, "door.offline@example.org")
        _open_scanner(page, live_server, meeting, "Door 7")
        _kept_for_offline(page)
        # The server unreachable for the API (the page itself reopening offline is the first test's): the
        # device's roster is all the page has, and its day is over.
        for api in ("**/api/v1/checkins", "**/roster"):
            page.route(api, lambda route: route.abort("internetdisconnected"))
        page.evaluate(_CHANGE_ROSTER, {"fields": {"valid_until": "2024-02-20T00:00:00+01:00"}})
        page.reload()
        expect(page.locator("#roster-status")).to_have_text("0 badges known offline")
        assert page.evaluate(_READ_STORE, "rosters") == []
        _wedge_scan(page, nadia.badge_token)  # no roster: the door checks by eye, and the scan waits
        expect(page.locator("#result")).to_have_class(re.compile("result-already"))
        expect(page.locator("#result-title")).to_have_text("OFFLINE: NOT CHECKED")
        _next(page)
        expect(page.locator("#queue-count")).to_have_text("1 scan waiting")
        page.unroute("**/api/v1/checkins")
        page.unroute("**/roster")
        page.goto(f"{live_server}/sessions/{meeting.slug}/checkin")
        expect(page.locator("#queue-count")).to_have_text("0 scans waiting", timeout=20000)
        db.session.expire_all()
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Attendance)) == 1
    finally:
        context.close()


def test_a_tampered_roster_changes_a_colour_never_what_is_recorded(
    live_server, browser, staff, make_session, make_registration
):
    meeting = make_session(first_day=datetime.now(ZoneInfo("Europe/Brussels")).date())
    from attendance.models import RegistrationStatus

    gone = make_registration(meeting, full_name="Cancelled Person", status=RegistrationStatus.CANCELLED)
    context = browser.new_context()
    try:
        page = _log_in(context.new_page(), live_server, "door.offline@example.org")
        _open_scanner(page, live_server, meeting, "Door 8")
        _kept_for_offline(page)
        from attendance.checkin.roster import token_hash

        page.evaluate(
            _CHANGE_ROSTER,
            {
                "badges": {
                    token_hash(gone.badge_token): {"status": "registered"},
                    token_hash(UNKNOWN_BADGE): {"name": "Made Up", "status": "registered", "in": False},
                }
            },
        )
        page.reload()
        expect(page.locator("#roster-status")).to_contain_text("known offline")  # the page has read it again
        context.set_offline(True)
        for code in (gone.badge_token, UNKNOWN_BADGE):
            _wedge_scan(page, code)
            expect(page.locator("#result")).to_have_class(re.compile("result-ok"))  # the wrong colour
            _next(page)
        expect(page.locator("#queue-count")).to_have_text("2 scans waiting")
        context.set_offline(False)
        expect(page.locator("#queue-count")).to_have_text("0 scans waiting", timeout=20000)
        expect(page.locator("#conflicts li")).to_have_count(2)
        expect(page.locator("#conflicts")).to_contain_text("the server said REFUSED: CANCELLED")
        expect(page.locator("#conflicts")).to_contain_text("the server said REFUSED: UNKNOWN BADGE")
        db.session.expire_all()
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Attendance)) == 0
        assert {e.result for e in db.session.scalars(sa.select(ScanEvent))} == {
            ScanResult.CANCELLED,
            ScanResult.INVALID,
        }
    finally:
        context.close()


def test_a_page_reopened_offline_with_an_old_csrf_token_still_sends_its_scans(
    live_server, browser, staff, make_session, make_registration
):
    meeting = make_session(first_day=datetime.now(ZoneInfo("Europe/Brussels")).date())
    omar = make_registration(meeting, full_name="Omar Farouk")
    context = browser.new_context()
    try:
        page = _log_in(context.new_page(), live_server, "door.offline@example.org")
        _open_scanner(page, live_server, meeting, "Door 9")
        _kept_for_offline(page)
        context.set_offline(True)
        # The kept page's token has run out by the time the network is back (hours at a dead door).
        page.evaluate("""async () => {
            const cache = await caches.open("door-scanner-v1");
            // A copy the worker is replacing at this moment may be missing for an instant: wait for it.
            let found;
            for (let i = 0; i < 100 && !(found = await cache.match(location.href)); i++) {
                await new Promise((resolve) => setTimeout(resolve, 100));
            }
            const kept = await found.text();
            await cache.put(location.href, new Response(
                kept.replace(/name="csrf-token" content="[^"]+"/, 'name="csrf-token" content="expired"'),
                {headers: {"Content-Type": "text/html; charset=utf-8"}}));
        }""")
        page.reload()
        assert page.locator('meta[name="csrf-token"]').get_attribute("content") == "expired"
        # Reopened with no network, from the copies kept: it still says so.
        expect(page.locator("#roster-status")).to_contain_text("this page opens offline")
        _wedge_scan(page, omar.badge_token)
        expect(page.locator("#result-provisional")).to_be_visible()
        _next(page)
        context.set_offline(False)
        expect(page.locator("#queue-count")).to_have_text("0 scans waiting", timeout=20000)
        expect(page.locator("#conflicts")).to_be_hidden()
        db.session.expire_all()
        assert db.session.scalar(sa.select(Attendance.door).filter_by(registration_id=omar.id)) == "Door 9"
    finally:
        context.close()


def test_a_delegate_waiting_for_a_seat_is_refused_in_words_online_and_offline(
    live_server, browser, staff, make_session, make_registration
):
    """A session held only in the room, full: the one waiting for a seat has no place yet, and the door says so
    whether the server answers or the device's roster does."""
    from attendance.clock import utcnow

    meeting = make_session(
        first_day=datetime.now(ZoneInfo("Europe/Brussels")).date(), in_person_capacity=1, online_meeting_url=""
    )
    make_registration(meeting, full_name="Seated Person")
    person = make_registration(meeting, full_name="Waiting Person", email="waiting.door@example.org")
    person.waiting_since = utcnow() - timedelta(minutes=5)
    db.session.commit()
    context = browser.new_context()
    try:
        page = _log_in(context.new_page(), live_server, "door.offline@example.org")
        _open_scanner(page, live_server, meeting, "Door 3")
        _kept_for_offline(page)
        for offline in (False, True):
            context.set_offline(offline)
            _wedge_scan(page, person.badge_token)
            expect(page.locator("#result")).to_have_class(re.compile("result-refused"))
            expect(page.locator("#result-title")).to_have_text("REFUSED: WAITING LIST")
            if offline:  # the device's own answer, said as such
                expect(page.locator("#result-provisional")).to_be_visible()
            _next(page)
        expect(page.locator("#queue-count")).to_have_text("1 scan waiting")  # refused, and sent for the log

        # A seat frees before the phone is back online: the server would admit the one it turned away.
        person.waiting_since = None
        db.session.commit()
        context.set_offline(False)
        expect(page.locator("#queue-count")).to_have_text("0 scans waiting", timeout=20000)
        conflict = page.locator("#conflicts li")
        expect(conflict).to_have_count(1)
        expect(conflict).to_contain_text("Waiting Person")
        expect(conflict).to_contain_text("this door showed REFUSED")
        expect(conflict).to_contain_text("the server said TURNED AWAY, BUT REGISTERED")
        db.session.expire_all()
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Attendance)) == 0  # nobody came in
        turned_away = db.session.scalar(sa.select(ScanEvent).where(ScanEvent.provisional.is_not(None)))
        assert (turned_away.registration_id, turned_away.result) == (person.id, ScanResult.TURNED_AWAY)
    finally:
        context.close()


def test_a_refusal_whose_first_try_had_let_the_person_in_is_a_conflict_the_server_names(
    live_server, browser, staff, make_session, make_registration
):
    """The scan's first try reached the server, which checked the person in, but its answer was lost: the door,
    offline for it, refused a badge its list did not know yet. Sent again, the server replays its ok and calls
    it a conflict."""
    meeting = make_session(first_day=datetime.now(ZoneInfo("Europe/Brussels")).date())
    context = browser.new_context()
    try:
        page = _log_in(context.new_page(), live_server, "door.offline@example.org")
        _open_scanner(page, live_server, meeting, "Door 4")
        _kept_for_offline(page)
        late = make_registration(meeting, full_name="Late Registrant")  # after the list on the device was made

        def answer_lost(route):
            route.fetch()  # the server gets the scan...
            route.abort("connectionreset")  # ...and the door never hears back

        page.route("**/api/v1/checkins", answer_lost)
        _wedge_scan(page, late.badge_token)
        expect(page.locator("#result")).to_have_class(re.compile("result-refused"))
        expect(page.locator("#result-provisional")).to_have_text("offline – will be logged")
        page.unroute("**/api/v1/checkins")
        _next(page)
        expect(page.locator("#queue-count")).to_have_text("0 scans waiting", timeout=20000)  # sent again
        conflict = page.locator("#conflicts li")
        expect(conflict).to_have_count(1)
        expect(conflict).to_contain_text("Late Registrant")
        expect(conflict).to_contain_text("this door showed REFUSED")
        expect(conflict).to_contain_text("the server said CHECKED IN")
        db.session.expire_all()
        assert db.session.scalar(sa.select(Attendance.door).filter_by(registration_id=late.id)) == "Door 4"
        [event] = db.session.scalars(sa.select(ScanEvent)).all()  # the replay logged nothing
        assert (event.result, event.provisional) == (ScanResult.OK, None)
    finally:
        context.close()


def test_the_scanner_lists_the_conflicts_the_server_names_and_no_others(
    live_server, browser, staff, make_session, make_registration
):
    """The door does not judge: the answer's `conflict` does, and an answer without it (an older server) is a
    conflict unless it let the person in."""
    meeting = make_session(first_day=datetime.now(ZoneInfo("Europe/Brussels")).date())
    ana = make_registration(meeting, full_name="Ana Souza")
    kofi = make_registration(meeting, full_name="Kofi Mensah")
    answers = {  # what a server answers each queued scan, by badge and what the door showed
        (ana.badge_token, "ok"): (409, {"status": "cancelled", "name": "Refused Yet Agreed", "conflict": False}),
        (ana.badge_token, "already_checked_in"): (200, {"status": "already_checked_in", "name": "Older Server"}),
        (kofi.badge_token, "ok"): (201, {"status": "ok", "name": "Let In Yet Judged", "conflict": True}),
    }
    context = browser.new_context()
    try:
        page = _log_in(context.new_page(), live_server, "door.offline@example.org")
        _open_scanner(page, live_server, meeting, "Door 5")
        _kept_for_offline(page)
        context.set_offline(True)
        for code in (ana.badge_token, ana.badge_token, kofi.badge_token):
            _wedge_scan(page, code)
            expect(page.locator("#result-provisional")).to_be_visible()
            _next(page)
        expect(page.locator("#queue-count")).to_have_text("3 scans waiting")

        def server(route):
            body = route.request.post_data_json
            status, answer = answers[body["token"], body["provisional"]]
            route.fulfill(status=status, json=answer)

        page.route("**/api/v1/checkins", server)
        context.set_offline(False)
        expect(page.locator("#queue-count")).to_have_text("0 scans waiting", timeout=20000)
        conflicts = page.locator("#conflicts li")
        expect(conflicts).to_have_count(2)
        expect(page.locator("#conflicts")).to_contain_text("Older Server")
        expect(page.locator("#conflicts")).to_contain_text("Let In Yet Judged")
        expect(page.locator("#conflicts")).not_to_contain_text("Refused Yet Agreed")
    finally:
        context.close()

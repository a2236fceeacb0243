"""Door staff use the scanner page in Chromium: typed codes (back to back, as at a busy door), a camera playing a
badge video, name search."""

import json
import re
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from browser.conftest import CHROMIUM, CHROMIUM_ARGS
from helpers import PASSWORD
from PIL import Image
from playwright.sync_api import expect

from attendance.auth import ensure_staff
from attendance.documents.qr import qr_code
from attendance.extensions import db
from attendance.models import Attendance, StaffRole


@pytest.fixture
def door_page(live_server, page, app_ctx):
    ensure_staff("door.browser@example.org", StaffRole.DOOR, PASSWORD)
    db.session.commit()
    return _log_in(page, live_server)


def _log_in(page, live_server):
    page.goto(live_server + "/login")
    page.get_by_label("Email").fill("door.browser@example.org")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    return page


def _today_session(make_session):
    return make_session(first_day=datetime.now(ZoneInfo("Europe/Brussels")).date())


def _scan(page, code: str) -> None:
    page.locator("#badge-input").fill(code)
    page.locator("#badge-input").press("Enter")


def test_typed_badge_shows_green_then_amber_then_red(live_server, door_page, make_session, make_registration):
    meeting = _today_session(make_session)
    registration = make_registration(meeting, full_name="Ngozi Okonkwo", organisation="RTC WCA")
    page = door_page
    page.goto(f"{live_server}/sessions/{meeting.slug}/checkin")
    page.get_by_label("Which door is this device at?").fill("Door 2")
    page.get_by_role("button", name="Save door").click()
    assert page.locator("#door-name").text_content() == "Door 2"

    _scan(page, registration.badge_token)
    result = page.locator("#result")
    result.wait_for(state="visible")
    assert "result-ok" in result.get_attribute("class")
    assert page.locator("#result-title").text_content() == "CHECKED IN"
    assert page.locator("#result-name").text_content() == "Ngozi Okonkwo"
    assert "RTC WCA" in page.locator("#result-details").text_content()
    page.keyboard.press("Enter")
    result.wait_for(state="hidden")
    expect(page.locator("#count-in")).to_have_text("1")

    _scan(page, registration.badge_token.lower())  # as a scanner types it with Caps Lock on: the same badge
    result.wait_for(state="visible")
    assert "result-already" in result.get_attribute("class")
    assert "by door.browser@example.org at Door 2" in page.locator("#result-message").text_content()
    assert page.locator("#result-undo").is_hidden()  # only a new check-in can be undone
    page.keyboard.press("Escape")

    _scan(page, "NOT-A-BADGE")
    result.wait_for(state="visible")
    assert "result-refused" in result.get_attribute("class")
    assert "UNKNOWN BADGE" in page.locator("#result-title").text_content()

    # The door label is remembered on this device.
    page.reload()
    assert page.locator("#door-name").text_content() == "Door 2"


def test_a_code_typed_from_the_badge_in_groups_is_checked_in(live_server, door_page, make_session, make_registration):
    """The QR is unreadable: the door types the printed code, with its spaces, or with hyphens, in lowercase, and
    reads its 0 as O and 1 as I or L (letters a code never holds)."""
    meeting = _today_session(make_session)
    registration = make_registration(meeting, full_name="Typed By Hand")
    registration.badge_token = token = "10" + registration.badge_token[2:]
    db.session.commit()
    page = door_page
    _open_scanner(page, live_server, meeting)
    groups = [token[i : i + 4] for i in range(0, len(token), 4)]
    _scan(page, "lO" + " ".join(groups)[2:])
    expect(page.locator("#result")).to_have_class(re.compile("result-ok"))
    expect(page.locator("#result-name")).to_have_text("Typed By Hand")
    page.keyboard.press("Enter")
    _scan(page, "-".join(groups).lower())
    expect(page.locator("#result")).to_have_class(re.compile("result-already"))
    expect(page.locator("#result-name")).to_have_text("Typed By Hand")


def test_name_search_then_check_in_and_undo(live_server, door_page, make_session, make_registration):
    meeting = _today_session(make_session)
    make_registration(meeting, full_name="Søren Lindqvist")
    page = door_page
    page.goto(f"{live_server}/sessions/{meeting.slug}/checkin")
    page.get_by_label("Which door is this device at?").fill("Main entrance")
    page.get_by_role("button", name="Save door").click()
    page.get_by_label("Name: 3 letters at least").fill("sø")
    page.get_by_role("button", name="Search").click()
    expect(page.locator("#search-status")).to_contain_text("at least 3")  # the server's reason
    page.get_by_label("Name: 3 letters at least").fill("søren")
    page.get_by_role("button", name="Search").click()
    page.get_by_role("button", name="Check in Søren Lindqvist").click()
    page.locator("#result.result-ok").wait_for()
    page.get_by_role("button", name="Undo this check-in").click()
    expect(page.locator("#result-title")).to_have_text("UNDONE")
    assert "result-already" in page.locator("#result").get_attribute("class")  # amber: no refusal
    assert page.locator("#result-name").text_content() == "Søren Lindqvist"  # whose check-in was undone
    expect(page.locator("#count-in")).to_have_text("0")


def _wedge_scan(page, code: str) -> None:
    """What a keyboard-wedge scanner does: types the code into whatever has the focus, then presses Enter."""
    page.keyboard.type(code)
    page.keyboard.press("Enter")


@pytest.fixture
def door_phone(live_server, new_page, app_ctx):
    ensure_staff("door.browser@example.org", StaffRole.DOOR, PASSWORD)
    db.session.commit()
    phone = new_page(viewport={"width": 360, "height": 740}, is_mobile=True, has_touch=True, device_scale_factor=2)
    return _log_in(phone, live_server)


def _open_scanner(page, live_server, meeting) -> None:
    page.goto(f"{live_server}/sessions/{meeting.slug}/checkin")
    page.get_by_label("Which door is this device at?").fill("Main entrance")
    page.get_by_role("button", name="Save door").click()


def _checked_in_names() -> set[str]:
    db.session.expire_all()
    return {a.registration.full_name for a in db.session.scalars(sa.select(Attendance))}


@pytest.fixture
def busy_door(live_server, door_phone, make_session, make_registration):
    """The door phone on today's scanner page, and two delegates coming in one after the other."""
    meeting = _today_session(make_session)
    ada = make_registration(meeting, full_name="Ada Mensah")
    bruno = make_registration(meeting, full_name="Bruno Keller")
    _open_scanner(door_phone, live_server, meeting)
    return door_phone, ada, bruno


def _hold_checkin(page, number: int) -> list:
    """Holds back the `number`-th check-in request (1 for the first) as a slow network would: the list it returns
    gets its route, to `continue_()` when the test lets it through."""
    sent, held = [], []

    def route(request_route):
        sent.append(request_route)
        if len(sent) == number:
            held.append(request_route)
        else:
            request_route.continue_()

    page.route("**/api/v1/checkins", route)
    return held


@pytest.mark.parametrize("first", ["green", "red"])
def test_a_scan_while_a_result_shows_is_checked_in(busy_door, first):
    """A busy door: the next badge is scanned while the last result still fills the screen (4 s green, 8 s red)."""
    page, ada, bruno = busy_door
    result = page.locator("#result")

    _wedge_scan(page, ada.badge_token if first == "green" else "NOT-A-BADGE")
    expect(result).to_have_class(re.compile("result-ok" if first == "green" else "result-refused"))
    expect(result).to_be_focused()
    _wedge_scan(page, bruno.badge_token)

    expect(page.locator("#result-name")).to_have_text("Bruno Keller")
    expect(result).to_have_class(re.compile("result-ok"))
    expect(result).to_be_focused()  # still announced as an alert, and Enter alone still dismisses it
    expect(page.locator("#count-in")).to_have_text("2" if first == "green" else "1")
    assert _checked_in_names() == ({"Ada Mensah", "Bruno Keller"} if first == "green" else {"Bruno Keller"})
    page.keyboard.press("Enter")
    expect(result).to_be_hidden()
    expect(page.locator("#badge-input")).to_be_focused()
    expect(page.locator("#badge-input")).to_have_value("")


def test_a_scan_cut_by_the_result_closing_is_kept_whole(busy_door):
    """The result closes (here by Escape; usually its timer) halfway through the next code: no character is lost."""
    page, ada, bruno = busy_door

    _wedge_scan(page, ada.badge_token)
    page.locator("#result.result-ok").wait_for()
    page.keyboard.type(bruno.badge_token[:10])
    page.keyboard.press("Escape")
    _wedge_scan(page, bruno.badge_token[10:])

    expect(page.locator("#result-name")).to_have_text("Bruno Keller")
    assert _checked_in_names() == {"Ada Mensah", "Bruno Keller"}


def _badge_video(path: str, text: str, seconds: int = 4) -> None:
    """A Y4M video of a badge QR held in front of the camera, for Chromium's fake capture device."""
    width, height, fps = 640, 480, 10
    modules = qr_code(text).get_matrix()
    code = Image.new("L", (len(modules), len(modules)))
    code.putdata([0 if dark else 255 for row in modules for dark in row])
    code = code.resize((code.width * 8, code.height * 8), Image.NEAREST)
    frame = Image.new("L", (width, height), 255)
    frame.paste(code, ((width - code.width) // 2, (height - code.height) // 2))
    luma = frame.tobytes()
    chroma = bytes([128]) * (width // 2 * height // 2)
    with open(path, "wb") as video:
        video.write(f"YUV4MPEG2 W{width} H{height} F{fps}:1 Ip A1:1 C420jpeg\n".encode())
        for _ in range(seconds * fps):
            video.write(b"FRAME\n" + luma + chroma + chroma)


def test_camera_reads_a_badge_qr(live_server, playwright, make_session, make_registration, app_ctx, tmp_path):
    meeting = _today_session(make_session)
    registration = make_registration(meeting, full_name="Camera Person")
    ensure_staff("door.browser@example.org", StaffRole.DOOR, PASSWORD)
    db.session.commit()
    video = str(tmp_path / "badge.y4m")
    _badge_video(video, registration.badge_token)
    browser = playwright.chromium.launch(
        executable_path=CHROMIUM,
        args=CHROMIUM_ARGS
        + [
            "--use-fake-device-for-media-stream",
            "--use-fake-ui-for-media-stream",
            f"--use-file-for-fake-video-capture={video}",
        ],
    )
    try:
        context = browser.new_context(permissions=["camera"])
        page = _log_in(context.new_page(), live_server)
        page.goto(f"{live_server}/sessions/{meeting.slug}/checkin")
        page.get_by_label("Which door is this device at?").fill("Camera door")
        page.get_by_role("button", name="Save door").click()
        page.get_by_role("button", name="Start camera").click()
        page.locator("#result.result-ok").wait_for(timeout=15000)
        assert page.locator("#result-name").text_content() == "Camera Person"
        # Chromium on Linux has no BarcodeDetector of its own: the ZXing-C++ WebAssembly from our static files read it.
        if not page.evaluate("'BarcodeDetector' in window"):
            assert page.evaluate("BadgeCamera.readerName") == "zxing-wasm"
        # The camera keeps seeing the same badge: it is not sent again for a few seconds.
        page.keyboard.press("Enter")
        page.wait_for_timeout(1500)
        assert page.locator("#result").is_hidden()
    finally:
        browser.close()


def test_a_reader_that_cannot_load_is_said_plainly(live_server, playwright, make_session, app_ctx, tmp_path):
    """The WebAssembly QR reader comes from our static files; when it cannot load, the door is told why."""
    meeting = _today_session(make_session)
    ensure_staff("door.browser@example.org", StaffRole.DOOR, PASSWORD)
    db.session.commit()
    video = str(tmp_path / "badge.y4m")
    _badge_video(video, "ANYTHING", seconds=1)
    browser = playwright.chromium.launch(
        executable_path=CHROMIUM,
        args=CHROMIUM_ARGS
        + [
            "--use-fake-device-for-media-stream",
            "--use-fake-ui-for-media-stream",
            f"--use-file-for-fake-video-capture={video}",
        ],
    )
    try:
        context = browser.new_context(permissions=["camera"], service_workers="block")  # or its cache serves the reader
        page = _log_in(context.new_page(), live_server)
        page.route("**/*.wasm", lambda route: route.abort())
        page.goto(f"{live_server}/sessions/{meeting.slug}/checkin")
        if page.evaluate("'BarcodeDetector' in window"):
            pytest.skip("this browser reads QR codes itself: the WebAssembly reader is not used")
        page.get_by_role("button", name="Start camera").click()
        expect(page.locator("#camera-status")).to_have_text("The QR reader did not load. Reload the page.")
        expect(page.get_by_role("button", name="Start camera")).to_be_visible()
    finally:
        browser.close()


def test_a_refused_camera_permission_is_said_plainly(live_server, playwright, make_session, app_ctx, tmp_path):
    meeting = _today_session(make_session)
    ensure_staff("door.browser@example.org", StaffRole.DOOR, PASSWORD)
    db.session.commit()
    browser = playwright.chromium.launch(
        executable_path=CHROMIUM,
        args=CHROMIUM_ARGS + ["--use-fake-device-for-media-stream", "--deny-permission-prompts"],
    )
    try:
        page = _log_in(browser.new_context().new_page(), live_server)
        page.goto(f"{live_server}/sessions/{meeting.slug}/checkin")
        page.get_by_role("button", name="Start camera").click()
        expect(page.locator("#camera-status")).to_have_text(
            "Camera permission was refused. Allow the camera for this site in the browser settings."
        )
        expect(page.get_by_role("button", name="Start camera")).to_be_visible()
    finally:
        browser.close()


def test_on_plain_http_the_page_says_at_once_why_the_camera_cannot_start(
    live_server, playwright, make_session, make_registration, app_ctx
):
    """A venue's Wi-Fi address over http is not a secure context: no camera, and the door learns it on arrival."""
    meeting = _today_session(make_session)
    registration = make_registration(meeting, full_name="Plain Http")
    ensure_staff("door.browser@example.org", StaffRole.DOOR, PASSWORD)
    db.session.commit()
    port = live_server.rsplit(":", 1)[1]
    browser = playwright.chromium.launch(
        executable_path=CHROMIUM, args=CHROMIUM_ARGS + ["--host-resolver-rules=MAP door.test 127.0.0.1"]
    )
    try:
        page = _log_in(browser.new_page(), f"http://door.test:{port}")
        page.goto(f"http://door.test:{port}/sessions/{meeting.slug}/checkin")
        assert page.evaluate("window.isSecureContext") is False
        expect(page.locator("#camera-status")).to_contain_text("The camera needs a secure page")
        assert page.get_by_role("button", name="Start camera").is_disabled()
        _scan(page, registration.badge_token)  # the badge field still works
        page.locator("#result.result-ok").wait_for()
        page.keyboard.press("Enter")
        page.get_by_role("link", name="Doors").click()  # back to the list of sessions
        assert page.url.endswith("/checkin")
    finally:
        browser.close()


def test_enter_on_the_focused_undo_button_undoes_but_a_scan_is_sent(busy_door):
    page, ada, bruno = busy_door
    _wedge_scan(page, ada.badge_token)
    expect(page.locator("#result")).to_have_class(re.compile("result-ok"))
    page.locator("#result-undo").focus()
    _wedge_scan(page, bruno.badge_token)  # a scanner's Enter sends its code; it does not press Undo
    expect(page.locator("#result-name")).to_have_text("Bruno Keller")
    page.locator("#result-undo").focus()
    page.keyboard.press("Enter")  # staff who moved to Undo and press Enter mean it
    expect(page.locator("#result-title")).to_have_text("UNDONE")
    assert _checked_in_names() == {"Ada Mensah"}


def test_a_slow_answer_never_covers_a_later_scans_result(busy_door):
    """On poor Wi-Fi the first scan's answer may arrive after the second's: the screen keeps the second."""
    page, ada, bruno = busy_door
    held = _hold_checkin(page, 1)
    _wedge_scan(page, ada.badge_token)
    page.wait_for_timeout(200)
    _wedge_scan(page, bruno.badge_token)
    expect(page.locator("#result-name")).to_have_text("Bruno Keller")
    held[0].continue_()  # Ada's answer arrives last
    expect(page.locator("#count-in")).to_have_text("2")
    page.wait_for_timeout(300)
    expect(page.locator("#result-name")).to_have_text("Bruno Keller")
    assert _checked_in_names() == {"Ada Mensah", "Bruno Keller"}


def test_an_answer_shows_while_a_later_scan_is_still_on_its_way(busy_door):
    """A refusal must be seen even when the next badge was scanned before it came back."""
    page, _ada, bruno = busy_door
    held = _hold_checkin(page, 2)
    _wedge_scan(page, "NOT-A-BADGE")
    _wedge_scan(page, bruno.badge_token)  # on its way while the refusal comes back
    expect(page.locator("#result-title")).to_contain_text("UNKNOWN BADGE")
    held[0].continue_()
    expect(page.locator("#result-name")).to_have_text("Bruno Keller")
    expect(page.locator("#result")).to_have_class(re.compile("result-ok"))


# Where each part of a line shows on the screen: the order a reader sees, which the text's own order does not tell.
_PART_BOXES = """([selector, parts]) => parts.map((part) => {
  const walker = document.createTreeWalker(document.querySelector(selector), NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const at = node.data.indexOf(part);
    if (at < 0) continue;
    const range = document.createRange();
    range.setStart(node, at);
    range.setEnd(node, at + part.length);
    const box = range.getBoundingClientRect();
    return { part: part, left: box.left, right: box.right, top: box.top };
  }
  return null;
})"""


def _assert_read_in_order(page, selector: str, parts: list[str], direction: str) -> None:
    """`parts` show on one line in this order, read from the left (ltr) or from the right (rtl)."""
    boxes = page.evaluate(_PART_BOXES, [selector, parts])
    assert None not in boxes, boxes
    line = page.locator(selector).inner_text()
    for before, after in zip(boxes, boxes[1:], strict=False):
        assert abs(before["top"] - after["top"]) < 2, (line, boxes)  # one line: the order is left or right only
        if direction == "ltr":
            assert before["right"] <= after["left"] + 1, (line, boxes)
        else:
            assert before["left"] >= after["right"] - 1, (line, boxes)


@pytest.mark.parametrize(
    "language, name, organisation",
    [("en", "ليلى حداد", "المكتب الإقليمي"), ("ar", "Nguyễn Thị Lan", "Customs Administration of Sweden")],
)
def test_a_name_in_another_script_keeps_the_line_in_the_pages_direction(
    live_server, new_page, app_ctx, make_session, make_registration, language, name, organisation
):
    """An Arabic name and organisation on an English door page: the result's details and the search result still
    read left to right (organisation, entity type, mode; name, organisation, mode), each value whole; a Latin name
    on the Arabic page, right to left. The review saw "Delegate · · Vice-Chair Office · المكتب الإقليمي"."""
    meeting = _today_session(make_session)
    registration = make_registration(
        meeting, full_name=name, organisation=organisation, entity_type=meeting.entity_types[2]
    )
    ensure_staff("door.browser@example.org", StaffRole.DOOR, PASSWORD)
    db.session.commit()
    page = new_page(locale=language, viewport={"width": 1400, "height": 900})
    page.goto(live_server + "/login")
    page.locator("#email").fill("door.browser@example.org")
    page.locator("#password").fill(PASSWORD)
    page.locator("main button[type=submit]").click()
    page.wait_for_url(re.compile(r"^(?!.*/login)"))
    page.goto(f"{live_server}/sessions/{meeting.slug}/checkin")
    page.locator("#door-input").fill("Door 2")
    page.locator("#door-form button[type=submit]").click()
    direction = "rtl" if language == "ar" else "ltr"
    assert page.evaluate("document.documentElement.dir") == direction
    registered = json.loads(page.locator("#scanner-words").text_content())["registered_in_person"]

    _scan(page, registration.badge_token)
    page.locator("#result.result-ok").wait_for()
    _assert_read_in_order(page, "#result-details", [organisation, "Observer/Guest", registered], direction)

    page.keyboard.press("Escape")
    page.locator("#search-input").fill(name.split()[-1])
    page.locator("#search-input").press("Enter")
    page.locator("#search-results li span").wait_for()
    _assert_read_in_order(page, "#search-results li span", [name, organisation, registered], direction)

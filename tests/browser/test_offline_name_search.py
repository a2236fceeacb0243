"""The door's name search when the network is down: the roster kept on the phone answers, a person chosen from it
is checked in as an offline scan is (answered from the roster, queued, sent when the network is back)."""

import re
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from browser.test_offline_scanner import _log_in, _next, _open_scanner, _shot, _wedge_scan
from helpers import PASSWORD
from playwright.sync_api import expect

from attendance.auth import ensure_staff
from attendance.extensions import db
from attendance.models import Attendance, RegistrationStatus, ScanEvent, ScanResult, Source, StaffRole

DOOR = "door.search@example.org"


@pytest.fixture
def door_staff(app_ctx):
    ensure_staff(DOOR, StaffRole.DOOR, PASSWORD)
    db.session.commit()


@pytest.fixture
def meeting(make_session):
    return make_session(first_day=datetime.now(ZoneInfo("Europe/Brussels")).date())


def _search(page, query):
    page.locator("#search-input").fill(query)
    page.get_by_role("button", name="Search").click()


def test_offline_the_name_search_finds_people_in_the_roster_and_checks_them_in_later(
    live_server, browser, door_staff, meeting, make_registration
):
    olga = make_registration(
        meeting, full_name="Ольга Петрова", organisation="RILO CIS", email="zelenograd.office@example.org"
    )
    make_registration(meeting, full_name="José García", organisation="Aduana de Colombia")
    make_registration(meeting, full_name="Ana Souza", organisation="ROCB South America")
    make_registration(meeting, full_name="ليلى حداد", organisation="RCBO MENA")
    make_registration(meeting, full_name="لبنى العلي", organisation="RTC MENA")
    context = browser.new_context(viewport={"width": 1000, "height": 900})
    try:
        page = _log_in(context.new_page(), live_server, DOOR)
        _open_scanner(page, live_server, meeting, "Door 2")
        expect(page.locator("#roster-status")).to_contain_text("5 badges known offline")
        _search(page, "zelenograd")  # online, the server's search looks in the e-mail too
        expect(page.locator("#search-results li")).to_have_count(1)
        expect(page.locator("#search-status")).not_to_contain_text("this device's list")

        context.set_offline(True)
        expect(page.locator("#offline-banner")).to_be_visible()
        _search(page, "PETROVA")  # a Cyrillic name typed in Latin letters
        expect(page.locator("#search-results li")).to_have_count(1)
        expect(page.locator("#search-results li span")).to_have_text("Ольга Петрова · RILO CIS · registered in person")
        expect(page.locator("#search-status")).to_have_text(
            "1 found. Offline: from this device's list. The server will confirm a check-in."
        )
        assert page.locator("#search-results bdi").all_text_contents() == ["Ольга Петрова", "RILO CIS"]
        _shot(page, "name-search")

        _search(page, "garcia, jose")  # any order, without accents, punctuation as a space
        expect(page.locator("#search-results li")).to_have_count(1)
        expect(page.locator("#search-results li")).to_contain_text("José García")
        _search(page, "rocb")  # the organisation
        expect(page.locator("#search-results li")).to_contain_text("Ana Souza")
        # Arabic names typed in Latin letters, by their consonants as the server compares them: a word of one
        # consonant ("layla": "l") matches a whole skeleton only, so not لبنى ("lbn"), but علي ("l") as well
        for query in ("layla haddad", "haddad layla", "hadd"):
            _search(page, query)
            expect(page.locator("#search-results li")).to_have_count(1)
            expect(page.locator("#search-results li")).to_contain_text("ليلى حداد")
        _search(page, "leila")
        expect(page.locator("#search-results li")).to_have_count(2)
        assert page.locator("#search-results li bdi").all_text_contents()[::2] == ["لبنى العلي", "ليلى حداد"]
        _search(page, "lubna alali")
        expect(page.locator("#search-results li")).to_have_count(1)
        expect(page.locator("#search-results li")).to_contain_text("لبنى العلي")
        _search(page, "zelenograd")  # the e-mail is not on the device
        expect(page.locator("#search-status")).to_contain_text("Nobody of this session matches “zelenograd”.")
        expect(page.locator("#search-results li")).to_have_count(0)
        _search(page, "pe")
        expect(page.locator("#search-status")).to_have_text(
            "Type at least 3 characters of the name (2 of a Chinese, Japanese or Korean name)."
        )

        _search(page, "ольга")
        page.get_by_role("button", name="Check in Ольга Петрова").click()
        expect(page.locator("#result")).to_have_class(re.compile("result-ok"))
        expect(page.locator("#result-name")).to_have_text("Ольга Петрова")
        expect(page.locator("#result-provisional")).to_have_text("offline – will be sent")
        _shot(page, "name-search-answer")
        _next(page)
        expect(page.locator("#queue-count")).to_have_text("1 scan waiting")
        _wedge_scan(page, olga.badge_token)  # her badge turns up after all: this device let her in a moment ago
        expect(page.locator("#result")).to_have_class(re.compile("result-already"))
        _next(page)
        expect(page.locator("#queue-count")).to_have_text("2 scans waiting")
        db.session.expire_all()
        assert db.session.scalar(sa.select(sa.func.count()).select_from(ScanEvent)) == 0  # nothing sent yet

        context.set_offline(False)
        expect(page.locator("#queue-count")).to_have_text("0 scans waiting", timeout=20000)
        expect(page.locator("#conflicts")).to_be_hidden()
        db.session.expire_all()
        [attendance] = db.session.scalars(sa.select(Attendance)).all()
        assert (attendance.registration_id, attendance.door, attendance.source) == (
            olga.id,
            "Door 2",
            Source.NAME_SEARCH,
        )
        events = db.session.scalars(sa.select(ScanEvent).order_by(ScanEvent.id)).all()
        assert [(e.registration_id, e.source, e.result, e.provisional) for e in events] == [
            (olga.id, Source.NAME_SEARCH, ScanResult.OK, "ok"),
            (olga.id, Source.SCAN, ScanResult.ALREADY_CHECKED_IN, "already_checked_in"),
        ]
        assert all(e.scanned_at is not None and e.scanned_at < e.at and e.nonce for e in events)
    finally:
        context.close()


def test_a_cancelled_person_found_offline_is_refused_and_logged(
    live_server, browser, door_staff, meeting, make_registration
):
    gone = make_registration(
        meeting, full_name="Marta Kowalska", organisation="Customs Poland", status=RegistrationStatus.CANCELLED
    )
    context = browser.new_context()
    try:
        page = _log_in(context.new_page(), live_server, DOOR)
        _open_scanner(page, live_server, meeting, "Door 4")
        expect(page.locator("#roster-status")).to_contain_text("1 badge known offline")
        # The venue's network up, the server out of reach: the search and the check-in go nowhere.
        for api in ("**/delegates?*", "**/api/v1/checkins"):
            page.route(api, lambda route: route.abort("internetdisconnected"))
        _search(page, "kowalska")
        expect(page.locator("#search-results li")).to_contain_text("CANCELLED")
        expect(page.locator("#search-status")).to_contain_text("from this device's list")
        page.get_by_role("button", name="Check in Marta Kowalska").click()
        expect(page.locator("#result")).to_have_class(re.compile("result-refused"))
        expect(page.locator("#result-title")).to_have_text("REFUSED: CANCELLED")
        expect(page.locator("#result-provisional")).to_have_text("offline – will be logged")
        _next(page)
        expect(page.locator("#queue-count")).to_have_text("1 scan waiting")

        page.unroute("**/api/v1/checkins")  # the page retries by itself
        expect(page.locator("#queue-count")).to_have_text("0 scans waiting", timeout=20000)
        expect(page.locator("#conflicts")).to_be_hidden()  # the server refuses her too
        db.session.expire_all()
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Attendance)) == 0
        [event] = db.session.scalars(sa.select(ScanEvent)).all()
        assert (event.registration_id, event.source, event.result, event.provisional, event.door) == (
            gone.id,
            Source.NAME_SEARCH,
            ScanResult.CANCELLED,
            "refused",
            "Door 4",
        )
    finally:
        context.close()


def test_search_results_mark_whom_the_door_will_refuse_online_and_offline(
    live_server, browser, door_staff, meeting, make_registration
):
    """Pending, declined and cancelled people are marked in the list before anyone taps "Check in", from the
    server's answer and from the device's roster alike."""
    for name, status in (
        ("Petra Pending", RegistrationStatus.PENDING),
        ("Dora Declined", RegistrationStatus.DECLINED),
        ("Cara Cancelled", RegistrationStatus.CANCELLED),
        ("Rita Registered", RegistrationStatus.REGISTERED),
    ):
        make_registration(meeting, full_name=name, organisation="Review Org", status=status)
    expected = [
        "Cara Cancelled · Review Org · registered in person · CANCELLED",
        "Dora Declined · Review Org · registered in person · Registration declined: not admitted",
        "Petra Pending · Review Org · registered in person · Pending approval: not admitted",
        "Rita Registered · Review Org · registered in person",
    ]
    context = browser.new_context()
    try:
        page = _log_in(context.new_page(), live_server, DOOR)
        _open_scanner(page, live_server, meeting, "Door 5")
        expect(page.locator("#roster-status")).to_contain_text("4 badges known offline")
        for offline in (False, True):
            context.set_offline(offline)
            _search(page, "review org")
            expect(page.locator("#search-results li span")).to_have_text(expected)
    finally:
        context.close()


def test_a_server_that_answers_with_an_error_is_not_offline(
    live_server, browser, door_staff, meeting, make_registration
):
    """A server that is up and fails says so: the door is not told that the roster's list is all there is."""
    make_registration(meeting, full_name="Ana Souza")
    context = browser.new_context()
    try:
        page = _log_in(context.new_page(), live_server, DOOR)
        _open_scanner(page, live_server, meeting, "Door 5")
        expect(page.locator("#roster-status")).to_contain_text("1 badge known offline")
        page.route("**/delegates?*", lambda route: route.fulfill(status=500, body="Internal Server Error"))
        _search(page, "souza")
        expect(page.locator("#search-status")).to_have_text("Search failed.")
        expect(page.locator("#search-results li")).to_have_count(0)
    finally:
        context.close()

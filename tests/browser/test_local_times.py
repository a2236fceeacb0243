"""The delegate's page shows each day's hours in the browser's own time zone too, when that differs."""

import re
from datetime import date, time

from attendance.extensions import db


def _session_on_15_february(make_session):
    meeting = make_session(first_day=date(2027, 2, 15))
    for day in meeting.days:
        day.starts_at, day.ends_at = time(8, 30), time(16, 0)
    db.session.commit()
    return meeting


def test_a_delegate_in_singapore_sees_the_hours_in_their_own_time(
    live_server, new_page, make_session, make_registration
):
    registration = make_registration(_session_on_15_february(make_session))
    page = new_page(timezone_id="Asia/Singapore")
    page.goto(f"{live_server}/me/{registration.access_key}")
    days = page.locator(".day-times li")
    assert days.count() == 2
    first = days.nth(0).inner_text()
    assert "Monday 15 February 2027: 08:30–16:00 (Europe/Brussels, UTC+01:00)" in first
    assert "(your time: 15:30–23:00, Asia/Singapore)" in first


def test_the_next_day_is_named_when_the_hours_cross_midnight(live_server, new_page, make_session, make_registration):
    registration = make_registration(_session_on_15_february(make_session))
    page = new_page(timezone_id="Asia/Tokyo")
    page.goto(f"{live_server}/me/{registration.access_key}")
    text = page.locator(".day-times li").nth(0).inner_text()
    # the end's date in the browser's own words ("Tue, Feb 16")
    assert re.search(r"\(your time: 16:30–Tue\W+(Feb 16|16 Feb) 00:00, Asia/Tokyo\)", text), text


def test_no_second_time_when_the_browser_keeps_the_same_clock(live_server, new_page, make_session, make_registration):
    registration = make_registration(_session_on_15_february(make_session))
    page = new_page(timezone_id="Europe/Paris")  # another zone, the same hours as Brussels
    page.goto(f"{live_server}/me/{registration.access_key}")
    page.wait_for_load_state("load")
    assert "your time" not in page.locator(".day-times").inner_text()


def test_the_script_writes_in_the_page_language(live_server, new_page, make_session, make_registration):
    registration = make_registration(_session_on_15_february(make_session), locale="fr")
    page = new_page(timezone_id="Asia/Singapore")
    page.context.add_cookies([{"name": "lang", "value": "fr", "url": live_server}])
    page.goto(f"{live_server}/me/{registration.access_key}")
    first = page.locator(".day-times li").nth(0).inner_text()
    assert "lundi 15 février 2027 : 08:30–16:00 (Europe/Brussels, UTC+01:00)" in first
    assert "(votre heure : 15:30–23:00, Asia/Singapore)" in first

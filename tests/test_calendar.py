"""The delegate's calendar.ics and each day's hours in the session's time zone, on their page and in mails."""

import email
import email.policy
import os
from datetime import UTC, date, datetime, time

import pytest
from helpers import csrf_token, registration_form
from icalendar import Calendar

from attendance import mail
from attendance.extensions import db
from attendance.models import Mode
from attendance.registration.messages import confirmation_message

WINTER, SUMMER = date(2027, 3, 26), date(2027, 3, 29)  # Brussels moves to summer time on 28 March 2027


@pytest.fixture
def brussels_session(make_session):
    """Two days either side of the change to summer time, 09:30–17:00 in Brussels."""
    meeting = make_session(first_day=WINTER, venue="Palais des Académies, Brussels")
    meeting.days[1].date = SUMMER
    db.session.commit()
    return meeting


def _parse(body: bytes) -> list:
    calendar = Calendar.from_ical(body)
    return sorted(calendar.walk("VEVENT"), key=lambda event: event.decoded("dtstart"))


def _utc(event, name: str) -> datetime:
    return event.decoded(name).astimezone(UTC)


def test_calendar_has_one_event_per_day_at_the_right_utc_instants(client, brussels_session, make_registration):
    registration = make_registration(brussels_session)
    response = client.get(f"/me/{registration.access_key}/calendar.ics")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/calendar; charset=utf-8"
    assert response.headers["Referrer-Policy"] == "no-referrer"
    events = _parse(response.data)
    assert len(events) == 2
    # 09:30 in Brussels is 08:30 UTC in winter (CET) and 07:30 UTC in summer (CEST)
    assert [_utc(e, "dtstart") for e in events] == [
        datetime(2027, 3, 26, 8, 30, tzinfo=UTC),
        datetime(2027, 3, 29, 7, 30, tzinfo=UTC),
    ]
    assert [_utc(e, "dtend") for e in events] == [
        datetime(2027, 3, 26, 16, 0, tzinfo=UTC),
        datetime(2027, 3, 29, 15, 0, tzinfo=UTC),
    ]
    # written in the session's own zone, which the file defines
    assert all(e["dtstart"].params["TZID"] == "Europe/Brussels" for e in events)
    assert [tz["tzid"] for tz in Calendar.from_ical(response.data).walk("VTIMEZONE")] == ["Europe/Brussels"]
    assert {str(e["location"]) for e in events} == {"Palais des Académies, Brussels"}
    assert all(str(e["summary"]).startswith(brussels_session.title) for e in events)
    assert all(str(e["status"]) == "CONFIRMED" for e in events)


def test_calendar_uids_are_stable_and_distinct(client, brussels_session, make_registration):
    first, second = make_registration(brussels_session), make_registration(brussels_session)
    url = f"/me/{first.access_key}/calendar.ics"
    uids = [str(e["uid"]) for e in _parse(client.get(url).data)]
    assert uids == [str(e["uid"]) for e in _parse(client.get(url).data)]  # downloading again updates, not doubles
    assert len(set(uids)) == 2
    others = {str(e["uid"]) for e in _parse(client.get(f"/me/{second.access_key}/calendar.ics").data)}
    assert not others & set(uids)
    assert first.access_key not in "".join(uids)  # the secret link is not an identifier


def test_online_delegate_gets_the_join_link_as_location(client, brussels_session, make_registration):
    registration = make_registration(brussels_session, mode=Mode.ONLINE)
    events = _parse(client.get(f"/me/{registration.access_key}/calendar.ics").data)
    assert {str(e["location"]) for e in events} == {f"http://localhost/join/{registration.access_key}"}


def test_cancelled_registration_calendar_says_cancelled(client, brussels_session, make_registration):
    registration = make_registration(brussels_session)
    registration.status = "cancelled"
    db.session.commit()
    events = _parse(client.get(f"/me/{registration.access_key}/calendar.ics").data)
    assert {str(e["status"]) for e in events} == {"CANCELLED"}
    assert all("location" not in e for e in events)


def test_calendar_of_an_unknown_key_is_404(client, app_ctx):
    assert client.get("/me/" + "x" * 43 + "/calendar.ics").status_code == 404


def test_utc_session_writes_utc_instants(client, make_session, make_registration):
    meeting = make_session(timezone="UTC", first_day=WINTER)
    registration = make_registration(meeting)
    events = _parse(client.get(f"/me/{registration.access_key}/calendar.ics").data)
    assert _utc(events[0], "dtstart") == datetime(2027, 3, 26, 9, 30, tzinfo=UTC)


def test_page_shows_each_day_in_the_session_zone_and_links_the_calendar(client, brussels_session, make_registration):
    registration = make_registration(brussels_session)
    html = client.get(f"/me/{registration.access_key}").get_data(as_text=True)
    assert "Friday 26 March 2027: 09:30–17:00 (Europe/Brussels, UTC+01:00)" in html
    assert "Monday 29 March 2027: 09:30–17:00 (Europe/Brussels, UTC+02:00)" in html
    assert 'data-starts="2027-03-29T07:30:00Z"' in html
    assert f'href="/me/{registration.access_key}/calendar.ics"' in html
    assert '<script src="/static/local-times.js" defer></script>' in html


def test_confirmation_mail_names_the_zone_and_attaches_the_calendar(app, client, brussels_session):
    url = f"/sessions/{brussels_session.slug}/register"
    response = client.post(url, data=registration_form(brussels_session, csrf_token=csrf_token(client, url)))
    assert response.status_code == 302
    [name] = os.listdir(app.config["OUTBOX_DIR"])
    with open(os.path.join(app.config["OUTBOX_DIR"], name), "rb") as eml:
        message = email.message_from_binary_file(eml, policy=email.policy.default)
    text = message.get_body(("plain",)).get_content()
    assert "Friday 26 March 2027: 09:30–17:00 (Europe/Brussels, UTC+01:00)" in text
    assert "Monday 29 March 2027: 09:30–17:00 (Europe/Brussels, UTC+02:00)" in text
    [calendar] = [part for part in message.iter_attachments() if part.get_content_type() == "text/calendar"]
    assert calendar.get_filename() == "calendar.ics"
    assert (
        len(
            _parse(
                calendar.get_content() if isinstance(calendar.get_content(), bytes) else calendar.get_content().encode()
            )
        )
        == 2
    )


def test_french_mail_and_calendar_are_in_french(app, app_ctx, brussels_session, make_registration):
    registration = make_registration(brussels_session, locale="fr")
    with app.test_request_context():
        mail.send(confirmation_message(registration))
    [name] = os.listdir(app.config["OUTBOX_DIR"])
    with open(os.path.join(app.config["OUTBOX_DIR"], name), "rb") as eml:
        message = email.message_from_binary_file(eml, policy=email.policy.default)
    assert "vendredi 26 mars 2027" in message.get_body(("plain",)).get_content()
    [calendar] = [part for part in message.iter_attachments() if part.get_content_type() == "text/calendar"]
    content = calendar.get_content()
    events = _parse(content if isinstance(content, bytes) else content.encode())
    assert "jour 1 sur 2" in str(events[0]["summary"])
    assert time(9, 30) == events[0].decoded("dtstart").time()

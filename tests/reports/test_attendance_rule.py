"""The one attendance rule: certificates state only what was measured, and the headcount, the certificates page,
the delegate's page, the registration's page and the JSON API agree on every delegate's every day."""

import random
import re
from datetime import date, datetime, time, timedelta
from html.parser import HTMLParser
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from pdf_tools import pdf_text

from attendance import attendance_rule
from attendance.api.tokens import create_api_token
from attendance.extensions import db
from attendance.models import Attendance, MeetingSession, Mode, OnlineInterval, Registration, RegistrationStatus, Source
from attendance.reports.headcount import headcount

BRUSSELS = ZoneInfo("Europe/Brussels")


def utc(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=BRUSSELS).astimezone(ZoneInfo("UTC"))


def checked_in(registration, day, hour, minute, left: tuple[int, int] | None = None) -> Attendance:
    attendance = Attendance(
        registration=registration,
        day=day,
        mode=Mode.IN_PERSON,
        source=Source.SCAN,
        first_seen_at=utc(day.date, hour, minute),
        checked_out_at=utc(day.date, *left) if left else None,
    )
    db.session.add(attendance)
    return attendance


def seen_online(registration, day, spans: list[tuple[tuple[int, int], tuple[int, int]]]) -> Attendance:
    """Online on `day`; no spans: a join-link click only."""
    attendance = Attendance(
        registration=registration, day=day, mode=Mode.ONLINE, source=Source.LINK, first_seen_at=utc(day.date, 9)
    )
    attendance.intervals = [
        OnlineInterval(
            joined_at=utc(day.date, *a),
            left_at=utc(day.date, *b),
            source=Source.ZOOM_REPORT,
            source_key=f"{registration.id}-{day.id}-{n}",
        )
        for n, (a, b) in enumerate(spans)
    ]
    db.session.add(attendance)
    return attendance


def certificate_text(client, registration) -> str:
    response = client.get(f"/me/{registration.access_key}/certificate.pdf")
    assert response.status_code == 200, response.get_data(as_text=True)
    return " ".join(pdf_text(response.data).split())


@pytest.fixture
def past(make_session):
    """Two past days of 09:30-17:00, Brussels."""
    return make_session(first_day=date(2024, 3, 4))


def test_a_late_check_in_is_certified_from_its_time_to_the_day_end(client, past, make_registration):
    registration = make_registration(past, full_name="Late Comer")
    checked_in(registration, past.days[0], 13, 12)
    db.session.commit()
    text = certificate_text(client, registration)
    assert "4 March 2024 · in person, from 13:12 to the end of the day: 3 h 48 min" in text
    assert "5 March 2024 · did not attend" in text
    assert "Total time measured · 3 h 48 min" in text
    assert "7 h 30 min" not in text


def test_a_session_may_certify_the_scheduled_programme_instead(client, past, make_registration):
    registration = make_registration(past, full_name="Late Comer")
    checked_in(registration, past.days[0], 13, 12)
    past.certify_scheduled_hours = True
    db.session.commit()
    text = certificate_text(client, registration)
    assert "in person · scheduled programme: 7 h 30 min" in text and "3 h 48 min" not in text
    assert "Scheduled programme, in person · 7 h 30 min" in text and "Total time measured" not in text


def test_a_check_out_ends_the_time_in_person_and_an_early_check_in_starts_at_the_opening(
    client, past, make_registration
):
    registration = make_registration(past, full_name="Half Day")
    checked_in(registration, past.days[0], 8, 50, left=(12, 0))
    checked_in(registration, past.days[1], 13, 12, left=(15, 0))
    db.session.commit()
    text = certificate_text(client, registration)
    assert "in person, from 09:30 to 12:00: 2 h 30 min" in text
    assert "in person, from 13:12 to 15:00: 1 h 48 min" in text
    assert "Total time measured · 4 h 18 min" in text


def test_online_prints_the_platform_minutes_and_a_link_click_no_minutes(client, past, make_registration):
    registration = make_registration(past, full_name="Far Away", mode=Mode.ONLINE)
    seen_online(registration, past.days[0], [((9, 30), (12, 0)), ((11, 0), (14, 0))])  # overlap counts once
    seen_online(registration, past.days[1], [])
    past.certificate_accepts_link_click = True
    db.session.commit()
    text = certificate_text(client, registration)
    assert "4 March 2024 · online · 4 h 30 min" in text
    assert "5 March 2024 · online · joined by link" in text
    assert "Total time measured · 4 h 30 min" in text


def test_a_link_click_alone_counts_nowhere_unless_the_session_accepts_it(client, past, make_registration):
    """Even at 0 %: a click is an intention, and the headcount and the certificate say the same."""
    registration = make_registration(past, full_name="Clicked Only", mode=Mode.ONLINE)
    seen_online(registration, past.days[0], [])
    past.certificate_online_percent = 0
    db.session.commit()
    assert client.get(f"/me/{registration.access_key}/certificate.pdf").status_code == 403
    assert headcount(past).session.total.counts["no_shows"] == 1
    past.certificate_accepts_link_click = True
    db.session.commit()
    assert client.get(f"/me/{registration.access_key}/certificate.pdf").status_code == 200
    assert headcount(past).session.total.counts["attended_online"] == 1


def test_no_certificate_before_the_last_day_ends(client, make_session, make_registration):
    today = datetime.now(BRUSSELS).date()
    meeting = make_session(first_day=today - timedelta(days=1))
    meeting.days[1].date = today + timedelta(days=1)
    db.session.commit()
    registration = make_registration(meeting, full_name="Early Asker")
    checked_in(registration, meeting.days[0], 9, 0)
    db.session.commit()
    last_day = f"{(today + timedelta(days=1)).day} {today + timedelta(days=1):%B %Y}"
    response = client.get(f"/me/{registration.access_key}/certificate.pdf")
    ready = f"The certificate will be ready when the meeting ends, on {last_day} at 17:00."
    assert response.status_code == 403 and ready in response.get_data(as_text=True)
    page = client.get(f"/me/{registration.access_key}").get_data(as_text=True)
    assert ready in page and "in person, from 09:30 to the end of the day: 7 h 30 min" in page


# ---- every view agrees ----


class _Verdicts(HTMLParser):
    """The `data-attended` verdicts of a page, per registration (a `data-registration` ancestor) and day."""

    def __init__(self, registration_id: int | None = None):
        super().__init__()
        self.current, self.found = registration_id, {}

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if "data-registration" in attrs:
            self.current = int(attrs["data-registration"])
        if "data-day" in attrs:
            self.found[(self.current, attrs["data-day"])] = attrs["data-attended"]


def verdicts(html: str, registration_id: int | None = None) -> dict[tuple[int, str], str]:
    parser = _Verdicts(registration_id)
    parser.feed(html)
    return parser.found


def assert_every_view_agrees(client, meeting: MeetingSession) -> dict[tuple[int, str], str]:
    active = db.session.scalars(
        sa.select(Registration).filter_by(session_id=meeting.id, status=RegistrationStatus.REGISTERED)
    ).all()
    days = [d.date.isoformat() for d in meeting.days]
    on_certificates_page = verdicts(client.get(f"/sessions/{meeting.slug}/certificates").get_data(as_text=True))
    truth = {key: value for key, value in on_certificates_page.items() if key[0] in {r.id for r in active}}
    assert len(truth) == len(active) * len(days)
    for registration in active:
        mine = {key: value for key, value in truth.items() if key[0] == registration.id}
        delegate_page = client.get(f"/me/{registration.access_key}").get_data(as_text=True)
        assert verdicts(delegate_page, registration.id) == mine, registration.full_name
        organiser_page = client.get(f"/sessions/{meeting.slug}/registrations/{registration.id}").get_data(as_text=True)
        assert verdicts(organiser_page, registration.id) == mine, registration.full_name

    token = create_api_token("Dashboard", organiser=True)[1]
    report = client.get(
        f"/api/v1/sessions/{meeting.slug}/headcount", headers={"Authorization": f"Bearer {token}"}
    ).get_json()
    scopes = {scope["scope"]: scope["total"] for scope in report["scopes"]}
    for day in days:
        attended = [truth[(r.id, day)] for r in active]
        assert scopes[day]["attended_in_person"] == attended.count("in_person"), day
        assert scopes[day]["attended_online"] == attended.count("online"), day
        assert scopes[day]["no_shows"] == attended.count(""), day
    per_person = [{truth[(r.id, day)] for day in days} for r in active]
    assert scopes["session"]["attended_in_person"] == sum("in_person" in p for p in per_person)
    assert scopes["session"]["attended_online"] == sum("online" in p and "in_person" not in p for p in per_person)
    assert scopes["session"]["no_shows"] == sum(p == {""} for p in per_person)

    page = client.get(f"/sessions/{meeting.slug}/certificates").get_data(as_text=True)
    eligible = int(re.search(r"<strong>(\d+)</strong> of \d+ registrations? earn", page)[1])
    assert eligible == sum(
        sum(truth[(r.id, d)] != "" for d in days) >= meeting.certificate_days_required for r in active
    )
    return truth


def test_every_view_agrees_on_the_demo(client, login, runner):
    assert runner.invoke(args=["seed-demo"]).exit_code == 0
    login("organiser")
    meeting = db.session.scalar(sa.select(MeetingSession).filter_by(slug="global-meeting-19"))
    truth = assert_every_view_agrees(client, meeting)
    assert set(truth.values()) == {"in_person", "online", ""}
    page = client.get(f"/sessions/{meeting.slug}/reports/headcount").get_data(as_text=True)
    assert "What the columns count" in page and "Active registrations that attended neither" in page
    assert "Online, a day counts from this many platform minutes" in page


@pytest.mark.parametrize("accepts_link_click", [False, True])
def test_every_view_agrees_on_a_generated_meeting(client, login, past, make_registration, accepts_link_click):
    rng = random.Random(7)
    past.certificate_accepts_link_click = accepts_link_click
    past.certificate_online_percent = 40
    for n in range(40):
        registration = make_registration(
            past,
            full_name=f"Generated {n}",
            mode=rng.choice(list(Mode)),
            status=RegistrationStatus.CANCELLED if n % 13 == 5 else RegistrationStatus.REGISTERED,
        )
        for day in past.days:
            roll = rng.random()
            if roll < 0.35:
                checked_in(
                    registration,
                    day,
                    rng.randrange(8, 16),
                    rng.randrange(60),
                    left=(16, rng.randrange(60)) if rng.random() < 0.3 else None,
                )
            if 0.25 < roll < 0.8:
                start = rng.randrange(9 * 60, 16 * 60)
                spans = (
                    []
                    if rng.random() < 0.2
                    else [((start // 60, start % 60), (min(17, (start + rng.randrange(10, 400)) // 60), 0))]
                )
                if spans and rng.random() < 0.4:  # a rejoin, overlapping or not: the union counts, once
                    again = rng.randrange(start, 17 * 60)
                    spans.append(((again // 60, again % 60), (min(17, (again + rng.randrange(10, 200)) // 60), 0)))
                spans = [span for span in spans if span[1] > span[0]]
                if spans or rng.random() < 0.5:
                    seen_online(registration, day, spans)
    db.session.commit()
    login("organiser")
    truth = assert_every_view_agrees(client, past)
    assert "online" in truth.values() and "in_person" in truth.values() and "" in truth.values()
    # The headcount's shortcut (days as bit masks, only what it counts) judges each day as the full rule does.
    counted = Registration.counted_in(past)
    judged = attendance_rule.session_days_of(past, db.session.scalars(sa.select(Registration).where(counted)).all())
    masks = attendance_rule.attended_days(past, counted)
    for registration_id, days in judged.items():
        expected = tuple(sum(1 << i for i, d in enumerate(days) if d.mode == mode) for mode in ("in_person", "online"))
        assert masks.get(registration_id, (0, 0)) == expected, registration_id


def test_the_session_form_sets_scheduled_hours_and_refuses_a_share_out_of_range(client, login, past):
    from helpers import csrf_token

    login("organiser")
    form = {
        "series_name": past.series.name,
        "number": past.number,
        "title": past.title,
        "slug": past.slug,
        "timezone": past.timezone,
        "certificate_days_required": "1",
        "certify_scheduled_hours": "y",
        **{f"days-{i}-date": d.date.isoformat() for i, d in enumerate(past.days)},
    }
    refused = client.post(
        f"/sessions/{past.slug}/edit",
        data=form | {"certificate_online_percent": "150", "csrf_token": csrf_token(client)},
    )
    assert refused.status_code == 400
    db.session.expire_all()
    assert not past.certify_scheduled_hours and past.certificate_online_percent == 50
    saved = client.post(
        f"/sessions/{past.slug}/edit",
        data=form | {"certificate_online_percent": "30", "csrf_token": csrf_token(client)},
    )
    assert saved.status_code == 302
    db.session.expire_all()
    assert past.certify_scheduled_hours and past.certificate_online_percent == 30
    page = client.get(f"/sessions/{past.slug}/edit").get_data(as_text=True)
    assert 'name="certify_scheduled_hours" type="checkbox" value="y" checked' in page or re.search(
        r'<input[^>]*checked[^>]*name="certify_scheduled_hours"|name="certify_scheduled_hours"[^>]*checked', page
    )


def test_a_check_out_recorded_on_the_attendance_page_reaches_the_certificate(client, login, past, make_registration):
    from helpers import csrf_token

    registration = make_registration(past, full_name="Left At Three")
    checked_in(registration, past.days[0], 13, 12)
    db.session.commit()
    login("organiser")
    url = f"/sessions/{past.slug}/attendance/{registration.id}?day={past.days[0].date}"
    page = client.post(
        url, data={"action": "check_out", "time": "", "csrf_token": csrf_token(client)}, follow_redirects=True
    ).get_data(as_text=True)
    assert "give the time they left" in page  # a day gone by: "now" would be after its end
    page = client.post(
        url, data={"action": "check_out", "time": "15:00", "csrf_token": csrf_token(client)}, follow_redirects=True
    ).get_data(as_text=True)
    assert "Left At Three checked out at 15:00" in page and "counted to the day's end" not in page
    text = certificate_text(client, registration)
    assert "in person, from 13:12 to 15:00: 1 h 48 min" in text and "Total time measured · 1 h 48 min" in text
    registration_page = client.get(f"/sessions/{past.slug}/registrations/{registration.id}").get_data(as_text=True)
    assert "in person, from 13:12 to 15:00: 1 h 48 min" in registration_page and "badge scan" in registration_page
    assert "eligible" in registration_page


def test_a_check_in_by_hand_for_a_day_gone_by_may_give_the_arrival_time(client, login, past, make_registration):
    """From a sign-in sheet: the organiser says when they came, and the certificate counts from then; a malformed
    time changes nothing."""
    from helpers import csrf_token

    came = make_registration(past, full_name="Signed The Sheet")
    login("organiser")
    url = f"/sessions/{past.slug}/attendance/{came.id}?day={past.days[0].date}"
    form = {"action": "check_in", "reason": "paper sign-in sheet", "csrf_token": csrf_token(client)}
    page = client.post(url, data=form | {"time": "9h30"}, follow_redirects=True).get_data(as_text=True)
    assert "Not checked in: write the time as HH:MM" in page
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Attendance)) == 0
    client.post(url, data=form | {"time": "10:15"})
    text = certificate_text(client, came)
    assert "in person, from 10:15 to the end of the day: 6 h 45 min" in text
    from attendance.models import AuditEvent

    audited = db.session.scalars(sa.select(AuditEvent.details).filter_by(action="attendance.check_in")).all()
    assert audited == [f"{past.days[0].date} 10:15: paper sign-in sheet"]


def test_the_certificates_page_shows_partial_minutes_and_the_report_counts_in_words(
    client, login, past, make_registration
):
    partial = make_registration(past, full_name="Partly There", mode=Mode.ONLINE)
    seen_online(partial, past.days[0], [((10, 0), (10, 40))])  # 40 of 450 minutes; 225 needed
    db.session.commit()
    login("organiser")
    page = client.get(f"/sessions/{past.slug}/certificates").get_data(as_text=True)
    assert "4 March 2024: online 40 minutes: fewer than the 225 needed" in page
    assert "<strong>0</strong> of 1 registration earn a certificate" in page
    report = client.get(f"/sessions/{past.slug}/reports/headcount").get_data(as_text=True)
    assert re.search(r'big-number">1</span> no-show<', report) and "1 no-shows" not in report
    assert "4 March 2024: 225 minutes" in report
    make_registration(past, full_name="Never Came")
    report = client.get(f"/sessions/{past.slug}/reports/headcount").get_data(as_text=True)
    assert re.search(r'big-number">2</span> no-shows<', report)


def test_the_headcount_judges_everyone_in_a_fixed_number_of_queries(
    client, login, past, make_registration, count_queries
):
    login("organiser")
    first = make_registration(past)
    checked_in(first, past.days[0], 10, 0)
    db.session.commit()
    with count_queries() as few:
        client.get(f"/sessions/{past.slug}/reports/headcount")
    for n in range(10):
        registration = make_registration(past, mode=Mode.ONLINE)
        seen_online(registration, past.days[n % 2], [((9, 30), (16, 0))])
    db.session.commit()
    with count_queries() as many:
        client.get(f"/sessions/{past.slug}/reports/headcount")
    assert many() == few(), "\n".join(s[:90] for s in many.statements)


def test_a_check_in_recorded_after_the_day_counts_the_day_but_no_time(client, past, make_registration):
    """An organiser checking someone in by hand once the day is over says they came, not when: no minutes."""
    registration = make_registration(past, full_name="Told Us Later")
    db.session.add(
        Attendance(
            registration=registration,
            day=past.days[0],
            mode=Mode.IN_PERSON,
            source=Source.MANUAL,
            first_seen_at=utc(past.days[1].date, 10),
        )
    )
    db.session.commit()
    text = certificate_text(client, registration)
    assert "4 March 2024 · in person · time not recorded (checked in after the day was over)" in text
    assert "0 h 00 min" not in text and "Total time measured" not in text
    assert headcount(past).session.total.counts["attended_in_person"] == 1


def test_a_day_in_progress_shows_no_time_until_it_ends_or_they_leave(make_session, make_registration):
    from attendance.attendance_rule import days_of, describe_day

    tomorrow = datetime.now(BRUSSELS).date() + timedelta(days=1)  # a day whose hours have not ended
    meeting = make_session(first_day=tomorrow)
    registration = make_registration(meeting, full_name="Early Bird")
    checked_in(registration, meeting.days[0], 10, 15)
    db.session.commit()
    day = days_of(registration)[0]
    assert day.attended and day.minutes is None
    assert describe_day(meeting, day) == "in person since 10:15 · day in progress"
    checked_in(registration, meeting.days[1], 10, 0, left=(12, 30))  # left: measured, even before the day ends
    db.session.commit()
    assert describe_day(meeting, days_of(registration)[1]) == "in person, from 10:00 to 12:30: 2 h 30 min"


def test_a_certificate_of_link_clicks_only_prints_no_total(client, past, make_registration):
    registration = make_registration(past, full_name="Link Only", mode=Mode.ONLINE)
    seen_online(registration, past.days[0], [])
    past.certificate_accepts_link_click = True
    db.session.commit()
    text = certificate_text(client, registration)
    assert "4 March 2024 · online · joined by link" in text
    assert "Total time measured" not in text and "0 h 00 min" not in text


def test_a_short_online_stay_counts_its_minutes_in_the_plural_it_shows(client, login, past, make_registration):
    registration = make_registration(past, full_name="One Minute", mode=Mode.ONLINE)
    seen_online(registration, past.days[0], [((10, 0), (10, 1))])
    db.session.commit()
    login("organiser")
    page = client.get(f"/sessions/{past.slug}/certificates").get_data(as_text=True)
    assert "online 1 minute: fewer than the 225 needed" in page

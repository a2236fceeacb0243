"""The desk and the door on the meeting day: look-up in Latin letters, devices and staff bound to sessions."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from attendance.api.tokens import create_api_token
from attendance.clock import utcnow
from attendance.extensions import db
from attendance.models import Registration, Source
from attendance.text import search_key, search_text


@pytest.fixture
def meeting(make_session):
    """A session running today and tomorrow, Brussels time."""
    return make_session(first_day=datetime.now(ZoneInfo("Europe/Brussels")).date())


@pytest.fixture
def door_token(app_ctx):
    return create_api_token("Door 2 scanner")[1]


def look_up(client, meeting, query: str, token: str) -> list[str]:
    response = client.get(
        f"/api/v1/sessions/{meeting.slug}/delegates",
        query_string={"q": query},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 200, response.get_json()
    return [found["name"] for found in response.get_json()["delegates"]]


# ---- look-up in Latin letters, by email and by organisation ----

NAMES = ["Ольга Петрова", "王伟", "Nguyễn Thị Lan", "ليلى حداد", "محمد الزهراني", "Amélie Dubois", "Wanjiru Wei"]


@pytest.mark.parametrize(
    "query, expected",
    [
        ("petrova", ["Ольга Петрова"]),
        ("OLGA", ["Ольга Петрова"]),
        ("wang wei", ["王伟"]),
        ("wei wang", ["王伟"]),
        ("nguyen", ["Nguyễn Thị Lan"]),
        ("haddad", ["ليلى حداد"]),
        ("zahrani", ["محمد الزهراني"]),
        ("mohammed", ["محمد الزهراني"]),
        ("петрова", ["Ольга Петрова"]),
        ("wei", ["Wanjiru Wei", "王伟"]),
    ],
)
def test_door_finds_names_of_every_script_by_latin_letters(
    client, meeting, make_registration, door_token, query, expected
):
    for name in NAMES:
        make_registration(meeting, full_name=name)
    assert sorted(look_up(client, meeting, query, door_token)) == sorted(expected)


# Arabic and Hebrew names whose words have a single consonant (ليلى "lyla", علي "ly", אלי "ly") beside ones that
# only start with it (لبنى "lbn", لطيفة "ltfh", خليل "khl", לוי "lv").
ONE_CONSONANT_ROOM = [
    "ليلى حداد",
    "محمد علي",
    "لبنى خليل",
    "لطيفة محمود",
    "שרה לוי",
    "אלי כהן",
    "Leila Smith",
    "Amélie Dubois",
    "王伟",
]


@pytest.mark.parametrize(
    "query, expected",
    [
        ("haddad", ["ليلى حداد"]),
        ("layla haddad", ["ليلى حداد"]),
        ("haddad layla", ["ليلى حداد"]),
        ("leila haddad", ["ليلى حداد"]),
        # Alone, a word of one consonant lists every name with a word of that one consonant (علي, אלי are "l" as
        # ليلى is), and no name that only starts with it; the rest of the name narrows it down.
        ("layla", ["ليلى حداد", "محمد علي", "אלי כהן"]),
        ("leila", ["ليلى حداد", "محمد علي", "אלי כהן", "Leila Smith"]),
        ("mohamed", ["محمد علي", "لطيفة محمود"]),  # "mhmd" starts محمود's "mhmd" too, as before
        ("mohamed ali", ["محمد علي"]),
        ("muhammad ali", ["محمد علي"]),
        ("ali mohamed", ["محمد علي"]),
        ("eli", ["אלי כהן", "ليلى حداد", "محمد علي", "Amélie Dubois"]),  # whole "l" skeletons; Am-eli-e
        ("sara levi", ["שרה לוי"]),
        ("lubna", ["لبنى خليل"]),
        ("levi", ["שרה לוי"]),
        ("leila smith", ["Leila Smith"]),
        ("amelie dubois", ["Amélie Dubois"]),
        ("wang wei", ["王伟"]),
        ("王伟", ["王伟"]),
    ],
)
def test_door_finds_arabic_and_hebrew_words_of_one_consonant_with_the_rest_of_the_name(
    client, meeting, make_registration, door_token, query, expected
):
    """A volunteer types the whole name as the person says it: adding "layla" to "haddad" must still find her."""
    for name in ONE_CONSONANT_ROOM:
        make_registration(meeting, full_name=name)
    assert sorted(look_up(client, meeting, query, door_token)) == sorted(expected)


def test_a_word_of_one_consonant_matches_whole_words_only(client, meeting, make_registration, door_token):
    """A query word of one consonant ("ali" is "l", as علي is) matches words of that consonant alone, not every
    word whose consonants start with it (لبنى, لطيفة, לוי); single letters or two are still too short to ask."""
    for name in ONE_CONSONANT_ROOM:
        make_registration(meeting, full_name=name)
    for query in ("ali", "lee", "ola"):
        found = look_up(client, meeting, query, door_token)
        assert "محمد علي" in found and "ليلى حداد" in found, query
        assert not {"لبنى خليل", "لطيفة محمود", "שרה לוי"} & set(found), (query, found)
    for query in ("l", "a", "la", "al"):
        response = client.get(
            f"/api/v1/sessions/{meeting.slug}/delegates", query_string={"q": query}, headers=bearer(door_token)
        )
        assert response.status_code == 400, query
    assert look_up(client, meeting, "l a haddad", door_token) == ["ليلى حداد"]


def test_door_finds_people_by_email_and_organisation_with_every_word_anywhere(
    client, meeting, make_registration, door_token
):
    make_registration(
        meeting, full_name="Ольга Петрова", email="o.petrova@customs.example.org", organisation="RILO Eastern Europe"
    )
    make_registration(meeting, full_name="Kofi Mensah", email="kofi@example.org", organisation="ROCB West Africa")
    assert look_up(client, meeting, "o.petrova@customs", door_token) == ["Ольга Петрова"]
    assert look_up(client, meeting, "rilo", door_token) == ["Ольга Петрова"]
    assert look_up(client, meeting, "africa kofi", door_token) == ["Kofi Mensah"]
    assert look_up(client, meeting, "olga africa", door_token) == []  # every word must match, not any


def test_look_up_keeps_its_minimum_length_in_latin_letters_too(client, meeting, make_registration, door_token):
    make_registration(meeting, full_name="王伟")
    response = client.get(
        f"/api/v1/sessions/{meeting.slug}/delegates?q=wa", headers={"Authorization": f"Bearer {door_token}"}
    )
    assert response.status_code == 400 and "at least 3" in response.get_json()["reason"]
    assert look_up(client, meeting, "王伟", door_token) == ["王伟"]  # two CJK characters are enough


def test_direction_marks_typed_into_a_name_stay_out_of_the_key(make_session, make_registration):
    meeting = make_session()
    registration = make_registration(
        meeting, full_name="\u2067ليلى\u2069 \u200fحداد\u200e", organisation="\u202bمكتب\u202c"
    )
    assert not any(mark in registration.name_key for mark in "\u2067\u2069\u200f\u200e\u202b\u202c")
    assert registration.name_key.startswith("ليلى حداد\n")
    assert search_key("Ли\u200dза") == "лиза"


def test_changing_name_email_or_organisation_updates_the_search_key(make_session, make_registration):
    meeting = make_session()
    registration = make_registration(meeting, full_name="Анна Смирнова", organisation="ROCB")
    registration.full_name, registration.organisation = "Анна Волкова", "RTC Almaty"
    registration.email = "Anna.Volkova@Example.org"
    db.session.commit()
    found = db.session.scalars(
        sa.select(Registration.full_name).where(Registration.name_has_words("volkova almaty anna.volkova@example"))
    ).all()
    assert found == ["Анна Волкова"]
    assert not db.session.scalar(sa.select(sa.func.count()).where(Registration.name_has_words("smirnova")))


def test_an_imported_report_still_suggests_only_an_exact_name(make_session, make_registration):
    """The search key holds more than the name now; a name match for a platform report is still the name."""
    from attendance.online.imports import _SessionIndex
    from attendance.online.service import identity_keys

    meeting = make_session()
    make_registration(meeting, full_name="Ana María", organisation="Europe")
    make_registration(meeting, full_name="Ana", organisation="RTC")
    index = _SessionIndex(meeting, Source.ZOOM_REPORT)

    def named(name):
        return index.only_registration_named(identity_keys("", name))

    assert named("ANA").full_name == "Ana"
    assert named("ana maria").full_name == "Ana María"
    assert named("europe") is None


def test_the_migration_gives_existing_registrations_latin_keys(tmp_path):
    from test_registration import database_before

    names = [("Ольга Петрова", "o.petrova@example.org"), ("ليلى حداد", "laila@example.org")]
    with database_before(
        "ea83f5909e5d",
        tmp_path,
        [dict(full_name=name, email=email, email_key=email, name_key=search_key(name)) for name, email in names],
    ) as (upgrade, downgrade):
        upgrade(revision="8e04b2fcb833")
        keys = dict(db.session.execute(sa.text("SELECT full_name, name_key FROM registrations")).all())
        downgrade(revision="ea83f5909e5d")
        old_keys = dict(db.session.execute(sa.text("SELECT full_name, name_key FROM registrations")).all())
        counts = [
            db.session.scalar(sa.text(f"SELECT count(*) FROM {table}"))
            for table in ("registrations", "attendances", "certificates", "scan_events")
        ]
    assert keys["Ольга Петрова"] == "ольга петрова\nolga petrova\no\no.petrova@example.org"
    assert keys["ليلى حداد"].startswith("ليلى حداد\nlyla hdd\n") and keys["ليلى حداد"].endswith("~hd")
    assert old_keys == {"Ольга Петрова": "ольга петрова", "ليلى حداد": "ليلى حداد"}
    assert counts == [2, 2, 2, 2]


def test_the_migration_gives_existing_registrations_whole_skeletons_and_goes_back(tmp_path):
    """Keys written before are refilled as the app writes them, so that "layla haddad" finds a delegate
    registered before; going back writes the keys of the rule before."""
    from test_registration import database_before

    # name, email, and the key as the revision before wrote it (organisation "O")
    rows = [
        ("ليلى حداد", "laila@example.org", "ليلى حداد\nlyla hdd\no\nlaila@example.org\n~hd"),
        ("محمد علي", "m.ali@example.org", "محمد علي\nmhmd ly\no\nm.ali@example.org\n~mhmd"),
        ("علا", "ola@example.org", "علا\nl\no\nola@example.org"),
        ("Amélie Dubois", "amelie@example.org", "amelie dubois\no\namelie@example.org"),
        ("王伟", "wei@example.org", "王伟\nwang wei\no\nwei@example.org"),
    ]
    old_keys = {name: key for name, _email, key in rows}
    with database_before(
        "25b371767c84",
        tmp_path,
        [dict(full_name=name, email=email, email_key=email, name_key=key) for name, email, key in rows],
    ) as (upgrade, downgrade):
        upgrade()
        keys = dict(db.session.execute(sa.select(Registration.full_name, Registration.name_key)).all())

        def found(query: str) -> list[str]:
            return db.session.scalars(
                sa.select(Registration.full_name).where(Registration.name_has_words(query)).order_by(Registration.id)
            ).all()

        assert found("layla haddad") == ["ليلى حداد"]
        assert found("muhammad ali") == ["محمد علي"]
        assert found("wang wei") == ["王伟"] and found("amelie") == ["Amélie Dubois"]
        downgrade(revision="25b371767c84")
        keys_after_going_back = dict(db.session.execute(sa.text("SELECT full_name, name_key FROM registrations")).all())
    assert keys == {name: search_text(name, "O", verbatim=(email,)) for name, email, _key in rows}
    assert keys["ليلى حداد"].endswith("\n~l~ ~hd~") and keys["علا"].endswith("\n~l~")
    assert keys_after_going_back == old_keys


# ---- devices and staff bound to sessions ----


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def recorded() -> tuple[int, int]:
    from attendance.models import Attendance, ScanEvent

    return (
        db.session.scalar(sa.select(sa.func.count(Attendance.id))),
        db.session.scalar(sa.select(sa.func.count(ScanEvent.id))),
    )


def new_token(runner, *args: str) -> str:
    result = runner.invoke(args=["token", "add", "Kiosk", *args])
    assert result.exit_code == 0, result.output
    return result.output.strip().splitlines()[-1]


def test_a_token_bound_to_a_session_checks_in_there_only(client, runner, make_session, make_registration):
    today = datetime.now(ZoneInfo("Europe/Brussels")).date()
    ours, theirs = make_session(first_day=today), make_session(first_day=today)
    token = new_token(runner, "--session", ours.slug)
    assert f"for {ours.slug} only" in runner.invoke(args=["token", "add", "x", "--session", ours.slug]).output
    mine, other = make_registration(ours), make_registration(theirs, full_name="Ольга Петрова")

    ok = client.post("/api/v1/checkins", json={"token": mine.badge_token}, headers=bearer(token))
    assert ok.status_code == 201
    before = recorded()
    for body in (
        {"token": other.badge_token},
        {"token": other.badge_token, "session": theirs.slug},
        {"registration_id": other.id, "session": theirs.slug},
    ):
        refused = client.post("/api/v1/checkins", json=body, headers=bearer(token))
        assert refused.status_code == 403, body
        assert refused.get_json()["status"] == "forbidden" and "bound" in refused.get_json()["reason"]
    assert recorded() == before  # nothing recorded, anywhere

    # At its own door, another session's badge is the usual "wrong session", naming nobody of that session.
    wrong = client.post(
        "/api/v1/checkins", json={"token": other.badge_token, "session": ours.slug}, headers=bearer(token)
    )
    assert wrong.status_code == 409 and wrong.get_json()["status"] == "wrong_session"
    assert "Петрова" not in wrong.get_data(as_text=True) and theirs.title not in wrong.get_data(as_text=True)


@pytest.mark.parametrize("path", ["", "/delegates?q=petrova", "/door-counts", "/headcount"])
def test_every_session_endpoint_refuses_a_token_bound_to_another_session(
    client, runner, make_session, make_registration, path
):
    ours, theirs = make_session(), make_session()
    make_registration(theirs, full_name="Ольга Петрова")
    token = new_token(runner, "--organiser", "--session", ours.slug)
    refused = client.get(f"/api/v1/sessions/{theirs.slug}{path}", headers=bearer(token))
    assert refused.status_code == 403 and refused.get_json()["status"] == "forbidden"
    assert "Петрова" not in refused.get_data(as_text=True)
    assert client.get(f"/api/v1/sessions/{ours.slug}{path}", headers=bearer(token)).status_code == 200


def test_a_bound_token_cannot_undo_another_sessions_check_in(client, runner, make_session, make_registration):
    today = datetime.now(ZoneInfo("Europe/Brussels")).date()
    ours, theirs = make_session(first_day=today), make_session(first_day=today)
    everywhere = new_token(runner)
    other = make_registration(theirs)
    attendance_id = client.post(
        "/api/v1/checkins", json={"token": other.badge_token}, headers=bearer(everywhere)
    ).get_json()["attendance_id"]
    bound = new_token(runner, "--organiser", "--session", ours.slug)
    assert client.post(f"/api/v1/checkins/{attendance_id}/undo", headers=bearer(bound)).status_code == 403
    assert recorded()[0] == 1


def test_token_add_refuses_an_unknown_session(runner, app_ctx):
    result = runner.invoke(args=["token", "add", "Door", "--session", "nowhere"])
    assert result.exit_code != 0 and "no session is called 'nowhere'" in result.output
    from attendance.models import ApiToken

    assert db.session.scalar(sa.select(sa.func.count(ApiToken.id))) == 0


def test_allows_session_is_the_tokens_own_check(make_session, app_ctx):
    ours, theirs = make_session(), make_session()
    bound, _ = create_api_token("Kiosk", session_id=ours.id)
    free, _ = create_api_token("Door")
    assert bound.allows_session(ours.id) and not bound.allows_session(theirs.id)
    assert free.allows_session(ours.id) and free.allows_session(theirs.id)


def assign(client, meeting, email: str):
    from helpers import csrf_token

    return client.post(
        f"/sessions/{meeting.slug}/door-staff",
        data={"email": email, "csrf_token": csrf_token(client, f"/sessions/{meeting.slug}/edit")},
    )


def test_an_organiser_assigns_door_staff_on_the_session_page_and_it_is_audited(client, login, make_session):
    from attendance.auth import ensure_staff
    from attendance.models import AuditEvent, DoorAssignment, StaffRole

    login("organiser")
    meeting = make_session()
    ensure_staff("volunteer@example.org", StaffRole.DOOR, "long enough")
    db.session.commit()
    response = assign(client, meeting, "Volunteer@Example.org")
    assert response.status_code == 302
    page = client.get(f"/sessions/{meeting.slug}/edit").get_data(as_text=True)
    assert "volunteer@example.org now works the doors" in page
    assert page.count("volunteer@example.org") >= 2  # the message and the list
    assert assign(client, meeting, "volunteer@example.org").status_code == 302  # twice: still one assignment
    assert db.session.scalar(sa.select(sa.func.count()).select_from(DoorAssignment)) == 1
    for nobody in ("unknown@example.org", db.session.scalar(sa.select(AuditEvent.actor))):  # an organiser's email
        assign(client, meeting, nobody)
        assert "No door staff account has the email" in client.get(f"/sessions/{meeting.slug}/edit").get_data(
            as_text=True
        )
    assert db.session.scalar(sa.select(sa.func.count()).select_from(DoorAssignment)) == 1
    assert [(e.action, e.target) for e in db.session.scalars(sa.select(AuditEvent))] == [
        ("session.add_door_staff", "volunteer@example.org")
    ]

    from helpers import csrf_token

    user_id = db.session.scalar(sa.select(DoorAssignment.user_id))
    client.post(
        f"/sessions/{meeting.slug}/door-staff/{user_id}/remove",
        data={"csrf_token": csrf_token(client, f"/sessions/{meeting.slug}/edit")},
    )
    assert db.session.scalar(sa.select(sa.func.count()).select_from(DoorAssignment)) == 0
    assert (
        db.session.scalar(sa.select(AuditEvent.action).order_by(AuditEvent.id.desc()).limit(1))
        == "session.remove_door_staff"
    )


def test_door_staff_see_search_and_scan_only_their_sessions(app, client, login, make_session, make_registration):
    from helpers import csrf_token

    from attendance.models import StaffUser
    from attendance.organiser.door_staff import assign_door_staff

    today = datetime.now(ZoneInfo("Europe/Brussels")).date()
    ours = make_session(first_day=today, title="Our session")
    theirs = make_session(first_day=today, title="Their session")
    other = make_registration(theirs, full_name="Ольга Петрова")
    mine = make_registration(ours, full_name="Kofi Mensah")
    email = login("door")
    # Not assigned anywhere yet: every session, as before.
    page = client.get("/checkin").get_data(as_text=True)
    assert "Our session" in page and "Their session" in page
    assign_door_staff(ours, email)
    db.session.commit()

    page = client.get("/checkin").get_data(as_text=True)
    assert "Our session" in page and "Their session" not in page
    assert client.get(f"/sessions/{ours.slug}/checkin").status_code == 200
    refused = client.get(f"/sessions/{theirs.slug}/checkin")
    assert refused.status_code == 403 and "other sessions" in refused.get_data(as_text=True)
    assert client.get(f"/api/v1/sessions/{theirs.slug}/delegates?q=petrova").status_code == 403
    assert (
        client.get(f"/api/v1/sessions/{ours.slug}/delegates?q=mensah").get_json()["delegates"][0]["name"]
        == "Kofi Mensah"
    )
    headers = {"X-CSRFToken": csrf_token(client, f"/sessions/{ours.slug}/checkin")}
    before = recorded()
    assert client.post("/api/v1/checkins", json={"token": other.badge_token}, headers=headers).status_code == 403
    assert recorded() == before
    assert (
        client.post(
            "/api/v1/checkins", json={"token": mine.badge_token, "session": ours.slug}, headers=headers
        ).status_code
        == 201
    )
    assert db.session.scalar(sa.select(StaffUser).filter_by(email=email)).door_session_ids == {ours.id}

    # The desk of another session is closed to them too: no look-up, no badge, no new badge, no walk-in.
    theirs.allows_walk_ins = True
    db.session.commit()
    old_badge = other.badge_token
    for path in (
        f"/sessions/{theirs.slug}/desk?q=petrova",
        f"/sessions/{theirs.slug}/desk/people/{other.id}",
        f"/sessions/{theirs.slug}/registrations/{other.id}/badge.pdf",
        f"/sessions/{theirs.slug}/desk/people/{other.id}/new-badge",
        f"/sessions/{theirs.slug}/desk/walk-in",
    ):
        refused = client.get(path)
        assert refused.status_code == 403 and "other sessions" in refused.get_data(as_text=True), path
        assert "Петрова" not in refused.get_data(as_text=True)
    token = csrf_token(client, f"/sessions/{ours.slug}/desk")
    assert (
        client.post(f"/sessions/{theirs.slug}/desk/people/{other.id}/new-badge", data={"csrf_token": token}).status_code
        == 403
    )
    walk_in = {
        "csrf_token": token,
        "full_name": "Walk In",
        "organisation": "RILO",
        "country": "BE",
        "mode": "in_person",
    }
    assert client.post(f"/sessions/{theirs.slug}/desk/walk-in", data=walk_in).status_code == 403
    db.session.expire_all()
    assert db.session.get(type(other), other.id).badge_token == old_badge
    assert db.session.scalar(sa.select(sa.func.count()).select_from(type(other)).filter_by(full_name="Walk In")) == 0
    assert "Kofi Mensah" in client.get(f"/sessions/{ours.slug}/desk?q=mensah").get_data(as_text=True)


def test_user_add_assigns_door_staff_to_sessions(runner, make_session):
    from attendance.models import AuditEvent, StaffUser

    meeting = make_session()
    result = runner.invoke(
        args=[
            "user",
            "add",
            "door9@example.org",
            "--role",
            "door",
            "--password",
            "long enough",
            "--session",
            meeting.slug,
        ]
    )
    assert result.exit_code == 0, result.output
    user = db.session.scalar(sa.select(StaffUser).filter_by(email="door9@example.org"))
    assert user.door_session_ids == {meeting.id}
    assert db.session.scalar(sa.select(AuditEvent.actor)) == "cli"


# ---- a demo session that runs today ----


def test_seed_demo_keeps_one_session_running_today_and_its_scanner_answers_door_staff(runner, client, app_ctx):
    from helpers import csrf_token

    from attendance.models import Attendance, MeetingSession, Mode, SessionDay

    def practice() -> list[MeetingSession]:
        db.session.expire_all()
        return db.session.scalars(sa.select(MeetingSession).filter_by(slug="door-practice")).all()

    def attendance_modes(meeting) -> dict:
        return dict(
            db.session.execute(
                sa.select(Attendance.mode, sa.func.count())
                .join(Registration)
                .where(Registration.session_id == meeting.id)
                .group_by(Attendance.mode)
            ).all()
        )

    first = runner.invoke(args=["seed-demo", "--base-url", "http://127.0.0.1:5123"])
    assert first.exit_code == 0, first.output
    assert "Door scanner of today's demo session: http://127.0.0.1:5123/sessions/door-practice/checkin" in first.output
    [meeting] = practice()
    today = datetime.now(ZoneInfo(meeting.timezone)).date()
    around_today = [today - timedelta(days=1), today, today + timedelta(days=1)]
    assert [d.date for d in meeting.days] == around_today
    people = db.session.scalars(sa.select(Registration).filter_by(session_id=meeting.id)).all()
    assert 35 <= len(people) <= 45 and all(p.email.endswith("@example.org") for p in people)
    assert {"Ольга Петрова", "王伟", "ليلى حداد"} <= {p.full_name for p in people}
    modes = attendance_modes(meeting)
    assert modes[Mode.IN_PERSON] >= 3 and modes[Mode.ONLINE] >= 1
    # Today's arrivals only, and nobody let in in the future.
    arrivals = db.session.scalars(sa.select(Attendance).join(Registration).filter_by(session_id=meeting.id)).all()
    assert {a.day.date for a in arrivals} == {today} and all(a.first_seen_at <= utcnow() for a in arrivals)

    # Seeded yesterday evening, the server still running after midnight: today is still a day of the session, and
    # the door lets people in.
    for day in meeting.days:
        day.date -= timedelta(days=1)
    db.session.commit()
    response = client.post(
        "/login", data={"email": "door1@example.org", "password": "demo-door", "csrf_token": csrf_token(client)}
    )
    assert response.status_code == 302
    scanner = client.get("/sessions/door-practice/checkin")
    assert scanner.status_code == 200 and "Door practice session" in scanner.get_data(as_text=True)
    petrova = client.get("/api/v1/sessions/door-practice/delegates?q=petrova").get_json()["delegates"]
    assert [p["name"] for p in petrova] == ["Ольга Петрова"]
    olga = next(p for p in people if p.full_name == "Ольга Петрова")
    scan = client.post(
        "/api/v1/checkins",
        json={"token": olga.badge_token, "session": "door-practice"},
        headers={"X-CSRFToken": csrf_token(client, "/sessions/door-practice/checkin")},
    )
    assert scan.status_code == 201 and scan.get_json()["status"] == "ok", scan.get_json()

    # The next run moves it around today again, its check-ins made afresh, nothing doubled.
    assert runner.invoke(args=["seed-demo"]).exit_code == 0
    assert runner.invoke(args=["seed-demo"]).exit_code == 0
    [meeting] = practice()
    assert [d.date for d in meeting.days] == around_today
    assert db.session.scalar(sa.select(sa.func.count(SessionDay.id)).filter_by(session_id=meeting.id)) == 3
    assert db.session.scalar(sa.select(sa.func.count(Registration.id)).filter_by(session_id=meeting.id)) == len(people)
    assert attendance_modes(meeting) == modes


# ---- /me: find my registration ----

from test_cli_and_mail import smtp_server  # noqa: E402,F401  (a fixture: the local SMTP server)
from test_security import rate_limited_client  # noqa: E402,F401  (a fixture: an app with rate limits on)


def ask_for_links(client, address: str, **kwargs):
    from helpers import csrf_token

    response = client.post("/me", data={"email": address, "csrf_token": csrf_token(client, "/me")}, **kwargs)
    response.close()  # as a server does once the answer is sent: the mail goes then
    return response


def test_every_public_page_links_to_find_my_registration(client, make_session):
    from datetime import timedelta

    open_session = make_session()
    closed = make_session(
        registration_closes_at=utcnow() - timedelta(hours=1), registration_opens_at=utcnow() - timedelta(days=3)
    )
    for url in ("/", f"/sessions/{open_session.slug}/register", f"/sessions/{closed.slug}/register"):
        assert 'href="/me"' in client.get(url).get_data(as_text=True), url
    page = client.get("/me")
    assert page.status_code == 200 and 'name="csrf_token"' in page.get_data(as_text=True)


def test_find_my_registration_emails_every_link_of_that_address(
    app, client, make_session, make_registration, smtp_server
):
    import email as email_parser
    import email.policy
    from datetime import date, timedelta

    from attendance.registration.service import cancel

    past = make_session(
        first_day=date.today() - timedelta(days=30),
        title="Past Session",
        registration_opens_at=None,
        registration_closes_at=None,
    )
    upcoming = make_session(title="Upcoming Session")
    cancelled_one = make_session(title="Dropped Session")
    kept = make_registration(past, email="Ana.Lima@Example.org")
    soon = make_registration(upcoming, email="ana.lima@example.org")
    dropped = make_registration(cancelled_one, email="ana.lima@example.org")
    cancel(dropped, "changed plans")
    make_registration(upcoming, email="someone.else@example.org")
    keys = [registration.access_key for registration in (kept, soon, dropped)]  # the mail's unit of work ends
    dropped_key = dropped.access_key  # this session

    answer = ask_for_links(client, " ANA.LIMA@example.org ")
    assert answer.status_code == 200 and "Check your email" in answer.get_data(as_text=True)
    assert smtp_server.received.wait(5)
    [envelope] = smtp_server.messages
    assert [to.lower() for to in envelope.rcpt_tos] == ["ana.lima@example.org"]  # as registered, not as typed
    message = email_parser.message_from_bytes(envelope.content, policy=email.policy.default)
    body = message.get_content()
    for key in keys:
        assert f"/me/{key}" in body
    assert "Past Session" in body and "Upcoming Session" in body
    dropped_part = body[body.index("Dropped Session") :]
    assert dropped_part.index("cancelled") < dropped_part.index(dropped_key)
    assert "someone.else" not in body and message["Subject"] == "Your registration links"


def test_find_my_registration_answers_the_same_for_an_unknown_address_and_sends_nothing(
    client, make_session, make_registration, smtp_server
):
    meeting = make_session()
    make_registration(meeting, email="known@example.org")
    unknown = ask_for_links(client, "unknown@example.org")
    assert not smtp_server.received.wait(1)
    known = ask_for_links(client, "known@example.org")
    assert smtp_server.received.wait(5)
    assert (unknown.status_code, unknown.get_data()) == (known.status_code, known.get_data())


def test_find_my_registration_refuses_bad_input_and_sends_nothing(client, make_session, make_registration, smtp_server):
    meeting = make_session()
    make_registration(meeting, email="known@example.org")
    no_csrf = client.post("/me", data={"email": "known@example.org"})
    no_csrf.close()
    assert no_csrf.status_code == 400
    bad = ask_for_links(client, "not an address")
    assert bad.status_code == 400 and "Enter a valid email address" in bad.get_data(as_text=True)
    assert not smtp_server.received.wait(1)


def test_find_my_registration_is_rate_limited_per_address_and_per_machine(rate_limited_client, make_session):
    from helpers import csrf_token

    client = rate_limited_client
    token = csrf_token(client, "/me")

    def ask(address: str, ip: str) -> int:
        response = client.post("/me", data={"email": address, "csrf_token": token}, environ_base={"REMOTE_ADDR": ip})
        response.close()
        return response.status_code

    # One address, asked from many machines: three an hour.
    assert [ask("target@example.org", f"10.0.0.{n}") for n in range(1, 5)] == [200, 200, 200, 429]
    # One machine, asking about many addresses: ten a minute.
    assert [ask(f"person{n}@example.org", "10.0.1.1") for n in range(11)] == [200] * 10 + [429]

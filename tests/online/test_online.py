"""Online attendance end to end: join links, the Zoom webhook, report imports, mapping, minutes per day."""

import hashlib
import hmac
import html
import io
import json
import re
import time
from datetime import date, datetime, timedelta
from datetime import time as clock
from html.parser import HTMLParser
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from helpers import csrf_token
from samples import teams_report, zoom_delivery, zoom_report

from attendance.extensions import db
from attendance.models import (
    Attendance,
    IdentityMapping,
    Mode,
    OnlineInterval,
    Registration,
    RegistrationStatus,
    ReportImport,
    Source,
    UnmatchedPresence,
    ZoomEvent,
)
from attendance.online import imports
from attendance.online.service import minutes_on

BRUSSELS = ZoneInfo("Europe/Brussels")
SECRET = "zoom-app-secret-token"
MEETING_ID = "85012345678"
DAY1 = date(2024, 2, 19)


@pytest.fixture
def past_meeting(make_session):
    """The 19th Session's shape: 19-20 Feb 2024, 09:30-17:00 Brussels, with a Zoom meeting."""
    return make_session(first_day=DAY1, zoom_meeting_id=MEETING_ID, zoom_webhook_secret=SECRET)


def utc(local: datetime) -> datetime:
    return local.replace(tzinfo=BRUSSELS).astimezone(ZoneInfo("UTC"))


def online_attendances() -> list[Attendance]:
    return db.session.scalars(sa.select(Attendance).filter_by(mode=Mode.ONLINE)).all()


# ---- the join link ----


def test_join_link_records_one_online_attendance_per_day_and_redirects(client, make_session, make_registration):
    meeting = make_session(first_day=datetime.now(BRUSSELS).date())
    registration = make_registration(meeting, mode=Mode.ONLINE)
    for _ in range(2):
        response = client.get(f"/join/{registration.access_key}")
        assert response.status_code == 302 and response.headers["Location"] == meeting.online_meeting_url
    [attendance] = online_attendances()
    assert attendance.source is Source.LINK and attendance.intervals == []
    assert attendance.day.date == datetime.now(BRUSSELS).date()


def test_join_link_prefers_the_delegates_personal_platform_link(client, make_session, make_registration):
    meeting = make_session(first_day=datetime.now(BRUSSELS).date())
    registration = make_registration(meeting, personal_join_url="https://zoom.example.org/w/123?tk=personal")
    assert client.get(f"/join/{registration.access_key}").headers["Location"].endswith("tk=personal")


@pytest.mark.parametrize("offset_days, text", [(10, "has not started yet"), (-10, "has ended")])
def test_join_link_outside_the_session_shows_a_page_and_records_nothing(
    client, make_session, make_registration, offset_days, text
):
    meeting = make_session(first_day=datetime.now(BRUSSELS).date() + timedelta(days=offset_days))
    registration = make_registration(meeting, mode=Mode.ONLINE)
    response = client.get(f"/join/{registration.access_key}")
    assert response.status_code == 200 and text in response.get_data(as_text=True)
    assert online_attendances() == []


def test_join_link_of_a_cancelled_registration_is_refused(client, make_session, make_registration):
    from attendance.models import RegistrationStatus

    meeting = make_session(first_day=datetime.now(BRUSSELS).date())
    registration = make_registration(meeting, status=RegistrationStatus.CANCELLED)
    response = client.get(f"/join/{registration.access_key}")
    assert response.status_code == 409 and "cancelled" in response.get_data(as_text=True)
    assert online_attendances() == []


# ---- the Zoom webhook ----


def deliver(client, event, participant, secret=SECRET, meeting_id=MEETING_ID, **kwargs):
    body, headers = zoom_delivery(secret, event, meeting_id, participant, **kwargs)
    return client.post("/integrations/zoom/webhook", data=body, headers=headers)


def joined(email, at, uuid="p-1", name="Jane Doe", **extra):
    return {
        "user_id": "1",
        "user_name": name,
        "participant_uuid": uuid,
        "email": email,
        "join_time": at.replace(tzinfo=BRUSSELS).isoformat(),
        **extra,
    }


def left(email, at, uuid="p-1", name="Jane Doe"):
    return {
        "user_id": "1",
        "user_name": name,
        "participant_uuid": uuid,
        "email": email,
        "leave_time": at.replace(tzinfo=BRUSSELS).isoformat(),
    }


def test_webhook_answers_zooms_url_validation_challenge(client, past_meeting):
    body = json.dumps(
        {"event": "endpoint.url_validation", "payload": {"plainToken": "qgg8vlvZRS6UYooatFL8Aw"}, "event_ts": 1}
    ).encode()
    stamp = str(int(time.time()))
    signature = "v0=" + hmac.new(SECRET.encode(), f"v0:{stamp}:".encode() + body, hashlib.sha256).hexdigest()
    response = client.post(
        "/integrations/zoom/webhook", data=body, headers={"x-zm-request-timestamp": stamp, "x-zm-signature": signature}
    )
    assert response.status_code == 200
    assert response.get_json() == {
        "plainToken": "qgg8vlvZRS6UYooatFL8Aw",
        "encryptedToken": hmac.new(SECRET.encode(), b"qgg8vlvZRS6UYooatFL8Aw", hashlib.sha256).hexdigest(),
    }


def test_webhook_joins_and_leaves_become_an_interval_and_retries_change_nothing(
    client, past_meeting, make_registration
):
    registration = make_registration(past_meeting, email="Jane.Doe@example.org", mode=Mode.ONLINE)
    join_body, join_headers = zoom_delivery(
        SECRET, "meeting.participant_joined", MEETING_ID, joined("jane.doe@EXAMPLE.org", datetime(2024, 2, 19, 9, 40))
    )
    assert (
        client.post("/integrations/zoom/webhook", data=join_body, headers=join_headers).get_json()["outcome"]
        == "interval"
    )
    retry = client.post("/integrations/zoom/webhook", data=join_body, headers=join_headers)
    assert retry.status_code == 200 and retry.get_json()["status"] == "duplicate"
    assert (
        deliver(
            client, "meeting.participant_left", left("jane.doe@example.org", datetime(2024, 2, 19, 11, 10))
        ).get_json()["outcome"]
        == "closed"
    )
    [interval] = db.session.scalars(sa.select(OnlineInterval)).all()
    assert (interval.joined_at, interval.left_at) == (
        utc(datetime(2024, 2, 19, 9, 40)),
        utc(datetime(2024, 2, 19, 11, 10)),
    )
    assert minutes_on(registration, past_meeting.days[0]).minutes == 90
    assert db.session.scalar(sa.select(sa.func.count(ZoomEvent.id))) == 2


def test_webhook_matches_by_registrant_id_before_email(client, past_meeting, make_registration):
    registration = make_registration(past_meeting, zoom_registrant_id="reg-42", email="real@example.org")
    deliver(
        client,
        "meeting.participant_joined",
        joined("someone.else@example.org", datetime(2024, 2, 19, 10, 0), registrant_id="reg-42"),
    )
    assert online_attendances()[0].registration_id == registration.id


def test_a_leave_arriving_before_its_join_still_closes_it(client, past_meeting, make_registration):
    registration = make_registration(past_meeting, email="jane@example.org")
    assert (
        deliver(client, "meeting.participant_left", left("jane@example.org", datetime(2024, 2, 19, 12, 0)))
        .get_json()["outcome"]
        .startswith("pending_leave")
    )
    deliver(client, "meeting.participant_joined", joined("jane@example.org", datetime(2024, 2, 19, 10, 0)))
    assert minutes_on(registration, past_meeting.days[0]).minutes == 120


def test_unmatched_participant_waits_until_an_organiser_maps_them(client, login, past_meeting, make_registration):
    registration = make_registration(past_meeting, full_name="Awa Diallo", email="awa@example.org")
    deliver(
        client,
        "meeting.participant_joined",
        joined("", datetime(2024, 2, 19, 9, 30), uuid="guest-1", name="Awa (iPhone)"),
    )
    deliver(
        client, "meeting.participant_left", left("", datetime(2024, 2, 19, 10, 30), uuid="guest-1", name="Awa (iPhone)")
    )
    [waiting] = db.session.scalars(sa.select(UnmatchedPresence)).all()
    assert waiting.identity_key == "name:awa (iphone)" and waiting.left_at is not None
    login("organiser")
    page = client.get(f"/sessions/{past_meeting.slug}/online?day=2024-02-19").get_data(as_text=True)
    assert "Awa (iPhone)" in page
    client.post(
        f"/sessions/{past_meeting.slug}/online/map",
        data={
            "identity_key": waiting.identity_key,
            "registration_id": registration.id,
            "csrf_token": csrf_token(client),
        },
    )
    assert db.session.scalars(sa.select(UnmatchedPresence)).all() == []
    assert minutes_on(registration, past_meeting.days[0]).minutes == 60
    # Remembered: the same person's next join is matched at once.
    deliver(
        client,
        "meeting.participant_joined",
        joined("", datetime(2024, 2, 20, 9, 30), uuid="guest-2", name="Awa  (iPhone)"),
    )
    assert minutes_on(registration, past_meeting.days[1]).open_ended


@pytest.mark.parametrize(
    "change, status, reason",
    [
        ("bad_signature", 401, "Bad signature"),
        ("no_signature", 401, "Missing"),
        ("stale", 401, "Stale"),
        ("unknown_meeting", 401, "Bad signature"),
        ("absurd_timestamp", 401, "Stale"),
        ("negative_timestamp", 401, "not a number"),
        ("superscript_timestamp", 401, "not a number"),
        ("malformed", 400, "not a Zoom event"),
    ],
)
def test_webhook_refuses_bad_deliveries_with_a_reason(client, past_meeting, make_registration, change, status, reason):
    make_registration(past_meeting, email="jane@example.org")
    body, headers = zoom_delivery(
        "wrong-secret" if change == "bad_signature" else SECRET,
        "meeting.participant_joined",
        "999" if change == "unknown_meeting" else MEETING_ID,
        joined("jane@example.org", datetime(2024, 2, 19, 9, 40)),
        timestamp=int(time.time()) - 600 if change == "stale" else None,
    )
    if change == "no_signature":
        del headers["x-zm-signature"]
    absurd = {"absurd_timestamp": "9" * 400, "negative_timestamp": "-5", "superscript_timestamp": "17²"}
    if change in absurd:
        body, headers = zoom_delivery(
            SECRET,
            "meeting.participant_joined",
            MEETING_ID,
            joined("jane@example.org", datetime(2024, 2, 19, 9, 40)),
            timestamp=0,
        )
        headers["x-zm-request-timestamp"] = absurd[change]
        headers["x-zm-signature"] = (
            "v0=" + hmac.new(SECRET.encode(), f"v0:{absurd[change]}:".encode() + body, hashlib.sha256).hexdigest()
        )
    if change == "malformed":
        body = b"{not json"
        stamp = headers["x-zm-request-timestamp"]
        headers["x-zm-signature"] = (
            "v0=" + hmac.new(SECRET.encode(), f"v0:{stamp}:".encode() + body, hashlib.sha256).hexdigest()
        )
    response = client.post("/integrations/zoom/webhook", data=body, headers=headers)
    assert response.status_code == status and reason in response.get_json()["reason"]
    assert online_attendances() == [] and db.session.scalars(sa.select(ZoomEvent)).all() == []


def test_an_unsigned_delivery_gets_the_same_answer_whether_or_not_its_meeting_is_set_up(client, past_meeting):
    answers = []
    for meeting_id in (MEETING_ID, "999"):
        body, headers = zoom_delivery(
            "a guess",
            "meeting.participant_joined",
            meeting_id,
            joined("jane@example.org", datetime(2024, 2, 19, 9, 40)),
        )
        response = client.post("/integrations/zoom/webhook", data=body, headers=headers)
        answers.append((response.status_code, response.get_json()))
    assert answers[0] == answers[1] and answers[0][0] == 401


# ---- report imports ----


def upload(client, meeting, content: bytes, filename="report.csv"):
    return client.post(
        f"/sessions/{meeting.slug}/imports",
        data={"report": (io.BytesIO(content), filename), "csrf_token": csrf_token(client)},
        content_type="multipart/form-data",
    )


def saved_import_id(meeting) -> int:
    return db.session.scalar(sa.select(ReportImport.id).order_by(ReportImport.id.desc()))


def save_import(client, meeting, choices: dict | None = None):
    """Saves the last uploaded report, with the preview's choices ({"map-<line>": "<registration id>"})."""
    return client.post(
        f"/sessions/{meeting.slug}/imports/{saved_import_id(meeting)}/save",
        data={"csrf_token": csrf_token(client), **(choices or {})},
    )


def test_teams_report_preview_then_save_then_reimport_changes_nothing(client, login, past_meeting, make_registration):
    ana = make_registration(past_meeting, full_name="Ana Silva", email="ana@example.org", mode=Mode.ONLINE)
    make_registration(past_meeting, full_name="Lars Banda", email="lars@example.org", mode=Mode.ONLINE)
    report = teams_report(
        [
            ("Ana Silva", "2/19/24, 9:30:00 AM", "2/19/24, 11:00:00 AM", "1h 30m", "ana@example.org"),
            ("Ana Silva", "2/19/24, 1:00:00 PM", "2/19/24, 2:15:30 PM", "1h 15m 30s", "ana@example.org"),
            ("Guest Expert", "2/19/24, 10:00:00 AM", "2/19/24, 10:45:00 AM", "45m", "expert@partner.example"),
            ("Broken Row", "not a time", "2/19/24, 10:45:00 AM", "45m", "broken@example.org"),
        ]
    )
    login("organiser")
    response = upload(client, past_meeting, report, "AttendanceReport.csv")
    assert response.status_code == 302
    preview = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Guest Expert" in preview
    assert (
        "No registration with this email, and no earlier mapping of this person. Choose their registration to map them."
    ) in preview
    assert "Microsoft Teams report" in preview
    assert db.session.scalars(sa.select(OnlineInterval)).all() == []  # nothing before saving

    import_id = saved_import_id(past_meeting)
    client.post(f"/sessions/{past_meeting.slug}/imports/{import_id}/save", data={"csrf_token": csrf_token(client)})
    assert minutes_on(ana, past_meeting.days[0]).minutes == 90 + 75.5
    assert len(db.session.scalars(sa.select(UnmatchedPresence)).all()) == 1
    saved = client.get(f"/sessions/{past_meeting.slug}/imports/{import_id}").get_data(as_text=True)
    assert "2 intervals added, 1 unmatched kept for mapping, 0 duplicates skipped, 1 row with errors" in saved

    response = upload(client, past_meeting, report, "AttendanceReport (1).csv")
    again = client.get(response.headers["Location"]).get_data(as_text=True)
    assert again.count("Already imported.") == 3
    save_import(client, past_meeting)
    assert len(db.session.scalars(sa.select(OnlineInterval)).all()) == 2
    assert len(db.session.scalars(sa.select(UnmatchedPresence)).all()) == 1


def test_mapping_an_unmatched_row_in_the_preview_is_remembered_for_the_next_import(
    client, login, past_meeting, make_registration
):
    lars = make_registration(past_meeting, full_name="Lars Banda", email="lars@example.org")
    login("organiser")
    day1 = zoom_report([("Lars B (iPad)", "", "02/19/2024 09:35:00 AM", "02/19/2024 10:35:00 AM", 60)])
    upload(client, past_meeting, day1)
    save_import(client, past_meeting, {"map-5": str(lars.id)})
    assert minutes_on(lars, past_meeting.days[0]).minutes == 60
    assert db.session.scalar(sa.select(IdentityMapping.identity_key)) == "name:lars b (ipad)"

    day2 = zoom_report(
        [("Lars B (iPad)", "", "02/20/2024 09:30:00 AM", "02/20/2024 10:00:00 AM", 30)],
        meeting_block=False,
        duration_header="Total Duration (Minutes)",
    )
    response = upload(client, past_meeting, day2)
    assert "matched" in client.get(response.headers["Location"]).get_data(as_text=True)
    save_import(client, past_meeting)
    assert minutes_on(lars, past_meeting.days[1]).minutes == 30


@pytest.mark.parametrize(
    "choice, reason",
    [
        ({"map-5": "²"}, "“²” names no registration of this session"),
        ({"map-5": "٣"}, "“٣” names no registration of this session"),
        ({"map-5": "Lars Banda · #99999"}, "is not a registration of this session"),
        ({"map-5": "Nobody Known"}, "“Nobody Known” names no registration of this session"),
        ({"map-٥": "1"}, "digits"),
    ],
)
def test_a_choice_naming_no_registration_is_refused_and_nothing_is_saved(
    client, login, past_meeting, make_registration, choice, reason
):
    make_registration(past_meeting, full_name="Lars Banda", email="lars@example.org")
    login("organiser")
    upload(
        client,
        past_meeting,
        zoom_report([("Lars B (iPad)", "", "02/19/2024 09:35:00 AM", "02/19/2024 10:35:00 AM", 60)]),
    )
    response = save_import(client, past_meeting, choice)
    assert response.status_code == 400 and reason in response.get_data(as_text=True)
    if "map-5" in choice:  # the preview again, with what was typed kept in its field
        assert 'value="' + html.escape(choice["map-5"]) + '"' in response.get_data(as_text=True)
    assert db.session.scalars(sa.select(UnmatchedPresence)).all() == []
    assert db.session.scalar(sa.select(ReportImport.saved_at)) is None


def test_online_identities_are_compared_as_registrations_are(past_meeting, make_registration):
    from attendance.online.service import identity_keys, map_identity, match

    assert identity_keys(name="José  García") == identity_keys(name="JOSE GARCIA") == ["name:jose garcia"]
    assert identity_keys(email="Anna@Bücher.example") == identity_keys(email="anna@xn--bcher-kva.example")
    anna = make_registration(past_meeting, full_name="Anna Weber", email="anna.weber@example.org")
    jose = make_registration(past_meeting, full_name="José García", email="jg@example.org")
    map_identity(past_meeting, identity_keys(email="Anna@Bücher.example")[0], anna, "organiser@example.org")
    map_identity(past_meeting, identity_keys(name="José García (iPad)")[0], jose, "organiser@example.org")
    assert match(past_meeting, email="anna@xn--bcher-kva.example") == anna
    assert match(past_meeting, name="Jose Garcia (ipad)") == jose


def test_a_name_mapped_in_one_report_is_recognised_without_its_accents_in_the_next(
    client, login, past_meeting, make_registration
):
    jose = make_registration(past_meeting, full_name="José García", email="jose@example.org")
    login("organiser")
    upload(
        client, past_meeting, zoom_report([("José García", "", "02/19/2024 09:35:00 AM", "02/19/2024 10:35:00 AM", 60)])
    )
    save_import(client, past_meeting, {"map-5": str(jose.id)})
    response = upload(
        client,
        past_meeting,
        zoom_report([("Jose  Garcia", "", "02/20/2024 09:30:00 AM", "02/20/2024 10:00:00 AM", 30)]),
    )
    assert "1</span> matched" in client.get(response.headers["Location"]).get_data(as_text=True)
    save_import(client, past_meeting)
    assert minutes_on(jose, past_meeting.days[1]).minutes == 30


def test_a_large_report_is_previewed_once_and_paged_with_counts_for_the_rest(
    client, login, past_meeting, make_registration, count_queries
):
    from attendance.online.imports import PREVIEW_ROWS

    ana = make_registration(past_meeting, full_name="Ana Silva", email="ana@example.org", mode=Mode.ONLINE)
    people = 4000
    lines = ["email,joined,left", "ana@example.org,2024-02-20 09:30,2024-02-20 11:00"]
    lines += [f"guest{n}@example.net,2024-02-20 10:{n % 60:02d},2024-02-20 12:00" for n in range(people)]
    lines += ["not-a-time,someone,x"] * 10
    login("organiser")
    with count_queries() as upload_queries:
        response = upload(client, past_meeting, "\n".join(lines).encode())
    assert response.status_code == 302
    assert upload_queries() < 40  # the rows are matched in memory, not one query each

    with count_queries() as view_queries:
        page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert view_queries() < 20  # the stored preview: nothing recomputed per view
    assert page.count('<tr class="import-') == PREVIEW_ROWS
    assert len(page) < 1_000_000
    assert '<span class="big-number">1</span> matched' in page
    assert f'<span class="big-number">{people}</span> unmatched' in page and f"{people} people to map" in page
    assert '<span class="big-number">10</span> with errors' in page
    assert f"Not shown: 10 error, {people + 1 - (PREVIEW_ROWS - 0)} unmatched." in page

    response = save_import(client, past_meeting)
    assert response.headers["Location"].endswith("/online?day=2024-02-20")  # the day the report is about
    assert minutes_on(ana, past_meeting.days[1]).minutes == 90
    assert db.session.scalar(sa.select(sa.func.count(UnmatchedPresence.id))) == people


def test_a_report_preview_and_its_refusals_read_in_french(client, login, past_meeting):
    from attendance.online.imports import PREVIEW_ROWS

    login("organiser")
    client.set_cookie("lang", "fr")
    missing = client.post(
        f"/sessions/{past_meeting.slug}/imports",
        data={"csrf_token": csrf_token(client)},
        content_type="multipart/form-data",
    )
    assert missing.status_code == 400
    assert "Choisissez le fichier du rapport à envoyer." in html.unescape(missing.get_data(as_text=True))

    lines = ["email,joined,left"]
    lines += [f"guest{n}@example.net,2024-02-20 10:{n % 60:02d},2024-02-20 12:00" for n in range(PREVIEW_ROWS + 5)]
    response = upload(client, past_meeting, "\n".join(lines).encode())
    page = html.unescape(client.get(response.headers["Location"]).get_data(as_text=True))
    assert (
        f"Les {PREVIEW_ROWS} premières lignes sont affichées ci-dessous. Non affichées : 5 sans correspondance."
    ) in page
    uploads = html.unescape(client.get(f"/sessions/{past_meeting.slug}/imports").get_data(as_text=True))
    assert "<td>CSV</td>" in uploads and "prévisualisé, non enregistré" in uploads

    refused = save_import(client, past_meeting, {"map-2": "Nobody Known"})
    assert refused.status_code == 400
    assert "Ligne 2 : « Nobody Known » ne désigne aucune inscription" in html.unescape(refused.get_data(as_text=True))
    forged = save_import(client, past_meeting, {"map-٥": "1"})
    assert forged.status_code == 400
    assert "Chaque choix doit désigner sa ligne en chiffres" in html.unescape(forged.get_data(as_text=True))


def test_a_report_of_unreadable_rows_makes_a_small_page_with_their_count(client, login, past_meeting):
    login("organiser")
    content = ("email,joined,left\n" + ";;\n" * 50_000 + "x@example.org,2024-02-19 09:30,\n").encode()
    assert len(content) < 2 * 1024 * 1024
    response = upload(client, past_meeting, content)
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert len(page) < 1_000_000 and page.count('<tr class="import-') == 300
    assert (
        '<span class="big-number">50000</span> with errors' in page and "Not shown: 49700 error, 1 unmatched." in page
    )


def test_an_import_uploaded_before_previews_were_stored_gets_its_preview_on_first_view(
    client, login, past_meeting, make_registration
):
    make_registration(past_meeting, full_name="Ana Silva", email="ana@example.org", mode=Mode.ONLINE)
    login("organiser")
    response = upload(client, past_meeting, b"email,joined,left\nana@example.org,2024-02-20 09:30,2024-02-20 11:00\n")
    report = db.session.get(ReportImport, saved_import_id(past_meeting))
    report.preview = None  # as the migration leaves the imports made before it
    db.session.commit()
    assert '<span class="big-number">1</span> matched' in client.get(response.headers["Location"]).get_data(
        as_text=True
    )
    db.session.expire_all()
    assert db.session.get(ReportImport, report.id).preview["counts"]["matched"] == 1


def test_saving_an_import_opens_the_online_page_on_the_imported_day(client, login, past_meeting, make_registration):
    make_registration(past_meeting, full_name="Ana Silva", email="ana@example.org", mode=Mode.ONLINE)
    login("organiser")
    upload(client, past_meeting, b"email,joined,left\nana@example.org,2024-02-20 09:30,2024-02-20 11:00\n")
    response = save_import(client, past_meeting)
    assert response.headers["Location"].endswith("/online?day=2024-02-20")
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert f'href="/sessions/{past_meeting.slug}/online?day=2024-02-20"\n         aria-current="page"' in page


def test_semicolon_report_from_excel_previews_and_saves(client, login, past_meeting, make_registration):
    ana = make_registration(past_meeting, full_name="Ana Silva", email="ana@example.org", mode=Mode.ONLINE)
    login("organiser")
    report = (
        "\ufeffemail;joined;left\r\n"
        "ana@example.org;19/02/2024 09:30;19/02/2024 11:00\r\n"
        'ana@example.org;"19/02/2024, 13:00";"19/02/2024, 14:00"\r\n'
    ).encode("utf-8")

    response = upload(client, past_meeting, report, "presences.csv")

    assert response.status_code == 302
    preview = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "No column for the join time" not in preview and "CSV report" in preview
    save_import(client, past_meeting)
    assert minutes_on(ana, past_meeting.days[0]).minutes == 90 + 60


def test_report_with_year_first_and_month_name_dates_previews_without_errors(
    client, login, past_meeting, make_registration
):
    mei = make_registration(past_meeting, full_name="王美", email="mei.wang@example.cn", mode=Mode.ONLINE)
    login("organiser")
    report = (
        "\ufeffname,email,joined,left\r\n"
        "王美,mei.wang@example.cn,2024/02/19 09:30,2024/02/19 11:00\r\n"
        '王美,mei.wang@example.cn,"Feb 19, 2024 1:00:00 PM","Feb 19, 2024 2:30:00 PM"\r\n'
    ).encode("utf-8")

    preview = client.get(upload(client, past_meeting, report).headers["Location"]).get_data(as_text=True)

    assert "cannot read" not in preview
    assert "19 Feb 09:30–11:00" in preview and "19 Feb 13:00–14:30" in preview
    save_import(client, past_meeting)
    assert minutes_on(mei, past_meeting.days[0]).minutes == 90 + 90


def minjun_report() -> bytes:
    """A Zoom export (meeting block on lines 1-3, header on line 4) where one unregistered device shows twice."""
    return zoom_report(
        [
            ("Ana Silva", "ana@example.org", "02/19/2024 09:00:00 AM", "02/19/2024 05:00:00 PM", 480),
            ("Lars Banda", "lars@example.org", "02/19/2024 09:05:00 AM", "02/19/2024 12:00:00 PM", 175),
            ("Guest Expert", "expert@partner.example", "02/19/2024 10:00:00 AM", "02/19/2024 10:45:00 AM", 45),
            ("김민준 (Minjun iPhone)", "", "02/19/2024 09:00:00 AM", "02/19/2024 10:20:00 AM", 80),  # line 8
            ("김민준 (Minjun iPhone)", "", "02/19/2024 10:20:00 AM", "02/19/2024 05:00:00 PM", 400),  # line 9
        ]
    )


@pytest.fixture
def full_day_meeting(past_meeting, make_registration):
    """The past meeting with an eight-hour first day and three registrations."""
    past_meeting.days[0].starts_at, past_meeting.days[0].ends_at = clock(9, 0), clock(17, 0)
    db.session.commit()
    for name, email in [
        ("Ana Silva", "ana@example.org"),
        ("Lars Banda", "lars@example.org"),
        ("Kim Minjun", "minjun.kim@example.kr"),
    ]:
        make_registration(past_meeting, full_name=name, email=email, mode=Mode.ONLINE)
    return past_meeting


def registration_named(meeting, name) -> Registration:
    return db.session.scalar(sa.select(Registration).filter_by(session_id=meeting.id, full_name=name))


def test_mapping_a_person_in_the_preview_covers_all_their_lines_in_the_file(client, login, full_day_meeting):
    meeting, minjun = full_day_meeting, registration_named(full_day_meeting, "Kim Minjun")
    login("organiser")
    page = client.get(upload(client, meeting, minjun_report()).headers["Location"]).get_data(as_text=True)

    # One choice per unknown person: line 9 follows line 8.
    assert re.findall(r'<input type="text" name="map-(\d+)"', page) == ["7", "8"]
    assert 'aria-label="Registration for 김민준 (Minjun iPhone) (lines 8, 9)"' in page
    assert "Same person as line 8: the choice there covers this line." in page
    assert "2 people to map" in page

    save_import(client, meeting, {"map-8": str(minjun.id), "map-7": ""})
    assert minutes_on(minjun, meeting.days[0]).minutes == 480
    assert [p.display_name for p in db.session.scalars(sa.select(UnmatchedPresence))] == ["Guest Expert"]

    # The same file again adds nothing.
    intervals = db.session.scalar(sa.select(sa.func.count(OnlineInterval.id)))
    again = client.get(upload(client, meeting, minjun_report()).headers["Location"]).get_data(as_text=True)
    assert again.count("Already imported.") == 5 and 'name="map-' not in again
    save_import(client, meeting)
    assert db.session.scalar(sa.select(sa.func.count(OnlineInterval.id))) == intervals
    assert minutes_on(minjun, meeting.days[0]).minutes == 480


def test_a_choice_on_any_line_of_a_person_covers_their_other_lines(full_day_meeting):
    meeting, minjun = full_day_meeting, registration_named(full_day_meeting, "Kim Minjun")
    report = imports.upload(meeting, "participants.csv", minjun_report(), "organiser@example.org")

    summary = imports.save(meeting, report, {9: minjun.id}, "organiser@example.org")

    assert minutes_on(minjun, meeting.days[0]).minutes == 480
    assert summary.startswith("4 intervals added, 1 unmatched kept for mapping")


def test_different_choices_for_one_person_save_nothing(full_day_meeting):
    meeting = full_day_meeting
    ana, minjun = registration_named(meeting, "Ana Silva"), registration_named(meeting, "Kim Minjun")
    report = imports.upload(meeting, "participants.csv", minjun_report(), "organiser@example.org")
    db.session.commit()  # the upload was a request of its own

    with pytest.raises(ValueError, match="Lines 8 and 9 are the same person"):
        imports.save(meeting, report, {8: minjun.id, 9: ana.id}, "organiser@example.org")

    assert db.session.scalars(sa.select(OnlineInterval)).all() == []
    assert db.session.scalars(sa.select(IdentityMapping)).all() == []
    assert db.session.get(ReportImport, report.id).saved_at is None


class _FormReader(HTMLParser):
    """The fields of a page's POST form as a browser submits them: inputs, and each select's selected option."""

    def __init__(self):
        super().__init__()
        self.fields, self._select, self._first = {}, None, None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "input" and attrs.get("name"):
            self.fields[attrs["name"]] = attrs.get("value", "")
        elif tag == "select":
            self._select, self._first = attrs["name"], None
        elif tag == "option" and self._select:
            if self._first is None:
                self._first = self.fields[self._select] = attrs.get("value", "")
            if "selected" in attrs:
                self.fields[self._select] = attrs.get("value", "")

    def handle_endtag(self, tag):
        if tag == "select":
            self._select = None


def form_as_sent(page: str) -> dict:
    reader = _FormReader()
    reader.feed(page)
    return reader.fields


def test_a_name_like_one_registration_is_suggested_and_saved_only_when_the_organiser_saves(
    client, login, past_meeting, make_registration
):
    jose = make_registration(past_meeting, full_name="José Álvarez Müller", email="jose@example.es")
    make_registration(past_meeting, full_name="Ana Silva", email="ana@example.org")
    make_registration(past_meeting, full_name="Ana  SILVA", email="ana.silva@example.pt")
    login("organiser")
    report = (
        "\ufeffName,Email,Joined,Left\r\n"
        '"jose ALVAREZ  muller",,2024-02-19 09:30,2024-02-19 11:30\r\n'
        '"Ana Silva",,2024-02-19 09:30,2024-02-19 10:30\r\n'
    ).encode("utf-8")
    page = client.get(upload(client, past_meeting, report).headers["Location"]).get_data(as_text=True)

    # Suggested and pre-selected, but still unmatched until saved: display names are self-chosen.
    assert "No registration with this email or name" not in page
    assert (
        "No email in the report, and no earlier mapping of this name (a name alone is only suggested). "
        "Suggested: José Álvarez Müller, the only registration with the same name; saving confirms it, "
        "emptying the field declines it."
    ) in page
    assert "2 people to map, 1 suggested by name" in page
    sent = form_as_sent(page)
    assert (sent["map-2"], sent["map-3"]) == (
        f"José Álvarez Müller · jose@example.es · #{jose.id}",
        "",
    )  # two Ana Silvas
    assert "Choose their registration to map them." in page
    assert db.session.scalars(sa.select(IdentityMapping)).all() == []

    save_import(client, past_meeting, sent)
    assert minutes_on(jose, past_meeting.days[0]).minutes == 120
    assert db.session.scalar(sa.select(IdentityMapping.identity_key)) == "name:jose alvarez muller"
    assert [p.display_name for p in db.session.scalars(sa.select(UnmatchedPresence))] == ["Ana Silva"]


def test_a_suggestion_alone_matches_nobody(past_meeting, make_registration):
    jose = make_registration(past_meeting, full_name="José Álvarez Müller", email="jose@example.es")
    report = imports.upload(
        past_meeting,
        "report.csv",
        "name,joined,left\nJosé Álvarez Müller,2024-02-19 09:30,2024-02-19 11:30\n".encode(),
        "organiser@example.org",
    )
    [row] = imports.preview(past_meeting, report).rows
    assert (row.status, row.suggestion) == ("unmatched", jose)

    imports.save(past_meeting, report, {}, "organiser@example.org")

    assert minutes_on(jose, past_meeting.days[0]).minutes == 0
    assert len(db.session.scalars(sa.select(UnmatchedPresence)).all()) == 1


def test_a_cancelled_registration_is_never_suggested(past_meeting, make_registration):
    make_registration(past_meeting, full_name="José Álvarez Müller", status=RegistrationStatus.CANCELLED)
    report = imports.upload(
        past_meeting,
        "report.csv",
        "name,joined,left\nJosé Álvarez Müller,2024-02-19 09:30,2024-02-19 11:30\n".encode(),
        "organiser@example.org",
    )
    [row] = imports.preview(past_meeting, report).rows
    assert (row.status, row.suggestion) == ("unmatched", None)


@pytest.mark.parametrize(
    "content, message",
    [
        (b"", "empty"),
        (b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4, "not"),
        (b"first,second,third\n1,2,3\n", "join"),
    ],
)
def test_files_that_are_not_reports_are_refused_and_nothing_is_kept(client, login, past_meeting, content, message):
    login("organiser")
    response = upload(client, past_meeting, content)
    assert response.status_code == 400
    assert message in response.get_data(as_text=True).lower()
    assert db.session.scalars(sa.select(ReportImport)).all() == []


def test_an_upload_over_the_size_limit_is_refused(client, login, past_meeting):
    login("organiser")
    response = upload(client, past_meeting, b"email,joined,left\n" + b"x" * (50 * 1024 * 1024))
    assert response.status_code == 413
    assert db.session.scalars(sa.select(ReportImport)).all() == []


def test_a_day_outside_the_session_is_listed_as_an_error(client, login, past_meeting, make_registration):
    make_registration(past_meeting, email="ana@example.org")
    login("organiser")
    csv_report = b"email,joined,left\nana@example.org,2024-03-01T09:00:00,2024-03-01T10:00:00\n"
    response = upload(client, past_meeting, csv_report)
    assert "is not a day of this session" in client.get(response.headers["Location"]).get_data(as_text=True)


# ---- the whole day, all three sources ----


def test_click_webhook_and_teams_report_reconcile_into_one_days_minutes(client, login, make_session, make_registration):
    today = datetime.now(BRUSSELS).date()
    meeting = make_session(first_day=today, zoom_meeting_id=MEETING_ID, zoom_webhook_secret=SECRET)
    registration = make_registration(meeting, email="kofi@example.org", full_name="Kofi Mensah", mode=Mode.ONLINE)
    day = meeting.days[0]
    day.starts_at, day.ends_at = clock(9, 0), clock(13, 0)
    db.session.commit()

    assert client.get(f"/join/{registration.access_key}").status_code == 302  # intent: no minutes yet
    assert minutes_on(registration, day).minutes == 0

    at = lambda h, m: datetime.combine(today, clock(h, m))  # noqa: E731
    deliver(client, "meeting.participant_joined", joined("kofi@example.org", at(9, 0), uuid="k1"))
    deliver(client, "meeting.participant_left", left("kofi@example.org", at(10, 0), uuid="k1"))
    assert minutes_on(registration, day).minutes == 60

    us = lambda h, m: f"{today.month}/{today.day}/{today:%y}, {(h - 1) % 12 + 1}:{m:02d}:00 {'AM' if h < 12 else 'PM'}"  # noqa: E731,E501
    login("organiser")
    upload(
        client,
        meeting,
        teams_report(
            [
                ("Kofi Mensah", us(9, 30), us(10, 30), "1h", "kofi@example.org"),  # overlaps the webhook's hour
                ("Kofi Mensah", us(12, 0), us(14, 0), "2h", "kofi@example.org"),  # runs past the day's end
            ],
            start=us(9, 0),
        ),
    )
    save_import(client, meeting)
    # 9:00-10:30 (union of webhook and report) + 12:00-13:00 (clipped) = 150 minutes
    assert minutes_on(registration, day).minutes == 150
    [attendance] = online_attendances()
    assert attendance.source is Source.LINK  # the first evidence was the click
    page = client.get(f"/sessions/{meeting.slug}/online").get_data(as_text=True)
    assert "150 of 240" in page


def test_impossible_durations_and_times_are_row_errors_not_crashes(client, login, past_meeting):
    login("organiser")
    report = b"Name (Original Name),User Email,Total Duration (Minutes),Guest\nHuge,huge@example.org,1e15,No\n"
    response = upload(client, past_meeting, report)
    preview = client.get(response.headers["Location"])
    assert preview.status_code == 200
    page = preview.get_data(as_text=True)
    assert "not possible in one day" in page or "does not say which day" in page
    far = b"email,joined,left\nfar@example.org,9999-12-31 23:00 -05:00,\n"
    preview = client.get(upload(client, past_meeting, far).headers["Location"])
    assert preview.status_code == 200 and "error" in preview.get_data(as_text=True)


def test_the_preview_page_does_not_grow_with_the_registrations_and_a_typed_choice_saves(
    client, login, past_meeting, make_registration
):
    registrations = [
        make_registration(
            past_meeting, full_name=f"Délégué Numéro {n:03d}", email=f"delegate{n}@example.org", mode=Mode.ONLINE
        )
        for n in range(200)
    ]
    lines = ["email,joined,left"] + [
        f"guest{n}@example.net,2024-02-19 10:{n % 60:02d},2024-02-19 12:00" for n in range(400)
    ]
    login("organiser")
    page = client.get(upload(client, past_meeting, "\n".join(lines).encode()).headers["Location"]).get_data(
        as_text=True
    )
    assert len(page.encode()) < 400_000  # a list of every registration on each of 300 rows made 3 MB
    assert page.count('list="registration-choices"') == 300 and page.count("<option") == 200  # one shared list
    sent = form_as_sent(page)
    picked, typed = registrations[7], registrations[150]
    sent["map-2"] = f"Délégué Numéro 007 · delegate7@example.org · #{picked.id}"  # as picked from the list
    sent["map-3"] = "  DELEGATE150@example.org "  # an address typed by hand
    save_import(client, past_meeting, sent)
    assert minutes_on(picked, past_meeting.days[0]).minutes == 120
    assert minutes_on(typed, past_meeting.days[0]).minutes == 119
    assert db.session.scalar(sa.select(sa.func.count(UnmatchedPresence.id))) == 398


def test_choices_are_read_back_by_number_label_email_or_a_unique_name(past_meeting, make_registration, make_session):
    ana = make_registration(past_meeting, full_name="Ana Silva", email="ana@example.org")
    make_registration(past_meeting, full_name="Lars Banda", email="lars@example.org")
    make_registration(past_meeting, full_name="Lars  BANDA", email="lars.b@example.org")
    stranger = make_registration(make_session(), full_name="Ana Silva", email="ana@example.net")
    reader = imports.ChoiceReader(past_meeting)
    assert [
        reader.read(text)
        for text in (
            "",
            str(ana.id),
            imports.choice_label(ana),
            "Ana@Example.org",
            "ana silva",
            "Ana Silva · ana@example.org",
        )
    ] == [None] + [ana] * 5
    for text, reason in [
        (str(stranger.id), "is not a registration of this session"),
        (f"Ana Silva · #{stranger.id}", "is not a registration of this session"),
        ("Lars Banda", "Several registrations are named"),
        ("ana@example.net", "names no registration of this session"),
    ]:
        with pytest.raises(ValueError, match=reason):
            reader.read(text)


def test_the_online_page_offers_one_shared_list_and_maps_by_a_typed_address(
    client, login, past_meeting, make_registration
):
    people = [make_registration(past_meeting, email=f"d{n}@example.org", mode=Mode.ONLINE) for n in range(50)]
    login("organiser")
    upload(
        client,
        past_meeting,
        "\n".join(
            ["email,joined,left"] + [f"guest{n}@example.net,2024-02-19 10:00,2024-02-19 11:00" for n in range(20)]
        ).encode(),
    )
    save_import(client, past_meeting)
    page = client.get(f"/sessions/{past_meeting.slug}/online?day=2024-02-19").get_data(as_text=True)
    assert page.count('list="registration-choices"') == 20 and page.count("<option") == 50
    waiting = db.session.scalars(sa.select(UnmatchedPresence).order_by(UnmatchedPresence.id)).first()
    client.post(
        f"/sessions/{past_meeting.slug}/online/map",
        data={
            "identity_key": waiting.identity_key,
            "registration_id": "d3@example.org",
            "csrf_token": csrf_token(client),
        },
    )
    assert minutes_on(people[3], past_meeting.days[0]).minutes == 60
    response = client.post(
        f"/sessions/{past_meeting.slug}/online/map",
        follow_redirects=True,
        data={
            "identity_key": "email:guest5@example.net",
            "registration_id": "nobody",
            "csrf_token": csrf_token(client),
        },
    )
    assert "Nothing was mapped: “nobody” names no registration of this session" in response.get_data(as_text=True)

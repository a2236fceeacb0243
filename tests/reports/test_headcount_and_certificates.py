"""A session with known attendance: every cell of the headcount in every format, and who gets a certificate."""

import csv
import io
import zipfile
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from helpers import csrf_token, export
from openpyxl import load_workbook
from pdf_tools import A4_POINTS, page_sizes, pdf_text, qr_codes

from attendance.certificates.service import eligibility
from attendance.extensions import db
from attendance.models import Attendance, Certificate, Mode, OnlineInterval, RegistrationStatus, Source
from attendance.reports.headcount import COLUMNS, headcount

BRUSSELS = ZoneInfo("Europe/Brussels")
DAY1, DAY2 = date(2024, 2, 19), date(2024, 2, 20)


def utc(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=BRUSSELS).astimezone(ZoneInfo("UTC"))


def in_person(registration, day):
    db.session.add(
        Attendance(
            registration=registration,
            day=day,
            mode=Mode.IN_PERSON,
            first_seen_at=utc(day.date, 9),
            source=Source.SCAN,
            recorded_by="door1@example.org",
        )
    )


def online(registration, day, minutes: int | None, start_hour: int = 9):
    attendance = Attendance(
        registration=registration,
        day=day,
        mode=Mode.ONLINE,
        first_seen_at=utc(day.date, start_hour),
        source=Source.LINK,
    )
    if minutes is not None:
        joined = utc(day.date, start_hour)
        attendance.intervals = [
            OnlineInterval(
                joined_at=joined,
                left_at=joined + timedelta(minutes=minutes),
                source=Source.ZOOM_REPORT,
                source_key=f"k{registration.id}{day.id}",
            )
        ]
    db.session.add(attendance)


@pytest.fixture
def known(make_session, make_registration):
    """Two days of 09:00-13:00 (240 minutes); entity types ROCB, RTC and Observer (nobody); regions Europe, WCA."""
    meeting = make_session(first_day=DAY1, chair_name="Chair Person", chair_title="Director, ROCB Asia Pacific")
    for day in meeting.days:
        day.starts_at, day.ends_at = time(9, 0), time(13, 0)
    rocb, rtc, observer = meeting.entity_types
    rocb.name, rtc.name, observer.name = "ROCB", "RTC", "Observer"
    europe, wca = meeting.regions
    db.session.commit()
    d1, d2 = meeting.days
    people = {
        "p1": make_registration(
            meeting, full_name="Amélie Dubois", entity_type=rocb, region=europe, mode=Mode.IN_PERSON
        ),
        "p2": make_registration(meeting, full_name="Анна Смирнова", entity_type=rocb, region=wca, mode=Mode.ONLINE),
        "p3": make_registration(meeting, full_name="محمد العلي", entity_type=rtc, region=europe, mode=Mode.ONLINE),
        "p4": make_registration(meeting, full_name="No Show", entity_type=rtc, region=wca, mode=Mode.IN_PERSON),
        "p5": make_registration(meeting, full_name="王伟", entity_type=rtc, region=europe, mode=Mode.ONLINE),
        "p6": make_registration(
            meeting, full_name="Cancelled Person", entity_type=rocb, region=europe, status=RegistrationStatus.CANCELLED
        ),
    }
    in_person(people["p1"], d1), in_person(people["p1"], d2)
    online(people["p2"], d1, 180), online(people["p2"], d2, 60)
    in_person(people["p3"], d1), online(people["p3"], d1, 30), online(people["p3"], d2, 200)
    online(people["p5"], d1, None)  # clicked the join link; the platform never saw them
    db.session.commit()
    return meeting, people


def row(reg_ip, reg_on, att_ip, att_on, no_shows):
    return dict(zip(COLUMNS, (reg_ip, reg_on, att_ip, att_on, no_shows, att_ip + att_on)))


EXPECTED = {
    "session": {
        "entity": {"ROCB": row(1, 1, 1, 1, 0), "RTC": row(1, 2, 1, 0, 2), "Observer": row(0, 0, 0, 0, 0)},
        "region": {"Europe": row(1, 2, 2, 0, 1), "West and Central Africa": row(1, 1, 0, 1, 1)},
        "total": row(2, 3, 2, 1, 2),
    },
    "2024-02-19": {
        "entity": {"ROCB": row(1, 1, 1, 1, 0), "RTC": row(1, 2, 1, 0, 2), "Observer": row(0, 0, 0, 0, 0)},
        "region": {"Europe": row(1, 2, 2, 0, 1), "West and Central Africa": row(1, 1, 0, 1, 1)},
        "total": row(2, 3, 2, 1, 2),
    },
    # p2's 60 platform minutes of 240 fall short of the 50 % that make an online day: a no-show that day
    "2024-02-20": {
        "entity": {"ROCB": row(1, 1, 1, 0, 1), "RTC": row(1, 2, 0, 1, 2), "Observer": row(0, 0, 0, 0, 0)},
        "region": {"Europe": row(1, 2, 1, 1, 1), "West and Central Africa": row(1, 1, 0, 0, 2)},
        "total": row(2, 3, 1, 1, 3),
    },
}


def test_headcount_numbers(known):
    meeting, _ = known
    report = headcount(meeting).as_dict()
    assert [s["scope"] for s in report["scopes"]] == ["session", "2024-02-19", "2024-02-20"]
    for scope in report["scopes"]:
        expected = EXPECTED[scope["scope"]]
        assert {r["label"]: {c: r[c] for c in COLUMNS} for r in scope["by_entity_type"]} == expected["entity"]
        assert {r["label"]: {c: r[c] for c in COLUMNS} for r in scope["by_region"]} == expected["region"]
        assert scope["total"] == expected["total"]


def test_link_clicks_count_as_online_when_the_session_accepts_them(known):
    meeting, _ = known
    meeting.certificate_accepts_link_click = True
    db.session.commit()
    day1 = headcount(meeting).as_dict()["scopes"][1]
    assert day1["total"]["attended_online"] == 2 and day1["total"]["no_shows"] == 1


def test_every_format_carries_the_same_numbers(client, login, known):
    meeting, _ = known
    login("organiser")
    base = f"/sessions/{meeting.slug}/reports/headcount"

    api = client.get(f"/api/v1/sessions/{meeting.slug}/headcount").get_json()
    assert api == headcount(meeting).as_dict()

    rows = list(csv.DictReader(io.StringIO(client.get(base + ".csv").data.decode("utf-8-sig"))))  # BOM for Excel
    for scope, expected in EXPECTED.items():
        for table, key in (("entity_type", "entity"), ("region", "region")):
            got = {
                r["label"]: {c: int(r[c]) for c in COLUMNS}
                for r in rows
                if r["scope"] == scope and r["table"] == table and r["label"] != "Total"
            }
            assert got == expected[key]
            [total] = [r for r in rows if r["scope"] == scope and r["table"] == table and r["label"] == "Total"]
            assert {c: int(total[c]) for c in COLUMNS} == expected["total"]

    workbook = load_workbook(io.BytesIO(client.get(base + ".xlsx").data))
    assert workbook.sheetnames == ["Whole session", "2024-02-19", "2024-02-20"]
    for sheet, scope in zip(workbook.worksheets, EXPECTED):
        cells = {r[0]: list(r[1:7]) for r in sheet.iter_rows(values_only=True) if r and r[0] and len(r) >= 7}
        for label, counts in {**EXPECTED[scope]["entity"], **EXPECTED[scope]["region"]}.items():
            assert cells[label] == [counts[c] for c in COLUMNS], (scope, label)

    pdf = client.get(base + ".pdf").data
    assert page_sizes(pdf)[0] == A4_POINTS
    text = " ".join(pdf_text(pdf).split())
    for scope in EXPECTED.values():
        for label, counts in scope["entity"].items():
            assert f"{label} {' '.join(str(counts[c]) for c in COLUMNS)}" in text
    html = client.get(base).get_data(as_text=True)
    assert '<table class="chart">' in html and "<svg" in html and 'aria-label="1 in person, 1 online only"' in html


def test_formula_prefixes_are_escaped_in_csv_and_xlsx(client, login, known):
    meeting, _ = known
    meeting.entity_types[2].name = '=HYPERLINK("http://evil","x")'
    meeting.title = "-Global Meeting"
    db.session.commit()
    login("organiser")
    base = f"/sessions/{meeting.slug}/reports/headcount"
    labels = [
        r["label"]
        for r in csv.DictReader(io.StringIO(client.get(base + ".csv").get_data(as_text=True)))
        if "HYPERLINK" in r["label"]
    ]
    assert labels and all(label.startswith("'=") for label in labels)
    sheet = load_workbook(io.BytesIO(client.get(base + ".xlsx").data)).worksheets[0]
    # In a workbook a cell is a string by its type, so it keeps the text as typed, with Excel's "text" mark.
    labels = [cell for cell in sheet["A"] if cell.value and "HYPERLINK" in str(cell.value)]
    assert labels and all(
        cell.data_type == "s" and cell.quotePrefix and cell.value == meeting.entity_types[2].name for cell in labels
    )
    assert sheet["A1"].value == "-Global Meeting" and sheet["A1"].data_type == "s" and sheet["A1"].quotePrefix
    assert not any(cell.quotePrefix for cell in sheet["A"] if cell.value and cell.value[0] not in "=-")


def test_report_is_for_organisers_only(client, login, known):
    meeting, _ = known
    for suffix in ("", ".csv", ".xlsx", ".pdf"):
        assert client.get(f"/sessions/{meeting.slug}/reports/headcount{suffix}").status_code == 302
    login("door")
    for suffix in ("", ".csv", ".xlsx", ".pdf"):
        assert client.get(f"/sessions/{meeting.slug}/reports/headcount{suffix}").status_code == 403
    assert client.get(f"/api/v1/sessions/{meeting.slug}/headcount").status_code == 403


def test_a_session_with_no_days_reports_its_session_table_only(client, login, make_session, make_registration):
    meeting = make_session()
    make_registration(meeting)
    meeting.days = []
    db.session.commit()
    report = headcount(meeting).as_dict()
    assert [s["scope"] for s in report["scopes"]] == ["session"]
    assert report["scopes"][0]["total"]["no_shows"] == 1
    login("organiser")
    for suffix in ("", ".csv", ".xlsx", ".pdf"):
        assert client.get(f"/sessions/{meeting.slug}/reports/headcount{suffix}").status_code == 200


# ---- eligibility ----


def test_eligibility_and_its_reasons(known):
    meeting, people = known
    p1, p2, p3 = (eligibility(people[k]) for k in ("p1", "p2", "p3"))
    assert p1.eligible and [d.mode for d in p1.days] == ["in_person", "in_person"] and p1.total_minutes == 480
    assert p2.eligible and [d.mode for d in p2.days] == ["online", ""] and p2.total_minutes == 180
    assert p3.eligible and [d.mode for d in p3.days] == ["in_person", "online"]
    assert eligibility(people["p4"]).reasons == [
        "Attendance on 1 day is needed; 0 recorded.",
        "19 Feb: not attended",
        "20 Feb: not attended",
    ]
    assert "19 Feb: joined by link, but the platform has no record" in eligibility(people["p5"]).reasons
    assert eligibility(people["p6"]).reasons[0] == "The registration is cancelled."

    meeting.certificate_days_required = 2
    db.session.commit()
    assert "20 Feb: 60 of 240 minutes online; 50 % needed" in eligibility(people["p2"]).reasons
    assert eligibility(people["p1"]).eligible

    meeting.certificate_days_required, meeting.certificate_accepts_link_click = 1, True
    db.session.commit()
    assert eligibility(people["p5"]).eligible


# ---- certificates ----


@pytest.mark.parametrize("who", ["p1", "p2", "p3"])
def test_certificate_pdf_has_the_name_the_days_and_a_qr_to_its_verify_page(client, known, who):
    meeting, people = known
    registration = people[who]
    response = client.get(f"/me/{registration.access_key}/certificate.pdf")
    assert response.status_code == 200 and response.headers["Content-Type"] == "application/pdf"
    pdf = response.data
    assert page_sizes(pdf) == [(841.9, 595.3)]  # A4 landscape
    certificate = db.session.scalar(sa.select(Certificate).filter_by(registration_id=registration.id))
    text = pdf_text(pdf)
    assert set(registration.full_name.replace(" ", "")) <= set(text.replace(" ", ""))
    for expected in (meeting.title, "Chair Person", certificate.public_id, "19 February 2024"):
        assert expected in text
    [code] = qr_codes(pdf)
    assert code == f"http://localhost/verify/{certificate.public_id}"
    page = client.get(f"/verify/{certificate.public_id}").get_data(as_text=True)
    assert "VALID" in page and registration.full_name in page and registration.email not in page


def test_without_a_chair_the_certificate_is_signed_by_the_secretariat_as_the_visa_letter_is(client, known):
    meeting, people = known
    meeting.chair_name, meeting.chair_title = "", "Director, ROCB Asia Pacific"  # a title without a name: unsigned
    meeting.secretariat_email = "secretariat@example.org"
    db.session.commit()
    text = " ".join(pdf_text(client.get(f"/me/{people['p1'].access_key}/certificate.pdf").data).split())
    assert "The secretariat secretariat@example.org" in text
    assert "The Chair" not in text and "Director, ROCB Asia Pacific" not in text


def test_certificate_durations_are_whole_minutes_that_add_up(client, known, make_registration):
    meeting, _ = known
    d1, d2 = meeting.days
    registration = make_registration(meeting, full_name="Seconds Counted", mode=Mode.ONLINE)
    online(registration, d1, 179 + 40 / 60)  # 179 min 40 s: "3 h 00 min", not "2 h 60 min"
    online(registration, d2, 130 + 20 / 60)
    db.session.commit()
    text = " ".join(pdf_text(client.get(f"/me/{registration.access_key}/certificate.pdf").data).split())
    assert "online · 3 h 00 min" in text and "online · 2 h 10 min" in text
    assert "Total time measured · 5 h 10 min" in text


def test_a_chinese_name_reaches_the_certificate(client, known):
    meeting, people = known
    meeting.certificate_accepts_link_click = True
    db.session.commit()
    pdf = client.get(f"/me/{people['p5'].access_key}/certificate.pdf").data
    assert "王伟" in pdf_text(pdf).replace(" ", "")


def test_regenerating_keeps_the_id_and_revoking_shows(client, login, known):
    meeting, people = known
    registration = people["p1"]
    client.get(f"/me/{registration.access_key}/certificate.pdf")
    first = db.session.scalar(sa.select(Certificate.public_id))
    client.get(f"/me/{registration.access_key}/certificate.pdf")
    assert db.session.scalars(sa.select(Certificate.public_id)).all() == [first]

    login("organiser")
    client.post(
        f"/sessions/{meeting.slug}/certificates/{registration.id}/revoke",
        data={"reason": "Issued in error", "csrf_token": csrf_token(client)},
    )
    page = client.get(f"/verify/{first}").get_data(as_text=True)
    assert "REVOKED" in page and "Issued in error" not in page  # internal unless the organiser shows it
    refused = client.get(f"/me/{registration.access_key}/certificate.pdf")
    assert refused.status_code == 403 and "revoked" in refused.get_data(as_text=True)


def test_a_revocation_reason_stays_internal_unless_the_organiser_shows_it(client, login, known):
    meeting, people = known
    registration = people["p1"]
    client.get(f"/me/{registration.access_key}/certificate.pdf")
    public_id = db.session.scalar(sa.select(Certificate.public_id))
    login("organiser")
    url = f"/sessions/{meeting.slug}/certificates/{registration.id}"
    client.post(f"{url}/revoke", data={"reason": "Signed in for Dr Quux", "csrf_token": csrf_token(client)})
    page = client.get(f"/verify/{public_id}").get_data(as_text=True)
    assert "REVOKED" in page and "Dr Quux" not in page
    refused = client.get(f"/me/{registration.access_key}/certificate.pdf").get_data(as_text=True)
    assert "revoked" in refused and "Dr Quux" not in refused
    assert "Signed in for Dr Quux" in client.get(f"/sessions/{meeting.slug}/certificates").get_data(as_text=True)

    client.post(f"{url}/reinstate", data={"csrf_token": csrf_token(client)})
    client.post(
        f"{url}/revoke", data={"reason": "Issued in error", "reason_public": "y", "csrf_token": csrf_token(client)}
    )
    page = client.get(f"/verify/{public_id}").get_data(as_text=True)
    assert "REVOKED" in page and "Issued in error" in page


def test_a_revocation_with_a_too_long_reason_or_a_forged_token_changes_nothing(client, login, known):
    meeting, people = known
    registration = people["p1"]
    client.get(f"/me/{registration.access_key}/certificate.pdf")
    login("organiser")
    url = f"/sessions/{meeting.slug}/certificates/{registration.id}/revoke"
    too_long = client.post(url, data={"reason": "x" * 501, "csrf_token": csrf_token(client)}, follow_redirects=True)
    assert "use at most 500" in too_long.get_data(as_text=True)
    assert client.post(url, data={"reason": "Issued in error", "csrf_token": "forged"}).status_code == 400
    assert db.session.scalar(sa.select(Certificate.revoked_at)) is None


def test_not_eligible_is_403_with_the_reason(client, known):
    _, people = known
    response = client.get(f"/me/{people['p4'].access_key}/certificate.pdf")
    assert response.status_code == 403
    assert "19 Feb: not attended" in response.get_data(as_text=True)
    cancelled = client.get(f"/me/{people['p6'].access_key}/certificate.pdf")
    assert cancelled.status_code == 403 and "cancelled" in cancelled.get_data(as_text=True)


def test_unknown_certificate_id_is_a_plain_not_found(client):
    response = client.get("/verify/NOSUCHCERTIFICATE")
    assert response.status_code == 404 and "No certificate has this number" in response.get_data(as_text=True)


def test_delegate_page_shows_the_certificate_link_when_eligible(client, known):
    _, people = known
    assert "certificate.pdf" in client.get(f"/me/{people['p1'].access_key}").get_data(as_text=True)
    page = client.get(f"/me/{people['p4'].access_key}").get_data(as_text=True)
    assert "certificate.pdf" not in page and "not attended" in page


def test_bulk_zip_and_merged_pdf_hold_every_eligible_certificate(client, login, known):
    meeting, _ = known
    login("organiser")
    archive = zipfile.ZipFile(io.BytesIO(export(client, f"/sessions/{meeting.slug}/certificates.zip").data))
    assert len(archive.namelist()) == 3
    assert all(archive.read(name).startswith(b"%PDF") for name in archive.namelist())
    merged = export(client, f"/sessions/{meeting.slug}/certificates.pdf").data
    assert len(page_sizes(merged)) == 3
    ids = db.session.scalars(sa.select(Certificate.public_id)).all()
    assert sorted(code.rsplit("/", 1)[1] for code in qr_codes(merged, dpi=150)) == sorted(ids)


def test_email_certificates_to_all_eligible(app, client, login, known):
    import os

    meeting, _ = known
    login("organiser")
    client.post(f"/sessions/{meeting.slug}/certificates/email", data={"csrf_token": csrf_token(client)})
    assert len(os.listdir(app.config["OUTBOX_DIR"])) == 3


def test_cli_export_writes_one_pdf_per_eligible_delegate(runner, known, tmp_path):
    meeting, _ = known
    result = runner.invoke(args=["certificates", "export", meeting.slug, "--out", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    assert "Wrote 3 certificates" in result.output
    assert len(list((tmp_path / "out").glob("*.pdf"))) == 3
    assert runner.invoke(args=["certificates", "export", "nope", "--out", str(tmp_path)]).exit_code != 0


def test_a_certificate_of_a_cancelled_registration_is_no_longer_valid(client, known):
    from attendance.registration.service import cancel

    _, people = known
    client.get(f"/me/{people['p1'].access_key}/certificate.pdf")
    public_id = db.session.scalar(sa.select(Certificate.public_id))
    cancel(people["p1"], "Registered twice")
    page = client.get(f"/verify/{public_id}").get_data(as_text=True)
    assert "NOT VALID" in page and "VALID</strong>: this certificate was issued" not in page


def test_certificate_overview_counts_the_registrations_that_stand(client, login, known):
    meeting, _ = known  # six registrations, one cancelled; p1, p2 and p3 earn one
    login("organiser")
    text = " ".join(client.get(f"/sessions/{meeting.slug}/certificates").get_data(as_text=True).split())
    assert "<strong>3</strong> of 5 registrations earn a certificate (1 cancelled, not counted)." in text


def test_certificate_overview_queries_do_not_grow_with_the_delegates(
    client, login, known, make_registration, count_queries
):
    meeting, _ = known
    login("organiser")
    make_registration(meeting)
    with count_queries() as few:
        client.get(f"/sessions/{meeting.slug}/certificates")
    for _ in range(10):
        make_registration(meeting)
    with count_queries() as many:
        client.get(f"/sessions/{meeting.slug}/certificates")
    assert many() == few(), "\n".join(s[:90] for s in many.statements)


def test_no_table_caption_is_left_at_the_foot_of_a_page(client, login, runner):
    """The demo's report (the 19th Session) runs over pages; each table's caption goes with the table."""
    from pypdf import PdfReader

    assert runner.invoke(args=["seed-demo"]).exit_code == 0
    login("organiser")
    pdf = client.get("/sessions/global-meeting-19/reports/headcount.pdf").data
    pages = [page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages]
    assert len(pages) > 1
    for text in pages:
        last_caption = max(text.rfind(": by entity type"), text.rfind(": by region"))
        assert last_caption == -1 or "Total" in text[last_caption:], text[-300:]


@pytest.mark.parametrize("today", [DAY1, DAY2, date(2024, 3, 1)])
def test_headline_numbers_are_the_headcounts(known, today):
    """The registrations page's four cheap numbers agree with the headcount: the day's when today is a session
    day, else the whole session's."""
    from attendance.reports.headcount import headline

    meeting, _ = known
    report = {scope["scope"]: scope["total"] for scope in headcount(meeting).as_dict()["scopes"]}
    numbers = headline(meeting, today)
    scope = "today" if today in (DAY1, DAY2) else "session"
    expected = report[today.isoformat()] if scope == "today" else report["session"]
    assert numbers["session"]["registered_in_person"] == report["session"]["registered_in_person"] == 2
    assert numbers["session"]["registered_online"] == report["session"]["registered_online"] == 3
    assert numbers[scope]["attended_in_person"] == expected["attended_in_person"]
    assert numbers[scope]["attended_online"] == expected["attended_online"]
    assert expected["attended_in_person"] + expected["attended_online"] > 0  # something was counted
    assert ("today" in numbers) == (scope == "today")

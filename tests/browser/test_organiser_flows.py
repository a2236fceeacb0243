"""An organiser in a real browser: imports a Teams attendance report (preview, then save), then downloads the
headcount report as CSV, XLSX and PDF from the headcount page's links."""

import csv
import io
import re
from datetime import date, time

from helpers import PASSWORD
from online.samples import teams_report, zoom_report
from openpyxl import load_workbook
from pdf_tools import pdf_text
from playwright.sync_api import expect

from attendance.auth import ensure_staff
from attendance.extensions import db
from attendance.models import Mode, StaffRole

ORGANISER_EMAIL = "organiser.browser@example.org"


def test_organiser_imports_a_teams_report_and_downloads_the_headcount(
    live_server, page, app_ctx, make_session, make_registration, tmp_path
):
    meeting = make_session(first_day=date(2024, 2, 19), title="19th Session")
    user, _ = ensure_staff(ORGANISER_EMAIL, StaffRole.ORGANISER, PASSWORD)
    meeting.organisers.append(user)
    db.session.commit()
    make_registration(meeting, full_name="Ana Silva", email="ana@example.org", mode=Mode.ONLINE)
    make_registration(meeting, full_name="Lars Banda", email="lars@example.org", mode=Mode.ONLINE)
    report = teams_report(
        [
            ("Ana Silva", "2/19/24, 9:30:00 AM", "2/19/24, 11:00:00 AM", "1h 30m", "ana@example.org"),
            # 90 + 210 minutes: more than the half of the 450 scheduled that makes an online day
            ("Ana Silva", "2/19/24, 1:00:00 PM", "2/19/24, 4:30:00 PM", "3h 30m", "ana@example.org"),
            ("Guest Expert", "2/19/24, 10:00:00 AM", "2/19/24, 10:45:00 AM", "45m", "expert@partner.example"),
        ]
    )

    page.goto(live_server + "/login")
    page.get_by_label("Email").fill(ORGANISER_EMAIL)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("link", name="19th Session").click()
    page.get_by_role("navigation", name="Session").get_by_role("link", name="Import report").click()
    expect(page.get_by_role("heading", name="Import an attendance report")).to_be_visible()

    page.get_by_label(re.compile("^Attendance report")).set_input_files(
        files=[{"name": "AttendanceReport.csv", "mimeType": "text/csv", "buffer": report}]
    )
    page.get_by_role("button", name="Upload and preview").click()

    # The preview: one person matched on two lines, one nobody registered as; nothing saved yet.
    expect(page.get_by_role("heading", name="Preview of AttendanceReport.csv")).to_be_visible()
    expect(page.locator(".summary .card").filter(has_text="matched").first).to_have_text(re.compile(r"^\s*2\s+matched"))
    expect(page.locator(".summary .card").filter(has_text="unmatched")).to_have_text(re.compile(r"^\s*1\s+unmatched"))
    assert page.get_by_role("cell", name="Guest Expert").is_visible()
    page.get_by_role("button", name="Save this import").click()
    expect(page.get_by_role("status").filter(has_text="Saved")).to_be_visible()

    page.get_by_role("navigation", name="Session").get_by_role("link", name="Headcount").click()
    expect(page.get_by_role("heading", name="Headcount", exact=True)).to_be_visible()
    online_card = page.locator(".summary .card").filter(has_text="online only")
    expect(online_card).to_have_text(re.compile(r"^\s*1\s+online only"))

    # CSV and XLSX come as downloads.
    with page.expect_download() as download_info:
        page.get_by_role("link", name="CSV").click()
    download = download_info.value
    assert download.suggested_filename == f"{meeting.slug}-headcount.csv"
    rows = list(csv.DictReader(io.StringIO(open(download.path(), encoding="utf-8-sig").read())))  # BOM for Excel
    totals = [r for r in rows if r["scope"] == "session" and r["table"] == "entity_type" and r["label"] == "Total"]
    assert totals and totals[0]["attended_online"] == "1" and totals[0]["registered_online"] == "2"

    with page.expect_download() as download_info:
        page.get_by_role("link", name="Excel (XLSX)").click()
    download = download_info.value
    assert download.suggested_filename == f"{meeting.slug}-headcount.xlsx"
    data = open(download.path(), "rb").read()
    assert data[:4] == b"PK\x03\x04"
    workbook = load_workbook(io.BytesIO(data))
    assert "Whole session" in workbook.sheetnames
    assert workbook["Whole session"]["A1"].value == "19th Session"

    # The PDF opens inline; fetch it through the link with the browser's own session.
    href = page.get_by_role("link", name="PDF").get_attribute("href")
    response = page.request.get(live_server + href)
    assert response.ok
    assert response.headers["content-type"] == "application/pdf"
    assert f'filename="{meeting.slug}-headcount.pdf"' in response.headers["content-disposition"]
    pdf = response.body()
    assert pdf.startswith(b"%PDF-")
    text = pdf_text(pdf)
    assert "Headcount" in text and "19th Session" in text


def test_organiser_maps_a_device_once_and_confirms_a_suggested_name(
    live_server, page, app_ctx, make_session, make_registration
):
    meeting = make_session(first_day=date(2024, 2, 19), title="19th Session")
    meeting.days[0].starts_at, meeting.days[0].ends_at = time(9, 0), time(17, 0)
    user, _ = ensure_staff(ORGANISER_EMAIL, StaffRole.ORGANISER, PASSWORD)
    meeting.organisers.append(user)
    db.session.commit()
    make_registration(meeting, full_name="Kim Minjun", email="minjun.kim@example.kr", mode=Mode.ONLINE)
    jose = make_registration(meeting, full_name="José Álvarez Müller", email="jose@example.es", mode=Mode.ONLINE)
    report = zoom_report(
        [
            ("Ana Silva", "ana.silva@example.org", "02/19/2024 09:00:00 AM", "02/19/2024 05:00:00 PM", 480),
            ("jose alvarez muller", "", "02/19/2024 09:00:00 AM", "02/19/2024 01:00:00 PM", 240),
            ("Guest Expert", "expert@partner.example", "02/19/2024 10:00:00 AM", "02/19/2024 10:45:00 AM", 45),
            ("김민준 (Minjun iPhone)", "", "02/19/2024 09:00:00 AM", "02/19/2024 10:20:00 AM", 80),
            ("김민준 (Minjun iPhone)", "", "02/19/2024 10:20:00 AM", "02/19/2024 05:00:00 PM", 400),
        ]
    )

    page.goto(live_server + "/login")
    page.get_by_label("Email").fill(ORGANISER_EMAIL)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.goto(f"{live_server}/sessions/{meeting.slug}/imports")
    page.get_by_label(re.compile("^Attendance report")).set_input_files(
        files=[{"name": "participants.csv", "mimeType": "text/csv", "buffer": report}]
    )
    page.get_by_role("button", name="Upload and preview").click()

    # One field per unknown person, sharing one list; the same name as a registration comes pre-filled.
    expect(page.get_by_role("combobox")).to_have_count(4)
    expect(page.get_by_label("Registration for jose alvarez muller (line 6)")).to_have_value(
        f"José Álvarez Müller · jose@example.es · #{jose.id}"
    )
    expect(page.get_by_label("Registration for Guest Expert (line 7)")).to_have_value("")
    expect(page.get_by_text("Same person as line 8: the choice there covers this line.")).to_be_visible()
    page.get_by_label("Registration for 김민준 (Minjun iPhone) (lines 8, 9)").fill("minjun.kim@example.kr")
    page.get_by_role("button", name="Save this import").click()

    expect(page.get_by_role("status").filter(has_text="Saved: 3 intervals added, 2 unmatched")).to_be_visible()
    page.get_by_role("navigation", name="Days").get_by_role("link", name="19 February 2024").click()
    expect(page.get_by_role("row", name=re.compile("^Kim Minjun "))).to_contain_text("480 of 480")
    expect(page.get_by_role("row", name=re.compile("^José Álvarez Müller "))).to_contain_text("240 of 480")
    expect(page.get_by_role("row", name=re.compile("^Guest Expert "))).to_contain_text("1 ×")

"""Every download that takes personal or aggregate data out of the app is in the audit log: who, what, which
session, how many. Pages viewed inside the app are not exports."""

from datetime import timedelta

import pytest
import sqlalchemy as sa
from helpers import export

from attendance.api.tokens import create_api_token
from attendance.clock import utcnow
from attendance.extensions import db
from attendance.models import Attendance, AuditEvent, Mode, RegistrationStatus, Source


@pytest.fixture
def finished(make_session, make_registration):
    """Three registered (two came, so two certificates) and one cancelled."""
    meeting = make_session(first_day=utcnow().date() - timedelta(days=8))
    people = [make_registration(meeting) for _ in range(3)]
    make_registration(meeting, status=RegistrationStatus.CANCELLED)
    for person in people[:2]:
        db.session.add(Attendance(registration=person, day=meeting.days[0], mode=Mode.IN_PERSON, source=Source.SCAN))
    db.session.commit()
    return meeting


def audit_lines() -> list[tuple]:
    return db.session.execute(
        sa.select(AuditEvent.actor, AuditEvent.action, AuditEvent.session_id, AuditEvent.details).order_by(
            AuditEvent.id
        )
    ).all()


@pytest.mark.parametrize(
    "path, action, details",
    [
        ("certificates.zip", "certificates.export", "zip: 2 certificates"),
        ("certificates.pdf", "certificates.export", "pdf: 2 certificates"),
        ("badges.pdf", "badges.export", "3 badges"),
        ("reports/headcount.csv", "headcount.export", "csv: 3 registrations counted"),
        ("reports/headcount.xlsx", "headcount.export", "xlsx: 3 registrations counted"),
        ("reports/headcount.pdf", "headcount.export", "pdf: 3 registrations counted"),
        ("registrations.csv", "registrations.export", "4 rows"),
    ],
)
def test_a_download_is_audited_with_who_what_which_session_and_how_many(client, login, finished, path, action, details):
    me = login("organiser")
    response = export(client, f"/sessions/{finished.slug}/{path}")
    assert response.status_code == 200 and response.data
    assert audit_lines() == [(me, action, finished.id, details)]
    assert action in client.get("/staff/audit").get_data(as_text=True)


def test_the_headcount_page_and_json_show_counts_and_are_not_exports(client, login, finished):
    """Counts only, no one's data; a dashboard polling the JSON would push all else out of the audit page."""
    login("organiser")
    assert client.get(f"/sessions/{finished.slug}/reports/headcount").status_code == 200
    _, token = create_api_token("Statistics dashboard", organiser=True)
    for _ in range(3):
        assert (
            client.get(
                f"/api/v1/sessions/{finished.slug}/headcount", headers={"Authorization": f"Bearer {token}"}
            ).status_code
            == 200
        )
    assert audit_lines() == []


def test_nothing_to_download_is_no_export(client, login, make_session):
    meeting = make_session()
    login("organiser")
    assert client.get(f"/sessions/{meeting.slug}/certificates.zip").status_code == 302
    assert client.get(f"/sessions/{meeting.slug}/badges.pdf").status_code == 302
    assert audit_lines() == []


def test_the_command_line_export_is_audited(runner, finished, tmp_path):
    result = runner.invoke(args=["certificates", "export", finished.slug, "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert audit_lines() == [("cli", "certificates.export", finished.id, "folder: 2 certificates")]

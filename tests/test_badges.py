"""Badge PDFs: A6, the delegate's details, and a QR that a real decoder reads as the badge token."""
import pytest

from attendance.models import Mode, RegistrationStatus, Role
from attendance.registration.badges import badge_pdf
from pdf_tools import A6_POINTS, page_sizes, pdf_text, qr_codes


def test_badge_pdf_is_a6_with_the_delegates_details_and_a_readable_qr(client, make_session, make_registration):
    meeting = make_session()
    registration = make_registration(meeting, full_name="Zoë Nørgaard-Mensah", organisation="RTC Europe",
                                     country="DK", entity_type=meeting.entity_types[1], role=Role.VICE_CHAIR)
    response = client.get(f"/me/{registration.access_key}/badge.pdf")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/pdf"
    pdf = response.data
    assert page_sizes(pdf) == [A6_POINTS]
    text = pdf_text(pdf)
    for expected in ("Zoë Nørgaard-Mensah", "RTC Europe", "Regional Training Centre (RTC)", "Denmark",
                     "Vice-Chair", "IN PERSON"):
        assert expected in text
    assert qr_codes(pdf) == [registration.badge_token]


def test_online_badge_says_online(make_session, make_registration):
    registration = make_registration(make_session(), mode=Mode.ONLINE)
    assert "ONLINE" in pdf_text(badge_pdf(registration))


def test_script_tags_print_as_text_on_the_badge(make_session, make_registration):
    registration = make_registration(make_session(), full_name="<script>alert(1)</script>")
    assert "<script>alert(1)</script>" in pdf_text(badge_pdf(registration))


@pytest.mark.parametrize("name", ["Анна Смирнова", "محمد العلي", "王伟", "김민준"])
def test_names_in_other_scripts_reach_the_badge(make_session, make_registration, name):
    registration = make_registration(make_session(), full_name=name)
    text = pdf_text(badge_pdf(registration)).replace(" ", "")
    # Arabic may be extracted in visual order; its letters must all be there.
    assert set(name.replace(" ", "")) <= set(text)


def test_cancelled_registration_has_no_badge(client, make_session, make_registration):
    registration = make_registration(make_session(), status=RegistrationStatus.CANCELLED, cancel_reason="Ill")
    assert client.get(f"/me/{registration.access_key}/badge.pdf").status_code == 403
    assert "cancelled" in client.get(f"/me/{registration.access_key}").get_data(as_text=True)

"""Badge PDFs: A6, the delegate's details, and a QR that a real decoder reads as the badge token."""

import subprocess
import tempfile
from pathlib import Path

import pytest
from pdf_tools import (
    A4_POINTS,
    A6_POINTS,
    image_boxes,
    page_sizes,
    pdf_text,
    qr_codes,
    words,
    words_across_cells,
    words_under_images,
)

from attendance.extensions import db
from attendance.models import EntityType, Mode, RegistrationStatus, Role
from attendance.registration import badges
from attendance.registration.badges import badge_pdf, badge_sheet_pdf

MM = 72 / 25.4
A6_BADGE = (105 * MM, 148 * MM)
#: From an outside audit: the role went under the QR code.
LONG_NAME = "María Fernanda de los Ángeles Gutiérrez-Villanueva Santisteban y Olazábal"
LONG_ORGANISATION = (
    "Directorate of International Cooperation and Capacity Building, Regional Office for Capacity "
    "Building for the Middle East and North Africa, General Customs Administration"
)
#: And the country too.
LONGER_NAME = "Karl-Theodor Maria Nikolaus Johann Jacob Philipp Franz Joseph Sylvester Freiherr von und zu Guttenberg"
#: As long as the registration form allows.
LONGEST_NAME = (
    "Alexandra Konstantina Maximiliana Theodora Wilhelmina Friederike von Hohenzollern-Sigmaringen "
    "Bartholomew-Fitzgerald de la Cruz y Montenegro Villavicencio Oyelaran-Adebayo "
    "Nakamura-Schwarzenegger Solé"
)
LONGEST_ORGANISATION = (
    "Directorate General for International Cooperation, Capacity Building and Regional "
    "Coordination, Regional Office for Capacity Building for East and Southern Africa, "
    "National Revenues and Customs Agency"
)


def without_spaces(text: str) -> str:
    """Lines broken at a space or a hyphen compare equal to the text unbroken."""
    return "".join(text.split())


@pytest.fixture
def crowded_session(make_session):
    """A session whose badges have the tallest top: a meeting title and an entity type of two lines and more."""
    meeting = make_session(title=" ".join(["Regional Heads of Training and Capacity Building Meeting"] * 5))
    meeting.entity_types.append(
        EntityType(name=" ".join(["Regional Office for Capacity Building"] * 5)[:200], position=3)
    )
    db.session.commit()
    return meeting


def test_badge_pdf_is_a6_with_the_delegates_details_and_a_readable_qr(client, make_session, make_registration):
    meeting = make_session()
    registration = make_registration(
        meeting,
        full_name="Zoë Nørgaard-Mensah",
        organisation="RTC Europe",
        country="DK",
        entity_type=meeting.entity_types[1],
        role=Role.VICE_CHAIR,
    )
    response = client.get(f"/me/{registration.access_key}/badge.pdf")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/pdf"
    pdf = response.data
    assert page_sizes(pdf) == [A6_POINTS]
    text = pdf_text(pdf)
    for expected in (
        "Zoë Nørgaard-Mensah",
        "RTC Europe",
        "Regional Training Centre (RTC)",
        "Denmark",
        "Vice-Chair",
        "IN PERSON",
    ):
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


@pytest.mark.parametrize(
    "name, organisation",
    [(LONG_NAME, LONG_ORGANISATION), (LONGER_NAME, LONG_ORGANISATION), (LONGEST_NAME, LONGEST_ORGANISATION)],
    ids=["long", "longer", "longest"],
)
def test_a_long_name_and_organisation_print_whole_and_leave_every_line_above_the_qr(
    make_session, make_registration, name, organisation
):
    assert len(LONGEST_NAME) == len(LONGEST_ORGANISATION) == 200
    registration = make_registration(make_session(), full_name=name, organisation=organisation, country="DK")
    pdf = badge_pdf(registration)
    assert page_sizes(pdf) == [A6_POINTS]
    text = without_spaces(pdf_text(pdf))
    for expected in (name, organisation, "Regional Office for Capacity Building (ROCB)", "Denmark", "Delegate"):
        assert without_spaces(expected) in text
    assert words_under_images(pdf) == []
    assert words_across_cells(pdf, A6_BADGE) == []
    assert qr_codes(pdf) == [registration.badge_token]


@pytest.mark.parametrize("role", [Role.DELEGATE, Role.CHAIR])
@pytest.mark.parametrize("organisation_length", ["", "long", "longest"])
@pytest.mark.parametrize("name_length", ["", "long", "longer", "longest"])
def test_no_line_reaches_the_qr_when_every_text_fills_its_most_lines(
    monkeypatch, crowded_session, make_registration, name_length, organisation_length, role
):
    """Each length class of names and organisations (badges.py, badge.css) with more text than its lines hold
    (a capital W is the widest Latin letter), under the tallest top: the most lines of each fit."""
    assert name_length in {"", *badges.NAME_LENGTHS} and organisation_length in {"", *badges.ORGANISATION_LENGTHS}
    monkeypatch.setattr(badges, "NAME_LENGTHS", {name_length: 0} if name_length else {})
    monkeypatch.setattr(badges, "ORGANISATION_LENGTHS", {organisation_length: 0} if organisation_length else {})
    registration = make_registration(
        crowded_session,
        full_name="W" * 200,
        organisation="W" * 200,
        role=role,
        country="SH",
        entity_type=crowded_session.entity_types[-1],
    )
    pdf = badge_pdf(registration)
    assert page_sizes(pdf) == [A6_POINTS]
    assert words_under_images(pdf) == []
    assert words_across_cells(pdf, A6_BADGE) == []
    text = without_spaces(pdf_text(pdf))
    for expected in ("St. Helena, Ascension & Tristan da Cunha", "Chair" if role == Role.CHAIR else "Delegate"):
        assert without_spaces(expected) in text


def test_a_sheet_of_long_badges_leaves_every_line_above_its_qr(crowded_session, make_registration):
    arabic_name = " ".join(["عبد الرحمن بن محمد بن إبراهيم آل الشيخ"] * 5)
    arabic_organisation = " ".join(["الهيئة العامة للزكاة والضريبة والجمارك، المملكة العربية السعودية"] * 3)
    registrations = [
        make_registration(crowded_session, full_name=LONG_NAME, organisation=LONG_ORGANISATION),
        make_registration(
            crowded_session,
            full_name=LONGEST_NAME,
            organisation=LONGEST_ORGANISATION,
            role=Role.CHAIR,
            entity_type=crowded_session.entity_types[-1],
        ),
        make_registration(crowded_session, full_name=arabic_name, organisation=arabic_organisation, country="SA"),
        make_registration(
            crowded_session,
            full_name="欧阳娜娜" * 50,
            organisation="中华人民共和国海关总署国际合作司" * 12,
            country="CN",
            role=Role.VICE_CHAIR,
        ),
    ]
    pdf = badge_sheet_pdf(registrations)
    assert page_sizes(pdf) == [A4_POINTS]
    text = without_spaces(pdf_text(pdf))
    for expected in (LONG_NAME, LONG_ORGANISATION, LONGEST_NAME, "欧阳娜娜" * 10):
        assert without_spaces(expected) in text
    assert words_under_images(pdf) == []
    assert words_across_cells(pdf, A6_BADGE) == []
    assert sorted(qr_codes(pdf)) == sorted(r.badge_token for r in registrations)


def test_badge_prints_the_whole_code_in_groups_of_four_below_the_qr(make_session, make_registration):
    """A cracked phone screen or a creased badge leaves a code a person can read out and type."""
    registration = make_registration(make_session())
    token = registration.badge_token
    pdf = badge_pdf(registration)
    with tempfile.TemporaryDirectory() as folder:
        source = Path(folder) / "badge.pdf"
        source.write_bytes(pdf)
        text = subprocess.run(
            ["pdftotext", "-layout", str(source), "-"], check=True, capture_output=True, text=True
        ).stdout
    groups = [token[i : i + 4] for i in range(0, len(token), 4)]
    assert " ".join(groups) in " ".join(text.split())
    [page_words], [[qr]] = words(pdf), image_boxes(pdf)
    code_boxes = [box for word, box in page_words if word in groups]
    assert len(code_boxes) == len(groups)
    assert all(box.top >= qr.bottom for box in code_boxes)  # below the QR, none under it

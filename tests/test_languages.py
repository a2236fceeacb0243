"""A language a delegate chose is theirs everywhere: e-mails, badge and certificate follow it, whatever language
the organiser or the door works in; the organiser sees it and can change it."""

import email
import os
from email import policy
from pathlib import Path

import sqlalchemy as sa
from helpers import csrf_token, registration_form
from pdf_tools import pdf_text

from attendance.extensions import db
from attendance.models import Registration


def _only_mail(app) -> email.message.EmailMessage:
    [name] = os.listdir(app.config["OUTBOX_DIR"])
    return email.message_from_bytes((Path(app.config["OUTBOX_DIR"]) / name).read_bytes(), policy=policy.default)


def test_a_delegate_registering_in_arabic_gets_arabic_email_and_badge(app, client, make_session):
    from attendance.registration.badges import badge_pdf

    meeting = make_session()
    client.set_cookie("lang", "ar")
    url = f"/sessions/{meeting.slug}/register"
    response = client.post(
        url, data=registration_form(meeting, csrf_token=csrf_token(client, url), full_name="ليلى حداد")
    )
    assert response.status_code == 302
    registration = db.session.scalar(sa.select(Registration))
    assert registration.locale == "ar"
    message = _only_mail(app)
    assert message["Subject"].startswith("تأكيد التسجيل")
    body = message.get_body(("plain",)).get_content()
    assert "حضرة \u2068ليلى حداد\u2069،" in body and "تم تأكيد تسجيلكم" in body
    badge = pdf_text(badge_pdf(registration))
    assert "حضوري" in badge and "بلجيكا" in badge  # the mode and the country from CLDR, in Arabic


def test_a_delegate_registering_in_spanish_reads_neutral_wording(app, client, make_session):
    meeting = make_session()
    client.set_cookie("lang", "es")
    url = f"/sessions/{meeting.slug}/register"
    page = client.post(
        url, data=registration_form(meeting, csrf_token=csrf_token(client, url)), follow_redirects=True
    ).get_data(as_text=True)
    assert "Su inscripción está confirmada" in page
    body = _only_mail(app).get_body(("plain",)).get_content()
    assert "Buenos días, Amélie Dubois:" in body and "Su inscripción en" in body
    assert "inscrito" not in body and "Estimado" not in body


def test_the_organiser_sees_and_changes_a_delegates_language(client, login, make_session, make_registration):
    from attendance.registration.badges import badge_pdf

    meeting = make_session()
    registration = make_registration(meeting, full_name="Ana García", locale="fr")
    login("organiser")
    listing = client.get(f"/sessions/{meeting.slug}/registrations").get_data(as_text=True)
    assert '<td lang="fr">Français</td>' in listing
    assert "EN PERSONNE" in pdf_text(badge_pdf(registration)) and "Délégué·e" in pdf_text(badge_pdf(registration))
    url = f"/sessions/{meeting.slug}/registrations/{registration.id}"
    form = client.get(url).get_data(as_text=True)
    assert '<option selected value="fr">Français</option>' in form
    data = {
        "csrf_token": csrf_token(client, url),
        "full_name": "Ana García",
        "email": registration.email,
        "organisation": registration.organisation,
        "country": "ES",
        "entity_type": str(registration.entity_type_id),
        "region": str(registration.region_id),
        "mode": "in_person",
        "role": "delegate",
        "locale": "es",
    }
    assert client.post(url, data=data).status_code == 302
    db.session.refresh(registration)
    assert registration.locale == "es"
    badge = pdf_text(badge_pdf(registration))
    assert "EN PERSONA" in badge and "Delegado/a" in badge and "España" in badge
    data["locale"] = "de"  # not an enabled language: refused, nothing changes
    assert client.post(url, data=data).status_code == 400
    db.session.refresh(registration)
    assert registration.locale == "es"


def test_french_words_to_a_delegate_do_not_assume_a_gender(app, client, make_session):
    from attendance.registration.badges import badge_pdf

    meeting = make_session()
    client.set_cookie("lang", "fr")
    url = f"/sessions/{meeting.slug}/register"
    page = client.post(
        url, data=registration_form(meeting, csrf_token=csrf_token(client, url)), follow_redirects=True
    ).get_data(as_text=True)
    assert "Votre inscription est confirmée" in page and "Vous êtes inscrit" not in page
    body = _only_mail(app).get_body(("plain",)).get_content()
    assert f"Votre inscription à {meeting.title} est confirmée." in body and "inscrit " not in body
    registration = db.session.scalar(sa.select(Registration))
    assert "Délégué·e" in pdf_text(badge_pdf(registration))  # both forms, in one style for every role

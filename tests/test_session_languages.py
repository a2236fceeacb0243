"""Session content in several languages: the title, venue, entity types and regions an organiser entered per
language reach pages, badges, certificates and reports in the reader's language, and fall back to the session's
own words, never to an empty field."""

import re

import sqlalchemy as sa
from helpers import csrf_token
from pdf_tools import pdf_text

from attendance.extensions import db
from attendance.models import MeetingSession, Registration

ROCB_FR = "Bureau régional de renforcement des capacités"


def _translated_session(make_session):
    meeting = make_session(
        title="Global Meeting",
        venue="Brussels",
        translations={"fr": {"title": "Réunion mondiale"}, "es": {"title": "  "}},
    )
    meeting.entity_types[0].translations = {"fr": ROCB_FR}
    meeting.regions[0].translations = {"fr": "Europe (FR)", "ar": "أوروبا"}
    db.session.commit()
    return meeting


def test_a_badge_follows_its_delegates_language_and_falls_back(make_session, make_registration):
    from attendance.registration.badges import badge_pdf

    meeting = _translated_session(make_session)
    french = pdf_text(badge_pdf(make_registration(meeting, locale="fr")))
    assert "Réunion mondiale" in french and ROCB_FR in french
    spanish = pdf_text(badge_pdf(make_registration(meeting, locale="es")))  # a blank translation is no translation
    assert "Global Meeting" in spanish and meeting.entity_types[0].name in spanish


def test_the_public_form_shows_the_readers_language_and_the_default_where_none_was_entered(client, make_session):
    meeting = _translated_session(make_session)
    client.set_cookie("lang", "fr")
    page = client.get(f"/sessions/{meeting.slug}/register").get_data(as_text=True)
    assert "Réunion mondiale" in page and "<bdi>Brussels</bdi>" in page  # no French venue: the session's own
    assert ROCB_FR in page and "Europe (FR)" in page
    client.set_cookie("lang", "ar")
    page = client.get(f"/sessions/{meeting.slug}/register").get_data(as_text=True)
    assert "Global Meeting" in page and "أوروبا" in page


def test_the_headcount_uses_the_readers_language(client, login, make_session, make_registration):
    meeting = _translated_session(make_session)
    make_registration(meeting)
    login("organiser")
    client.set_cookie("lang", "fr")
    text = pdf_text(client.get(f"/sessions/{meeting.slug}/reports/headcount.pdf").data)
    assert ROCB_FR in text and "Réunion mondiale" in text and "Décompte" in text


def test_an_organiser_enters_names_in_each_language(client, login, make_session):
    meeting = make_session()
    login("organiser")
    url = f"/sessions/{meeting.slug}/entity-types"
    term = meeting.entity_types[0]
    response = client.post(
        url,
        data={
            "csrf_token": csrf_token(client, url),
            "term_id": term.id,
            "name": term.name,
            "position": 0,
            "name_fr": "  Bureau  régional ",
            "name_ar": "",
            "name_es": "x",
        },
    )
    assert response.status_code == 302
    db.session.refresh(term)
    assert term.translations == {"fr": "Bureau régional", "es": "x"}
    page = client.get(url).get_data(as_text=True)
    assert 'name="name_fr" value="Bureau régional"' in page
    edit = client.get(f"/sessions/{meeting.slug}/edit").get_data(as_text=True)
    assert 'name="title_fr"' in edit and 'name="venue_ar"' in edit
    # The Arabic title is typed right to left; its label stays in the page's language and direction.
    assert re.search(r'<input [^>]*dir="rtl"[^>]*lang="ar"[^>]*name="title_ar"', edit)
    assert '<div lang="ar"' not in edit


def test_the_demo_names_its_entity_types_in_french(app, runner, client, login):
    from attendance.registration.badges import badge_pdf

    assert runner.invoke(args=["seed-demo"]).exit_code == 0
    meeting = db.session.scalar(sa.select(MeetingSession).filter_by(number=19))
    rilo = next(t for t in meeting.entity_types if "RILO" in t.name)
    assert rilo.name_in("fr") == "Bureau régional de liaison chargé du renseignement"
    registration = db.session.scalar(
        sa.select(Registration).filter_by(session_id=meeting.id, entity_type_id=rilo.id).limit(1)
    )
    registration.locale = "fr"
    db.session.commit()
    assert "Bureau régional de liaison chargé du renseignement" in pdf_text(badge_pdf(registration))
    login("organiser")
    client.set_cookie("lang", "fr")
    report = pdf_text(client.get(f"/sessions/{meeting.slug}/reports/headcount.pdf").data)
    assert "Bureau régional de renforcement des capacités" in report

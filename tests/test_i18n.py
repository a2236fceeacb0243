"""English and French everywhere, Spanish and Arabic for delegates, the door and the kiosk: every string they see
translated, the choice remembered, emails and PDFs in the delegate's language."""

import email
import io
import os
import re
import subprocess
import sys
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from babel.dates import format_date
from babel.messages.pofile import read_po
from helpers import csrf_token, export, registration_form
from pdf_tools import pdf_text
from pypdf import PdfReader

from attendance.extensions import db
from attendance.models import Mode, Registration

ROOT = Path(__file__).resolve().parent.parent
CATALOGUES = ROOT / "attendance" / "translations"
CATALOGUE = CATALOGUES / "fr" / "LC_MESSAGES" / "messages.po"
#: where the strings a delegate, a door person or the kiosk sees come from (Spanish and Arabic cover these)
DELEGATE_AND_DOOR = re.compile(
    r"^(templates/(registration|certificates/(?!overview)|badges|checkin/(scanner|kiosk)|desk|kiosk|me|main|auth|base|error"
    r"|_secretariat)|attendance/(registration|checkin/(rule|counts|search|kiosk)|desk|kiosk|me|certificates/(service|render)"
    r"|models/registration|mailings/mails"
    r"|attendance_rule|formatting|auth|lookup)|static/)"
)
#: English words that a French page shows only when a string was left untranslated
ENGLISH = re.compile(r"\b(the|your|you|and|with|this|please|register|badge code|attend|online|check in)\b", re.I)


@pytest.fixture(scope="module")
def strings_in_the_code(tmp_path_factory):
    """Every message in the code now, with the files it comes from."""
    pot = tmp_path_factory.mktemp("pot") / "messages.pot"
    pybabel = Path(sys.executable).parent / "pybabel"
    subprocess.run(
        [str(pybabel), "-q", "extract", "-F", "babel.cfg", "-k", "_l", "-o", str(pot), "."], check=True, cwd=ROOT
    )
    return {_message_id(m): [path for path, _ in m.locations] for m in read_po(pot.open("rb")) if m.id}


def _message_id(message) -> str:
    return message.id if isinstance(message.id, str) else message.id[0]


def _untranslated(language: str, wanted) -> list[str]:
    catalogue = {
        _message_id(m): m
        for m in read_po((CATALOGUES / language / "LC_MESSAGES" / "messages.po").open("rb"), locale=language)
        if m.id
    }

    def translated(text: str) -> bool:
        entry = catalogue.get(text)
        strings = entry.string if entry and isinstance(entry.string, (list, tuple)) else [getattr(entry, "string", "")]
        return entry is not None and not entry.fuzzy and all(strings)

    return sorted(text for text in wanted if not translated(text))


def test_every_string_in_the_code_has_a_french_translation(strings_in_the_code):
    untranslated = _untranslated("fr", strings_in_the_code)
    assert untranslated == [], "run `make translations` and translate these:\n" + "\n".join(untranslated)


@pytest.mark.parametrize("language", ["es", "ar"])
def test_every_string_a_delegate_or_door_person_sees_is_translated(strings_in_the_code, language):
    wanted = [
        text for text, paths in strings_in_the_code.items() if any(DELEGATE_AND_DOOR.match(path) for path in paths)
    ]
    assert len(wanted) > 250  # the classifier still finds the delegate's and the door's files
    untranslated = _untranslated(language, wanted)
    assert untranslated == [], f"run `make translations` and translate these in {language}:\n" + "\n".join(untranslated)


def test_the_catalogue_check_notices_a_missing_translation(strings_in_the_code):
    assert _untranslated("es", ["A sentence nobody has translated"]) == ["A sentence nobody has translated"]


@pytest.fixture
def french_session(make_session):
    meeting = make_session(
        first_day=datetime.now(ZoneInfo("Europe/Brussels")).date(), title="Session mondiale", venue="Bruxelles"
    )
    for term, name in zip(meeting.entity_types, ["Bureau régional", "Centre de formation", "Invité"]):
        term.name = name
    for term, name in zip(meeting.regions, ["Europe", "Afrique occidentale et centrale"]):
        term.name = name
    db.session.commit()
    return meeting


def _visible_text(html: str) -> str:
    html = re.sub(r"<(script|style)[^>]*>.*?</\1>", " ", html, flags=re.S)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def _french(client):
    client.set_cookie("lang", "fr")


def test_delegate_pages_in_french_show_no_english(client, french_session, make_registration, login):
    _french(client)
    meeting = french_session
    registration = make_registration(
        meeting, full_name="Amélie Dubois", organisation="Bureau régional Europe", mode=Mode.ONLINE
    )
    pages = {
        "home": client.get("/"),
        "form": client.get(f"/sessions/{meeting.slug}/register"),
        "form with errors": client.post(
            f"/sessions/{meeting.slug}/register", data={"csrf_token": csrf_token(client, "/"), "email": "x"}
        ),
        "own page": client.get(f"/me/{registration.access_key}"),
        "not found": client.get("/no-such-page"),
        "verify unknown": client.get("/verify/NOPE"),
        "no certificate": client.get(f"/me/{registration.access_key}/certificate.pdf"),
    }
    for name, response in pages.items():
        text = _visible_text(response.get_data(as_text=True)).replace("English", "")
        assert not ENGLISH.search(text), f"{name}: “{ENGLISH.search(text).group(0)}” in: {text[:400]}"
    assert "S’inscrire" in pages["form"].get_data(as_text=True)
    assert "Indiquez votre nom complet." in pages["form with errors"].get_data(as_text=True)
    assert 'lang="fr"' in pages["own page"].get_data(as_text=True)


def test_scanner_page_in_french(client, login, french_session):
    login("door")
    _french(client)
    html = client.get(f"/sessions/{french_session.slug}/checkin").get_data(as_text=True)
    assert not ENGLISH.search(_visible_text(html).replace("English", ""))
    assert '"ok": "ENTR\\u00c9E ENREGISTR\\u00c9E"' in html or '"ok": "ENTRÉE ENREGISTRÉE"' in html


def test_the_language_switcher_is_remembered_and_accept_language_is_the_default(client, french_session):
    assert "Réunions ouvertes aux inscriptions" in client.get(
        "/", headers={"Accept-Language": "fr-BE,fr;q=0.9"}
    ).get_data(as_text=True)
    assert "Meetings open for registration" in client.get("/").get_data(as_text=True)
    response = client.post("/language", data={"lang": "fr", "next": "/", "csrf_token": csrf_token(client)})
    assert response.status_code == 302 and response.headers["Location"] == "/"
    assert "Réunions ouvertes aux inscriptions" in client.get("/").get_data(as_text=True)
    client.post("/language", data={"lang": "en", "next": "//evil.example.org", "csrf_token": csrf_token(client)})
    assert "Meetings open for registration" in client.get("/").get_data(as_text=True)


@pytest.mark.parametrize(
    "target",
    [
        "//evil.example.org",
        "/\t/evil.example.org",
        "/\\evil.example.org",
        "/\n/evil.example.org",
        "/sessions\r\nSet-Cookie: x=1",
        "https://evil.example.org/",
        "evil.example.org",
        "",
    ],
)
def test_the_language_switcher_never_sends_anyone_off_the_site(client, target):
    response = client.post("/language", data={"lang": "fr", "next": target, "csrf_token": csrf_token(client)})
    assert response.status_code == 302 and response.headers["Location"] == "/"


def test_the_language_switcher_keeps_a_path_on_the_site(client):
    response = client.post("/language", data={"lang": "fr", "next": "/me?x=1", "csrf_token": csrf_token(client)})
    assert response.headers["Location"] == "/me?x=1"


@pytest.mark.parametrize(
    "language, heading, direction",
    [("es", "Reuniones abiertas a inscripción", "ltr"), ("ar", "اجتماعات مفتوحة للتسجيل", "rtl")],
)
def test_spanish_and_arabic_are_offered_and_remembered(client, french_session, language, heading, direction):
    home = client.get("/").get_data(as_text=True)
    assert 'value="es"' in home and 'value="ar"' in home and "Español" in home and "العربية" in home
    client.post("/language", data={"lang": language, "next": "/", "csrf_token": csrf_token(client)})
    page = client.get(f"/sessions/{french_session.slug}/register").get_data(as_text=True)
    assert f'lang="{language}" dir="{direction}"' in page
    assert heading in client.get("/").get_data(as_text=True)


def test_a_language_that_is_not_enabled_falls_back_without_error(client, french_session):
    client.set_cookie("lang", "de")
    response = client.get("/", headers={"Accept-Language": "de-DE,de;q=0.9,pt;q=0.5"})
    assert response.status_code == 200 and "Meetings open for registration" in response.get_data(as_text=True)
    switched = client.post("/language", data={"lang": "xx-evil", "next": "/", "csrf_token": csrf_token(client)})
    assert switched.status_code == 302 and "lang=xx" not in switched.headers.get("Set-Cookie", "")
    assert 'lang="es"' in client.get("/", headers={"Accept-Language": "zz, es;q=0.1"}).get_data(as_text=True)


def test_a_delegate_registering_in_french_gets_french_email_badge_and_certificate(app, client, french_session):
    from attendance.auth import Actor
    from attendance.certificates.render import certificate_pdf
    from attendance.certificates.service import issue
    from attendance.checkin.rule import check_in
    from attendance.registration.badges import badge_pdf

    _french(client)
    meeting = french_session
    url = f"/sessions/{meeting.slug}/register"
    assert client.post(url, data=registration_form(meeting, csrf_token=csrf_token(client, url))).status_code == 302
    registration = db.session.scalar(sa.select(Registration))
    assert registration.locale == "fr"
    [name] = os.listdir(app.config["OUTBOX_DIR"])
    message = email.message_from_bytes(
        (Path(app.config["OUTBOX_DIR"]) / name).read_bytes(), policy=email.policy.default
    )
    assert message["Subject"].startswith("Inscription confirmée")
    assert "Bonjour Amélie Dubois" in message.get_body(("plain",)).get_content()
    assert "EN PERSONNE" in pdf_text(badge_pdf(registration))

    check_in(
        actor=Actor("user:0", "test", True),
        registration_id=registration.id,
        session_slug=meeting.slug,
        day=meeting.days[0].date,
    )
    for day in meeting.days:  # a certificate comes once the meeting is over
        day.date -= timedelta(days=400)
    db.session.commit()
    with app.test_request_context():
        certificate, result = issue(registration)
        db.session.commit()  # committed before rendering, as the download does
        text = pdf_text(certificate_pdf(certificate, result))
        assert "Certificat de participation" in text and "en personne" in text
        meeting.certificate_language = "en"  # the session may print every certificate in one language
        db.session.commit()
        assert "Certificate of attendance" in pdf_text(certificate_pdf(certificate, result))


def test_a_badge_sheet_prints_each_badge_in_its_delegates_language(client, login, french_session, make_registration):
    """The organiser's sheet (printed in English here) shows each badge as its delegate's own badge does."""
    from attendance.models import Role

    meeting = french_session
    make_registration(meeting, full_name="Amélie Dubois", locale="fr", role=Role.DELEGATE)
    make_registration(meeting, full_name="Ann Smith", locale="en", role=Role.DELEGATE, mode=Mode.ONLINE)
    login("organiser")
    pages = [
        page.extract_text()
        for page in PdfReader(
            io.BytesIO(export(client, f"/sessions/{meeting.slug}/badges.pdf").data), strict=True
        ).pages
    ]
    text = pages[0]
    assert "EN PERSONNE" in text and "Délégué" in text and "Belgique" in text
    assert "ONLINE" in text and "Delegate" in text and "Belgium" in text
    month = {language: format_date(meeting.days[0].date, "MMMM y", locale=language) for language in ("fr", "en")}
    assert month["fr"] in text and month["en"] in text
    assert "IN PERSON" not in text and "EN LIGNE" not in text


def test_dates_are_written_for_the_locale(app):
    from flask_babel import force_locale

    from attendance.formatting import format_days

    with app.test_request_context(), force_locale("fr"):
        assert format_days([date(2024, 2, 19), date(2024, 2, 20)]) == "19–20 février 2024"
        assert format_days([date(2026, 11, 28), date(2026, 11, 30)]) == "28 et 30 novembre 2026"  # not 28–30
    with app.test_request_context():
        assert (
            format_days([date(2026, 11, 28), date(2026, 11, 29), date(2026, 12, 1)])
            == "28 November 2026, 29 November 2026, and 1 December 2026"
        )
        assert format_days([date(2026, 11, 30), date(2026, 12, 1)]) == "30 November – 1 December 2026"
    with app.test_request_context(), force_locale("ar"):
        # Left-to-right marks keep the range in reading order: a bare dash between two numbers in right-to-left
        # text shows "20–19".
        assert format_days([date(2024, 2, 19), date(2024, 2, 20)]).startswith("19\u200e–\u200e20 ")


def test_a_right_to_left_language_turns_the_page(app):
    from flask_babel import force_locale

    from attendance.i18n import is_rtl

    with app.test_request_context():
        with force_locale("ar"):
            assert is_rtl()
        with force_locale("fr"):
            assert not is_rtl()


def test_organiser_pages_in_french_show_no_english(client, login, french_session, make_registration):
    meeting = french_session
    registration = make_registration(meeting, full_name="Amélie Dubois", organisation="Bureau régional Europe")
    login("organiser")
    _french(client)
    base = f"/sessions/{meeting.slug}"
    day = meeting.days[0].date.isoformat()
    pages = [
        "/staff",
        base + "/registrations",
        f"{base}/registrations/{registration.id}",
        "/sessions/new",
        base + "/edit",
        base + "/entity-types",
        base + "/regions",
        f"{base}/attendance?day={day}",
        base + "/scans",
        f"{base}/online?day={day}",
        base + "/imports",
        base + "/certificates",
        base + "/reports/headcount",
        "/staff/audit",
        base + "/registrations/new",
        base + "/registrations/import",
        base + "/invitations",
        f"{base}/registrations/{registration.id}/cancel",
        f"{base}/registrations/{registration.id}/reissue-badge",
        base + "/delete",
        "/checkin",
        "/login",
    ]
    for url in pages:
        response = client.get(url)
        assert response.status_code == 200, url
        text = _visible_text(response.get_data(as_text=True)).replace("English", "")
        assert not ENGLISH.search(text), f"{url}: “{ENGLISH.search(text).group(0)}” in: {text[:600]}"


def test_a_report_that_cannot_be_read_is_explained_in_french(client, login, french_session):
    login("organiser")
    _french(client)
    url = f"/sessions/{french_session.slug}/imports"
    response = client.post(
        url,
        data={"csrf_token": csrf_token(client, url), "report": (io.BytesIO(b"%PDF-1.7 not a report"), "rapport.pdf")},
        content_type="multipart/form-data",
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 400 and "Ce fichier est un document PDF, pas un rapport de présence" in page


def test_the_command_line_speaks_the_terminals_language(runner, app_ctx, monkeypatch):
    monkeypatch.delenv("LC_ALL", raising=False)
    monkeypatch.delenv("LC_MESSAGES", raising=False)
    monkeypatch.setenv("LANG", "fr_BE.UTF-8")
    assert "Jeton door n° " in runner.invoke(args=["token", "add", "Porte 2"]).output
    assert "aucune session ne s’appelle « nope »" in runner.invoke(args=["purge", "nope", "--older-than", "1"]).output
    monkeypatch.setenv("LANG", "de_DE.UTF-8")  # not offered: English
    assert "Created door token #" in runner.invoke(args=["token", "add", "Door 3"]).output


#: the headcount's column names and headings, which a French report must not show in English
HEADCOUNT_ENGLISH = [
    "Registered in person",
    "Registered online",
    "Attended in person",
    "Attended online only",
    "No-shows",
    "Total attended",
    "What the columns count",
    "Entity type",
    "Whole session",
]


def test_the_headcount_in_french_names_its_columns_in_french_in_every_format(
    client, login, french_session, make_registration
):
    from openpyxl import load_workbook

    make_registration(french_session, full_name="Amélie Dubois", mode=Mode.ONLINE)
    login("organiser")
    _french(client)
    base = f"/sessions/{french_session.slug}/reports/headcount"
    page = _visible_text(client.get(base).get_data(as_text=True))
    pdf = re.sub(r"\s+", " ", pdf_text(client.get(base + ".pdf").data))
    workbook = load_workbook(io.BytesIO(client.get(base + ".xlsx").data))
    cells = " ".join(
        str(cell.value) for sheet in workbook for row in sheet.iter_rows() for cell in row if cell.value is not None
    )
    for name, text in {"page": page, "PDF": pdf, "XLSX": cells}.items():
        assert [english for english in HEADCOUNT_ENGLISH if re.search(rf"\b{english}\b", text)] == [], name
        assert "Inscriptions en personne" in text and "Ce que comptent les colonnes" in text, name


def test_organiser_pages_in_french_explain_the_attendance_rule_in_french(
    client, login, french_session, make_registration
):
    registration = make_registration(french_session, full_name="Amélie Dubois", mode=Mode.ONLINE)
    login("organiser")
    _french(client)
    slug = french_session.slug
    certificates = client.get(f"/sessions/{slug}/certificates").get_data(as_text=True)
    online = client.get(f"/sessions/{slug}/online").get_data(as_text=True)
    own = client.get(f"/sessions/{slug}/registrations/{registration.id}").get_data(as_text=True)
    assert "rule: an online day counts" not in certificates and "règle" in certificates
    assert "A join-link click alone" not in online
    assert "Each day as the one attendance rule" not in own

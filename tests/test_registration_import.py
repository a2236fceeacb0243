"""Bulk import of a delegation list: upload, preview of each row, confirm, saved in one transaction."""

import html
import io
import os
import re
import zipfile
from datetime import date, timedelta

import pytest
import sqlalchemy as sa
from flask_babel import force_locale
from helpers import csrf_token
from openpyxl import Workbook

from attendance.extensions import db
from attendance.models import AuditEvent, Mode, Registration, RegistrationImport, RegistrationSource, Role
from attendance.organiser.registration_import import (
    ERROR,
    NEW,
    REGISTERED,
    ListError,
    StaleConfirmation,
    preview,
    preview_of,
    read_list,
    save,
    upload_list,
)

HEADER = "Full name;E-mail;Organisation;Country;Entity type;Region;Mode;Role"


@pytest.fixture
def meeting(make_session, make_registration):
    meeting = make_session()
    make_registration(meeting, full_name="Already Here", email="here@example.org")
    return meeting


def _delegation_csv(meeting, other_session) -> bytes:
    rocb, europe = meeting.entity_types[0].name, meeting.regions[0].name
    lines = [
        HEADER,
        f"Amélie Dubois;amelie@example.org;ROCB Europe;BE;{rocb};{europe};in person;Chair",
        f"Ольга Петрова;olga@example.org;RILO CIS;Russia;{rocb.upper()};{europe};Online;",
        f"Someone Registered;HERE@example.org;ROCB Europe;BE;{rocb};{europe};online;",
        f"Wrong Type;wrong@example.org;ROCB Europe;BE;{other_session.entity_types[0].name}-X;{europe};online;",
        f"Amélie Again;amelie@example.org;ROCB Europe;BE;{rocb};{europe};online;",
        f'=HYPERLINK("http://evil.example","Click");formula@example.org;@SUM(A1);BE;{rocb};{europe};online;',
        f";;;XX;{rocb};Nowhere;by pigeon;Emperor",
    ]
    return ("\ufeff" + "\r\n".join(lines) + "\r\n").encode()


def _upload(client, meeting, content: bytes, filename: str = "delegation.csv"):
    url = f"/sessions/{meeting.slug}/registrations/import"
    return client.post(
        url,
        data={"csrf_token": csrf_token(client, url), "delegates": (io.BytesIO(content), filename)},
        content_type="multipart/form-data",
    )


def _confirm(client, meeting, response, **extra):
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    fingerprint = re.search(r'name="fingerprint" value="([0-9a-f]+)"', html).group(1)
    url = response.headers["Location"]
    return client.post(url, data={"csrf_token": csrf_token(client, url), "fingerprint": fingerprint, **extra})


def _count() -> int:
    return db.session.scalar(sa.select(sa.func.count(Registration.id)))


def test_preview_judges_each_row_and_saves_nothing(client, login, meeting, make_session):
    other = make_session()
    login("organiser")
    response = _upload(client, meeting, _delegation_csv(meeting, other))
    assert response.status_code == 302
    assert _count() == 1  # nothing saved by uploading
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    statuses = re.findall(r'<tr class="import-(\w+)">\s*<td>(\d+)</td>', html)
    assert statuses == [
        (NEW, "2"),
        (NEW, "3"),
        (REGISTERED, "4"),
        (ERROR, "5"),
        (ERROR, "6"),
        (ERROR, "7"),
        (ERROR, "8"),
    ]
    assert "Ольга Петрова" in html
    assert "Already registered as Already Here" in html
    assert "Choose one of this session&#39;s entity types." in html
    assert "This e-mail address is already on line 2 of this list." in html
    assert "starts like a spreadsheet formula" in html
    for reason in (
        "Enter the person&#39;s full name.",
        "Enter the organisation they represent.",
        "Choose a country",
        "Choose one of this session&#39;s regions.",
        "Choose in_person or online.",
        "Choose a role",
    ):
        assert reason in html, reason
    assert "Save 2 new registrations" in html


def test_confirming_saves_every_new_row_once_audited_without_mail(app, client, login, meeting, make_session):
    other = make_session()
    login("organiser")
    content = _delegation_csv(meeting, other)
    response = _upload(client, meeting, content)
    saved = _confirm(client, meeting, response)
    assert saved.status_code == 302
    imported = db.session.scalars(
        sa.select(Registration).filter_by(source=RegistrationSource.IMPORT).order_by(Registration.id)
    ).all()
    assert [(r.full_name, r.email, r.country, r.mode, r.role) for r in imported] == [
        ("Amélie Dubois", "amelie@example.org", "BE", Mode.IN_PERSON, Role.CHAIR),
        ("Ольга Петрова", "olga@example.org", "RU", Mode.ONLINE, Role.DELEGATE),
    ]
    assert imported[1].entity_type == meeting.entity_types[0]  # named in capitals: the same type
    [event] = db.session.scalars(sa.select(AuditEvent).filter_by(action="registrations.import")).all()
    assert event.details == "2 added, 1 already registered, 4 with errors skipped"
    assert os.listdir(app.config["OUTBOX_DIR"]) == []  # the checkbox is off by default
    # importing the same file again adds nobody
    again = _upload(client, meeting, content)
    html = client.get(again.headers["Location"]).get_data(as_text=True)
    assert "Save 0 new registrations" in html
    _confirm(client, meeting, again)
    assert _count() == 3


def test_confirmation_mails_go_out_when_ticked(app, client, login, meeting, make_session):
    login("organiser")
    response = _upload(client, meeting, _delegation_csv(meeting, make_session()))
    _confirm(client, meeting, response, send_confirmations="y")
    assert len(os.listdir(app.config["OUTBOX_DIR"])) == 2


def test_a_forged_confirmation_saves_nothing(client, login, meeting, make_session):
    login("organiser")
    response = _upload(client, meeting, _delegation_csv(meeting, make_session()))
    url = response.headers["Location"]
    answer = client.post(url, data={"csrf_token": csrf_token(client, url), "fingerprint": "0" * 64})
    assert answer.status_code == 409
    assert "Nothing was saved" in answer.get_data(as_text=True)
    assert _count() == 1
    assert db.session.scalar(sa.select(sa.func.count(AuditEvent.id))) == 0


def test_a_stale_confirmation_saves_nothing(client, login, meeting, make_session, make_registration):
    login("organiser")
    response = _upload(client, meeting, _delegation_csv(meeting, make_session()))
    url = response.headers["Location"]
    html = client.get(url).get_data(as_text=True)
    fingerprint = re.search(r'name="fingerprint" value="([0-9a-f]+)"', html).group(1)
    make_registration(meeting, email="olga@example.org")  # registered herself meanwhile
    answer = client.post(url, data={"csrf_token": csrf_token(client, url), "fingerprint": fingerprint})
    assert answer.status_code == 409
    assert _count() == 2  # Amélie was not saved either
    assert "Save 1 new registration" in answer.get_data(as_text=True)  # the preview as it is now


def test_the_file_changed_saves_nothing(app_ctx, meeting, make_session):
    good = _delegation_csv(meeting, make_session())
    upload = upload_list(meeting, "list.csv", good, "organiser@example.org")
    from attendance.organiser.registration_import import fingerprint

    seen = fingerprint(upload, preview_of(meeting, upload))
    upload.content = good.replace(b"amelie@example.org", b"someone.else@example.org")  # not what was previewed
    with pytest.raises(StaleConfirmation):
        save(meeting, upload, seen, "organiser@example.org")
    assert _count() == 1


def test_an_import_saved_once_cannot_be_saved_again(app_ctx, meeting, make_session):
    upload = upload_list(meeting, "list.csv", _delegation_csv(meeting, make_session()), "organiser@example.org")
    from attendance.organiser.registration_import import fingerprint

    seen = fingerprint(upload, preview_of(meeting, upload))
    assert len(save(meeting, upload, seen, "organiser@example.org")) == 2
    with pytest.raises(StaleConfirmation):
        save(meeting, upload, seen, "organiser@example.org")
    assert _count() == 3


def _xlsx(rows: list[list]) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def test_xlsx_lists_are_read_and_formula_cells_refused(app_ctx, meeting):
    rocb, europe = meeting.entity_types[0].name, meeting.regions[0].name
    content = _xlsx(
        [
            ["Full name", "Email", "Organization", "Country", "Entity type", "Region", "Mode"],
            ["Wang Wei 王伟", "wang@example.org", "RILO Asia Pacific", "CN", rocb, europe, "online"],
            ['=CONCAT("a","b")', "calc@example.org", "ROCB", "BE", rocb, europe, "online"],
            [None, None, None, None, None, None, None],
            ["Kofi Mensah", "kofi@example.org", 12345, "GH", rocb, europe, "in-person"],
        ]
    )
    rows = preview(meeting, read_list("list.xlsx", content))
    assert [(row.line, row.status) for row in rows] == [(2, NEW), (3, ERROR), (5, NEW)]
    assert "formula" in rows[1].errors["full_name"]
    assert rows[2].entry.organisation == "12345" and rows[2].entry.mode == "in_person"


def test_comma_separated_without_bom(app_ctx, meeting):
    rocb, europe = meeting.entity_types[0].name, meeting.regions[0].name
    content = (
        f"name,email,organisation,country,entity type,region,mode\n"
        f'"Dubois, Amélie",a@example.org,ROCB Europe,Belgique,{rocb},{europe},online\n'
    ).encode()
    [row] = preview(meeting, read_list("list.csv", content))
    assert row.status == NEW and row.entry.full_name == "Dubois, Amélie" and row.entry.country == "BE"


def _zip_bomb() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/sharedStrings.xml", b" " * (50 * 1024 * 1024))
    return out.getvalue()


@pytest.mark.parametrize(
    "content, reason",
    [
        (b"Full name;E-mail\nA;a@example.org\n", "The list has no column “Organisation”"),
        ("Full name;E-mail\nJosé;j@example.org\n".encode("latin-1"), "not UTF-8"),
        (b"%PDF-1.7 ...", "no column"),
        (b"PK\x03\x04 not really a zip", "not an Excel workbook"),
        (b"", "empty"),
        (b"x" * (1024 * 1024 + 1), "larger than"),
        (HEADER.encode() + b"\n", "no delegates"),
        (HEADER.encode() + b"\n" + b'A;"' + b"x" * 200_000 + b'"\n', "not a CSV list we can read"),
        (_zip_bomb(), "unpacks to more"),
    ],
)
def test_files_that_are_not_lists_are_refused_with_a_reason(content, reason):
    with pytest.raises(ListError, match=reason):
        read_list("list.csv", content)


def test_an_unreadable_upload_re_renders_the_form_and_keeps_nothing(client, login, meeting):
    login("organiser")
    response = _upload(client, meeting, b"Full name;E-mail\nA;a@example.org\n")
    assert response.status_code == 400
    assert "The list has no column" in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count(RegistrationImport.id))) == 0


def test_another_sessions_import_is_not_found(client, login, meeting, make_session):
    other = make_session()
    login("organiser")
    response = _upload(client, meeting, _delegation_csv(meeting, other))
    import_id = response.headers["Location"].rsplit("/", 1)[1]
    assert client.get(f"/sessions/{other.slug}/registrations/import/{import_id}").status_code == 404


def test_door_staff_cannot_import(client, login, meeting):
    login("door")
    assert client.get(f"/sessions/{meeting.slug}/registrations/import").status_code == 403


def test_a_purge_deletes_the_lists_and_a_purged_session_takes_none(runner, app_ctx, make_session):
    meeting = make_session(first_day=date.today() - timedelta(days=100))
    upload_list(meeting, "list.csv", _delegation_csv(meeting, make_session()), "organiser@example.org")
    assert runner.invoke(args=["purge", meeting.slug, "--older-than", "90"]).exit_code == 0
    assert db.session.scalars(sa.select(RegistrationImport)).all() == []
    db.session.expire_all()
    with pytest.raises(ListError, match="was purged on"):
        upload_list(meeting, "list.csv", b"anything", "organiser@example.org")


# ---- in the organiser's language ----


def test_an_organiser_working_in_french_imports_a_list_in_french(client, login, meeting, make_session):
    """The page, each row's reasons, the button and the outcome in French; names and typed values as given."""
    login("organiser")
    client.set_cookie("lang", "fr")
    page = html.unescape(client.get(f"/sessions/{meeting.slug}/registrations/import").get_data(as_text=True))
    assert "Importer une liste de délégation" in page and "Listes précédentes" in page
    assert "<strong>Nom complet</strong>, <strong>Courriel</strong>" in page  # the headings to write, in French
    assert "mode <code>En personne</code> ou <code>En ligne</code>" in page

    response = _upload(client, meeting, _delegation_csv(meeting, make_session()))  # English headings
    assert response.status_code == 302
    preview = html.unescape(client.get(response.headers["Location"]).get_data(as_text=True))
    rows = dict(re.findall(r'<tr class="import-\w+">\s*<td>(\d+)</td>(.*?)</tr>', preview, re.S))
    assert "Déjà inscrit·e sous le nom Already Here : ligne ignorée." in rows["4"]
    assert "<strong>Courriel :</strong> Cette adresse e-mail figure déjà à la ligne 2 de cette liste." in rows["6"]
    assert "<strong>Rôle :</strong> Choisissez un rôle : Président·e, Vice-président·e" in rows["8"]
    assert "<strong>Type d’entité :</strong> Choisissez l’un des types d’entité de cette session." in rows["5"]
    assert "Ольга Петрова" in rows["3"] and "En ligne" in rows["3"]
    assert "Enregistrer 2 nouvelles inscriptions" in preview
    assert "This e-mail address" not in preview and "Already registered" not in preview

    saved = _confirm(client, meeting, response)
    page = html.unescape(client.get(saved.headers["Location"]).get_data(as_text=True))
    assert (
        "Enregistré : 2 inscriptions ajoutées, 1 personne déjà inscrite, 4 lignes avec erreurs ignorées. "
        "Aucune confirmation n’a été envoyée par courriel."
    ) in page
    assert [
        r.locale for r in db.session.scalars(sa.select(Registration).filter_by(source=RegistrationSource.IMPORT))
    ] == [
        "fr",
        "fr",
    ]


def test_a_list_that_cannot_be_read_is_explained_in_french(client, login, meeting):
    login("organiser")
    client.set_cookie("lang", "fr")
    response = _upload(client, meeting, b"Nom complet;Courriel\nAna;ana@example.org\n")
    page = html.unescape(response.get_data(as_text=True))
    assert response.status_code == 400
    assert (
        "La liste n’a pas de colonne « Organisation », « Pays », « Type d’entité », « Région » et « Mode ». "
        "La première ligne doit nommer les colonnes : Nom complet, Courriel, Organisation, Pays, Type d’entité, "
        "Région, Mode et Rôle (facultatif)."
    ) in page
    assert "Le fichier est vide." in html.unescape(_upload(client, meeting, b"").get_data(as_text=True))


FRENCH_HEADER = "Nom complet;Courriel;Organisation;Pays;Type d’entité;Région;Mode;Rôle"


@pytest.mark.parametrize("page_language", ["en", "fr", "es"])
@pytest.mark.parametrize("header", [HEADER, FRENCH_HEADER], ids=["English headings", "French headings"])
def test_a_list_is_read_by_its_english_or_french_headings_whatever_the_pages_language(
    app_ctx, meeting, page_language, header
):
    """The French upload page asks for French headings, modes and roles; a list made for the English page reads
    the same whatever the organiser's language, and one made for the French page reads on the English page."""
    rocb, europe = meeting.entity_types[0].name, meeting.regions[0].name
    content = (
        f"{header}\n"
        f"Amélie Dubois;amelie@example.org;ROCB Europe;Belgique;{rocb};{europe};En personne;Président·e\n"
        f"Kofi Mensah;kofi@example.org;RILO;GH;{rocb};{europe};online;Vice-Chair\n"
    ).encode()
    with force_locale(page_language):
        rows = preview(meeting, read_list("liste.csv", content))
    assert [(r.status, r.entry.full_name, r.entry.email, r.entry.country, r.entry.mode, r.role) for r in rows] == [
        (NEW, "Amélie Dubois", "amelie@example.org", "BE", "in_person", "chair"),
        (NEW, "Kofi Mensah", "kofi@example.org", "GH", "online", "vice_chair"),
    ]


@pytest.mark.parametrize(
    "role, mode, expected",
    [
        ("Délégué", "Présentiel", ("delegate", "in_person")),
        ("Observatrice", "à distance", ("observer", "online")),
        ("Vice-président", "En ligne", ("vice_chair", "online")),
        ("Delegada", "Presencial", ("delegate", "in_person")),
        ("Presidente", "en línea", ("chair", "online")),
        ("المندوبة", "حضوريا", ("delegate", "in_person")),
    ],
)
def test_a_role_is_read_in_either_form_of_its_inclusive_name(app_ctx, meeting, role, mode, expected):
    """The pages write roles inclusively (Délégué·e, Delegado/a); people type one form or the other."""
    rocb, europe = meeting.entity_types[0].name, meeting.regions[0].name
    content = f"{FRENCH_HEADER}\nAna Lima;ana@example.org;ROCB;BR;{rocb};{europe};{mode};{role}\n".encode()
    [row] = preview(meeting, read_list("liste.csv", content))
    assert (row.status, row.role, row.entry.mode) == (NEW, *expected)

"""Self-registration: the form, its rules, and the delegate's own page."""

import contextlib
import email
import os
import re
import threading
from datetime import timedelta

import pytest
import sqlalchemy as sa
from helpers import csrf_token, registration_form

from attendance.clock import utcnow
from attendance.extensions import db
from attendance.models import Mode, Registration, RegistrationPolicy, RegistrationStatus
from attendance.registration.service import AlreadyRegistered, Delegate, InPersonFull, register
from attendance.tokens import BADGE_ALPHABET
from attendance.transaction import unit_of_work


def post_registration(client, meeting, **overrides):
    url = f"/sessions/{meeting.slug}/register"
    data = registration_form(meeting, csrf_token=csrf_token(client, url))
    data.update(overrides)
    return client.post(url, data=data)


def registration_count() -> int:
    return db.session.scalar(sa.select(sa.func.count(Registration.id)))


def outbox(app) -> list[email.message.EmailMessage]:
    folder = app.config["OUTBOX_DIR"]
    return [
        email.message_from_bytes(open(os.path.join(folder, name), "rb").read(), policy=email.policy.default)
        for name in sorted(os.listdir(folder))
    ]


def test_home_lists_open_sessions_with_links_to_their_forms(client, make_session):
    open_session = make_session()
    closed = make_session(
        registration_closes_at=utcnow() - timedelta(hours=1), registration_opens_at=utcnow() - timedelta(days=3)
    )
    html = client.get("/").get_data(as_text=True)
    assert f'href="/sessions/{open_session.slug}/register"' in html
    assert closed.title not in html


def test_home_leaves_out_invitation_only_sessions(client, make_session):
    """Their form refuses strangers; invitees come through their personal links."""
    by_invitation = make_session(title="Heads of Delegation Retreat", registration_policy=RegistrationPolicy.INVITATION)
    with_approval = make_session(title="Observers Briefing", registration_policy=RegistrationPolicy.APPROVAL)
    html = client.get("/").get_data(as_text=True)
    assert by_invitation.title not in html and f"/sessions/{by_invitation.slug}/register" not in html
    assert f'href="/sessions/{with_approval.slug}/register"' in html


def test_registering_in_person_leads_to_own_page_with_badge_qr(app, client, make_session):
    meeting = make_session()
    response = post_registration(client, meeting)
    assert response.status_code == 302
    match = re.fullmatch(r"/me/([A-Za-z0-9_-]{40,})", response.headers["Location"])
    assert match
    page = client.get(response.headers["Location"])
    html = page.get_data(as_text=True)
    assert "Amélie Dubois" in html and "In person" in html
    assert "<svg" in html and 'class="qr"' in html
    assert f"/me/{match.group(1)}/badge.pdf" in html
    assert "/join/" in html  # in-person delegates can still join online if plans change
    assert page.headers["Referrer-Policy"] == "no-referrer"

    registration = db.session.scalar(sa.select(Registration))
    assert registration.mode is Mode.IN_PERSON and registration.access_key == match.group(1)


def test_confirmation_email_carries_personal_link_and_badge(app, client, make_session):
    meeting = make_session()
    post_registration(client, meeting, mode="online")
    registration = db.session.scalar(sa.select(Registration))
    [message] = outbox(app)
    assert message["To"] == "amelie.dubois@example.org"
    body = message.get_body(("plain",)).get_content()
    assert f"/me/{registration.access_key}" in body
    assert f"/join/{registration.access_key}" in body
    attachment, calendar = list(message.iter_attachments())
    assert attachment.get_filename() == "badge.pdf"
    assert attachment.get_content().startswith(b"%PDF")
    assert calendar.get_filename() == "calendar.ics" and calendar.get_content_type() == "text/calendar"


def test_online_delegate_join_link_leads_to_meeting(client, make_session, make_registration):
    from datetime import datetime
    from zoneinfo import ZoneInfo

    meeting = make_session(first_day=datetime.now(ZoneInfo("Europe/Brussels")).date())
    registration = make_registration(meeting, mode=Mode.ONLINE)
    response = client.get(f"/join/{registration.access_key}")
    assert response.status_code == 302
    assert response.headers["Location"] == meeting.online_meeting_url
    assert response.headers["Referrer-Policy"] == "no-referrer"


@pytest.mark.parametrize("first_day_offset, offered", [(30, True), (-1, True), (-2, False), (-400, False)])
def test_the_own_page_offers_the_join_link_until_the_meeting_ends(
    client, make_session, make_registration, first_day_offset, offered
):
    from datetime import datetime
    from zoneinfo import ZoneInfo

    today = datetime.now(ZoneInfo("Europe/Brussels")).date()
    meeting = make_session(first_day=today + timedelta(days=first_day_offset))  # two days
    registration = make_registration(meeting, mode=Mode.ONLINE)
    html = client.get(f"/me/{registration.access_key}").get_data(as_text=True)
    assert (f"/join/{registration.access_key}" in html) is offered
    assert ("Join the meeting online" in html) is offered


def test_the_own_page_shows_the_whole_badge_code_in_groups_of_four(client, make_session, make_registration):
    registration = make_registration(make_session())
    token = registration.badge_token
    html = client.get(f"/me/{registration.access_key}").get_data(as_text=True)
    assert f"{token[:4]} {token[4:8]} {token[8:12]} {token[12:16]} {token[16:20]} {token[20:24]} {token[24:]}" in html


def test_badge_token_and_access_key_are_separate_unguessable_secrets(make_session, make_registration):
    meeting = make_session()
    a, b = make_registration(meeting), make_registration(meeting)
    for registration in (a, b):
        assert len(registration.badge_token) >= 26  # 26 x 5 bits = 130 bits
        assert set(registration.badge_token) <= set(BADGE_ALPHABET) <= set("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ")
        assert registration.badge_token not in registration.access_key
        assert len(registration.access_key) >= 40
    assert a.badge_token != b.badge_token and a.access_key != b.access_key


@pytest.mark.parametrize(
    "field, value, message",
    [
        ("full_name", "", "Enter your full name."),
        ("full_name", "   ", "Enter your full name."),
        ("full_name", "\u200b\u200b", "Enter your full name."),  # zero-width spaces: nothing to print on a badge
        ("organisation", "\ufeff\u200e ", "Enter the organisation you represent."),
        ("full_name", "x" * 201, "Use at most 200 characters."),
        ("email", "not-an-email", "Enter a valid email address"),
        ("email", "", "Enter your email address."),
        ("organisation", "", "Enter the organisation you represent."),
        ("country", "XX", "Choose a country from the list."),
        ("country", "", "Choose your country."),
        ("entity_type", "999999", "Choose an entity type from the list."),
        ("entity_type", "abc", "Choose an entity type from the list."),
        ("region", "", "Choose your region."),
        ("mode", "teleport", "Not a valid choice"),
        ("consent", "", "You need to agree to this to register."),
    ],
)
def test_bad_input_re_renders_the_form_with_a_message_and_saves_nothing(client, make_session, field, value, message):
    meeting = make_session()
    response = post_registration(client, meeting, **{field: value})
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert message in html
    assert 'value="amelie.dubois@example.org"' in html or field == "email"  # what was typed is kept
    assert ('<option selected value="BE">Belgium</option>' in html) == (field != "country")  # chosen: kept
    assert registration_count() == 0


def test_a_name_of_200_characters_in_any_script_is_accepted(client, make_session):
    meeting = make_session()
    name = ("محمد " * 40)[:200]
    assert post_registration(client, meeting, full_name=name).status_code == 302
    assert db.session.scalar(sa.select(Registration.full_name)) == name.strip()


def test_entity_type_of_another_session_is_refused(client, make_session):
    meeting, other = make_session(), make_session()
    response = post_registration(client, meeting, entity_type=str(other.entity_types[0].id))
    assert response.status_code == 400
    assert "Choose an entity type from the list." in response.get_data(as_text=True)
    assert registration_count() == 0


def test_script_tags_are_shown_as_text(client, make_session):
    meeting = make_session()
    response = post_registration(client, meeting, full_name="<script>alert(1)</script>", organisation="<b>ROCB</b>")
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "&lt;b&gt;ROCB&lt;/b&gt;" in html


def test_forged_csrf_token_is_refused_and_nothing_saved(client, make_session):
    meeting = make_session()
    response = post_registration(client, meeting, csrf_token="forged")
    assert response.status_code == 400
    assert registration_count() == 0
    response = client.post(f"/sessions/{meeting.slug}/register", data=registration_form(meeting))
    assert response.status_code == 400
    assert registration_count() == 0


def test_same_email_in_other_case_is_told_and_offered_the_link_again(app, client, make_session):
    meeting = make_session()
    post_registration(client, meeting)
    response = post_registration(client, meeting, email="Amelie.DUBOIS@example.org", full_name="Someone Else")
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "already registered for this session" in html
    assert "Email me my link again" in html
    assert "/me/" not in html  # a stranger typing the address learns no link
    assert registration_count() == 1

    before = len(outbox(app))
    resent = client.post(
        f"/sessions/{meeting.slug}/resend",
        data={"email": "AMELIE.dubois@example.org", "csrf_token": csrf_token(client)},
    )
    assert resent.status_code == 200
    messages = outbox(app)
    assert len(messages) == before + 1
    assert messages[-1]["To"] == "amelie.dubois@example.org"  # the registered address, not the typed one


def test_a_cancelled_delegate_asking_for_the_link_gets_it_without_a_badge(app, client, make_session, make_registration):
    meeting = make_session()
    registration = make_registration(meeting, mode=Mode.IN_PERSON, status=RegistrationStatus.CANCELLED)
    client.post(
        f"/sessions/{meeting.slug}/resend", data={"email": registration.email, "csrf_token": csrf_token(client)}
    )
    [message] = outbox(app)
    body = message.get_body(("plain",)).get_content()
    assert "is cancelled, so it has no badge" in body and f"/me/{registration.access_key}" in body
    assert "You will attend" not in body and "badge is attached" not in body
    assert [part.get_filename() for part in message.iter_attachments()] == []


def test_a_confirmation_reads_as_before(app, client, make_session):
    post_registration(client, make_session())
    body = outbox(app)[-1].get_body(("plain",)).get_content()
    assert body.startswith("Dear Amélie Dubois,\n\nYou are registered for ")
    assert body.rstrip().endswith("open your own registration.\n\nThe secretariat")


def test_resend_for_an_unknown_address_looks_the_same_and_sends_nothing(app, client, make_session):
    meeting = make_session()
    response = client.post(
        f"/sessions/{meeting.slug}/resend", data={"email": "nobody@example.org", "csrf_token": csrf_token(client)}
    )
    assert response.status_code == 200
    assert "If that address is registered" in response.get_data(as_text=True)
    assert outbox(app) == []


def test_same_email_may_register_for_another_session(client, make_session):
    first, second = make_session(), make_session()
    assert post_registration(client, first).status_code == 302
    assert post_registration(client, second).status_code == 302


def test_full_in_person_seats_offer_online_instead(client, make_session, make_registration):
    meeting = make_session(in_person_capacity=1)
    make_registration(meeting, mode=Mode.IN_PERSON)
    html = client.get(f"/sessions/{meeting.slug}/register").get_data(as_text=True)
    assert "All in-person seats are taken" in html
    assert re.search(r'<input[^>]*checked[^>]*value="online"|<input[^>]*value="online"[^>]*checked', html)

    response = post_registration(client, meeting, mode="in_person")
    assert response.status_code == 400
    assert "In-person seats are now full" in response.get_data(as_text=True)
    assert post_registration(client, meeting, mode="online").status_code == 302


def test_cancelled_registrations_free_their_seat(client, make_session, make_registration):
    meeting = make_session(in_person_capacity=1)
    make_registration(meeting, status=RegistrationStatus.CANCELLED)
    assert post_registration(client, meeting, mode="in_person").status_code == 302


@pytest.mark.parametrize(
    "opens, closes, text",
    [
        (timedelta(days=2), timedelta(days=5), "Registration is not open yet"),
        (timedelta(days=-5), timedelta(days=-1), "Registration for this session is closed"),
    ],
)
def test_registration_outside_its_window_says_so(client, make_session, opens, closes, text):
    meeting = make_session(registration_opens_at=utcnow() + opens, registration_closes_at=utcnow() + closes)
    assert text in client.get(f"/sessions/{meeting.slug}/register").get_data(as_text=True)
    response = client.post(
        f"/sessions/{meeting.slug}/register", data=registration_form(meeting, csrf_token=csrf_token(client))
    )
    assert text in response.get_data(as_text=True)
    assert registration_count() == 0


@pytest.mark.parametrize("vocabulary", ["entity_types", "regions"])
def test_a_session_without_entity_types_or_regions_is_not_offered(client, login, make_session, vocabulary):
    """A session of a new series starts with neither: its form could never be sent, so it is not open yet."""
    meeting = make_session()
    form = registration_form(meeting, csrf_token=csrf_token(client))
    getattr(meeting, vocabulary).clear()
    db.session.commit()
    assert f"/sessions/{meeting.slug}/register" not in client.get("/").get_data(as_text=True)
    for response in (
        client.get(f"/sessions/{meeting.slug}/register"),
        client.post(f"/sessions/{meeting.slug}/register", data=form),
    ):
        assert "the organisers are still setting this session up" in response.get_data(as_text=True)
    assert registration_count() == 0
    login("organiser")
    assert "not ready: add entity types and regions" in client.get("/staff").get_data(as_text=True)


def test_unknown_session_is_404(client):
    assert client.get("/sessions/no-such-session/register").status_code == 404


@pytest.mark.parametrize("key", ["short", "x" * 43, "x" * 200, "../../etc/passwd", "%00"])
def test_tampered_or_unknown_access_key_is_a_plain_404(client, make_session, make_registration, key):
    registration = make_registration(make_session())
    tampered = registration.access_key[:-1] + ("A" if registration.access_key[-1] != "A" else "B")
    for bad in (key, tampered):
        for suffix in ("", "/badge.pdf"):
            response = client.get(f"/me/{bad}{suffix}")
            assert response.status_code == 404
            assert registration.full_name not in response.get_data(as_text=True)


def test_domain_register_refuses_duplicates_and_full_seats(make_session):
    meeting = make_session(in_person_capacity=1)
    delegate = Delegate(
        "A B", "a@example.org", "Org", "BE", meeting.entity_types[0].id, meeting.regions[0].id, Mode.IN_PERSON
    )
    register(meeting, delegate)
    db.session.commit()  # each registration is a request of its own
    with pytest.raises(AlreadyRegistered):
        register(meeting, Delegate(**{**vars(delegate), "email": "A@Example.org", "mode": Mode.ONLINE}))
    with pytest.raises(InPersonFull):
        register(meeting, Delegate(**{**vars(delegate), "email": "c@example.org"}))
    assert registration_count() == 1


@pytest.mark.parametrize(
    "first, second",
    [
        ("пользователь@пример.рф", "Пользователь@XN--E1AFMKFD.XN--P1AI"),
        ("pat@xn--mnchen-3ya.de", "PAT@MÜNCHEN.DE"),
        ("a@faß.de", "A@xn--fa-hia.de"),
    ],
)  # today's IDNA: faß.de is not fass.de
def test_an_internationalised_domain_is_one_address_in_either_spelling(client, make_session, first, second):
    meeting = make_session()
    delegate = Delegate("A B", first, "Org", "BE", meeting.entity_types[0].id, meeting.regions[0].id, Mode.ONLINE)
    register(meeting, delegate)
    db.session.commit()  # as the request that registered does
    with pytest.raises(AlreadyRegistered):
        register(meeting, Delegate(**{**vars(delegate), "email": second}))
    from attendance.registration.service import find_by_email

    assert find_by_email(meeting, second).email == first  # "email me my link again" finds it either way
    if "ß" in first:  # and a domain that IDNA 2003 would have folded into it is another address
        register(meeting, Delegate(**{**vars(delegate), "email": "a@fass.de"}))
        assert registration_count() == 2


@contextlib.contextmanager
def database_before(revision: str, tmp_path, registrations: list[dict]):
    """An app whose database has the schema of `revision` and a session with these registrations, each with a
    check-in, a certificate and a scan (what hangs on a registration by a foreign key), written with the columns
    that schema has (today's model may have more); the test then runs the later migrations."""
    from datetime import date, time
    from types import SimpleNamespace

    from flask_migrate import downgrade, upgrade

    from attendance import create_app
    from attendance.tokens import new_access_key, new_badge_token

    # Extensions are shared between apps (the limiter takes this app's settings): configured as the suite's app.
    old = create_app(
        {
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'old.sqlite3'}",
            "RATELIMIT_ENABLED": False,
            "SMTP_HOST": "",
            "OUTBOX_DIR": str(tmp_path / "outbox"),
        }
    )
    with old.app_context():
        upgrade(revision=revision)
        # The session too is written with that schema's columns: today's model may have more.
        tables = {
            name: sa.Table(name, sa.MetaData(), autoload_with=db.engine)
            for name in (
                "meeting_series",
                "meeting_sessions",
                "entity_types",
                "regions",
                "session_days",
                "registrations",
                "attendances",
                "certificates",
                "scan_events",
            )
        }

        def insert(table: str, **values) -> int:
            return db.session.execute(sa.insert(tables[table]).values(**values)).inserted_primary_key[0]

        series_id = insert("meeting_series", name="S")
        session_id = insert(
            "meeting_sessions",
            series_id=series_id,
            slug="s",
            number=1,
            title="S",
            venue="",
            timezone="Europe/Brussels",
            online_meeting_url="",
            zoom_webhook_secret="",
            certificate_online_percent=50,
            certificate_accepts_link_click=False,
            certificate_days_required=1,
            certificate_language="",
            chair_name="",
            chair_title="",
            created_at=utcnow(),
        )
        meeting = SimpleNamespace(
            id=session_id,
            entity_types=[SimpleNamespace(id=insert("entity_types", session_id=session_id, name="T", position=0))],
            regions=[SimpleNamespace(id=insert("regions", session_id=session_id, name="R", position=0))],
            days=[
                SimpleNamespace(
                    id=insert(
                        "session_days",
                        session_id=session_id,
                        date=date(2026, 2, 2),
                        starts_at=time(9),
                        ends_at=time(17),
                    )
                )
            ],
        )
        now = utcnow()
        for n, values in enumerate(registrations):
            registration_id = db.session.execute(
                sa.insert(tables["registrations"]).values(
                    session_id=meeting.id,
                    entity_type_id=meeting.entity_types[0].id,
                    region_id=meeting.regions[0].id,
                    organisation="O",
                    country="BE",
                    role="delegate",
                    mode="online",
                    status="registered",
                    cancel_reason="",
                    badge_token=new_badge_token(),
                    access_key=new_access_key(),
                    personal_join_url="",
                    consented_at=now,
                    locale="en",
                    keep_name_on_certificate=False,
                    created_at=now,
                    updated_at=now,
                    **values,
                )
            ).inserted_primary_key[0]
            db.session.execute(
                sa.insert(tables["attendances"]).values(
                    registration_id=registration_id,
                    day_id=meeting.days[0].id,
                    mode="in_person",
                    first_seen_at=now,
                    source="scan",
                    actor="t",
                    recorded_by="t",
                    door="",
                    note="",
                )
            )
            db.session.execute(
                sa.insert(tables["certificates"]).values(
                    registration_id=registration_id,
                    public_id=f"C{n}",
                    issued_at=now,
                    generated_at=now,
                    revoke_reason="",
                    revoked_by="",
                    holder_name="",
                )
            )
            db.session.execute(
                sa.insert(tables["scan_events"]).values(
                    session_id=meeting.id,
                    registration_id=registration_id,
                    at=now,
                    result="ok",
                    token_excerpt="",
                    actor="t",
                    recorded_by="t",
                    door="",
                    source="scan",
                    note="",
                    response="",
                )
            )
        db.session.commit()
        try:
            yield upgrade, downgrade
        finally:
            db.session.remove()
            db.engine.dispose()


def test_the_migration_gives_existing_addresses_the_new_keys(tmp_path):
    """Keys written before the IDN rule are recomputed; a session holding both spellings keeps both rows."""
    emails = ["ana@пример.рф", "Bo@Пример.рф", "bo@xn--e1afmkfd.xn--p1ai", "cy@example.org"]
    # email_key as the rule before wrote it
    with database_before(
        "ddee83165a19", tmp_path, [dict(full_name=email, email=email, email_key=email.lower()) for email in emails]
    ) as (upgrade, _):
        upgrade(revision="585946efb531")
        keys = dict(db.session.execute(sa.text("SELECT email, email_key FROM registrations")).all())
    assert keys == {
        "ana@пример.рф": "ana@xn--e1afmkfd.xn--p1ai",
        "Bo@Пример.рф": "bo@пример.рф",
        "bo@xn--e1afmkfd.xn--p1ai": "bo@xn--e1afmkfd.xn--p1ai",
        "cy@example.org": "cy@example.org",
    }


def test_the_migration_gives_existing_registrations_their_name_keys(tmp_path):
    names = ["Nguyễn Văn Đức", "ØDEGÅRD  Émile", "王小明"]

    def counts() -> list[int]:
        return [
            db.session.scalar(sa.text(f"SELECT count(*) FROM {table}"))
            for table in ("registrations", "attendances", "certificates", "scan_events")
        ]

    def scans_without_registration() -> int:
        return db.session.scalar(sa.text("SELECT count(*) FROM scan_events WHERE registration_id IS NULL"))

    with database_before(
        "585946efb531",
        tmp_path,
        [dict(full_name=name, email=f"{n}@example.org", email_key=f"{n}@example.org") for n, name in enumerate(names)],
    ) as (upgrade, downgrade):
        upgrade(revision="a87d5bab3616")  # the keys of that revision; later ones add more to them
        keys = dict(db.session.execute(sa.select(Registration.full_name, Registration.name_key)).all())
        # What hangs on the registrations stays: on SQLite a rebuilt table, with foreign keys on, took it all
        after_upgrade = counts(), scans_without_registration()
        downgrade(revision="585946efb531")  # the way back rebuilds the table
        after_downgrade = counts(), scans_without_registration()
    assert keys == {"Nguyễn Văn Đức": "nguyen van duc", "ØDEGÅRD  Émile": "odegard emile", "王小明": "王小明"}
    assert after_upgrade == after_downgrade == ([3, 3, 3, 3], 0)


def test_two_delegates_racing_for_the_last_seat_get_exactly_one(app, make_session):
    """Many threads register in person at once for 3 seats: exactly 3 succeed, the rest are told it is full."""
    meeting = make_session(in_person_capacity=3)
    meeting_id, type_id, region_id = meeting.id, meeting.entity_types[0].id, meeting.regions[0].id
    results, barrier = [], threading.Barrier(12)

    def attempt(n: int) -> None:
        with app.app_context():
            from attendance.models import MeetingSession

            session = db.session.get(MeetingSession, meeting_id)
            barrier.wait()
            try:  # one unit of work each, as a request is
                unit_of_work(register)(
                    session, Delegate(f"D {n}", f"d{n}@example.org", "Org", "BE", type_id, region_id, Mode.IN_PERSON)
                )
                results.append("ok")
            except InPersonFull:
                results.append("full")
            finally:
                db.session.remove()

    threads = [threading.Thread(target=attempt, args=(n,)) for n in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == ["full"] * 9 + ["ok"] * 3
    assert registration_count() == 3


def test_the_migration_rewrites_online_identities_with_the_registrations_rules_and_downgrades(tmp_path):
    """Keys stored before are recognised after: "José García" is "jose garcia", an IDN its ASCII form; two old
    keys that become one keep the earlier row. Staff, their sessions and what hangs on them survive both ways."""
    with database_before(
        "ea83f5909e5d",
        tmp_path,
        [dict(full_name="José García", email="jose@example.org", email_key="jose@example.org")],
    ) as (upgrade, downgrade):
        run = lambda sql, **values: db.session.execute(sa.text(sql), values)  # noqa: E731
        now = utcnow()
        session_id, day_id = (
            run("SELECT id FROM meeting_sessions").scalar(),
            run("SELECT id FROM session_days").scalar(),
        )
        registration_id = run("SELECT id FROM registrations").scalar()
        run(
            "INSERT INTO staff_users (email, password_hash, role, active, failed_logins, created_at) "
            "VALUES ('door@example.org', 'x', 'door', true, 3, :now)",
            now=now,
        )
        for key in ("name:josé garcía", "name:jose garcia", "email:anna@bücher.example"):
            run(
                "INSERT INTO identity_mappings (session_id, identity_key, registration_id, created_by, created_at) "
                "VALUES (:s, :k, :r, '', :now)",
                s=session_id,
                k=key,
                r=registration_id,
                now=now,
            )
        run(
            "INSERT INTO unmatched_presences (session_id, day_id, identity_key, display_name, email, joined_at, "
            "source, source_key) VALUES (:s, :d, 'name:zoë  (ipad)', '', '', :now, 'zoom_report', "
            "'name:zoë  (ipad)|2026-02-02T08:00:00|2026-02-02T09:00:00')",
            s=session_id,
            d=day_id,
            now=now,
        )
        attendance_id = run(
            "INSERT INTO attendances (registration_id, day_id, mode, first_seen_at, source, actor, "
            "recorded_by, door, note) VALUES (:r, :d, 'online', :now, 'zoom_report', '', '', '', '') "
            "RETURNING id",
            r=registration_id,
            d=day_id,
            now=now,
        ).scalar()
        run(
            "INSERT INTO online_intervals (attendance_id, joined_at, source, source_key) VALUES "
            "(:a, :now, 'teams_report', 'email:anna@bücher.example|2026-02-02T08:00:00|')",
            a=attendance_id,
            now=now,
        )
        db.session.commit()

        upgrade()
        mappings = run("SELECT identity_key FROM identity_mappings ORDER BY id").scalars().all()
        presence = run("SELECT identity_key, source_key FROM unmatched_presences").one()
        interval_key = run("SELECT source_key FROM online_intervals").scalar()
        version = run("SELECT session_version FROM staff_users").scalar()
        db.session.commit()
        downgrade(revision="ea83f5909e5d")
        staff_after_downgrade = run("SELECT email FROM staff_users").scalars().all()
    assert mappings == ["name:jose garcia", "email:anna@xn--bcher-kva.example"]
    assert tuple(presence) == ("name:zoe (ipad)", "name:zoe (ipad)|2026-02-02T08:00:00|2026-02-02T09:00:00")
    assert interval_key == "email:anna@xn--bcher-kva.example|2026-02-02T08:00:00|"
    assert version == 0 and staff_after_downgrade == ["door@example.org"]

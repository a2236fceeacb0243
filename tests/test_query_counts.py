"""The public home page and the organiser's registrations page run a constant number of SQL statements, however
many sessions or registrations there are (the bench's pins: 31 statements for 10 sessions was a page per session)."""

from datetime import date, timedelta

from attendance import transaction
from attendance.extensions import db
from attendance.models import Attendance, Mode, Source


def _home_page_statements(client, count_queries) -> tuple[int, list[str]]:
    with count_queries() as counted:
        response = client.get("/")
    assert response.status_code == 200
    return counted(), counted.statements


def test_home_page_queries_do_not_grow_with_the_sessions(client, make_session, count_queries):
    for _ in range(2):
        make_session()
    few, _ = _home_page_statements(client, count_queries)
    for _ in range(10):
        make_session()
    many, statements = _home_page_statements(client, count_queries)
    assert client.get("/").get_data(as_text=True).count('/register"') >= 12 * 2  # every session is listed
    assert many == few, "\n".join(s[:90] for s in statements)


def _registrations_page_statements(client, meeting, count_queries) -> tuple[int, list[str]]:
    with count_queries() as counted:
        response = client.get(f"/sessions/{meeting.slug}/registrations")
    assert response.status_code == 200
    return counted(), counted.statements


def test_registrations_page_queries_do_not_grow_with_the_registrations(
    client, login, make_session, make_registration, count_queries
):
    meeting = make_session(first_day=date.today() - timedelta(days=1))
    login("organiser")

    def register(count: int) -> None:
        for n in range(count):
            registration = make_registration(meeting, mode=Mode.IN_PERSON if n % 2 else Mode.ONLINE)
            if n % 3 == 0:  # some checked in, so the headline's attendance numbers have something to count
                db.session.add(
                    Attendance(
                        registration=registration,
                        day=meeting.days[0],
                        mode=Mode.IN_PERSON,
                        source=Source.SCAN,
                        recorded_by="door",
                    )
                )
        db.session.commit()

    register(5)
    few, _ = _registrations_page_statements(client, meeting, count_queries)
    register(45)
    many, statements = _registrations_page_statements(client, meeting, count_queries)
    assert many == few, "\n".join(s[:90] for s in statements)


def _invite(meeting, make_registration, n: int) -> None:
    """Every other invitation a focal point's, with two nominees (one cancelled) on their page."""
    from attendance.models import RegistrationStatus
    from attendance.organiser.invitations import Invitee, invite

    if n % 2:
        invite(meeting, Invitee(f"Person {n}", f"person{n}@example.org"), by="o@example.org")
        transaction.commit()  # as the organiser's request does: its mail goes now, not during the page counted
        return
    focal = invite(
        meeting,
        Invitee(
            f"Focal {n}", f"focal{n}@example.org", "RILO", meeting.entity_types[n % 3].name, meeting.regions[0].name
        ),
        by="o@example.org",
        places=3,
    )
    for k, status in enumerate((RegistrationStatus.REGISTERED, RegistrationStatus.CANCELLED)):
        make_registration(meeting, invitation_id=focal.id, status=status, full_name=f"Nominee {n}-{k}")
    transaction.commit()


def _invitations_page_statements(client, meeting, count_queries) -> tuple[int, list[str], str]:
    with count_queries() as counted:
        response = client.get(f"/sessions/{meeting.slug}/invitations")
    assert response.status_code == 200
    return counted(), counted.statements, response.get_data(as_text=True)


def test_invitations_page_queries_do_not_grow_with_the_invitations(
    client, login, make_session, make_registration, count_queries
):
    meeting = make_session()
    login("organiser")
    for n in range(2):
        _invite(meeting, make_registration, n)
    few, _, _ = _invitations_page_statements(client, meeting, count_queries)
    for n in range(2, 20):
        _invite(meeting, make_registration, n)
    many, statements, page = _invitations_page_statements(client, meeting, count_queries)
    assert page.count('data-invitation="') == 20 and "Nominee 18-1" in page and "Person 19" in page
    assert many == few, "\n".join(s[:90] for s in statements)


def _invitee_preview_statements(client, meeting, rows: int, count_queries) -> tuple[int, list[str], str]:
    import io

    from helpers import csrf_token

    url = f"/sessions/{meeting.slug}/invitations"
    content = "Full name,E-mail,Entity type,Places\n" + "".join(
        f"Person {n},person{n}@example.org,{meeting.entity_types[0].name},{'2' if n % 3 == 0 else ''}\n"
        for n in range(rows)
    )
    upload = client.post(
        f"{url}/upload",
        data={"csrf_token": csrf_token(client, url), "invitees": (io.BytesIO(content.encode()), "invitees.csv")},
    )
    assert upload.status_code == 302
    with count_queries() as counted:
        response = client.get(upload.headers["Location"])
    assert response.status_code == 200
    return counted(), counted.statements, response.get_data(as_text=True)


def test_invitee_list_preview_queries_do_not_grow_with_the_rows(
    client, login, make_session, make_registration, count_queries
):
    from attendance.organiser.invitations import Invitee, invite

    meeting = make_session()
    login("organiser")
    make_registration(meeting, email="person1@example.org")  # registered already
    invite(meeting, Invitee("Person 4", "person4@example.org"), by="o@example.org")  # invited already
    transaction.commit()
    few, _, _ = _invitee_preview_statements(client, meeting, 6, count_queries)
    many, statements, page = _invitee_preview_statements(client, meeting, 60, count_queries)
    assert page.count("already registered for this session") == 1
    assert page.count("already has an invitation to this session") == 1
    assert many == few, "\n".join(s[:90] for s in statements)

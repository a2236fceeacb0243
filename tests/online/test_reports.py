"""Reading Zoom, Teams and plain CSV attendance reports, built here byte for byte as the platforms write them."""

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from attendance.online.reports import ParsedReport, ReportError, parse_report

BRUSSELS = ZoneInfo("Europe/Brussels")


def at(*args) -> datetime:
    return datetime(*args, tzinfo=BRUSSELS)


def teams_file(*lines: str, encoding: str = "utf-16") -> bytes:
    """Teams writes UTF-16 with a byte-order mark, tab-separated, CRLF line ends."""
    return "\r\n".join(lines).encode(encoding)


def zoom_file(*lines: str) -> bytes:
    return ("\ufeff" + "\n".join(lines) + "\n").encode("utf-8")


TEAMS_SUMMARY = [
    "1. Summary",
    "Meeting title\tGlobal Meeting day 1",
    "Attended participants\t2",
    "Start time\t2/19/24, 9:28:15 AM",
    "End time\t2/19/24, 5:02:11 PM",
    "Meeting duration\t7h 33m 56s",
    "Average attendance time\t5h 2m 1s",
    "",
]
TEAMS_PARTICIPANTS = [
    "2. Participants",
    "Name\tFirst Join\tLast Leave\tIn-Meeting Duration\tEmail\tParticipant ID (UPN)\tRole",
    "Jane Doe\t2/19/24, 9:30:01 AM\t2/19/24, 5:00:00 PM\t7h 29m 59s\tjane@example.org\tjane@example.org\tPresenter",
    "Kofi Mensah\t2/19/24, 10:00:00 AM\t2/19/24, 10:45:03 AM\t45m 3s\tkofi@example.org\tkofi@example.org\tAttendee",
    "",
]
TEAMS_ACTIVITIES = [
    "3. In-Meeting Activities",
    "Name\tJoin Time\tLeave Time\tDuration\tEmail\tRole",
    "Jane Doe\t2/19/24, 9:30:01 AM\t2/19/24, 12:00:00 PM\t2h 29m 59s\tjane@example.org\tPresenter",
    "Kofi Mensah\t2/19/24, 10:00:00 AM\t2/19/24, 10:45:03 AM\t45m 3s\tkofi@example.org\tAttendee",
    "Jane Doe\t2/19/24, 1:00:00 PM\t2/19/24, 5:00:00 PM\t4h\tjane@example.org\tPresenter",
    "Kofi Mensah\t2/19/24, 10:50:00 AM\t2/19/24, 10:50:12 AM\t12s\tkofi@example.org\tAttendee",
]


def test_teams_report_keeps_each_rejoin_as_its_own_row():
    data = teams_file(*TEAMS_SUMMARY, *TEAMS_PARTICIPANTS, *TEAMS_ACTIVITIES)
    assert data.startswith(b"\xff\xfe")

    report = parse_report(data, timezone=BRUSSELS)

    assert report.kind == "teams"
    assert report.meeting_start == at(2024, 2, 19, 9, 28, 15)
    assert [(r.name, r.email, r.joined, r.left) for r in report.rows] == [
        ("Jane Doe", "jane@example.org", at(2024, 2, 19, 9, 30, 1), at(2024, 2, 19, 12, 0)),
        ("Kofi Mensah", "kofi@example.org", at(2024, 2, 19, 10, 0), at(2024, 2, 19, 10, 45, 3)),
        ("Jane Doe", "jane@example.org", at(2024, 2, 19, 13, 0), at(2024, 2, 19, 17, 0)),
        ("Kofi Mensah", "kofi@example.org", at(2024, 2, 19, 10, 50), at(2024, 2, 19, 10, 50, 12)),
    ]
    assert [r.minutes for r in report.rows] == pytest.approx([149 + 59 / 60, 45 + 3 / 60, 240, 0.2])
    assert [r.line for r in report.rows] == [16, 17, 18, 19]
    assert all(r.error == "" for r in report.rows)


def test_teams_report_without_activities_uses_first_join_and_last_leave():
    report = parse_report(teams_file(*TEAMS_SUMMARY, *TEAMS_PARTICIPANTS), timezone=BRUSSELS)

    assert [(r.name, r.joined, r.left) for r in report.rows] == [
        ("Jane Doe", at(2024, 2, 19, 9, 30, 1), at(2024, 2, 19, 17, 0)),
        ("Kofi Mensah", at(2024, 2, 19, 10, 0), at(2024, 2, 19, 10, 45, 3)),
    ]
    assert report.rows[0].minutes == pytest.approx(7 * 60 + 29 + 59 / 60)


def test_teams_report_in_utf8_with_german_dates_is_read_day_first():
    data = teams_file(
        "1. Summary",
        "Start time\t03.02.24, 09:28:15",
        "",
        "2. Participants",
        "Name\tFirst Join\tLast Leave\tIn-Meeting Duration\tEmail",
        "Jürgen Groß\t03.02.24, 09:30:01\t03.02.24, 17:00:00\t7h 29m 59s\tjuergen@example.de",
        encoding="utf-8",
    )

    report = parse_report(data, timezone=BRUSSELS, expected_dates=[date(2024, 3, 2)])

    assert report.meeting_start == at(2024, 2, 3, 9, 28, 15)
    assert (report.rows[0].name, report.rows[0].joined) == ("Jürgen Groß", at(2024, 2, 3, 9, 30, 1))


def ambiguous_teams_report(when: str, until: str) -> bytes:
    return teams_file(
        "1. Summary",
        "Meeting title\tBudget, Q1",
        "",
        "3. In-Meeting Activities",
        "Name\tJoin Time\tLeave Time\tDuration\tEmail\tRole",
        f"Ana Lima\t{when}\t{until}\t1h\tana@example.org\tAttendee",
    )


@pytest.mark.parametrize(
    "expected_dates, day",
    [
        ([date(2024, 3, 2)], date(2024, 3, 2)),
        ([date(2024, 2, 3)], date(2024, 2, 3)),
        ([], date(2024, 2, 3)),  # 24-hour times: day-first unless the session's days say otherwise
    ],
)
def test_teams_ambiguous_dates_are_read_the_way_that_lands_on_the_session_days(expected_dates, day):
    report = parse_report(
        ambiguous_teams_report("03/02/2024, 09:00:00", "03/02/2024 10:00:00"),
        timezone=BRUSSELS,
        expected_dates=expected_dates,
    )

    assert report.rows[0].joined == at(day.year, day.month, day.day, 9)
    assert report.rows[0].left == at(day.year, day.month, day.day, 10)


def test_teams_ambiguous_dates_with_am_pm_are_month_first_by_default():
    report = parse_report(ambiguous_teams_report("3/2/24, 9:00:00 AM", "3/2/24, 1:00:00 PM"), timezone=BRUSSELS)

    assert (report.rows[0].joined, report.rows[0].left) == (at(2024, 3, 2, 9), at(2024, 3, 2, 13))


def test_one_date_that_only_reads_day_first_decides_the_whole_file():
    data = teams_file(
        "3. In-Meeting Activities",
        "Name\tJoin Time\tLeave Time\tDuration\tEmail",
        "Ana Lima\t03/02/2024, 09:00:00\t03/02/2024, 10:00:00\t1h\tana@example.org",
        "Ben Okafor\t13/02/2024, 09:00:00\t13/02/2024, 10:00:00\t1h\tben@example.org",
    )

    report = parse_report(data, timezone=BRUSSELS, expected_dates=[date(2024, 3, 2)])

    assert [r.joined for r in report.rows] == [at(2024, 2, 3, 9), at(2024, 2, 13, 9)]


def test_older_teams_report_pairs_joined_and_left_events_per_person():
    data = teams_file(
        "Full Name\tUser Action\tTimestamp",
        "Jane Doe\tJoined\t2/19/2024, 9:30:01 AM",
        "Kofi Mensah\tJoined\t2/19/2024, 9:31:00 AM",
        "Jane Doe\tLeft\t2/19/2024, 12:00:00 PM",
        "Jane Doe\tJoined\t2/19/2024, 1:00:00 PM",
        "Kofi Mensah\tLeft\t2/19/2024, 5:00:00 PM",
        "Ana Lima\tJoined\t2/19/2024, 5:10:00 PM",
        "Ana Lima\tJoined\t2/19/2024, 5:20:00 PM",
        "Ana Lima\tLeft\t2/19/2024, 5:30:00 PM",
        "Ben Okafor\tLeft\t2/19/2024, 5:40:00 PM",
    )

    report = parse_report(data, timezone=BRUSSELS)

    assert report.kind == "teams"
    assert [(r.line, r.name, r.joined, r.left, r.error) for r in report.rows] == [
        (2, "Jane Doe", at(2024, 2, 19, 9, 30, 1), at(2024, 2, 19, 12, 0), ""),
        (3, "Kofi Mensah", at(2024, 2, 19, 9, 31), at(2024, 2, 19, 17, 0), ""),
        (5, "Jane Doe", at(2024, 2, 19, 13, 0), None, ""),
        (7, "Ana Lima", at(2024, 2, 19, 17, 10), None, ""),
        (8, "Ana Lima", at(2024, 2, 19, 17, 20), at(2024, 2, 19, 17, 30), ""),
        (10, "Ben Okafor", None, at(2024, 2, 19, 17, 40), "Line 10: no join time"),
    ]


def test_teams_report_without_participants_section_is_rejected():
    with pytest.raises(ReportError, match="no participants section"):
        parse_report(teams_file(*TEAMS_SUMMARY), timezone=BRUSSELS)


def test_zoom_report_under_its_meeting_block_gives_meeting_start_and_participants():
    data = zoom_file(
        "Meeting ID,Topic,Start Time,End Time,User Email,Duration (Minutes),Participants",
        "812 3456 7890,Global Meeting day 1,02/19/2024 09:28:15 AM,02/19/2024 05:02:11 PM,host@example.org,454,2",
        "",
        "Name (Original Name),User Email,Join Time,Leave Time,Duration (Minutes),Guest",
        "JD (Jane Doe),jane@example.org,02/19/2024 09:30:01 AM,02/19/2024 12:00:00 PM,150,No",
        "Kofi Mensah,,02/19/2024 01:00:00 PM,02/19/2024 05:00:00 PM,240,Yes",
    )

    report = parse_report(data, timezone=BRUSSELS)

    assert report.kind == "zoom"
    assert report.meeting_start == at(2024, 2, 19, 9, 28, 15)
    assert [(r.line, r.name, r.email, r.joined, r.left, r.minutes, r.error) for r in report.rows] == [
        (5, "JD (Jane Doe)", "jane@example.org", at(2024, 2, 19, 9, 30, 1), at(2024, 2, 19, 12), 150, ""),
        (6, "Kofi Mensah", "", at(2024, 2, 19, 13), at(2024, 2, 19, 17), 240, ""),
    ]


@pytest.mark.parametrize(
    "header, joined, left",
    [
        (
            "Participant Name,Email,Join time,Leave time,Duration (minutes),Guest,Recording Consent,In Waiting Room",
            "2024-02-19 09:28:15",
            "2024-02-19 14:02:00",
        ),
        ("Name,Email,Join Time,Leave Time,Duration (Minutes),Guest", "02/19/2024 09:28:15", "02/19/2024 14:02:00"),
    ],
)
def test_zoom_header_and_time_variants_are_read(header, joined, left):
    report = parse_report(
        zoom_file(header, f"Jane Doe,jane@example.org,{joined},{left},274,No,Y,No"), timezone=BRUSSELS
    )

    assert report.kind == "zoom"
    row = report.rows[0]
    assert (row.name, row.email, row.joined, row.left, row.minutes) == (
        "Jane Doe",
        "jane@example.org",
        at(2024, 2, 19, 9, 28, 15),
        at(2024, 2, 19, 14, 2),
        274,
    )


def test_zoom_unique_users_rows_have_minutes_and_no_times():
    data = zoom_file(
        "Topic,ID,Start Time,End Time,Duration (Minutes),Participants",
        "Global Meeting,81234567890,02/19/2024 09:28:15 AM,02/19/2024 05:02:11 PM,454,2",
        "",
        "Name (Original Name),User Email,Total Duration (Minutes),Guest",
        "Jane Doe,jane@example.org,390,No",
        "Kofi Mensah,kofi@example.org,12.5,Yes",
    )

    report = parse_report(data, timezone=BRUSSELS)

    assert [(r.name, r.joined, r.left, r.minutes, r.error) for r in report.rows] == [
        ("Jane Doe", None, None, 390, ""),
        ("Kofi Mensah", None, None, 12.5, ""),
    ]
    assert report.meeting_start == at(2024, 2, 19, 9, 28, 15)


def test_plain_csv_keeps_offsets_and_puts_naive_times_in_the_timezone():
    data = (
        b"Email,Joined,Left,Name\n"
        b"ana@example.org,2024-02-19T09:30:00+01:00,2024-02-19T10:30:00Z,Ana Lima\n"
        b"ben@example.org,2024-02-19 09:30,,\n"
    )

    report = parse_report(data, timezone=BRUSSELS)

    assert report.kind == "csv"
    ana, ben = report.rows
    assert ana.joined.utcoffset() == timedelta(hours=1)
    assert (ana.name, ana.joined, ana.left) == ("Ana Lima", at(2024, 2, 19, 9, 30), at(2024, 2, 19, 11, 30))
    assert (ben.name, ben.email, ben.joined, ben.left, ben.minutes, ben.error) == (
        "",
        "ben@example.org",
        at(2024, 2, 19, 9, 30),
        None,
        None,
        "",
    )
    assert ben.joined.tzinfo is BRUSSELS


def test_semicolon_csv_as_excel_saves_it_in_french_or_german_is_read():
    # Excel's "CSV UTF-8" in a French locale: a byte-order mark, semicolons, CRLF, and quotes only where needed;
    # names and dates with commas inside quotes must not be taken for separators.
    data = (
        "\ufeffName;Email;Joined;Left\r\n"
        '"Álvarez Müller, José";jose.alvarez@example.es;19/02/2024 09:30;19/02/2024 11:00\r\n'
        '"Okafor, Ben; guest";;"19/02/2024, 13:00";"19/02/2024, 14:15"\r\n'
    ).encode("utf-8")

    report = parse_report(data, timezone=BRUSSELS, expected_dates=[date(2024, 2, 19)])

    assert report.kind == "csv"
    assert [(r.line, r.name, r.email, r.joined, r.left, r.error) for r in report.rows] == [
        (2, "Álvarez Müller, José", "jose.alvarez@example.es", at(2024, 2, 19, 9, 30), at(2024, 2, 19, 11), ""),
        (3, "Okafor, Ben; guest", "", at(2024, 2, 19, 13), at(2024, 2, 19, 14, 15), ""),
    ]


def test_semicolon_zoom_export_resaved_by_excel_in_windows_1252_is_read():
    data = (
        "Meeting ID;Topic;Start Time;End Time;User Email;Duration (Minutes);Participants\r\n"
        '850 1234 5678;"Global Meeting, day 1";02/19/2024 09:25:00 AM;02/19/2024 05:05:00 PM;'
        "host@example.org;460;2\r\n"
        "\r\n"
        "Name (Original Name);User Email;Join Time;Leave Time;Duration (Minutes);Guest\r\n"
        "Jürgen Groß;juergen@example.de;02/19/2024 09:30:00 AM;02/19/2024 12:00:00 PM;150;No\r\n"
    ).encode("cp1252")

    report = parse_report(data, timezone=BRUSSELS)

    assert report.kind == "zoom" and report.meeting_start == at(2024, 2, 19, 9, 25)
    assert [(r.name, r.joined, r.left, r.minutes) for r in report.rows] == [
        ("Jürgen Groß", at(2024, 2, 19, 9, 30), at(2024, 2, 19, 12), 150)
    ]


def test_comma_csv_with_semicolons_in_quoted_names_stays_comma_separated():
    data = (
        '\ufeff"Full Name",email,joined,left\n"Diallo; Awa",awa@example.org,2024-02-19 09:00,2024-02-19 10:00\n'
    ).encode("utf-8")

    [row] = parse_report(data, timezone=BRUSSELS).rows

    assert (row.name, row.email, row.joined, row.error) == ("Diallo; Awa", "awa@example.org", at(2024, 2, 19, 9), "")


@pytest.mark.parametrize(
    "header, hint",
    [
        (
            "Courriel;Arrivée;Départ",
            "Columns found: Courriel, Arrivée, Départ (read as separated by semicolons; "
            "columns separated by commas, semicolons or tabs are all understood)",
        ),
        (
            "email|joined|left",
            "Columns found: email|joined|left (only one column: separate the columns with commas, semicolons or tabs)",
        ),
    ],
)
def test_unknown_columns_error_says_how_the_columns_were_separated(header, hint):
    data = f"\ufeff{header}\r\nana@example.org;19/02/2024 09:00;19/02/2024 10:00\r\n".encode()

    with pytest.raises(ReportError) as raised:
        parse_report(data, timezone=BRUSSELS)

    assert hint in str(raised.value)


def test_zoom_export_with_english_month_names_is_read():
    # Some Zoom exports write "Apr 12, 2027 9:30:00 AM", quoted because of its comma.
    data = zoom_file(
        "Meeting ID,Topic,Start Time,End Time,User Email,Duration (Minutes),Participants",
        '850 1234 5678,Global Meeting,"Apr 12, 2027 9:25:00 AM","Apr 12, 2027 5:05:00 PM",host@example.org,460,2',
        "",
        "Name (Original Name),User Email,Join Time,Leave Time,Duration (Minutes),Guest",
        'Jane Doe,jane@example.org,"Apr 12, 2027 9:30:00 AM","Apr 12, 2027 12:00:00 PM",150,No',
        '"Mensah, Kofi",kofi@example.org,"Sept 13, 2027 12:30:00 AM","September 13, 2027 1:15:00 PM",765,Yes',
    )

    report = parse_report(data, timezone=BRUSSELS)

    assert report.meeting_start == at(2027, 4, 12, 9, 25)
    assert [(r.name, r.joined, r.left, r.error) for r in report.rows] == [
        ("Jane Doe", at(2027, 4, 12, 9, 30), at(2027, 4, 12, 12), ""),
        ("Mensah, Kofi", at(2027, 9, 13, 0, 30), at(2027, 9, 13, 13, 15), ""),
    ]


@pytest.mark.parametrize(
    "joined, left, expected",
    [
        ("2027/04/12 09:30", "2027/04/12 17:00", (at(2027, 4, 12, 9, 30), at(2027, 4, 12, 17))),  # ja, zh exports
        ("2027/4/12 9:30:05", "2027/4/12 13:00:00", (at(2027, 4, 12, 9, 30, 5), at(2027, 4, 12, 13))),
        ("12 Apr 2027 09:30", "12 April 2027, 17:00", (at(2027, 4, 12, 9, 30), at(2027, 4, 12, 17))),
    ],
)
def test_year_first_slashes_and_day_month_name_dates_are_read(joined, left, expected):
    data = f'\ufeffname,email,joined,left\r\n佐藤 花子,hanako@example.jp,"{joined}","{left}"\r\n'.encode()

    [row] = parse_report(data, timezone=BRUSSELS).rows

    assert (row.joined, row.left, row.error) == (*expected, "")


def test_named_and_year_first_dates_do_not_change_how_numeric_dates_are_ordered():
    # 03/04/2027 alone is ambiguous; the session's days decide, as before, whatever else the file holds.
    data = (
        b"email,joined,left\n"
        b"ana@example.org,03/04/2027 09:00,03/04/2027 10:00\n"
        b'ben@example.org,2027/04/03 11:00,"Apr 3, 2027 12:00 PM"\n'
    )

    report = parse_report(data, timezone=BRUSSELS, expected_dates=[date(2027, 4, 3)])

    assert [(r.joined, r.left) for r in report.rows] == [
        (at(2027, 4, 3, 9), at(2027, 4, 3, 10)),
        (at(2027, 4, 3, 11), at(2027, 4, 3, 12)),
    ]


@pytest.mark.parametrize(
    "row, error",
    [
        ("ana@example.org,31/31/2024 9:00,", "Line 3: cannot read the join time '31/31/2024 9:00'"),
        ('ana@example.org,"Apr 31, 2027 9:00 AM",', "Line 3: cannot read the join time 'Apr 31, 2027 9:00 AM'"),
        ('ana@example.org,"Avr 12, 2027 9:00",', "Line 3: cannot read the join time 'Avr 12, 2027 9:00'"),
        ("ana@example.org,2027/13/12 09:00,", "Line 3: cannot read the join time '2027/13/12 09:00'"),
        ("ana@example.org,2027/04/12 13:00 PM,", "Line 3: cannot read the join time '2027/04/12 13:00 PM'"),
        ("ana@example.org,2024-02-19 10:00,2024-02-19 09:00", "Line 3: leaves (09:00) before joining (10:00)"),
        ("ana@example.org,2024-02-19 10:00,tea time", "Line 3: cannot read the leave time 'tea time'"),
        ("ana@example.org,,2024-02-19 09:00", "Line 3: no join time"),
        (",2024-02-19 10:00,2024-02-19 11:00", "Line 3: no name and no email, so there is no telling who attended"),
    ],
)
def test_unusable_row_is_kept_with_the_reason_and_its_line_number(row, error):
    data = f"email,joined,left\n\n{row}\nben@example.org,2024-02-19 09:00,2024-02-19 10:00\n".encode()

    report = parse_report(data, timezone=BRUSSELS)

    assert [r.error for r in report.rows] == [error, ""]
    assert report.rows[1].line == 4


@pytest.mark.parametrize(
    "data, reason",
    [
        (b"", "The file is empty."),
        (b"\xef\xbb\xbf \r\n\r\n", "The file is empty."),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "PNG image"),
        (b"PK\x03\x04\x14\x00\x06\x00", "Excel workbook"),
        (b"email,joined,left\n" + b"ana@example.org,2024-02-19 09:00,\n" * 9 + b"\x00", "not text"),
        (bytes(range(256)) * 4, "not text"),
        (
            b"id,score\n1,20\n",
            "No column for the join time: this does not look like a Zoom, Teams or "
            "email,joined,left report. Columns found: id, score",
        ),
        (b"email,joined,left\r\n", "column headings but no rows"),
        (
            "1. Summary\r\n\r\n3. In-Meeting Activities\r\nName\tJoin Time\tLeave Time\r\n".encode("utf-16"),
            "column headings but no rows",
        ),
        (b"\xff\xfeN\x00a", "damaged or cut short"),
    ],
)
def test_file_that_is_not_a_report_is_rejected_with_the_reason(data, reason):
    with pytest.raises(ReportError) as raised:
        parse_report(data, timezone=BRUSSELS)

    assert reason in str(raised.value)


@settings(max_examples=300, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.binary(max_size=2000))
def test_random_bytes_give_a_report_or_a_report_error(data):
    try:
        assert isinstance(parse_report(data, timezone=BRUSSELS), ParsedReport)
    except ReportError:
        pass


@settings(max_examples=300, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    st.sampled_from(
        [
            "email,joined,left\n",
            "Name\tJoin Time\tLeave Time\tDuration\n",
            "1. Summary\nStart time\t",
            "Name,Total Duration (Minutes)\n",
            "Full Name\tUser Action\tTimestamp\n",
        ]
    ),
    st.text(alphabet='0123456789/.:-,\t\n" TZAPMhms+joinedlft@x', max_size=300),
)
def test_report_like_text_gives_a_report_or_a_report_error(header, body):
    try:
        report = parse_report((header + body).encode(), timezone=BRUSSELS, expected_dates=[date(2024, 2, 3)])
    except ReportError:
        return
    for row in report.rows:
        assert row.joined is None or row.joined.tzinfo is not None
        assert row.error or row.joined is not None or row.minutes is not None


def test_line_numbers_count_the_lines_of_a_name_quoted_over_two_lines():
    data = (
        b'email,joined,left,name\n"ana@example.org",2024-02-19 09:00,,"Ana\nLima"\n'
        b"ben@example.org,2024-02-19 10:00,2024-02-19 09:00\n"
    )

    report = parse_report(data, timezone=BRUSSELS)

    assert [(r.line, r.name) for r in report.rows] == [(2, "Ana\nLima"), (4, "")]
    assert report.rows[1].error == "Line 4: leaves (09:00) before joining (10:00)"


def test_zoom_unique_users_row_without_a_readable_duration_says_so():
    data = zoom_file(
        "Name (Original Name),User Email,Total Duration (Minutes)",
        "Jane Doe,jane@example.org,lots",
        "Kofi Mensah,kofi@example.org,",
    )

    report = parse_report(data, timezone=BRUSSELS)

    assert [r.error for r in report.rows] == ["Line 2: cannot read the duration 'lots'", "Line 3: no duration"]


def test_times_in_another_offset_compare_equal_to_the_same_instant():
    report = parse_report(b"email,joined,left\nana@example.org,2024-07-01T07:30:00+00:00,\n", timezone=BRUSSELS)

    assert report.rows[0].joined == datetime(2024, 7, 1, 9, 30, tzinfo=BRUSSELS)
    assert report.rows[0].joined.tzinfo == UTC

"""The demo meeting: the Global Meeting's 19th Session (past, with about 170 delegates) and its 20th (open), and
a small session of yesterday, today and tomorrow, to try the door scanner on at any hour.

Delegates are invented, with example.org addresses; no real person from the news item appears in them.
"""

from __future__ import annotations

import random
import unicodedata
from datetime import UTC, date, datetime, time, timedelta

import sqlalchemy as sa

from .auth import ensure_staff
from .clock import key_text, utcnow
from .extensions import db
from .models import (
    Attendance,
    EntityType,
    MeetingSeries,
    MeetingSession,
    Mode,
    Question,
    QuestionKind,
    Region,
    Registration,
    RegistrationStatus,
    Role,
    ScanEvent,
    ScanResult,
    SessionDay,
    Source,
    StaffRole,
)
from .models.questions import VISA_QUESTION
from .organiser.door_staff import assign_door_staff
from .text import latin_key

SERIES_NAME = "Global Meeting of the Regional Entities"
DEMO_STAFF = [
    ("organiser@example.org", StaffRole.ORGANISER, "demo-organiser"),
    ("door1@example.org", StaffRole.DOOR, "demo-door"),
    ("door2@example.org", StaffRole.DOOR, "demo-door"),
]

# (name, share of delegates)
ENTITY_TYPES = [
    ("Vice-Chair Office", 12),
    ("Regional Office for Capacity Building (ROCB)", 24),
    ("Regional Intelligence Liaison Office (RILO)", 22),
    ("Regional Training Centre (RTC)", 38),
    ("Regional Dog Training Centre (RDTC)", 12),
    ("Regional Customs Laboratory (RCL)", 14),
    ("Host Administration of a regional entity", 30),
    ("Secretariat", 8),
    ("Observer/Guest", 6),
]
#: the organisation's own French names for its entity types and regions
FRENCH_NAMES = {
    "Vice-Chair Office": "Bureau de la vice-présidence",
    "Regional Office for Capacity Building (ROCB)": "Bureau régional de renforcement des capacités",
    "Regional Intelligence Liaison Office (RILO)": "Bureau régional de liaison chargé du renseignement",
    "Regional Training Centre (RTC)": "Centre régional de formation",
    "Regional Dog Training Centre (RDTC)": "Centre régional de formation cynophile",
    "Regional Customs Laboratory (RCL)": "Laboratoire régional des douanes",
    "Host Administration of a regional entity": "Administration hôte d’une entité régionale",
    "Secretariat": "Secrétariat",
    "Observer/Guest": "Observateur / invité",
    "Americas and Caribbean": "Amériques et Caraïbes",
    "East and Southern Africa": "Afrique orientale et australe",
    "Europe": "Europe",
    "Far East, South and South East Asia, Australasia and the Pacific": (
        "Extrême-Orient, Asie du Sud et du Sud-Est, Australasie et Pacifique"
    ),
    "North of Africa, Near and Middle East": "Afrique du Nord, Proche et Moyen-Orient",
    "West and Central Africa": "Afrique occidentale et centrale",
}
# (name, short name, countries, scripts and their weights)
REGIONS = [
    (
        "Americas and Caribbean",
        "Americas",
        ["AR", "BR", "CA", "CL", "CO", "DO", "JM", "MX", "PE", "TT", "BB"],
        {"latin": 1},
    ),
    ("East and Southern Africa", "ESA", ["KE", "ZA", "UG", "TZ", "RW", "ZM", "MZ", "BW", "MU", "ET"], {"latin": 1}),
    (
        "Europe",
        "Europe",
        ["BE", "FR", "DE", "PL", "IT", "ES", "NL", "SE", "UA", "KZ", "AZ", "TR", "RU"],
        {"latin": 3, "cyrillic": 2},
    ),
    (
        "Far East, South and South East Asia, Australasia and the Pacific",
        "Asia/Pacific",
        ["JP", "CN", "KR", "IN", "AU", "NZ", "FJ", "TH", "MY", "ID", "PH", "VN", "TO"],
        {"latin": 2, "cjk": 2},
    ),
    (
        "North of Africa, Near and Middle East",
        "MENA",
        ["AE", "SA", "EG", "MA", "JO", "LB", "OM", "QA", "DZ", "TN"],
        {"arabic": 3, "latin": 1},
    ),
    ("West and Central Africa", "WCA", ["NG", "GH", "SN", "CI", "CM", "BF", "ML", "CD", "GA", "TG"], {"latin": 1}),
]

NAMES = {
    "latin": (
        [
            "Amélie",
            "João",
            "Søren",
            "Zoë",
            "Łukasz",
            "Ngozi",
            "Kwame",
            "María José",
            "Thandiwe",
            "Émile",
            "Aroha",
            "Mateus",
            "Inés",
            "Olumide",
            "Fatoumata",
            "Chidi",
            "Björn",
            "Rafael",
            "Kofi",
            "Aïcha",
            "Siosaia",
            "Nalani",
            "Camila",
            "Jean-Baptiste",
            "Moussa",
            "Awa",
            "Hélène",
            "Lars",
            "Priya",
            "Tomás",
            "Wanjiru",
            "Zodwa",
            "Çağla",
            "Nguyễn Thị",
            "Mele",
            "Saoirse",
            "François",
            "Oluwaseun",
            "Dagný",
            "Ximena",
        ],
        [
            "Okonkwo",
            "Dubois",
            "Nørgaard",
            "Mensah",
            "García López",
            "Kowalski",
            "N'Diaye",
            "Traoré",
            "Müller",
            "Silva",
            "Ferreira",
            "Tshabalala",
            "Rossi",
            "van den Berg",
            "Ochieng",
            "Kamau",
            "Bah",
            "Diallo",
            "Fonua",
            "Tupou",
            "Ramírez",
            "Koné",
            "Lefèvre",
            "Šimunović",
            "Ødegård",
            "Mwangi",
            "Banda",
            "Nakamura-Smith",
            "Öztürk",
            "Sánchez",
            "Adébáyọ̀",
            "Chávez",
            "Lindqvist",
            "Ouédraogo",
            "Sørensen",
            "Moreau",
        ],
    ),
    "cyrillic": (
        ["Анна", "Дмитрий", "Елена", "Айгерим", "Олег", "Наталья", "Сергей", "Ольга", "Тимур", "Ирина"],
        [
            "Смирнова",
            "Волков",
            "Кузнецова",
            "Садыкова",
            "Петренко",
            "Иванова",
            "Морозов",
            "Ковальчук",
            "Ахметов",
            "Соколова",
        ],
    ),
    "arabic": (
        ["فاطمة", "محمد", "ليلى", "عمر", "سارة", "يوسف", "مريم", "خالد", "نور", "أحمد"],
        ["الزهراني", "العلي", "حداد", "الفاسي", "المنصوري", "الخطيب", "بن سالم", "الحسيني", "العمري", "الشامي"],
    ),
    # Family name first and no space, as these names are written.
    "chinese": (
        ["伟", "娜", "敏", "静", "洋", "磊", "秀英", "建华", "丽", "强"],
        ["王", "李", "张", "陈", "刘", "杨", "黄", "赵", "吴", "周"],
    ),
    "japanese": (
        ["花子", "健太", "美咲", "翔太", "陽菜", "大輔", "結衣", "拓也", "さくら", "直樹"],
        ["佐藤", "鈴木", "高橋", "田中", "伊藤", "渡辺", "山本", "中村", "小林", "加藤"],
    ),
    "korean": (
        ["민준", "서연", "지훈", "수빈", "현우", "지은", "도윤", "하은", "성민", "유진"],
        ["김", "이", "박", "최", "정", "강", "조", "윤", "장", "임"],
    ),
}
# A CJK name in the language of the delegate's country; elsewhere (a diaspora, a posting) any of the three.
CJK_BY_COUNTRY = {
    "CN": "chinese",
    "TW": "chinese",
    "HK": "chinese",
    "SG": "chinese",
    "MO": "chinese",
    "JP": "japanese",
    "KR": "korean",
}


def _name(rng: random.Random, script: str, country: str) -> str:
    if script == "cjk":
        culture = CJK_BY_COUNTRY.get(country) or rng.choice(["chinese", "japanese", "korean"])
        first, last = NAMES[culture]
        given, family = rng.choice(first), rng.choice(last)
        return f"{family}{given}"
    first, last = NAMES[script]
    return f"{rng.choice(first)} {rng.choice(last)}"


_UNDECOMPOSABLE = str.maketrans({"ø": "o", "Ø": "O", "ł": "l", "Ł": "L", "æ": "ae", "ß": "ss", "đ": "d"})


def _ascii_handle(name: str, number: int) -> str:
    # NFKD splits accents off most letters; these few have none to split off.
    name = name.translate(_UNDECOMPOSABLE)
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    handle = ".".join(part.lower() for part in "".join(c if c.isalnum() else " " for c in ascii_name).split())
    return f"{handle or 'delegate'}.{number:03d}@example.org"


def _organisation(entity_type: str, region_short: str, country: str, rng: random.Random) -> str:
    from .countries import country_name

    short = entity_type.split("(")[-1].rstrip(")") if "(" in entity_type else ""
    if entity_type.startswith("Vice-Chair"):
        return f"Office of the Vice-Chair, {region_short} region"
    if entity_type.startswith("Host"):
        return f"Customs Administration of {country_name(country)}"
    if entity_type == "Secretariat":
        return "Meeting Secretariat"
    if entity_type.startswith("Observer"):
        return rng.choice(["Regional Economic Community", "Development Partner", "Academic Network"])
    return f"{short} {region_short} ({country_name(country)})"


def _ensure_session(series: MeetingSeries, slug: str, **fields) -> tuple[MeetingSession, bool]:
    meeting = db.session.scalar(sa.select(MeetingSession).filter_by(slug=slug))
    if meeting is not None:
        return meeting, False
    meeting = MeetingSession(series=series, slug=slug, **fields)
    meeting.entity_types = [
        EntityType(name=name, position=i, translations={"fr": FRENCH_NAMES[name]})
        for i, (name, _) in enumerate(ENTITY_TYPES)
    ]
    meeting.regions = [
        Region(name=name, position=i, translations={"fr": FRENCH_NAMES[name]})
        for i, (name, *_rest) in enumerate(REGIONS)
    ]
    db.session.add(meeting)
    return meeting, True


def _next_monday(after: date) -> date:
    return after + timedelta(days=(7 - after.weekday()) % 7 or 7)


def seed_demo(delegates: int = 172) -> dict:
    """Creates the demo once; running it again changes nothing but the demo staff passwords."""
    series = db.session.scalar(sa.select(MeetingSeries).filter_by(name=SERIES_NAME))
    if series is None:
        series = MeetingSeries(name=SERIES_NAME)
        db.session.add(series)

    nineteenth, created = _ensure_session(
        series,
        "global-meeting-19",
        number=19,
        title="19th Session of the Global Meeting of the Regional Entities",
        venue="Brussels, Belgium",
        timezone="Europe/Brussels",
        translations={
            "fr": {"title": "19e session de la Réunion mondiale des entités régionales", "venue": "Bruxelles, Belgique"}
        },
        online_meeting_url="https://meet.example.org/global-meeting-19",
        zoom_meeting_id="85012345678",
        in_person_capacity=150,
        secretariat_email="secretariat@example.org",
        secretariat_phone="+32 2 209 92 11",
        registration_opens_at=datetime(2023, 12, 1, 8, 0, tzinfo=UTC),
        registration_closes_at=datetime(2024, 2, 16, 17, 0, tzinfo=UTC),
    )
    staff = {email: ensure_staff(email, role, password)[0] for email, role, password in DEMO_STAFF}
    db.session.flush()
    if created:
        nineteenth.days = [
            SessionDay(date=date(2024, 2, d), starts_at=time(9, 30), ends_at=time(17, 0)) for d in (19, 20)
        ]
        db.session.flush()
        _add_delegates(nineteenth, delegates)
        db.session.flush()
        _add_door_check_ins(nineteenth, [staff["door1@example.org"], staff["door2@example.org"]])
        _add_online_attendance(nineteenth)

    first_day = _next_monday(utcnow().date() + timedelta(days=60))
    twentieth, created = _ensure_session(
        series,
        "global-meeting-20",
        number=20,
        title="20th Session of the Global Meeting of the Regional Entities",
        venue="Brussels, Belgium",
        timezone="Europe/Brussels",
        translations={
            "fr": {"title": "20e session de la Réunion mondiale des entités régionales", "venue": "Bruxelles, Belgique"}
        },
        online_meeting_url="https://meet.example.org/global-meeting-20",
        in_person_capacity=120,
        secretariat_email="secretariat@example.org",
        secretariat_phone="+32 2 209 92 11",
        allows_walk_ins=True,
        registration_opens_at=utcnow().replace(microsecond=0) - timedelta(days=1),
        registration_closes_at=datetime.combine(first_day - timedelta(days=3), time(17, 0), tzinfo=UTC),
    )
    if created:
        twentieth.days = [
            SessionDay(date=first_day + timedelta(days=i), starts_at=time(9, 30), ends_at=time(17, 0)) for i in (0, 1)
        ]
        _add_questions(twentieth)
    todays = _ensure_todays_session([staff["door1@example.org"], staff["door2@example.org"]])
    for meeting in (nineteenth, twentieth, todays):
        if staff["organiser@example.org"] not in meeting.organisers:
            meeting.organisers.append(staff["organiser@example.org"])
        for email in ("door1@example.org", "door2@example.org"):
            assign_door_staff(meeting, email, actor="seed-demo")
    db.session.flush()
    return {"sessions": [nineteenth.slug, twentieth.slug, todays.slug], "staff": DEMO_STAFF, "today": todays.slug}


def _add_questions(meeting: MeetingSession) -> None:
    """The open session's form asks for a meal preference (optional: scripts that register on the demo need not
    answer) and offers visa support letters."""
    meals = [("Vegetarian", "Végétarien"), ("Vegan", "Végétalien"), ("No preference", "Sans préférence")]
    db.session.add_all(
        [
            Question(
                session=meeting,
                position=0,
                kind=QuestionKind.ONE_CHOICE,
                label="Meal preference",
                translations={"fr": "Préférence de repas"},
                choices=[
                    {"key": f"c{n}", "label": en, "translations": {"fr": fr}} for n, (en, fr) in enumerate(meals, 1)
                ],
            ),
            Question(
                session=meeting,
                position=1,
                kind=QuestionKind.VISA_LETTER,
                label=VISA_QUESTION,
            ),
        ]
    )


TODAY_SLUG = "door-practice"
TODAY_ZONE = "Europe/Brussels"
# The names the README's look-up examples find by Latin letters, among others of many scripts.
TODAY_NAMES = ["Ольга Петрова", "王伟", "Nguyễn Thị Lan", "ليلى حداد"]


def practice_dates(today: date) -> list[date]:
    """The practice session's days: yesterday, today and tomorrow where it meets, so that a server left running
    past midnight still scans (the door checks in for the day in the session's zone)."""
    return [today + timedelta(days=offset) for offset in (-1, 0, 1)]


def _ensure_todays_session(door_staff: list) -> MeetingSession:
    """A session of yesterday, today and tomorrow in its time zone, with about 40 delegates, some already in today
    and some online: created once, and moved around today (its check-ins made afresh) on the first run of a new
    day."""
    series = db.session.scalar(sa.select(MeetingSeries).filter_by(name="Door practice"))
    if series is None:
        series = MeetingSeries(name="Door practice")
        db.session.add(series)
    meeting, created = _ensure_session(
        series,
        TODAY_SLUG,
        number=1,
        title="Door practice session (runs today)",
        venue="Brussels, Belgium",
        timezone=TODAY_ZONE,
        online_meeting_url="https://meet.example.org/door-practice",
        in_person_capacity=60,
    )
    today = meeting.today()
    dates = practice_dates(today)
    if not created and [d.date for d in meeting.days] == dates:
        return meeting
    if not created:
        _forget_attendance(meeting)
        meeting.days.clear()
        db.session.flush()  # the old days go before the new ones take their dates
    meeting.days = [SessionDay(date=day, starts_at=time(8, 0), ends_at=time(18, 0)) for day in dates]
    db.session.flush()
    if created:
        _add_todays_delegates(meeting)
        db.session.flush()
    _add_todays_arrivals(meeting, next(d for d in meeting.days if d.date == today), door_staff)
    return meeting


def _add_todays_delegates(meeting: MeetingSession, count: int = 40) -> None:
    rng = random.Random(2026)
    names, used = list(TODAY_NAMES), set(TODAY_NAMES)
    while len(names) < count:
        _region, _short, countries, scripts = rng.choice(REGIONS)
        script = rng.choice(list(scripts) + ["cjk"] * (len(names) % 5 == 0))
        name = _name(rng, script, rng.choice(countries))
        if name not in used:
            names.append(name)
            used.add(name)
    for n, full_name in enumerate(names, start=1):
        region_name, region_short, countries, _scripts = rng.choice(REGIONS)
        entity_type, country = rng.choices(ENTITY_TYPES, [w for _, w in ENTITY_TYPES])[0][0], rng.choice(countries)
        db.session.add(
            Registration(
                session=meeting,
                full_name=full_name,
                email=_ascii_handle(latin_key(full_name), n),
                organisation=_organisation(entity_type, region_short, country, rng),
                country=country,
                entity_type=next(t for t in meeting.entity_types if t.name == entity_type),
                region=next(r for r in meeting.regions if r.name == region_name),
                mode=Mode.ONLINE if n % 4 == 0 else Mode.IN_PERSON,
            )
        )


def _forget_attendance(meeting: MeetingSession) -> None:
    """Yesterday's practice: its check-ins, joins and scans go, so that today's start afresh."""
    registrations = sa.select(Registration.id).where(Registration.session_id == meeting.id)
    db.session.execute(sa.delete(Attendance).where(Attendance.registration_id.in_(registrations)))
    db.session.execute(sa.delete(ScanEvent).where(ScanEvent.session_id == meeting.id))


def _add_todays_arrivals(meeting: MeetingSession, day: SessionDay, door_staff: list) -> None:
    """About a third of those coming in person are in already (scanned in the last hour and a half, never in the
    future), and a few online delegates clicked their join link."""
    from .online.service import ensure_online_attendance

    rng = random.Random(day.date.toordinal())
    now = utcnow()
    midnight = datetime.combine(day.date, time(0, 0), tzinfo=meeting.zone).astimezone(UTC)
    people = db.session.scalars(
        sa.select(Registration).filter_by(session_id=meeting.id).order_by(Registration.id)
    ).all()
    for n, registration in enumerate(people):
        at = max(midnight, now - timedelta(minutes=rng.randrange(5, 90)))
        if registration.full_name in TODAY_NAMES:
            continue  # left to be found and let in
        if registration.mode is Mode.IN_PERSON and rng.random() < 0.35:
            user = door_staff[n % 2]
            common = dict(actor=f"user:{user.id}", recorded_by=user.email, door=DOORS[n % 2])
            db.session.add(
                Attendance(
                    registration=registration,
                    day=day,
                    mode=Mode.IN_PERSON,
                    first_seen_at=at,
                    source=Source.SCAN,
                    **common,
                )
            )
            db.session.add(
                ScanEvent(
                    session=meeting,
                    registration=registration,
                    day=day.date,
                    at=at,
                    result=ScanResult.OK,
                    token_excerpt=registration.badge_token[:8],
                    **common,
                )
            )
        elif registration.mode is Mode.ONLINE and rng.random() < 0.6:
            ensure_online_attendance(registration, day, at, Source.LINK)


DOORS = ["Main entrance", "Side entrance"]


def _add_door_check_ins(meeting: MeetingSession, door_staff: list) -> None:
    """Realistic door traffic: most arrive before the opening, some late, a few never; one online registrant
    walks in; some badges are scanned twice, and a few unknown codes are scanned at the side door."""
    rng = random.Random(2024_02_19)
    leavers = random.Random(2024_02_21)  # a generator of its own: the check-ins stay what they were
    registrations = db.session.scalars(
        sa.select(Registration)
        .where(Registration.session_id == meeting.id, Registration.status == RegistrationStatus.REGISTERED)
        .order_by(Registration.id)
    ).all()
    in_person = [r for r in registrations if r.mode is Mode.IN_PERSON]
    walk_in = next(r for r in registrations if r.mode is Mode.ONLINE)
    zone = meeting.zone
    for day_index, day in enumerate(meeting.days):
        show_rate = 0.92 if day_index == 0 else 0.86
        comers = [r for r in in_person if rng.random() < show_rate] + ([walk_in] if day_index == 1 else [])
        for registration in comers:
            if rng.random() < 0.08:  # late arrival
                local = datetime.combine(day.date, time(11, 0)) + timedelta(minutes=rng.randrange(180))
            else:
                local = datetime.combine(day.date, time(8, 40)) + timedelta(minutes=rng.randrange(60))
            at = local.replace(tzinfo=zone).astimezone(UTC)
            door_index = rng.randrange(2)
            user = door_staff[door_index]
            common = dict(actor=f"user:{user.id}", recorded_by=user.email, door=DOORS[door_index])
            attendance = Attendance(
                registration=registration, day=day, mode=Mode.IN_PERSON, first_seen_at=at, source=Source.SCAN, **common
            )
            db.session.add(attendance)
            if leavers.random() < 0.06:  # left early, and the secretariat recorded it: certificates count to then
                left = datetime.combine(day.date, time(14, 0)) + timedelta(minutes=leavers.randrange(150))
                attendance.checked_out_at = left.replace(tzinfo=zone).astimezone(UTC)
                db.session.add(
                    ScanEvent(
                        session=meeting,
                        registration=registration,
                        day=day.date,
                        at=attendance.checked_out_at,
                        result=ScanResult.CHECKED_OUT,
                        source=Source.MANUAL,
                        note=f"left at {left:%H:%M}",
                        **common,
                    )
                )
            db.session.add(
                ScanEvent(
                    session=meeting,
                    registration=registration,
                    day=day.date,
                    at=at,
                    result=ScanResult.OK,
                    token_excerpt=registration.badge_token[:8],
                    **common,
                )
            )
            if rng.random() < 0.05:  # shown twice at the door
                db.session.add(
                    ScanEvent(
                        session=meeting,
                        registration=registration,
                        day=day.date,
                        at=at + timedelta(minutes=rng.randrange(1, 30)),
                        result=ScanResult.ALREADY_CHECKED_IN,
                        token_excerpt=registration.badge_token[:8],
                        **common,
                    )
                )
        user = door_staff[1]
        for n in range(3 + day_index):
            at = datetime.combine(day.date, time(9, 5 + n), tzinfo=zone).astimezone(UTC)
            db.session.add(
                ScanEvent(
                    session=meeting,
                    day=day.date,
                    at=at,
                    result=ScanResult.INVALID,
                    token_excerpt=rng.choice(["HTTPS://", "12345678", "WIFI:S:G"]),
                    actor=f"user:{user.id}",
                    recorded_by=user.email,
                    door=DOORS[1],
                )
            )


def _add_online_attendance(meeting: MeetingSession) -> None:
    """What Zoom would have reported: full stays, short drop-ins, people who rejoined, some who only clicked
    the join link, and a guest whom no registration matches."""
    from .online.service import ensure_online_attendance, record_presence

    rng = random.Random(2024_02_20)
    online = db.session.scalars(
        sa.select(Registration)
        .where(
            Registration.session_id == meeting.id,
            Registration.mode == Mode.ONLINE,
            Registration.status == RegistrationStatus.REGISTERED,
        )
        .order_by(Registration.id)
    ).all()
    zone = meeting.zone

    def utc(day: SessionDay, hour: int, minute: int) -> datetime:
        local = datetime.combine(day.date, time(0, 0)) + timedelta(hours=hour, minutes=minute)
        return local.replace(tzinfo=zone).astimezone(UTC)

    for day in meeting.days:
        for registration in online:
            roll = rng.random()
            if roll < 0.10:
                continue  # registered online, never came
            if roll < 0.18:  # clicked the link, the platform has no trace of them
                ensure_online_attendance(registration, day, utc(day, 9, rng.randrange(20, 50)), Source.LINK)
                continue
            if roll < 0.60:  # stayed the whole day
                spans = [(utc(day, 9, rng.randrange(20, 35)), utc(day, 17, rng.randrange(0, 5)))]
            elif roll < 0.85:  # dropped out and rejoined
                spans = [
                    (utc(day, 9, rng.randrange(25, 40)), utc(day, 11, rng.randrange(0, 50))),
                    (utc(day, 13, rng.randrange(30, 60)), utc(day, 16, rng.randrange(0, 60))),
                ]
            else:  # a short drop-in
                start = rng.randrange(10 * 60, 15 * 60)
                spans = [(utc(day, 0, start), utc(day, 0, start + rng.randrange(10, 45)))]
            for joined, left in spans:
                record_presence(
                    meeting,
                    day,
                    registration,
                    joined_at=joined,
                    left_at=left,
                    source=Source.ZOOM_REPORT,
                    source_key=f"email:{registration.email_key}|{key_text(joined)}|{key_text(left)}",
                )
        guest_joined, guest_left = utc(day, 10, 5), utc(day, 12, 40)
        record_presence(
            meeting,
            day,
            None,
            joined_at=guest_joined,
            left_at=guest_left,
            source=Source.ZOOM_REPORT,
            source_key=f"name:guest (iphone)|{key_text(guest_joined)}",
            name="Guest (iPhone)",
        )


def _add_delegates(meeting: MeetingSession, count: int) -> None:
    rng = random.Random(19_20_02_2024)
    types = {t.name: t for t in meeting.entity_types}
    regions = {r.name: r for r in meeting.regions}
    type_names = [name for name, _ in ENTITY_TYPES]
    type_weights = [weight for _, weight in ENTITY_TYPES]
    used_names: set[str] = set()
    for n in range(1, count + 1):
        region_name, region_short, countries, scripts = rng.choice(REGIONS)
        entity_type = rng.choices(type_names, type_weights)[0]
        script = rng.choices(list(scripts), list(scripts.values()))[0]
        country = rng.choice(countries)
        full_name = _name(rng, script, country)
        for _attempt in range(20):  # no two delegates of the demo share a name
            if full_name not in used_names:
                break
            full_name = _name(rng, script, country)
        used_names.add(full_name)
        role = Role.DELEGATE
        if entity_type == "Secretariat":
            role = Role.SECRETARIAT
        elif entity_type.startswith("Observer"):
            role = Role.OBSERVER
        elif rng.random() < 0.06:
            role = Role.SPEAKER
        registered = datetime(2023, 12, 4, 9, 0, tzinfo=UTC) + timedelta(minutes=rng.randrange(60 * 24 * 70))
        meeting_reg = Registration(
            session=meeting,
            full_name=full_name,
            email=_ascii_handle(full_name, n),
            organisation=_organisation(entity_type, region_short, country, rng),
            country=country,
            entity_type=types[entity_type],
            region=regions[region_name],
            role=role,
            mode=Mode.IN_PERSON if rng.random() < 0.66 else Mode.ONLINE,
            consented_at=registered,
            created_at=registered,
            updated_at=registered,
        )
        db.session.add(meeting_reg)
    db.session.flush()
    # The session's officers: an invented chair and vice-chair from the ROCBs.
    rocbs = db.session.scalars(
        sa.select(Registration)
        .where(Registration.session_id == meeting.id, Registration.entity_type_id == types[type_names[1]].id)
        .order_by(Registration.id)
        .limit(2)
    ).all()
    for registration, role in zip(rocbs, (Role.CHAIR, Role.VICE_CHAIR)):
        registration.role, registration.mode = role, Mode.IN_PERSON
    cancelled = db.session.scalars(
        sa.select(Registration)
        .where(Registration.session_id == meeting.id, Registration.role == Role.DELEGATE)
        .order_by(Registration.id.desc())
        .limit(3)
    ).all()
    for registration in cancelled:
        registration.status = RegistrationStatus.CANCELLED
        registration.cancel_reason = "Travel cancelled"
        registration.cancelled_at = datetime(2024, 2, 15, 10, 0, tzinfo=UTC)

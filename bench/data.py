"""Bench data: a fresh schema, the demo, and a large session, made through the app's own code.

`python bench/data.py FIXTURE.json` runs inside the app (create_app() reads DATABASE_URL from the environment)
after `flask db upgrade` and `flask seed-demo` have run on the same database. It adds:

- "bench-large": a three-day session in Europe/Brussels whose last day is TODAY there, so door check-ins
  succeed, with 10,000 registrations (bulk inserted with executemany through SQLAlchemy core) and about
  20,000 attendance records on the two earlier days: in person, and online with the platform's intervals;
- "bench-ended": a two-day session that ended a week ago, with 1,500 registrations and their attendance made
  the same way: the app issues certificates only once a meeting has ended, and the large session ends today at
  17:00 in Brussels, so the PDF part takes its certificates here, whatever the time of day;
- "bench-open": a session open for registration with a generous in-person capacity (the seat check runs,
  but never refuses);
- 32 scanner API tokens bound to "bench-large", one per simulated door phone, made with
  `attendance.api.tokens.create_api_token`.

It writes what the load generator needs (token, badge codes, form choices) to FIXTURE.json.
`reset_database(url)` drops every table of a database (PostgreSQL) so that the migrations start from nothing.
"""

from __future__ import annotations

import json
import random
import sys
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa

LARGE_SLUG = "bench-large"
OPEN_SLUG = "bench-open"
ENDED_SLUG = "bench-ended"
LARGE_SIZE = 10_000
ENDED_SIZE = 1_500  # enough eligible delegates (about 98 %) for the bulk run of 1,000 certificates
SCANNERS = 32
ZONE_NAME = "Europe/Brussels"

# Names in the scripts delegates write them in: the PDFs must lay out all of them.
GIVEN = {
    "latin": [
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
        "Inés",
        "Olumide",
        "Fatoumata",
        "Björn",
        "Aïcha",
        "Siosaia",
        "Çağla",
        "Nguyễn Thị",
        "Dagný",
    ],
    "cyrillic": ["Анна", "Дмитрий", "Елена", "Айгерим", "Олег", "Наталья", "Сергей", "Ольга"],
    "arabic": ["فاطمة", "محمد", "ليلى", "عمر", "سارة", "يوسف", "مريم", "خالد"],
    "cjk": ["伟", "娜", "敏", "静", "花子", "健太", "민준", "서연"],
}
FAMILY = {
    "latin": [
        "Okonkwo",
        "Dubois",
        "Nørgaard",
        "Mensah",
        "García López",
        "Kowalski",
        "N'Diaye",
        "Traoré",
        "Müller",
        "Ferreira",
        "Tshabalala",
        "van den Berg",
        "Ochieng",
        "Šimunović",
        "Ødegård",
        "Öztürk",
        "Adébáyọ̀",
    ],
    "cyrillic": ["Смирнова", "Волков", "Кузнецова", "Садыкова", "Петренко", "Морозов", "Ахметов"],
    "arabic": ["الزهراني", "العلي", "حداد", "الفاسي", "المنصوري", "الخطيب", "بن سالم"],
    "cjk": ["王", "李", "张", "陈", "佐藤", "鈴木", "김", "박"],
}
SCRIPTS, SCRIPT_WEIGHTS = ["latin", "cyrillic", "arabic", "cjk"], [6, 1.5, 1.5, 1]
COUNTRIES = ["BE", "FR", "KE", "NG", "JP", "CN", "KR", "AE", "EG", "RU", "KZ", "BR", "MX", "FJ", "SN", "ZA"]


def sqlalchemy_url(url: str) -> str:
    """postgres:// and postgresql:// name psycopg 3, as the app's own config does."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def reset_database(url: str) -> None:
    """Drops every table in the database (and the migrations' version table with them)."""
    engine = sa.create_engine(sqlalchemy_url(url))
    try:
        meta = sa.MetaData()
        meta.reflect(bind=engine)
        meta.drop_all(bind=engine)
    finally:
        engine.dispose()


def _name(rng: random.Random) -> str:
    script = rng.choices(SCRIPTS, SCRIPT_WEIGHTS)[0]
    given, family = rng.choice(GIVEN[script]), rng.choice(FAMILY[script])
    return f"{family}{given}" if script == "cjk" else f"{given} {family}"


def _utc(zone: ZoneInfo, day: date, hour: int, minute: int) -> datetime:
    local = datetime.combine(day, time(0, 0)) + timedelta(hours=hour, minutes=minute)
    return local.replace(tzinfo=zone).astimezone(UTC)


def _session(series, slug: str, number: int, title: str, days: list[date], capacity: int | None):
    from attendance.clock import utcnow
    from attendance.demo import ENTITY_TYPES, REGIONS
    from attendance.models import EntityType, MeetingSession, Region, SessionDay

    meeting = MeetingSession(
        series=series,
        slug=slug,
        number=number,
        title=title,
        venue="Brussels, Belgium",
        timezone=ZONE_NAME,
        online_meeting_url=f"https://meet.example.org/{slug}",
        in_person_capacity=capacity,
        registration_opens_at=utcnow().replace(microsecond=0) - timedelta(days=30),
        registration_closes_at=utcnow().replace(microsecond=0) + timedelta(days=30),
        chair_name="Chair of the Bench Session",
        chair_title="Director, ROCB Europe",
    )
    meeting.days = [SessionDay(date=d, starts_at=time(9, 30), ends_at=time(17, 0)) for d in days]
    meeting.entity_types = [EntityType(name=entry[0], position=i) for i, entry in enumerate(ENTITY_TYPES)]
    meeting.regions = [Region(name=entry[0], position=i) for i, entry in enumerate(REGIONS)]
    return meeting


def _bulk_registrations(meeting, rng: random.Random, size: int) -> None:
    """`size` registrations in one executemany; email_key and the two secrets are filled in as the model would."""
    from attendance.clock import utcnow
    from attendance.extensions import db
    from attendance.models import Mode, Registration, RegistrationStatus, Role
    from attendance.text import search_key
    from attendance.tokens import new_access_key, new_badge_token

    now = utcnow()
    type_ids = [t.id for t in meeting.entity_types]
    region_ids = [r.id for r in meeting.regions]
    rows = []
    for n in range(1, size + 1):
        email, name = f"bench.delegate.{n:05d}@example.org", _name(rng)
        rows.append(
            {
                "session_id": meeting.id,
                "full_name": name,
                "name_key": search_key(name),
                "email": email,
                "email_key": email,
                "organisation": f"Bench Entity {n % 97}",
                "country": rng.choice(COUNTRIES),
                "entity_type_id": rng.choice(type_ids),
                "region_id": rng.choice(region_ids),
                "role": Role.DELEGATE,
                "mode": Mode.IN_PERSON if rng.random() < 0.66 else Mode.ONLINE,
                "status": RegistrationStatus.REGISTERED,
                "cancel_reason": "",
                "badge_token": new_badge_token(),
                "access_key": new_access_key(),
                "personal_join_url": "",
                "consented_at": now,
                "created_at": now,
                "updated_at": now,
            }
        )
    db.session.execute(sa.insert(Registration.__table__), rows)


def _bulk_attendance(meeting, rng: random.Random, past_days: list) -> None:
    """About two attendances per registration, one on each of `past_days`: in person at the door, or online with
    intervals."""
    from attendance.extensions import db
    from attendance.models import Attendance, Mode, OnlineInterval, Registration, Source

    zone = ZoneInfo(ZONE_NAME)
    registrations = db.session.execute(
        sa.select(Registration.id, Registration.mode)
        .where(Registration.session_id == meeting.id)
        .order_by(Registration.id)
    ).all()
    rows, online_plans = [], {}
    for day in past_days:
        at = lambda hour, minute: _utc(zone, day.date, hour, minute)  # noqa: E731
        for registration_id, mode in registrations:
            roll = rng.random()
            if roll < 0.015:
                continue  # a no-show
            attended = mode
            if roll > 0.97:
                attended = Mode.ONLINE if mode is Mode.IN_PERSON else Mode.IN_PERSON  # changed their mind
            if attended is Mode.IN_PERSON:
                rows.append(
                    {
                        "registration_id": registration_id,
                        "day_id": day.id,
                        "mode": Mode.IN_PERSON,
                        "first_seen_at": at(8, 40 + rng.randrange(60)),
                        "source": Source.SCAN,
                        "actor": "user:0",
                        "recorded_by": "door@example.org",
                        "door": rng.choice(["Main entrance", "Side"]),
                        "note": "",
                    }
                )
                continue
            if rng.random() < 0.08:  # clicked the join link, the platform never saw them
                spans = []
            elif rng.random() < 0.65:  # the whole day
                spans = [(at(9, 20 + rng.randrange(15)), at(17, rng.randrange(5)))]
            else:  # dropped out and rejoined
                spans = [
                    (at(9, 25 + rng.randrange(15)), at(11, rng.randrange(50))),
                    (at(13, 30 + rng.randrange(30)), at(16, rng.randrange(60))),
                ]
            first = spans[0][0] if spans else at(9, 30)
            rows.append(
                {
                    "registration_id": registration_id,
                    "day_id": day.id,
                    "mode": Mode.ONLINE,
                    "first_seen_at": first,
                    "source": Source.ZOOM_REPORT if spans else Source.LINK,
                    "actor": "",
                    "recorded_by": "Zoom report" if spans else "join link",
                    "door": "",
                    "note": "",
                }
            )
            online_plans[(registration_id, day.id)] = spans
    db.session.execute(sa.insert(Attendance.__table__), rows)

    online_ids = db.session.execute(
        sa.select(Attendance.id, Attendance.registration_id, Attendance.day_id).where(
            Attendance.mode == Mode.ONLINE, Attendance.day_id.in_([d.id for d in past_days])
        )
    ).all()
    intervals = []
    for attendance_id, registration_id, day_id in online_ids:
        for joined, left in online_plans.get((registration_id, day_id), []):
            intervals.append(
                {
                    "attendance_id": attendance_id,
                    "joined_at": joined,
                    "left_at": left,
                    "source": Source.ZOOM_REPORT,
                    "source_key": f"bench:{registration_id}|{joined.isoformat()}|{left.isoformat()}",
                }
            )
    db.session.execute(sa.insert(OnlineInterval.__table__), intervals)


def seed(fixture_path: str) -> dict:
    from attendance import create_app
    from attendance.api.tokens import create_api_token
    from attendance.extensions import db
    from attendance.models import Attendance, MeetingSeries, OnlineInterval, Registration

    app = create_app()
    with app.app_context():
        rng = random.Random(2024)
        today = datetime.now(ZoneInfo(ZONE_NAME)).date()
        series = MeetingSeries(name="Bench Meeting Series")
        large = _session(
            series,
            LARGE_SLUG,
            1,
            "Bench Session of 10,000 delegates",
            [today - timedelta(days=2), today - timedelta(days=1), today],
            capacity=None,
        )
        open_ = _session(
            series,
            OPEN_SLUG,
            2,
            "Bench Session open for registration",
            [today + timedelta(days=60), today + timedelta(days=61)],
            capacity=1_000_000,
        )
        ended = _session(
            series,
            ENDED_SLUG,
            3,
            "Bench Session that has ended",
            [today - timedelta(days=8), today - timedelta(days=7)],
            capacity=None,
        )
        db.session.add_all([series, large, open_, ended])
        db.session.commit()

        for meeting, size, past_days in ((large, LARGE_SIZE, large.days[:2]), (ended, ENDED_SIZE, ended.days)):
            _bulk_registrations(meeting, rng, size)
            db.session.commit()
            _bulk_attendance(meeting, rng, past_days)
            db.session.commit()
        # One token per simulated door scanner, each bound to the session, as a venue hands them out: the rate
        # limit counts per token.
        api_tokens = [create_api_token(f"Bench door {n + 1}", session_id=large.id)[1] for n in range(SCANNERS)]
        db.session.commit()  # create_api_token only flushes: the unit of work commits
        if db.engine.dialect.name == "postgresql":
            # The statistics autovacuum would gather after a bulk load this size, so that plans fit the data.
            db.session.execute(sa.text("ANALYZE"))
            db.session.commit()

        badges = db.session.scalars(
            sa.select(Registration.badge_token).where(Registration.session_id == large.id).order_by(Registration.id)
        ).all()
        count = lambda model: db.session.scalar(sa.select(sa.func.count()).select_from(model))  # noqa: E731
        fixture = {
            "api_tokens": api_tokens,
            "checkin_slug": LARGE_SLUG,
            "today": today.isoformat(),
            "badges": list(badges),
            "register_slug": OPEN_SLUG,
            "entity_type_ids": [t.id for t in open_.entity_types],
            "region_ids": [r.id for r in open_.regions],
            "counts": {
                "registrations": count(Registration),
                "attendances": count(Attendance),
                "online_intervals": count(OnlineInterval),
            },
        }
    with open(fixture_path, "w", encoding="utf-8") as out:
        json.dump(fixture, out)
    return fixture


if __name__ == "__main__":
    result = seed(sys.argv[1])
    print(json.dumps(result["counts"]))

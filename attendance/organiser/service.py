"""What organisers change: sessions, their days and vocabularies, and registrations' details."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from openpyxl import Workbook
from openpyxl.styles import Font
from sqlalchemy.exc import IntegrityError

from .. import audit
from ..countries import country_name
from ..dbutil import serialized_writes
from ..exports import append_text_safe, spreadsheet_safe
from ..extensions import db
from ..models import (
    Attendance,
    Certificate,
    EntityType,
    MeetingSeries,
    MeetingSession,
    Mode,
    Region,
    Registration,
    RegistrationStatus,
    Role,
    SessionDay,
    StaffUser,
)
from ..registration.waitlist import lock_seats, promote_waiting


@dataclass
class DayHours:
    date: date
    starts_at: time
    ends_at: time


def to_utc(local: datetime | None, timezone: str) -> datetime | None:
    """A wall-clock time typed in a form (naive) in `timezone`, as a moment in UTC."""
    if local is None:
        return None
    return local.replace(tzinfo=ZoneInfo(timezone)).astimezone(UTC)


def series_named(name: str) -> MeetingSeries:
    series = db.session.scalar(sa.select(MeetingSeries).where(MeetingSeries.matches(name)))
    if series is None:
        series = MeetingSeries(name=name)
        db.session.add(series)
    return series


class DayInUse(Exception):
    """A day with recorded attendance cannot be removed from its session."""


def save_session(
    meeting: MeetingSession, *, series_name: str, days: list[DayHours], organiser: StaffUser, **fields
) -> MeetingSession:
    """Creates or updates a session and its days in one transaction.

    A new session starts with the entity types and regions of the series' latest session, since they rarely change,
    and with its creator as its organiser.
    """
    wanted = {hours.date: hours for hours in days}
    if meeting.id is not None:
        lock_seats(meeting)  # more seats go to the waiting list below, race-free
    for day in meeting.days:
        if day.date not in wanted and db.session.scalar(sa.select(Attendance.id).filter_by(day_id=day.id).limit(1)):
            raise DayInUse(day.date)
    with db.session.no_autoflush:
        series = series_named(series_name)
        if meeting.id is None:
            meeting.organisers = [organiser]
            if series.id is not None:
                _copy_vocabularies(meeting, series)
        meeting.series = series
        for name, value in fields.items():
            setattr(meeting, name, value)
        db.session.add(meeting)
    by_date = {day.date: day for day in meeting.days}
    for day in list(meeting.days):
        if day.date not in wanted:
            meeting.days.remove(day)
    for hours in wanted.values():
        day = by_date.get(hours.date) or SessionDay(date=hours.date)
        day.starts_at, day.ends_at = hours.starts_at, hours.ends_at
        if day not in meeting.days:
            meeting.days.append(day)
    is_new = meeting.id is None
    db.session.flush()  # a new session's id, for its audit line
    audit.record("session.create" if is_new else "session.update", session_id=meeting.id, target=meeting.slug)
    if not is_new:
        promote_waiting(meeting)  # when there are seats now for some who wait
    return meeting


def _copy_vocabularies(meeting: MeetingSession, series: MeetingSeries) -> None:
    previous = db.session.scalar(
        sa.select(MeetingSession).filter_by(series_id=series.id).order_by(MeetingSession.number.desc()).limit(1)
    )
    if previous is None:
        return
    meeting.entity_types = [
        EntityType(name=t.name, position=t.position, translations=t.translations) for t in previous.entity_types
    ]
    meeting.regions = [Region(name=r.name, position=r.position, translations=r.translations) for r in previous.regions]


VOCABULARIES: dict[str, type[EntityType] | type[Region]] = {"entity-types": EntityType, "regions": Region}


def _kind(term: EntityType | Region) -> str:
    return next(kind for kind, model in VOCABULARIES.items() if isinstance(term, model))


class VocabularyInUse(Exception):
    pass


class NameTaken(Exception):
    pass


def save_term(term: EntityType | Region, name: str, position: int, translations: dict | None = None) -> None:
    model = type(term)
    # The database keeps names unique as written; "secretariat" beside "Secretariat" is the same term too.
    with db.session.no_autoflush:
        if db.session.scalar(
            sa.select(model.id)
            .where(model.session_id == term.session.id, model.id != term.id, sa.func.lower(model.name) == name.lower())
            .limit(1)
        ):
            db.session.rollback()  # as for the database's refusal below: the new term leaves nothing behind
            raise NameTaken(name)
    audit.record(
        f"{_kind(term)}.save",
        session_id=term.session.id,
        target=name,
        details=f"was “{term.name}”" if term.id else "added",
    )
    term.name, term.position, term.translations = name, position, translations
    try:
        db.session.add(term)
        db.session.flush()
    except IntegrityError:
        db.session.rollback()
        raise NameTaken(name) from None


def delete_term(term: EntityType | Region) -> None:
    """Deletes an entity type or region that no registration uses; one in use stays."""
    column = Registration.entity_type_id if isinstance(term, EntityType) else Registration.region_id
    used = db.session.scalar(sa.select(sa.func.count()).where(column == term.id))
    if used:
        raise VocabularyInUse(used)
    audit.record(f"{_kind(term)}.delete", session_id=term.session_id, target=term.name)
    db.session.delete(term)
    db.session.flush()


@dataclass
class RegistrationFilters:
    q: str = ""
    entity_type_id: int | None = None
    region_id: int | None = None
    mode: Mode | None = None
    status: RegistrationStatus | None = None


def registrations_query(meeting: MeetingSession, filters: RegistrationFilters) -> sa.Select:
    query = sa.select(Registration).where(Registration.session_id == meeting.id)
    if filters.q:
        # autoescape: a typed % or _ is searched for, not obeyed
        needle = filters.q.lower()
        query = query.where(
            sa.or_(
                Registration.name_has_words(filters.q),
                sa.func.lower(Registration.email).contains(needle, autoescape=True),
                sa.func.lower(Registration.organisation).contains(needle, autoescape=True),
            )
        )
    if filters.entity_type_id:
        query = query.where(Registration.entity_type_id == filters.entity_type_id)
    if filters.region_id:
        query = query.where(Registration.region_id == filters.region_id)
    if filters.mode:
        query = query.where(Registration.mode == filters.mode)
    if filters.status:
        query = query.where(Registration.status == filters.status)
    return query.order_by(Registration.name_key, Registration.id)


class EmailTaken(Exception):
    pass


def update_registration(registration: Registration, *, mode: Mode, role: Role, **fields) -> list[Registration]:
    """Saves an organiser's edit. A delegate moved online frees their seat for the first on the waiting list (the
    promoted are returned); one moved in person leaves the list."""
    with serialized_writes():
        lock_seats(registration.session)
        frees_a_seat = registration.mode is Mode.IN_PERSON and mode is Mode.ONLINE and not registration.is_cancelled
        for name, value in fields.items():
            setattr(registration, name, value)
        registration.mode, registration.role = mode, role
        if mode is Mode.IN_PERSON:
            registration.waiting_since = None
        try:
            db.session.flush()
            promoted = promote_waiting(registration.session) if frees_a_seat else []
        except IntegrityError:
            db.session.rollback()
            raise EmailTaken() from None
    return promoted


CSV_COLUMNS = [
    "id",
    "full_name",
    "email",
    "organisation",
    "country",
    "country_name",
    "entity_type",
    "region",
    "role",
    "mode",
    "waiting_since_utc",
    "status",
    "cancel_reason",
    "registered_at_utc",
    "source",
]


def registration_rows(registrations, questions=(), answers: dict[int, dict[int, str]] | None = None):
    """The export's header, then a row per registration: the standard columns, then one per question of the
    session (`answers`: registration id -> question id -> stored value), headed by the question in English."""
    yield CSV_COLUMNS + [q.label for q in questions]
    for r in registrations:
        given = (answers or {}).get(r.id, {})
        yield (
            [r.id]
            + [
                str(v)
                for v in (
                    r.full_name,
                    r.email,
                    r.organisation,
                    r.country,
                    country_name(r.country),
                    r.entity_type.name,
                    r.region.name,
                    r.role.value,
                    r.mode.value,
                    r.waiting_since.strftime("%Y-%m-%d %H:%M:%S") if r.waiting_since else "",
                    r.status.value,
                    r.cancel_reason,
                    r.created_at.strftime("%Y-%m-%d %H:%M:%S"),
                    r.source.value,
                )
            ]
            + [q.describe(given[q.id], "en") if q.id in given else "" for q in questions]
        )


def registrations_csv(registrations, questions=(), answers: dict[int, dict[int, str]] | None = None) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    for row in registration_rows(registrations, questions, answers):
        writer.writerow([spreadsheet_safe(v) if isinstance(v, str) else v for v in row])
    return out.getvalue()


def registrations_xlsx(registrations, questions=(), answers: dict[int, dict[int, str]] | None = None) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    for row in registration_rows(registrations, questions, answers):
        append_text_safe(sheet, row)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def session_contents(meeting: MeetingSession) -> dict[str, int]:
    """What deleting the session would delete, for the confirmation page and the audit log."""
    registrations = sa.select(Registration.id).where(Registration.session_id == meeting.id)
    return {
        "registrations": db.session.execute(
            sa.select(sa.func.count()).select_from(registrations.subquery())
        ).scalar_one(),
        "attendance records": db.session.execute(
            sa.select(sa.func.count(Attendance.id)).where(Attendance.registration_id.in_(registrations))
        ).scalar_one(),
        "certificates": db.session.execute(
            sa.select(sa.func.count(Certificate.id)).where(Certificate.registration_id.in_(registrations))
        ).scalar_one(),
    }


def delete_session(meeting: MeetingSession) -> None:
    """Deletes the session and all that hangs on it, in one transaction. The database's ON DELETE CASCADE
    rules remove attendances, intervals, certificates, scans, imports and the session's days and lists."""
    audit.record(
        "session.delete",
        session_id=meeting.id,
        target=meeting.slug,
        details=f"{meeting.title}; " + ", ".join(f"{n} {what}" for what, n in session_contents(meeting).items()),
    )
    db.session.execute(sa.delete(Registration).where(Registration.session_id == meeting.id))
    db.session.execute(sa.delete(MeetingSession).where(MeetingSession.id == meeting.id))
    db.session.expunge_all()

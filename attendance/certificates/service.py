"""The certificate rule, and issuing, generating and revoking certificates: all changes of a certificate here."""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import sqlalchemy as sa
from flask_babel import format_date, gettext, ngettext

from ..extensions import db
from ..models import Attendance, Certificate, MeetingSession, Mode, Registration, SessionDay
from ..models.meeting import utcnow
from ..online.intervals import day_window, minutes_attended


@dataclass
class DayAttendance:
    day: SessionDay
    #: "in_person", "online" or "" (not present by the rule)
    mode: str
    minutes: float
    scheduled_minutes: float
    #: why the day does not count, in words; "" when it does
    shortfall: str = ""
    #: counted on a join-link click alone (the session accepts them when the platform has no data)
    by_link: bool = False
    #: not attended, and not over yet: a certificate during the meeting must not say "did not attend"
    to_come: bool = False


@dataclass
class Eligibility:
    registration: Registration
    #: the certificate issued to it, if any (even when no longer eligible: revoked, or attendance removed since)
    certificate: Certificate | None = None
    days: list[DayAttendance] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)

    @property
    def eligible(self) -> bool:
        return not self.reasons

    @property
    def attended_days(self) -> list[DayAttendance]:
        return [d for d in self.days if d.mode]

    @property
    def total_minutes(self) -> int:
        """The sum of the days as the certificate prints them, in whole minutes, so that they add up."""
        return sum(round(d.minutes) for d in self.attended_days)

    @property
    def modes(self) -> list[str]:
        return sorted({d.mode for d in self.attended_days})


def _day_label(day: SessionDay) -> str:
    return format_date(day.date, "d MMM")


def eligibility(registration: Registration) -> Eligibility:
    """Whether the registration earns a certificate by its session's rule and, when not, why in words.

    A day counts in person when the person was checked in; online when the platform's minutes reach the session's
    share of the scheduled time (or, if the session says so, on a join-link click when the platform has no data).
    In-person days count their scheduled hours; online days the minutes attended.
    """
    attendances = db.session.scalars(sa.select(Attendance).filter_by(registration_id=registration.id)
                                     .options(sa.orm.selectinload(Attendance.intervals))).all()
    return _evaluate(registration, attendances, certificate_of(registration))


def eligibilities(registrations: list[Registration]) -> dict[int, Eligibility]:
    """`eligibility` for many registrations in three queries, whatever their number."""
    ids = [r.id for r in registrations]
    attendances: dict[int, list[Attendance]] = {i: [] for i in ids}
    for attendance in db.session.scalars(sa.select(Attendance).where(Attendance.registration_id.in_(ids))
                                         .options(sa.orm.selectinload(Attendance.intervals))):
        attendances[attendance.registration_id].append(attendance)
    certificates = {c.registration_id: c for c in db.session.scalars(
        sa.select(Certificate).where(Certificate.registration_id.in_(ids)))}
    return {r.id: _evaluate(r, attendances[r.id], certificates.get(r.id)) for r in registrations}


def _evaluate(registration: Registration, attendance_list: list[Attendance],
              certificate: Certificate | None) -> Eligibility:
    meeting = registration.session
    result = Eligibility(registration, certificate)
    attendances = {(a.day_id, a.mode): a for a in attendance_list}
    share = meeting.certificate_online_percent / 100
    for day in meeting.days:
        start, end = day_window(day)
        scheduled = (end - start).total_seconds() / 60
        if (day.id, Mode.IN_PERSON) in attendances:
            result.days.append(DayAttendance(day, Mode.IN_PERSON.value, scheduled, scheduled))
            continue
        online = attendances.get((day.id, Mode.ONLINE))
        intervals = online.intervals if online is not None else []
        minutes = minutes_attended([(i.joined_at, i.left_at) for i in intervals], start, end).minutes
        needed = math.ceil(share * scheduled)
        if online is not None and minutes >= needed and (minutes > 0 or needed == 0):
            result.days.append(DayAttendance(day, Mode.ONLINE.value, minutes, scheduled))
        elif online is not None and not intervals and meeting.certificate_accepts_link_click:
            result.days.append(DayAttendance(day, Mode.ONLINE.value, scheduled * share, scheduled, by_link=True))
        elif end > utcnow():  # not counted yet, and not over: whatever is missing may still come
            result.days.append(DayAttendance(day, "", minutes, scheduled, gettext(
                "%(day)s: still to come", day=_day_label(day)), to_come=True))
        elif online is None:
            result.days.append(DayAttendance(day, "", 0, scheduled,
                                             gettext("%(day)s: not attended", day=_day_label(day))))
        elif not intervals:
            result.days.append(DayAttendance(day, "", 0, scheduled, gettext(
                "%(day)s: joined by link, but the platform has no record", day=_day_label(day))))
        else:
            result.days.append(DayAttendance(day, "", minutes, scheduled, gettext(
                "%(day)s: %(minutes)d of %(scheduled)d minutes online; %(percent)d %% needed", day=_day_label(day),
                minutes=round(minutes), scheduled=round(scheduled), percent=meeting.certificate_online_percent)))
    if registration.is_cancelled:
        result.reasons.append(gettext("The registration is cancelled."))
    required = meeting.certificate_days_required
    if len(result.attended_days) < required:
        result.reasons.append(ngettext("Attendance on %(num)d day is needed; %(recorded)d recorded.",
                                       "Attendance on %(num)d days is needed; %(recorded)d recorded.",
                                       required, recorded=len(result.attended_days)))
        result.reasons += [d.shortfall for d in result.days if d.shortfall]
    if certificate is not None and certificate.is_revoked:
        result.reasons.append(gettext("The certificate was revoked: %(reason)s", reason=certificate.revoke_reason)
                              if certificate.revoke_reason and certificate.revoke_reason_public
                              else gettext("The certificate was revoked."))
    return result


def certificate_of(registration: Registration) -> Certificate | None:
    return db.session.scalar(sa.select(Certificate).filter_by(registration_id=registration.id))


class NotEligible(Exception):
    def __init__(self, eligibility_: Eligibility):
        super().__init__("; ".join(eligibility_.reasons))
        self.eligibility = eligibility_


class SessionPurged(Exception):
    """The session's personal data was purged: a certificate made now would be made out to "Delegate N (purged)".
    Verification of the certificates issued before still works."""
    def __init__(self, meeting: MeetingSession):
        super().__init__(f"{meeting.slug} was purged on {meeting.purged_at:%d %B %Y}")
        self.meeting = meeting


def _refuse_if_purged(meeting: MeetingSession) -> None:
    if meeting.purged_at is not None:
        raise SessionPurged(meeting)


def issue(registration: Registration, result: Eligibility | None = None) -> tuple[Certificate, Eligibility]:
    """The registration's certificate, issued on first need; its public id never changes afterwards."""
    _refuse_if_purged(registration.session)
    result = result or eligibility(registration)
    if not result.eligible:
        raise NotEligible(result)
    certificate = _issued(registration, result.certificate)
    db.session.commit()
    return certificate, result


def issue_all(meeting: MeetingSession) -> list[tuple[Certificate, Eligibility]]:
    """Every eligible delegate's certificate, by name, those not yet issued issued now: in one transaction, committed
    before anything is rendered (a stored PDF is written on a connection of its own, which SQLite would make wait).

    Issuing only gives an eligible person the id their own download would give them, so doing it again changes
    nothing but `generated_at`."""
    _refuse_if_purged(meeting)
    issued = [(_issued(result.registration, result.certificate), result)
              for result in session_eligibilities(meeting) if result.eligible]
    db.session.commit()
    return issued


def _issued(registration: Registration, certificate: Certificate | None) -> Certificate:
    if certificate is None:
        certificate = Certificate(registration=registration)
        db.session.add(certificate)
    certificate.generated_at = utcnow()
    return certificate


def revoke(certificate: Certificate, reason: str, by: str, *, reason_public: bool = False) -> None:
    """Revokes with the organiser's reason, which stays internal unless `reason_public`: the verification page is
    public, and a reason may name people or mistakes."""
    certificate.revoked_at = utcnow()
    certificate.revoke_reason = reason.strip()[:500]
    certificate.revoke_reason_public = reason_public
    certificate.revoked_by = by
    db.session.commit()


def reinstate(certificate: Certificate) -> None:
    certificate.revoked_at, certificate.revoke_reason, certificate.revoked_by = None, "", ""
    certificate.revoke_reason_public = False
    db.session.commit()


def session_eligibilities(meeting: MeetingSession) -> list[Eligibility]:
    """Every registration of the session, by name, with whether it earns a certificate now and the one it has."""
    registrations = db.session.scalars(
        sa.select(Registration).filter_by(session_id=meeting.id).order_by(Registration.name_key, Registration.id)
        .options(sa.orm.joinedload(Registration.entity_type))
    ).all()
    results = eligibilities(registrations)
    return [results[r.id] for r in registrations]


def certificate_language(certificate: Certificate) -> str:
    """The session's certificate language when it sets one, else the language the delegate registered in."""
    registration = certificate.registration
    return registration.session.certificate_language or registration.locale

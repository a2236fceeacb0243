"""The certificate rule, and issuing, generating and revoking certificates: all changes of a certificate here."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

import sqlalchemy as sa
from flask_babel import format_date, gettext, ngettext

from .. import audit
from ..attendance_rule import IN_PERSON, ONLINE, DayRecord, days_of, describe_day, scheduled_minutes, session_days_of
from ..clock import utcnow
from ..extensions import db
from ..formatting import format_day, format_duration
from ..models import Certificate, MeetingSession, Registration, SessionDay
from ..online.intervals import day_window


@dataclass
class Eligibility:
    registration: Registration
    #: the certificate issued to it, if any (even when no longer eligible: revoked, or attendance removed since)
    certificate: Certificate | None = None
    #: every day of the session, judged by the one attendance rule
    days: list[DayRecord] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)
    #: the end of the last day, while it is still to come: no certificate before then
    ready_at: datetime | None = None

    @property
    def eligible(self) -> bool:
        return not self.reasons

    @property
    def attended_days(self) -> list[DayRecord]:
        return [d for d in self.days if d.attended]

    @property
    def certifies_scheduled_hours(self) -> bool:
        return self.registration.session.certify_scheduled_hours

    def certified_minutes(self, day: DayRecord) -> int | None:
        """What the certificate prints for the day, in whole minutes; None for "joined by link" or not attended."""
        if day.mode == IN_PERSON and self.certifies_scheduled_hours:
            return round(scheduled_minutes(day.day))
        return round(day.minutes) if day.attended and day.minutes is not None else None

    @property
    def total_minutes(self) -> int:
        """The time measured, as the certificate prints it day by day (whole minutes, so that they add up): no
        scheduled programme, no link clicks."""
        if self.certifies_scheduled_hours:
            return sum(round(d.minutes) for d in self.attended_days if d.mode == ONLINE and d.minutes is not None)
        return sum(self.certified_minutes(d) or 0 for d in self.attended_days)

    @property
    def scheduled_programme_minutes(self) -> int:
        """The scheduled hours certified for in-person days, when the session certifies those; else 0."""
        if not self.certifies_scheduled_hours:
            return 0
        return sum(self.certified_minutes(d) or 0 for d in self.attended_days if d.mode == IN_PERSON)

    @property
    def modes(self) -> list[str]:
        return sorted({d.mode for d in self.attended_days})


def _day_label(day: SessionDay) -> str:
    return format_date(day.date, "d MMM")


def day_statement(result: Eligibility, record: DayRecord) -> str:
    """What a certificate says of one day: only what was measured, or plainly how it counted."""
    if record.mode == IN_PERSON and result.certifies_scheduled_hours:
        minutes = result.certified_minutes(record)
        assert minutes is not None  # the scheduled hours: always a figure
        return gettext("in person · scheduled programme: %(duration)s", duration=format_duration(minutes))
    if not record.attended:
        return gettext("did not attend")
    return describe_day(result.registration.session, record)


def eligibility(registration: Registration) -> Eligibility:
    """Whether the registration earns a certificate by its session's rule and, when not, why in words.

    Days count by the one attendance rule (`attendance_rule`); the session says how many are needed. No certificate
    before the last day has ended: a day still to come may change it.
    """
    return _evaluate(registration, days_of(registration), certificate_of(registration))


def eligibilities(registrations: Sequence[Registration]) -> dict[int, Eligibility]:
    """`eligibility` for many registrations of one session in three queries, whatever their number."""
    if not registrations:
        return {}
    days = session_days_of(registrations[0].session, registrations)
    certificates = {
        c.registration_id: c
        for c in db.session.scalars(
            sa.select(Certificate).where(Certificate.registration_id.in_([r.id for r in registrations]))
        )
    }
    return {r.id: _evaluate(r, days[r.id], certificates.get(r.id)) for r in registrations}


def meeting_ends_at(meeting: MeetingSession) -> datetime | None:
    """The end of the session's last day; None for a session without days."""
    return day_window(meeting.days[-1])[1] if meeting.days else None


def _shortfall(meeting: MeetingSession, record: DayRecord) -> str:
    label = _day_label(record.day)
    if record.clicked_link:
        return gettext("%(day)s: joined by link, but the platform has no record", day=label)
    if record.online_minutes > 0:
        return gettext(
            "%(day)s: %(minutes)d of %(scheduled)d minutes online; %(percent)d %% needed",
            day=label,
            minutes=round(record.online_minutes),
            scheduled=round(scheduled_minutes(record.day)),
            percent=meeting.certificate_online_percent,
        )
    return gettext("%(day)s: not attended", day=label)


def _evaluate(registration: Registration, days: list[DayRecord], certificate: Certificate | None) -> Eligibility:
    meeting = registration.session
    result = Eligibility(registration, certificate, days)
    if registration.is_cancelled:
        result.reasons.append(gettext("The registration is cancelled."))
    elif registration.waits_without_seat:
        result.reasons.append(gettext("You are on the waiting list: no seat yet."))
    elif not registration.is_registered:
        result.reasons.append(gettext("The registration is not approved."))
    ends_at = meeting_ends_at(meeting)
    if ends_at is not None and utcnow() < ends_at:
        result.ready_at = ends_at
        local_end = meeting.local(ends_at)
        result.reasons.append(
            gettext(
                "The certificate will be ready when the meeting ends, on %(date)s at %(time)s.",
                date=format_day(local_end.date()),
                time=local_end.strftime("%H:%M"),
            )
        )
    else:
        required = meeting.certificate_days_required
        if len(result.attended_days) < required:
            result.reasons.append(
                ngettext(
                    "Attendance on %(num)d day is needed; %(recorded)d recorded.",
                    "Attendance on %(num)d days is needed; %(recorded)d recorded.",
                    required,
                    recorded=len(result.attended_days),
                )
            )
            result.reasons += [_shortfall(meeting, d) for d in days if not d.attended]
    if certificate is not None and certificate.is_revoked:
        result.reasons.append(
            gettext("The certificate was revoked: %(reason)s", reason=certificate.revoke_reason)
            if certificate.revoke_reason and certificate.revoke_reason_public
            else gettext("The certificate was revoked.")
        )
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
    db.session.flush()
    return certificate, result


def issue_all(meeting: MeetingSession) -> list[tuple[Certificate, Eligibility]]:
    """Every eligible delegate's certificate, by name, those not yet issued issued now. The caller commits before
    anything is rendered (a stored PDF is written on a connection of its own, which SQLite would make wait).

    Issuing only gives an eligible person the id their own download would give them, so doing it again changes
    nothing but `generated_at`."""
    _refuse_if_purged(meeting)
    issued = [
        (_issued(result.registration, result.certificate), result)
        for result in session_eligibilities(meeting)
        if result.eligible
    ]
    db.session.flush()
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
    audit.record(
        "certificate.revoke",
        session_id=certificate.registration.session_id,
        target=certificate.public_id,
        details=certificate.revoke_reason + (" (public)" if reason_public else ""),
        actor=by,
    )
    db.session.flush()


def reinstate(certificate: Certificate) -> None:
    certificate.revoked_at, certificate.revoke_reason, certificate.revoked_by = None, "", ""
    certificate.revoke_reason_public = False
    audit.record("certificate.reinstate", session_id=certificate.registration.session_id, target=certificate.public_id)
    db.session.flush()


def session_eligibilities(meeting: MeetingSession) -> list[Eligibility]:
    """Every registration of the session, by name, with whether it earns a certificate now and the one it has."""
    registrations = db.session.scalars(
        sa.select(Registration)
        .filter_by(session_id=meeting.id)
        .order_by(Registration.name_key, Registration.id)
        .options(sa.orm.joinedload(Registration.entity_type))
    ).all()
    results = eligibilities(registrations)
    return [results[r.id] for r in registrations]


def certificate_language(certificate: Certificate) -> str:
    """The session's certificate language when it sets one, else the language the delegate registered in."""
    registration = certificate.registration
    return registration.session.certificate_language or registration.locale

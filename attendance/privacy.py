"""Personal data: what a delegate may download about themselves, and purging a past session."""

from __future__ import annotations

import json
from datetime import timedelta

import sqlalchemy as sa

from . import audit
from .clock import key_text, utcnow
from .extensions import db
from .models import (
    Answer,
    Attendance,
    Certificate,
    IdentityMapping,
    Invitation,
    InvitationList,
    MeetingSession,
    Message,
    OnlineInterval,
    OutboxMail,
    Registration,
    RegistrationImport,
    ReportImport,
    Role,
    ScanEvent,
    StoredPdf,
    UnmatchedPresence,
    VisaLetter,
    ZoomEvent,
)
from .questions.service import answers_of
from .tokens import new_access_key, new_badge_token


def my_data(registration: Registration) -> dict:
    """Everything the app holds about one delegate, for them to download."""
    meeting = registration.session
    attendances = db.session.scalars(
        sa.select(Attendance)
        .filter_by(registration_id=registration.id)
        .options(sa.orm.selectinload(Attendance.intervals))
    ).all()
    scans = db.session.scalars(
        sa.select(ScanEvent).filter_by(registration_id=registration.id).order_by(ScanEvent.at)
    ).all()
    certificate = db.session.scalar(sa.select(Certificate).filter_by(registration_id=registration.id))
    visa_letters = db.session.scalars(
        sa.select(VisaLetter).filter_by(registration_id=registration.id).order_by(VisaLetter.id)
    ).all()
    iso = lambda moment: key_text(moment) + "Z" if moment else None  # noqa: E731

    def letter_data(letter: VisaLetter) -> dict:
        return {
            "id": letter.public_id,
            "issued_at": iso(letter.issued_at),
            "revoked": letter.is_revoked,
            "withdrawn": letter.withdrawn,
        }

    return {
        "session": {"slug": meeting.slug, "title": meeting.title, "days": [d.date.isoformat() for d in meeting.days]},
        "registration": {
            "full_name": registration.full_name,
            "email": registration.email,
            "organisation": registration.organisation,
            "country": registration.country,
            "entity_type": registration.entity_type.name,
            "region": registration.region.name,
            "role": registration.role.value,
            "mode": registration.mode.value,
            "status": registration.status.value,
            "registered_at": iso(registration.created_at),
            "consented_at": iso(registration.consented_at),
            "keep_name_on_certificate": registration.keep_name_on_certificate,
            "waiting_for_a_seat_since": iso(registration.waiting_since),
        },
        "attendance": [
            {
                "day": a.day.date.isoformat(),
                "mode": a.mode.value,
                "first_seen_at": iso(a.first_seen_at),
                "checked_out_at": iso(a.checked_out_at),
                "source": a.source.value,
                "door": a.door,
                "online_intervals": [
                    {"joined_at": iso(i.joined_at), "left_at": iso(i.left_at), "source": i.source.value}
                    for i in a.intervals
                ],
            }
            for a in attendances
        ],
        "scans": [{"at": iso(e.at), "result": e.result.value, "door": e.door} for e in scans],
        "certificate": {
            "id": certificate.public_id,
            "issued_at": iso(certificate.issued_at),
            "revoked": certificate.is_revoked,
        }
        if certificate
        else None,
        "answers": [
            {"question": question.local_label, "answer": answer} for question, answer in answers_of(registration)
        ],
        # the latest; a delegate who answered no, then yes again, has the earlier ones, withdrawn
        "visa_letter": letter_data(visa_letters[-1]) if visa_letters else None,
        "earlier_visa_letters": [letter_data(letter) for letter in visa_letters[:-1]],
    }


class TooRecent(Exception):
    pass


def purge_session(meeting: MeetingSession, older_than_days: int) -> int:
    """Anonymises a past session's delegates, keeping its counts and its certificates' verification.

    What stays per registration is what the counts need (entity type, region, mode, status, attendance) and the
    certificate's id and state; names stay on certificate records only for delegates who agreed to it. One
    transaction; returns how many registrations were anonymised.
    """
    last_day = meeting.days[-1].date if meeting.days else None
    if last_day is None or meeting.today() - last_day < timedelta(days=older_than_days):
        raise TooRecent(f"{meeting.slug} ended on {last_day}; it can be purged {older_than_days} days after that.")
    registrations = db.session.scalars(sa.select(Registration).filter_by(session_id=meeting.id)).all()
    certificates = {
        c.registration_id: c
        for c in db.session.scalars(
            sa.select(Certificate).where(Certificate.registration_id.in_([r.id for r in registrations]))
        )
    }
    for registration in registrations:
        certificate = certificates.get(registration.id)
        if certificate is not None and registration.keep_name_on_certificate and not certificate.holder_name:
            certificate.holder_name = registration.full_name
        if certificate is not None and certificate.revoke_reason:
            certificate.revoke_reason = ""  # typed by an organiser, shown on the public page: it may name them
        registration.full_name = f"Delegate {registration.id} (purged)"
        registration.email = f"purged-{registration.id}@invalid.example"
        # "Office of the Vice-Chair, Americas region", a Chair, or an office with its country each point at one
        # person; the counts need none of them.
        registration.organisation, registration.country, registration.role = audit.PURGED, "", Role.DELEGATE
        registration.personal_join_url, registration.zoom_registrant_id, registration.cancel_reason = "", None, ""
        registration.decision_message = ""  # typed by an organiser: it may name them
        # The old links and badge stop working; nobody holds the new ones.
        registration.access_key, registration.badge_token = new_access_key(), new_badge_token()
    # Invitations name their invitees (and their mails go with them); registrations keep no link to them.
    for model in (
        UnmatchedPresence,
        IdentityMapping,
        ZoomEvent,
        ReportImport,
        RegistrationImport,
        InvitationList,
        Invitation,
    ):
        db.session.execute(sa.delete(model).where(model.session_id == meeting.id))
    registration_ids = sa.select(Registration.id).where(Registration.session_id == meeting.id)
    # Stored badges and certificates print the names: delete them rather than wait for a request to replace them.
    db.session.execute(sa.delete(StoredPdf).where(StoredPdf.registration_id.in_(registration_ids)))
    # A mail server's refusal may quote the address; and a mail still waiting would go to nobody now.
    db.session.execute(sa.delete(OutboxMail).where(OutboxMail.registration_id.in_(registration_ids)))
    # An organiser's message to the session's delegates may name them, as its audit line's details may: its text
    # goes; whom it was for (the group), how many, who sent it and when stay, as the audit line's do.
    db.session.execute(sa.update(Message).where(Message.session_id == meeting.id).values(subject=audit.PURGED, body=""))
    # Answers may say anything about a person (diet, health, access needs). Issued visa letters keep their id and
    # date, so that their verification page still answers, naming nobody; a revocation's reason may name them.
    db.session.execute(
        sa.update(VisaLetter).where(VisaLetter.registration_id.in_(registration_ids)).values(revoke_reason="")
    )
    db.session.execute(sa.delete(Answer).where(Answer.registration_id.in_(registration_ids)))
    _anonymise_attendance(meeting, registration_ids, {r.id: r.full_name for r in registrations})
    audit.anonymise_session(meeting.id)
    meeting.purged_at = utcnow()
    audit.record(
        "session.purge",
        session_id=meeting.id,
        target=meeting.slug,
        details=f"{len(registrations)} registrations anonymised",
        actor="cli",
    )
    return len(registrations)


def _anonymise_attendance(meeting: MeetingSession, registration_ids: sa.Select, purged_names: dict[int, str]) -> None:
    """Keeps every attendance, interval and scan (the counts and the certificates rest on them) without what names
    a person: reasons typed at check-ins, the platform's names and emails in interval keys, and the name, entity
    and role each door answer logged."""
    db.session.execute(sa.update(Attendance).where(Attendance.registration_id.in_(registration_ids)).values(note=""))
    # The key only tells a report's rows apart on a later import; the interval's id does that as well.
    db.session.execute(
        sa.update(OnlineInterval)
        .where(
            OnlineInterval.attendance_id.in_(
                sa.select(Attendance.id).where(Attendance.registration_id.in_(registration_ids))
            )
        )
        .values(source_key=sa.literal("purged:") + sa.cast(OnlineInterval.id, sa.String))
    )
    # The session's scans, and its delegates' badges scanned at another session's door.
    scans = sa.or_(ScanEvent.session_id == meeting.id, ScanEvent.registration_id.in_(registration_ids))
    db.session.execute(sa.update(ScanEvent).where(scans).values(token_excerpt="", note=""))
    for event in db.session.scalars(sa.select(ScanEvent).where(scans, ScanEvent.response != "")):
        answer = json.loads(event.response)  # replayed for a repeated nonce: it stays an answer, naming nobody
        answer.update({key: audit.PURGED for key in ("entity", "role") if key in answer})
        if "name" in answer:
            registration_id = event.registration_id
            answer["name"] = purged_names.get(registration_id, audit.PURGED) if registration_id else audit.PURGED
        event.response = json.dumps(answer)

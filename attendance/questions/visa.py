"""Visa support letters: who may have one, issuing it, and its PDF with a verification id and QR."""

from __future__ import annotations

import sqlalchemy as sa
from flask_babel import force_locale, gettext

from .. import audit
from ..clock import utcnow
from ..countries import country_name
from ..dbutil import serialized_writes
from ..documents.pdf import render_pdf
from ..documents.qr import qr_png_uri
from ..extensions import db
from ..links import public_url
from ..models import Answer, MeetingSession, Mode, Question, QuestionKind, Registration, RegistrationStatus, VisaLetter
from ..models.questions import YES


def visa_question(meeting: MeetingSession) -> Question | None:
    return db.session.scalar(sa.select(Question).filter_by(session_id=meeting.id, kind=QuestionKind.VISA_LETTER))


def letter_of(registration: Registration) -> VisaLetter | None:
    """The delegate's latest letter: the one in force, or else the last one revoked."""
    return db.session.scalar(
        sa.select(VisaLetter).filter_by(registration_id=registration.id).order_by(VisaLetter.id.desc()).limit(1)
    )


def visa_requests(meeting: MeetingSession) -> list[tuple[Registration, VisaLetter | None]]:
    """Who asks for a letter (answered yes to the visa question), with their latest letter, if any, by name. A
    letter withdrawn when they answered no is left out: they asked again, and a new one may be issued."""
    latest = (
        sa.select(sa.func.max(VisaLetter.id))
        .where(VisaLetter.registration_id == Registration.id)
        .correlate(Registration)
        .scalar_subquery()
    )
    rows = db.session.execute(
        sa.select(Registration, VisaLetter)
        .join(Answer, Answer.registration_id == Registration.id)
        .join(Question, sa.and_(Question.id == Answer.question_id, Question.kind == QuestionKind.VISA_LETTER))
        .outerjoin(VisaLetter, sa.and_(VisaLetter.id == latest, VisaLetter.withdrawn.is_(False)))
        .where(Registration.session_id == meeting.id, Answer.value == YES)
        .order_by(Registration.name_key, Registration.id)
    ).all()
    return [(registration, letter) for registration, letter in rows]


def refusal(registration: Registration) -> str | None:
    """Why no letter can be issued to the registration now; None when one can."""
    if registration.session.purged_at is not None:
        return gettext("This session's personal data was deleted.")
    if registration.status is not RegistrationStatus.REGISTERED:
        return gettext("Only a registered delegate can have a visa letter.")
    if registration.mode is not Mode.IN_PERSON:
        return gettext("Only a delegate attending in person can have a visa letter.")
    asked = db.session.scalar(
        sa.select(Answer.id)
        .join(Question)
        .where(
            Answer.registration_id == registration.id, Question.kind == QuestionKind.VISA_LETTER, Answer.value == YES
        )
    )
    if asked is None:
        return gettext("This delegate did not ask for a visa letter.")
    return None


class NotIssuable(Exception):
    """`args[0]` says why, for the organiser."""


def issue_letter(registration: Registration, *, by: str) -> VisaLetter:
    """Issues the delegate's letter (audited), or returns the one in force: its id stays. After a letter withdrawn
    (the delegate answered no, then yes again), a new one with a new id; after an organiser's revocation, none.
    Under the registration's lock: two organisers issuing at once issue one letter."""
    with serialized_writes():
        db.session.refresh(registration, with_for_update=True)
        reason = refusal(registration)
        if reason:
            raise NotIssuable(reason)
        letter = letter_of(registration)
        if letter is not None and letter.is_revoked and not letter.withdrawn:
            raise NotIssuable(gettext("This delegate's letter was revoked."))
        if letter is None or letter.withdrawn:
            letter = VisaLetter(registration=registration, issued_by=by)
            db.session.add(letter)
            db.session.flush()
            audit.record(
                "visa_letter.issue",
                session_id=registration.session_id,
                target=f"registration {registration.id}",
                details=letter.public_id,
                actor=by,
            )
    return letter


def visa_letter_pdf(letter: VisaLetter) -> bytes:
    """The letter in the delegate's language: their name and country, the meeting's dates and venue, the
    secretariat's signature block, and the verification id with its QR."""
    registration = letter.registration
    language = registration.locale
    verify_url = public_url("certificates.verify", public_id=letter.public_id)
    with force_locale(language):
        return render_pdf(
            "certificates/visa_letter.html",
            letter=letter,
            registration=registration,
            meeting=registration.session,
            country=country_name(registration.country, language),
            verify_url=verify_url,
            qr=qr_png_uri(verify_url, fixed_mask=True),
        )


def is_valid(letter: VisaLetter) -> bool:
    """What the verification page says: not revoked, and the delegate is still registered to attend in person."""
    registration = letter.registration
    return (
        not letter.is_revoked
        and registration.status is RegistrationStatus.REGISTERED
        and registration.mode is Mode.IN_PERSON
    )


def why_unusable(letter: VisaLetter) -> tuple[str, str] | None:
    """None while the letter verifies as valid (`is_valid`): the delegate's page offers it, and its download serves
    it. Else why not, as the delegate's page and the download's refusal say it: (a word for the page's style,
    "withdrawn", "revoked" or "invalid", and the sentence the delegate reads)."""
    if is_valid(letter):
        return None
    if letter.withdrawn:
        return "withdrawn", gettext(
            "Your visa letter was withdrawn when your answer said you no longer need one: it is no longer valid. "
            "Contact the secretariat if you need a letter."
        )
    if letter.is_revoked:
        return "revoked", gettext("The secretariat revoked your visa letter. Contact the secretariat.")
    return "invalid", gettext(
        "Your visa letter is no longer valid: you are not registered to attend in person. Contact the secretariat."
    )


REVOKE_REASON_MAX = 500
#: the reason of a letter withdrawn, in the audit log as an organiser's reason is
WITHDRAWN_REASON = "withdrawn: the delegate's answer no longer asks for a visa letter"


def revoke_letter(letter: VisaLetter, *, reason: str, by: str, withdrawn: bool = False) -> None:
    """Revokes the letter (audited), with the organiser's optional reason, which stays internal: the verification
    page is public. `withdrawn`: because the delegate no longer asks for one (`withdraw_letter`). A letter revoked
    before (a moment ago, by another organiser) stays as it was."""
    with serialized_writes():
        db.session.refresh(letter, with_for_update=True)
        if letter.is_revoked:
            return
        letter.revoked_at, letter.revoke_reason, letter.revoked_by = utcnow(), reason.strip()[:REVOKE_REASON_MAX], by
        letter.withdrawn = withdrawn
        audit.record(
            "visa_letter.revoke",
            session_id=letter.registration.session_id,
            target=letter.public_id,
            details=letter.revoke_reason,
            actor=by,
        )
        db.session.flush()


def withdraw_letter(registration: Registration, *, by: str) -> VisaLetter | None:
    """The delegate's answer no longer asks for a letter: the one in force, if any, is revoked as withdrawn (audited)
    and returned. When they ask again, a new one may be issued. In the caller's transaction, under its lock on the
    registration (`replace_answers`)."""
    letter = letter_of(registration)
    if letter is None or letter.is_revoked:
        return None
    revoke_letter(letter, reason=WITHDRAWN_REASON, by=by, withdrawn=True)
    return letter

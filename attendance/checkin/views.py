"""The door's scanner page and the entrance kiosk, and organisers' live attendance, manual check-in/out and the scan
log."""

import json
import re
from datetime import UTC, date, datetime, time

import sqlalchemy as sa
from flask import abort, current_app, flash, jsonify, redirect, render_template, request, send_from_directory, url_for
from flask_babel import get_locale, gettext
from flask_login import current_user

from .. import audit
from ..attendance_rule import day_plan, judge_day
from ..auth import Actor, organiser_required, staff_required
from ..clock import utcnow
from ..extensions import db
from ..formatting import format_day
from ..lookup import chosen_day, door_session_or_403, in_session_or_404, managed_session_or_404, session_or_404
from ..models import (
    Attendance,
    MeetingSession,
    Mode,
    Registration,
    RegistrationStatus,
    ScanEvent,
    ScanResult,
    SessionDay,
    Source,
)
from ..security import reads_badges_with_camera
from ..text import has_control_characters
from ..tokens import BADGE_TOKEN_LENGTH
from . import bp
from .counts import door_counts
from .kiosk import registration_from_badge_link
from .roster import is_offline_conflict
from .rule import NotAllowed, ScanTimeRejected, check_in, check_out, remove_check_in

SCAN_RESULT_VALUES = frozenset(result.value for result in ScanResult)

SCAN_LOG_LIMIT = 300


@bp.get("/checkin")
@staff_required
def doors():
    """Door staff pick the session they admit to: among the sessions they are assigned to, if any."""
    query = db.select(MeetingSession).order_by(MeetingSession.created_at.desc())
    if current_user.door_session_ids is not None:
        query = query.where(MeetingSession.id.in_(current_user.door_session_ids))
    sessions = db.session.scalars(query).all()
    return render_template("checkin/doors.html", sessions=sessions)


@bp.get("/sessions/<slug>/checkin")
@staff_required
@reads_badges_with_camera
def scanner(slug: str):
    meeting = door_session_or_403(slug)
    today = meeting.today()
    return render_template(
        "checkin/scanner.html",
        meeting=meeting,
        today=today,
        is_meeting_day=any(d.date == today for d in meeting.days),
        counts=door_counts(meeting, today),
        token_length=BADGE_TOKEN_LENGTH,
        zero_is_singular=get_locale().plural_form(0) == "one",
    )


@bp.get("/checkin-sw.js")
def scanner_worker():
    """The scanner's service worker, served from the site's root so that its scope can cover /sessions/."""
    response = send_from_directory(current_app.static_folder, "sw.js", mimetype="text/javascript", max_age=0)
    response.headers["Service-Worker-Allowed"] = "/sessions/"
    return response


@bp.get("/sessions/<slug>/checkin/manifest.webmanifest")
def scanner_manifest(slug: str):
    """Makes a session's scanner installable on a door phone, opening straight on that session's door."""
    meeting = session_or_404(slug)
    response = jsonify(
        {
            "name": gettext("Door: %(title)s", title=meeting.title),
            "short_name": gettext("Door"),
            "start_url": url_for("checkin.scanner", slug=slug),
            "scope": url_for("checkin.scanner", slug=slug),
            "display": "standalone",
            "background_color": "#ffffff",
            "theme_color": "#14612f",
            "icons": [{"src": url_for("static", filename="favicon.svg"), "sizes": "any", "type": "image/svg+xml"}],
        }
    )
    response.mimetype = "application/manifest+json"
    return response


@bp.get("/sessions/<slug>/kiosk")
@reads_badges_with_camera
def kiosk(slug: str):
    """The self check-in kiosk: public, as it shows nothing until a staff member gives it an API token for this
    session (kept in the tablet's browser), and then only the welcome of whoever shows their badge."""
    return render_template("checkin/kiosk.html", meeting=session_or_404(slug), token_length=BADGE_TOKEN_LENGTH)


@bp.get("/kiosk/badge/<link>")
def kiosk_badge(link: str):
    """The badge of the delegate a kiosk just welcomed, from the short-lived link its answer carried."""
    from ..registration.badges import badge_pdf  # not at the top: the registration package imports this one

    registration = registration_from_badge_link(link)
    if registration is None:
        abort(404, gettext("This badge link has expired: show your badge QR code to the kiosk again."))
    return (
        badge_pdf(registration),
        200,
        {
            "Content-Type": "application/pdf",
            "Content-Disposition": 'inline; filename="badge.pdf"',
            "Cache-Control": "private, no-store",
            "Referrer-Policy": "no-referrer",
        },
    )


@bp.get("/sessions/<slug>/attendance")
@organiser_required
def live_attendance(slug: str):
    """Who is in on a day, and who registered in person but has not come."""
    meeting = managed_session_or_404(slug)
    day = chosen_day(meeting)
    attended = {
        a.registration_id: a
        for a in db.session.scalars(sa.select(Attendance).filter_by(day_id=day.id, mode=Mode.IN_PERSON))
    }
    people = db.session.scalars(
        sa.select(Registration)
        .where(
            Registration.session_id == meeting.id,
            sa.or_(
                sa.and_(Registration.mode == Mode.IN_PERSON, Registration.status == RegistrationStatus.REGISTERED),
                Registration.id.in_(list(attended) or [-1]),
            ),
        )
        .order_by(Registration.name_key, Registration.id)
    ).all()
    present = [r for r in people if r.id in attended]
    absent = [r for r in people if r.id not in attended]
    plan = day_plan(meeting, day, utcnow())
    return render_template(
        "checkin/attendance.html",
        meeting=meeting,
        day=day,
        present=present,
        absent=absent,
        attended=attended,
        # what the rule makes of each: a check-in recorded after the day was over has no time to show
        judged={rid: judge_day(meeting, day, attendance, None, plan) for rid, attendance in attended.items()},
        counts=door_counts(meeting, day.date),
        to_come=day.date > meeting.today(),
    )


@bp.post("/sessions/<slug>/attendance/<int:registration_id>")
@organiser_required
def manual_change(slug: str, registration_id: int):
    """An organiser checks a person in by hand, records when they left (check-out), or removes a check-in made by
    mistake; check-ins and removals need a reason."""
    meeting = managed_session_or_404(slug)
    registration = in_session_or_404(Registration, registration_id, meeting)
    day = chosen_day(meeting, exact=True)
    reason = request.form.get("reason", "").strip()[:500]
    action = request.form.get("action")
    if has_control_characters(reason):
        flash(gettext("Nothing was changed: remove the control characters from the reason."))
        return redirect(url_for("checkin.live_attendance", slug=slug, day=day.date.isoformat()))
    actor = Actor.of_user(current_user)
    target = f"registration {registration.id}"
    attendance = db.session.scalar(
        sa.select(Attendance).filter_by(registration_id=registration.id, day_id=day.id, mode=Mode.IN_PERSON)
    )
    if day.date > meeting.today():  # nobody has come yet to a day still ahead
        flash(
            gettext(
                "%(day)s has not come yet: check people in on the day, or for a day gone by.", day=format_day(day.date)
            )
        )
    elif action == "check_out":
        if attendance is None:
            flash(
                gettext("%(name)s is not checked in on %(day)s.", name=registration.full_name, day=format_day(day.date))
            )
        else:
            try:
                left_at = _moment_on(meeting, day, request.form.get("time", ""), today=day.date == meeting.today())
                check_out(attendance, actor, left_at, reason)
            except (ValueError, NotAllowed) as refusal:
                db.session.rollback()
                flash(gettext("Not checked out: %(reason)s", reason=refusal))
            else:
                audit.record(
                    "attendance.check_out",
                    session_id=meeting.id,
                    target=target,
                    details=f"{day.date}: {meeting.local(left_at):%H:%M} {reason}".strip(),
                )
                flash(
                    gettext(
                        "%(name)s checked out at %(time)s on %(day)s.",
                        name=registration.full_name,
                        time=meeting.local(left_at).strftime("%H:%M"),
                        day=format_day(day.date),
                    )
                )
    elif not reason:
        flash(gettext("Give a reason: it is kept in the scan log."))
    elif action == "remove":
        if attendance is not None:
            remove_check_in(attendance, actor, reason)
            audit.record("attendance.remove", session_id=meeting.id, target=target, details=f"{day.date}: {reason}")
            flash(
                gettext("%(name)s: check-in of %(day)s removed.", name=registration.full_name, day=format_day(day.date))
            )
    else:
        # When they came, from a sign-in sheet, say: without it, a day gone by counts with no time measured.
        clock = request.form.get("time", "").strip()

        def audit_check_in(_admitted) -> None:  # only an admission is audited, not a refusal
            came = f" {clock}" if clock else ""
            audit.record(
                "attendance.check_in", session_id=meeting.id, target=target, details=f"{day.date}{came}: {reason}"
            )

        try:
            arrived_at = _moment_on(meeting, day, clock, today=True) if clock else None
            if arrived_at is not None and arrived_at > utcnow():
                raise ValueError(gettext("%(time)s has not come yet.", time=clock))
            outcome = check_in(
                actor=actor,
                registration_id=registration.id,
                session_slug=meeting.slug,
                day=day.date,
                source=Source.MANUAL,
                note=reason,
                door="secretariat",
                on_admitted=audit_check_in,
                scanned_at=arrived_at,
            )
        except (ValueError, ScanTimeRejected) as refusal:
            db.session.rollback()
            flash(gettext("Not checked in: %(reason)s", reason=refusal))
        else:
            if outcome.payload.get("earliest"):  # checked in meanwhile, later: this time moved the day's start back
                audit_check_in(outcome)
            flash(f"{registration.full_name}: {outcome.payload['message']}.")
    return redirect(url_for("checkin.live_attendance", slug=slug, day=day.date.isoformat()))


_CLOCK_TIME = re.compile(r"([01][0-9]|2[0-3]):([0-5][0-9])")


def _moment_on(meeting: MeetingSession, day: SessionDay, clock: str, today: bool) -> datetime:
    """ "HH:MM" on the day in the session's zone; empty: now, on the day itself."""
    clock = clock.strip()
    if not clock:
        if not today:
            raise ValueError(gettext("give the time they left, as HH:MM."))
        return utcnow()
    matched = _CLOCK_TIME.fullmatch(clock)
    if matched is None:
        raise ValueError(gettext("write the time as HH:MM, e.g. 15:40."))
    local = datetime.combine(day.date, time(int(matched[1]), int(matched[2])), tzinfo=meeting.zone)
    return local.astimezone(UTC)


@bp.get("/sessions/<slug>/scans")
@organiser_required
def scan_log(slug: str):
    """Every scan and change, newest first, with a summary per door and result."""
    meeting = managed_session_or_404(slug)
    filters = [ScanEvent.session_id == meeting.id]
    day, door, result = request.args.get("day", ""), request.args.get("door", ""), request.args.get("result", "")
    if day:
        try:
            filters.append(ScanEvent.day == date.fromisoformat(day))
        except ValueError:
            abort(400, gettext("The day must be written YYYY-MM-DD."))
    if door:
        filters.append(ScanEvent.door == door)
    if result in SCAN_RESULT_VALUES:
        filters.append(ScanEvent.result == ScanResult(result))
    summary = db.session.execute(
        sa.select(ScanEvent.door, ScanEvent.result, sa.func.count())
        .where(*filters)
        .group_by(ScanEvent.door, ScanEvent.result)
        .order_by(ScanEvent.door, ScanEvent.result)
    ).all()
    events = db.session.scalars(
        sa.select(ScanEvent)
        .where(*filters)
        .options(sa.orm.selectinload(ScanEvent.registration))
        .order_by(ScanEvent.at.desc(), ScanEvent.id.desc())
        .limit(SCAN_LOG_LIMIT)
    ).all()
    doors = db.session.scalars(sa.select(ScanEvent.door).where(ScanEvent.session_id == meeting.id).distinct()).all()
    # A logged ok is never a conflict: a scan the door refused offline is logged turned_away, not ok (only a
    # replayed nonce answers it ok, and a replay logs nothing).
    queued_and_answered_otherwise = db.session.scalars(
        sa.select(ScanEvent)
        .where(*filters, ScanEvent.provisional.is_not(None), ScanEvent.result != ScanResult.OK)
        .options(sa.orm.selectinload(ScanEvent.registration))
        .order_by(ScanEvent.scanned_at.desc(), ScanEvent.id.desc())
        .limit(SCAN_LOG_LIMIT)
    ).all()
    conflicts = [event for event in queued_and_answered_otherwise if is_offline_conflict(event)]
    return render_template(
        "checkin/scans.html",
        meeting=meeting,
        summary=summary,
        events=events,
        conflicts=conflicts,
        server_messages={e.id: json.loads(e.response or "{}").get("message", "") for e in conflicts},
        doors=sorted(doors),
        results=list(ScanResult),
        limit=SCAN_LOG_LIMIT,
        chosen={"day": day, "door": door, "result": result},
    )

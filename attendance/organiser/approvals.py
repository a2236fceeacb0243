"""Organisers approve or decline pending registrations, one by one or selected together, with an optional
message that is mailed to each delegate."""

import sqlalchemy as sa
from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext, ngettext

from ..auth import organiser_required
from ..extensions import db
from ..lookup import managed_session_or_404, small_int
from ..models import Registration, RegistrationStatus
from ..registration.approval import MESSAGE_MAX, NotPending, decide_many, pending_count, seat_wishes
from ..registration.service import InPersonFull
from ..text import isolate
from . import bp

#: what the page lists: who waits, and who was declined (an organiser may change their mind only by approving
#: anew through a new registration; a decline is final)
SHOWN = (RegistrationStatus.PENDING, RegistrationStatus.DECLINED)


@bp.get("/sessions/<slug>/approvals")
@organiser_required
def approvals(slug: str):
    meeting = managed_session_or_404(slug)
    status = request.args.get("status", RegistrationStatus.PENDING.value)
    shown = RegistrationStatus(status) if status in {s.value for s in SHOWN} else RegistrationStatus.PENDING
    people = db.session.scalars(
        sa.select(Registration)
        .where(Registration.session_id == meeting.id, Registration.status == shown)
        .order_by(Registration.created_at, Registration.id)
    ).all()
    return render_template(
        "organiser/approvals.html",
        meeting=meeting,
        people=people,
        seat_wishes=seat_wishes(meeting, people),
        shown=shown,
        statuses=SHOWN,
        pending=pending_count(meeting),
        message_max=MESSAGE_MAX,
    )


@bp.post("/sessions/<slug>/approvals")
@organiser_required
def decide_approvals(slug: str):
    """A row's own button ("approve-12") decides that one; the bulk buttons decide the ticked rows."""
    meeting = managed_session_or_404(slug)
    action, _, one = request.form.get("one", "").partition("-")
    if action:
        values = [one]
    else:
        action = request.form.get("bulk", "")
        values = request.form.getlist("ids")
    ids = [_id_or_none(value) for value in values]
    ids = [i for i in ids if i is not None]
    if action not in ("approve", "decline") or not ids:
        flash(gettext("Tick at least one registration, then approve or decline."), "warning")
        return redirect(url_for("organiser.approvals", slug=slug))
    chosen = db.session.scalars(
        sa.select(Registration)
        .where(Registration.session_id == meeting.id, Registration.id.in_(ids))
        .order_by(Registration.id)
    ).all()
    decisions = decide_many(chosen, approve=action == "approve", message=request.form.get("message", ""))
    if decisions.done:
        flash(
            ngettext(
                "%(num)d registration approved: the delegate is emailed their badge.",
                "%(num)d registrations approved: each delegate is emailed their badge.",
                len(decisions.done),
            )
            if action == "approve"
            else ngettext(
                "%(num)d registration declined: the delegate is told by email.",
                "%(num)d registrations declined: each delegate is told by email.",
                len(decisions.done),
            )
        )
    if in_line := [r.full_name for r in decisions.done if r.is_waiting]:  # no seat, and no badge in a room-only session
        flash(
            gettext(
                "The room is full, so these are on the waiting list for a seat: %(names)s.",
                names=", ".join(isolate(name) for name in in_line),
            )
        )
    for registration, refusal in decisions.refused:
        if isinstance(refusal, NotPending):
            flash(
                gettext(
                    "%(name)s was not changed: the registration is %(status)s now, no longer pending.",
                    name=registration.full_name,
                    status=refusal.status.label.lower(),
                ),
                "warning",
            )
        elif isinstance(refusal, InPersonFull):
            flash(
                gettext(
                    "%(name)s was not approved: the in-person seats are full. Change their mode to online "
                    "first, or raise the capacity.",
                    name=registration.full_name,
                ),
                "warning",
            )
    return redirect(url_for("organiser.approvals", slug=slug))


def _id_or_none(value: str) -> int | None:
    try:
        return small_int(value)
    except ValueError:
        return None

"""The `flask --app attendance ...` commands."""

from pathlib import Path

import click
from flask import Flask, current_app, url_for
from flask_babel import gettext, ngettext

from . import audit
from .api.tokens import create_api_token, revoke_api_token
from .auth import ensure_staff
from .certificates.render import certificate_pdf, filename_for
from .certificates.service import SessionPurged, issue_all
from .demo import seed_demo
from .extensions import db
from .formatting import format_day
from .i18n import in_terminal_language
from .lookup import MAX_ID
from .models import ApiToken, MeetingSession, StaffRole
from .organiser.door_staff import assign_door_staff
from .privacy import TooRecent, purge_session
from .transaction import unit_of_work


def init_app(app: Flask) -> None:
    for command in COMMANDS:
        app.cli.add_command(command)


def _in_one_transaction(command: click.Command) -> click.Command:
    """Each command (each of a group's) is one unit of work: committed when it ends, rolled back when it fails."""
    if isinstance(command, click.Group):
        for subcommand in command.commands.values():
            _in_one_transaction(subcommand)
    elif command.callback is not None:
        command.callback = unit_of_work(command.callback)
    return command


@click.command("seed-demo")
@click.option("--base-url", default="", metavar="URL", help="Where the app is served, to print full links.")
@in_terminal_language
def seed_demo_command(base_url: str) -> None:
    """Load the demo meeting (idempotent); today's practice session moves to today."""
    result = seed_demo()
    click.echo(gettext("Demo loaded: sessions %(sessions)s.", sessions=", ".join(result["sessions"])))
    click.echo(gettext("Demo staff logins (email / password):"))
    for email, role, password in result["staff"]:
        click.echo(f"  {role.value:<9} {email} / {password}")
    with current_app.test_request_context():
        scanner = url_for("checkin.scanner", slug=result["today"])
    click.echo(gettext("Door scanner of today's demo session: %(url)s", url=base_url.rstrip("/") + scanner))


@click.group("user")
def user_group() -> None:
    """Staff accounts."""


@user_group.command("add")
@click.argument("email")
@click.option("--role", type=click.Choice([r.value for r in StaffRole]), required=True)
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
@click.option(
    "--session",
    "slugs",
    multiple=True,
    metavar="SLUG",
    help="A session they run (organiser) or work the doors of (door staff); repeat for more.",
)
@in_terminal_language
def add_user(email: str, role: str, password: str, slugs: tuple[str, ...]) -> None:
    """Create a staff account (or reset its role and password)."""
    if "@" not in email or len(email) > 254:
        raise click.BadParameter(gettext("give an email address"), param_hint="EMAIL")
    if len(password) < 8:
        raise click.BadParameter(gettext("use at least 8 characters"), param_hint="--password")
    meetings = [db.session.scalar(db.select(MeetingSession).filter_by(slug=slug)) for slug in slugs]
    if None in meetings:
        raise click.BadParameter(
            gettext("no session is called '%(slug)s'", slug=slugs[meetings.index(None)]), param_hint="--session"
        )
    user, created = ensure_staff(email, StaffRole(role), password)
    for meeting in meetings:
        if user.is_organiser:
            if user not in meeting.organisers:
                meeting.organisers.append(user)
        else:
            db.session.flush()  # the new account's id
            assign_door_staff(meeting, user.email, actor="cli")
    click.echo(
        gettext("Created %(role)s %(email)s.", role=role, email=user.email)
        if created
        else gettext("Updated %(role)s %(email)s.", role=role, email=user.email)
    )


@click.group("token")
def token_group() -> None:
    """Scanner API tokens."""


@token_group.command("add")
@click.argument("label")
@click.option("--organiser", is_flag=True, help="May also check in for a day other than today.")
@click.option("--session", "slug", metavar="SLUG", help="Bind it to this session: 403 for any other.")
@in_terminal_language
def add_token(label: str, organiser: bool, slug: str | None) -> None:
    """Create a scanner API token and print it once."""
    if not label.strip():
        raise click.BadParameter(gettext("give the token a label, such as 'Door 2 scanner'"), param_hint="LABEL")
    meeting = None
    if slug is not None:
        meeting = db.session.scalar(db.select(MeetingSession).filter_by(slug=slug))
        if meeting is None:
            raise click.BadParameter(gettext("no session is called '%(slug)s'", slug=slug), param_hint="--session")
    record, token = create_api_token(label, organiser=organiser, session_id=meeting.id if meeting else None)
    kind = "organiser" if organiser else "door"
    click.echo(
        (
            gettext(
                "Created %(kind)s token #%(id)d '%(label)s' for %(slug)s only.",
                kind=kind,
                id=record.id,
                label=record.label,
                slug=meeting.slug,
            )
            if meeting
            else gettext("Created %(kind)s token #%(id)d '%(label)s'.", kind=kind, id=record.id, label=record.label)
        )
        + " "
        + gettext("It is shown only now; store it in the scanner:")
    )
    click.echo(token)


@token_group.command("list")
def list_tokens() -> None:
    """List tokens (never the tokens themselves)."""
    for record in db.session.scalars(db.select(ApiToken).order_by(ApiToken.id)):
        state = f"revoked {record.revoked_at:%Y-%m-%d}" if record.is_revoked else "active"
        kind = "organiser" if record.is_organiser else "door"
        scope = record.session.slug if record.session else "every session"
        click.echo(f"#{record.id}  {record.prefix}…  {kind:<9}  {state:<18}  {scope:<20}  {record.label}")


@token_group.command("revoke")
@click.argument("token_id", type=click.IntRange(1, MAX_ID))
@in_terminal_language
def revoke_token(token_id: int) -> None:
    """Revoke a token by its number (see `token list`)."""
    record = db.session.get(ApiToken, token_id)
    if record is None:
        raise click.BadParameter(gettext("no token #%(id)d", id=token_id), param_hint="TOKEN_ID")
    revoke_api_token(record)
    click.echo(gettext("Revoked token #%(id)d '%(label)s'.", id=record.id, label=record.label))


@click.group("certificates")
def certificates_group() -> None:
    """Attendance certificates."""


@certificates_group.command("export")
@click.argument("slug")
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    required=True,
    help="Folder for the PDFs (created when missing).",
)
@in_terminal_language
def export_certificates(slug: str, out_dir: Path) -> None:
    """Write every eligible delegate's certificate as a PDF into a folder."""
    meeting = db.session.scalar(db.select(MeetingSession).filter_by(slug=slug))
    if meeting is None:
        raise click.BadParameter(gettext("no session is called '%(slug)s'", slug=slug), param_hint="SLUG")
    try:
        pairs = issue_all(meeting)
    except SessionPurged:
        raise click.ClickException(
            gettext(
                "%(slug)s was purged on %(day)s: its certificates would be made out to "
                "'Delegate N (purged)', so none is written.",
                slug=slug,
                day=format_day(meeting.purged_at),
            )
        ) from None
    # Before rendering: a stored PDF is written on a connection of its own, which SQLite would make wait.
    db.session.commit()
    out_dir.mkdir(parents=True, exist_ok=True)
    with current_app.test_request_context(), click.progressbar(pairs, label=gettext("Certificates")) as bar:
        for certificate, result in bar:
            (out_dir / filename_for(certificate)).write_bytes(certificate_pdf(certificate, result))
    audit.record(
        "certificates.export", session_id=meeting.id, details=f"folder: {len(pairs)} certificates", actor="cli"
    )
    click.echo(
        ngettext(
            "Wrote %(num)d certificate to %(folder)s.",
            "Wrote %(num)d certificates to %(folder)s.",
            len(pairs),
            folder=out_dir,
        )
    )


@click.command("purge")
@click.argument("slug")
@click.option(
    "--older-than",
    "days",
    type=click.IntRange(min=0),
    required=True,
    metavar="DAYS",
    help="Only if the session ended at least this many days ago.",
)
@in_terminal_language
def purge_command(slug: str, days: int) -> None:
    """Anonymise a past session's delegates; its counts and certificate verification stay."""
    meeting = db.session.scalar(db.select(MeetingSession).filter_by(slug=slug))
    if meeting is None:
        raise click.BadParameter(gettext("no session is called '%(slug)s'", slug=slug), param_hint="SLUG")
    try:
        count = purge_session(meeting, days)
    except TooRecent as refusal:
        raise click.ClickException(str(refusal)) from None
    click.echo(
        ngettext(
            "Anonymised %(num)d registration of %(slug)s.",
            "Anonymised %(num)d registrations of %(slug)s.",
            count,
            slug=slug,
        )
    )


COMMANDS = [
    _in_one_transaction(command)
    for command in (seed_demo_command, user_group, token_group, certificates_group, purge_command)
]

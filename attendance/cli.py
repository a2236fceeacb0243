"""The `flask --app attendance ...` commands."""
import click
from flask import Flask

from .auth import ensure_staff
from .demo import seed_demo
from .extensions import db
from .models import StaffRole


def init_app(app: Flask) -> None:
    app.cli.add_command(seed_demo_command)
    app.cli.add_command(user_group)


@click.command("seed-demo")
def seed_demo_command() -> None:
    """Load the demo meeting (idempotent)."""
    result = seed_demo()
    click.echo(f"Demo loaded: sessions {', '.join(result['sessions'])}.")
    click.echo("Demo staff logins (email / password):")
    for email, role, password in result["staff"]:
        click.echo(f"  {role.value:<9} {email} / {password}")


@click.group("user")
def user_group() -> None:
    """Staff accounts."""


@user_group.command("add")
@click.argument("email")
@click.option("--role", type=click.Choice([r.value for r in StaffRole]), required=True)
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
def add_user(email: str, role: str, password: str) -> None:
    """Create a staff account (or reset its role and password)."""
    if "@" not in email or len(email) > 254:
        raise click.BadParameter("give an email address", param_hint="EMAIL")
    if len(password) < 8:
        raise click.BadParameter("use at least 8 characters", param_hint="--password")
    user, created = ensure_staff(email, StaffRole(role), password)
    db.session.commit()
    click.echo(f"{'Created' if created else 'Updated'} {role} {user.email}.")

"""email keys compare internationalised domains in their ASCII form

A registration's `email_key` was the address in lower case, so the same mailbox written with a Unicode domain
(пример.рф) and with its ASCII form (xn--e1afmkfd.xn--p1ai) could register twice. Keys are now written with the
ASCII form of the domain; this recomputes the keys of addresses with non-ASCII characters. Where a session holds
both spellings already, both rows stay and the Unicode one keeps its old key (the organiser sees both and can
cancel one).

Revision ID: 585946efb531
Revises: ddee83165a19
Create Date: 2026-11-29 08:59:51.651410

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "585946efb531"
down_revision = "ddee83165a19"
branch_labels = None
depends_on = None

registrations = sa.table(
    "registrations",
    sa.column("id", sa.Integer),
    sa.column("session_id", sa.Integer),
    sa.column("email", sa.String),
    sa.column("email_key", sa.String),
)


def _key(email: str) -> str:
    # The rule of `attendance.models.registration.email_key` as of this revision (a migration keeps its own copy).
    from email_validator import EmailNotValidError, validate_email

    email = email.strip()
    try:
        domain = validate_email(email, check_deliverability=False).ascii_domain
    except EmailNotValidError:
        return email.lower()
    return f"{email.rpartition('@')[0]}@{domain}".lower()


def upgrade():
    connection = op.get_bind()
    rows = connection.execute(
        sa.select(
            registrations.c.id, registrations.c.session_id, registrations.c.email, registrations.c.email_key
        ).order_by(registrations.c.id)
    ).all()
    taken = {(row.session_id, row.email_key) for row in rows}
    for row in rows:
        key = _key(row.email)
        if row.email.isascii() or key == row.email_key or (row.session_id, key) in taken:
            continue
        connection.execute(registrations.update().where(registrations.c.id == row.id).values(email_key=key))
        taken.add((row.session_id, key))


def downgrade():
    connection = op.get_bind()
    rows = connection.execute(sa.select(registrations.c.id, registrations.c.email)).all()
    for row in rows:
        if not row.email.isascii():
            connection.execute(
                registrations.update().where(registrations.c.id == row.id).values(email_key=row.email.strip().lower())
            )

"""sessions end on logout, logins pause per client, revocation reasons stay internal, import previews are stored,
online identities are compared as registrations are

- `staff_users.session_version`: a logout or a password change raises it, and login cookies made before stop
  working. The per-account lock (`failed_logins`, `locked_until`) gives way to `login_failures`, counted per account
  and client address, so that a stranger's failures cannot keep door staff out.
- `certificates.revoke_reason_public`: existing reasons were shown on the public page; from now on they stay
  internal unless the organiser ticks the box (existing ones become internal too: they may name people).
- `report_imports.preview`: the preview of an upload, computed once (older imports compute it on first view).
- Online identity keys ("email:…", "name:…") are rewritten with the registrations' rules (an internationalised
  domain in its ASCII form; names without case, accents or extra spaces), as are the report rows' source keys that
  begin with them, so a report imported before is still recognised. Where two old keys become one, the earlier row
  stays. The downgrade keeps the new keys (the old rule cannot be recovered from them).

Revision ID: c41e7a9d2b60
Revises: 8e04b2fcb833
Create Date: 2026-12-04 23:00:00

"""

import re
import unicodedata

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "c41e7a9d2b60"
down_revision = "8e04b2fcb833"
branch_labels = None
depends_on = None

REPORT_SOURCES = ("zoom_report", "teams_report", "csv_report")

mappings = sa.table(
    "identity_mappings",
    sa.column("id", sa.Integer),
    sa.column("session_id", sa.Integer),
    sa.column("identity_key", sa.String),
)
presences = sa.table(
    "unmatched_presences",
    sa.column("id", sa.Integer),
    sa.column("session_id", sa.Integer),
    sa.column("identity_key", sa.String),
    sa.column("source", sa.String),
    sa.column("source_key", sa.String),
)
intervals = sa.table(
    "online_intervals",
    sa.column("id", sa.Integer),
    sa.column("attendance_id", sa.Integer),
    sa.column("source", sa.String),
    sa.column("source_key", sa.String),
)

# The rules of `attendance.text.search_key` and `attendance.models.registration.email_key` as of this revision
# (a migration keeps its own copy).
_BASE_LETTERS = str.maketrans(
    {"ø": "o", "đ": "d", "ð": "d", "ħ": "h", "ı": "i", "ł": "l", "ŧ": "t", "æ": "ae", "œ": "oe", "þ": "th"}
)
_ACCENTS = re.compile(
    "[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f\u0591-\u05c7\u064b-\u065f\u0670]"
)
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")


def _name_key(text: str) -> str:
    folded = unicodedata.normalize("NFKD", unicodedata.normalize("NFKD", text).casefold())
    bare = _ACCENTS.sub("", _CONTROL.sub(" ", folded)).translate(_BASE_LETTERS)
    return unicodedata.normalize("NFC", " ".join(bare.split()))


def _email_key(email: str) -> str:
    from email_validator import EmailNotValidError, validate_email

    email = email.strip()
    try:
        domain = validate_email(email, check_deliverability=False).ascii_domain
    except EmailNotValidError:
        return email.lower()
    return f"{email.rpartition('@')[0]}@{domain}".lower()


def _identity(old: str) -> str:
    kind, _, value = old.partition(":")
    if kind == "email" and value:
        return "email:" + _email_key(value)
    if kind == "name" and _name_key(value):
        return "name:" + _name_key(value)
    return old


def _source_key(old: str) -> str:
    """A report row's key, "<identity>|<joined>|<left>", with its identity rewritten."""
    parts = old.rsplit("|", 2)
    if len(parts) != 3 or not parts[1][:4].isdigit():
        return old  # cut at 200 characters, or not a report's key: left as it is
    return "|".join([_identity(parts[0]), parts[1], parts[2]])[:200]


def _rewrite(connection, table, unique: tuple[str, ...], rewrite) -> None:
    """Rewrites each row's keys with `rewrite`; a row whose new `unique` columns another row holds is deleted."""
    rows = connection.execute(sa.select(table).order_by(table.c.id)).mappings().all()
    taken = {tuple(row[c] for c in unique) for row in rows}
    for row in rows:
        new = rewrite(row)
        if all(new[c] == row[c] for c in new):
            continue
        old_slot, new_slot = tuple(row[c] for c in unique), tuple(new.get(c, row[c]) for c in unique)
        if new_slot != old_slot:
            if new_slot in taken:
                connection.execute(table.delete().where(table.c.id == row["id"]))
                continue
            taken.discard(old_slot)
            taken.add(new_slot)
        connection.execute(table.update().where(table.c.id == row["id"]).values(**new))


def _report_key(row) -> str:
    return _source_key(row["source_key"]) if row["source"] in REPORT_SOURCES else row["source_key"]


def upgrade():
    with op.batch_alter_table("staff_users") as batch:
        batch.add_column(sa.Column("session_version", sa.Integer(), nullable=False, server_default="0"))
        batch.drop_column("failed_logins")
        batch.drop_column("locked_until")
    op.create_table(
        "login_failures",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("address", sa.String(length=64), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("locked_until", sa.DateTime(), nullable=True),
        sa.Column("last_failed_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_login_failures")),
        sa.UniqueConstraint("email", "address", name=op.f("uq_login_failures_email_address")),
    )
    with op.batch_alter_table("certificates") as batch:
        batch.add_column(sa.Column("revoke_reason_public", sa.Boolean(), nullable=False, server_default=sa.false()))
    with op.batch_alter_table("report_imports") as batch:
        batch.add_column(sa.Column("preview", sa.JSON(), nullable=True))

    connection = op.get_bind()
    _rewrite(
        connection,
        mappings,
        ("session_id", "identity_key"),
        lambda row: {"identity_key": _identity(row["identity_key"])},
    )
    _rewrite(
        connection,
        presences,
        ("session_id", "source", "source_key"),
        lambda row: {"identity_key": _identity(row["identity_key"]), "source_key": _report_key(row)},
    )
    _rewrite(
        connection, intervals, ("attendance_id", "source", "source_key"), lambda row: {"source_key": _report_key(row)}
    )
    if connection.dialect.name != "sqlite":  # SQLite can drop a default only by rebuilding the table
        op.alter_column("staff_users", "session_version", server_default=None)
        op.alter_column("certificates", "revoke_reason_public", server_default=None)


def downgrade():
    with op.batch_alter_table("report_imports") as batch:
        batch.drop_column("preview")
    with op.batch_alter_table("certificates") as batch:
        batch.drop_column("revoke_reason_public")
    op.drop_table("login_failures")
    with op.batch_alter_table("staff_users") as batch:
        batch.add_column(sa.Column("failed_logins", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("locked_until", sa.DateTime(), nullable=True))
        batch.drop_column("session_version")

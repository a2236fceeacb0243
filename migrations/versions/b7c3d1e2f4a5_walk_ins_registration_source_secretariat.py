"""walk-ins, where a registration came from, and the secretariat's contact

Registrations record their source (the public form, the door's desk, an organiser, an import): every existing
one came through the public form. A walk-in may give no e-mail address, so `email_key` may be NULL (both engines
let NULLs repeat under the unique (session, email_key) constraint). Sessions gain the walk-in setting (off) and
the secretariat's e-mail and phone (empty).

Revision ID: b7c3d1e2f4a5
Revises: b7d41c2e9a10
Create Date: 2026-12-04 23:00:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "b7c3d1e2f4a5"
down_revision = "b7d41c2e9a10"
branch_labels = None
depends_on = None

SOURCES = ("form", "desk", "organiser", "import")


def upgrade():
    with op.batch_alter_table("registrations") as batch:
        batch.add_column(
            sa.Column(
                "source",
                sa.Enum(*SOURCES, name="source", native_enum=False, create_constraint=True, length=20),
                nullable=False,
                server_default="form",
            )
        )
        batch.alter_column("email_key", existing_type=sa.String(254), nullable=True)
    with op.batch_alter_table("meeting_sessions") as batch:
        batch.add_column(sa.Column("allows_walk_ins", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch.add_column(sa.Column("secretariat_email", sa.String(254), nullable=False, server_default=""))
        batch.add_column(sa.Column("secretariat_phone", sa.String(40), nullable=False, server_default=""))


def downgrade():
    registrations = sa.table("registrations", sa.column("id", sa.Integer), sa.column("email_key", sa.String))
    # Walk-ins without an address get a placeholder key unique to them, so the column can be NOT NULL again.
    op.get_bind().execute(
        registrations.update()
        .where(registrations.c.email_key.is_(None))
        .values(email_key=sa.literal("no-email-") + sa.cast(registrations.c.id, sa.String))
    )
    with op.batch_alter_table("meeting_sessions") as batch:
        batch.drop_column("secretariat_phone")
        batch.drop_column("secretariat_email")
        batch.drop_column("allows_walk_ins")
    with op.batch_alter_table("registrations") as batch:
        batch.alter_column("email_key", existing_type=sa.String(254), nullable=False)
        batch.drop_constraint(op.f("ck_registrations_source"), type_="check")  # SQLite's rebuild would keep it
        batch.drop_column("source")

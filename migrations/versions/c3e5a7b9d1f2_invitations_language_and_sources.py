"""invitations have a language; registrations record that they came by invitation or nomination

An invitation's mail goes in its own language (`invitations.locale`); the ones sent before went in the worker's
default, English. Registrations made through an invitation's link record it as their source ("invitation", or
"nomination" for a focal point's nominees) instead of "form"; going back, they are "form" again.

Revision ID: c3e5a7b9d1f2
Revises: d4f6b8c0e2a3
Create Date: 2026-12-06 01:00:00.000000

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "c3e5a7b9d1f2"
down_revision = "d4f6b8c0e2a3"
branch_labels = None
depends_on = None

OLD_SOURCES = ("form", "desk", "organiser", "import")
NEW_SOURCES = OLD_SOURCES + ("invitation", "nomination")


def _allow_sources(batch, values):
    # The column stays VARCHAR(20): only its CHECK changes (as in f3b8d2a6c1e4).
    batch.drop_constraint(op.f("ck_registrations_source"), type_="check")
    batch.create_check_constraint("source", sa.column("source").in_(values))


def upgrade():
    with op.batch_alter_table("invitations") as batch:
        batch.add_column(sa.Column("locale", sa.String(10), nullable=False, server_default="en"))
    with op.batch_alter_table("registrations") as batch:
        _allow_sources(batch, NEW_SOURCES)
    for kind, source in (("personal", "invitation"), ("nomination", "nomination")):
        op.get_bind().execute(
            sa.text(
                "UPDATE registrations SET source = :source WHERE source = 'form' AND invitation_id IN "
                "(SELECT id FROM invitations WHERE kind = :kind)"
            ),
            {"source": source, "kind": kind},
        )


def downgrade():
    op.execute("UPDATE registrations SET source = 'form' WHERE source IN ('invitation', 'nomination')")
    with op.batch_alter_table("registrations") as batch:
        _allow_sources(batch, OLD_SOURCES)
    with op.batch_alter_table("invitations") as batch:
        batch.drop_column("locale")

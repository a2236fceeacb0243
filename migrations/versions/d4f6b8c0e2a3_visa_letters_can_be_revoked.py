"""visa letters can be revoked, with an internal reason

An organiser revokes a letter: its verification page then says so and the delegate can no longer download it.
Existing letters stay valid (no revocation).

Revision ID: d4f6b8c0e2a3
Revises: b2d4f6a8c0e1
Create Date: 2026-12-06 00:45:00.000000

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "d4f6b8c0e2a3"
down_revision = "b2d4f6a8c0e1"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("visa_letters", schema=None) as batch_op:
        batch_op.add_column(sa.Column("revoked_at", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("revoke_reason", sa.String(length=500), nullable=False, server_default=""))
        batch_op.add_column(sa.Column("revoked_by", sa.String(length=254), nullable=False, server_default=""))
    if op.get_bind().dialect.name != "sqlite":  # SQLite can drop a default only by rebuilding the table
        op.alter_column("visa_letters", "revoke_reason", server_default=None)
        op.alter_column("visa_letters", "revoked_by", server_default=None)


def downgrade():
    # The schema before this one cannot say a letter is revoked: dropping the column would make revoked letters
    # verify as valid again. Refuse, and let whoever downgrades decide what to do with them.
    revoked = op.get_bind().execute(sa.text("SELECT count(*) FROM visa_letters WHERE revoked_at IS NOT NULL")).scalar()
    if revoked:
        raise RuntimeError(
            f"{revoked} visa letter(s) are revoked; the earlier schema would show them as valid. Delete them (or "
            "keep this revision) before downgrading."
        )
    with op.batch_alter_table("visa_letters", schema=None) as batch_op:
        batch_op.drop_column("revoked_by")
        batch_op.drop_column("revoke_reason")
        batch_op.drop_column("revoked_at")

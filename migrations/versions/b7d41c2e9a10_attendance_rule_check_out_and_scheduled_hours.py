"""in-person check-out moments, and the choice to certify scheduled hours

Certificates now print the in-person time measured: from the first check-in to the check-out (a new moment an
organiser records), or to the day's end when there is none. A session may instead certify each in-person day's
scheduled hours, printed as "scheduled programme". Existing attendances have no check-out (counted to the day's
end) and existing sessions certify measured time.

Revision ID: b7d41c2e9a10
Revises: ea83f5909e5d
Create Date: 2026-12-04 22:50:00.000000

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "b7d41c2e9a10"
down_revision = "ea83f5909e5d"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("attendances") as batch:
        batch.add_column(sa.Column("checked_out_at", sa.DateTime(), nullable=True))
    with op.batch_alter_table("meeting_sessions") as batch:
        batch.add_column(sa.Column("certify_scheduled_hours", sa.Boolean(), server_default=sa.false(), nullable=False))


def downgrade():
    with op.batch_alter_table("meeting_sessions") as batch:
        batch.drop_column("certify_scheduled_hours")
    with op.batch_alter_table("attendances") as batch:
        batch.drop_column("checked_out_at")

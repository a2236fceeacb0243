"""scans queued offline keep the moment they were made and the device's provisional answer

A door phone that lost the network queues its scans and sends them later: `scanned_at` is when the badge was
read (the scan's `at` stays the moment it reached the server), and `provisional` what the phone showed meanwhile,
so that the scan log can list the conflicts. Existing scans were all made online: both stay NULL.

Revision ID: b7d1c0ffee19
Revises: c41e7a9d2b60
Create Date: 2026-12-04 23:00:00.000000

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "b7d1c0ffee19"
down_revision = "c41e7a9d2b60"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("scan_events") as batch:
        batch.add_column(sa.Column("scanned_at", sa.DateTime(), nullable=True))
        batch.add_column(sa.Column("provisional", sa.String(length=20), nullable=True))


def downgrade():
    with op.batch_alter_table("scan_events") as batch:
        batch.drop_column("provisional")
        batch.drop_column("scanned_at")

"""certificates record when they were last emailed

"Email the certificates not yet sent" skips those emailed before. Nothing recorded whether a certificate was
emailed before this revision, so every existing certificate starts as never emailed (NULL): the first mailing
after the upgrade goes to all eligible delegates once, and "not yet sent" from then on.

Revision ID: ea83f5909e5d
Revises: a87d5bab3616
Create Date: 2026-11-29 10:20:03.933292

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "ea83f5909e5d"
down_revision = "a87d5bab3616"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("certificates") as batch:
        batch.add_column(sa.Column("emailed_at", sa.DateTime(), nullable=True))


def downgrade():
    with op.batch_alter_table("certificates") as batch:
        batch.drop_column("emailed_at")

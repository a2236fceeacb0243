"""messages keep the one-time token of the preview they were sent from

A Send posted twice (double click, browser resubmit, second tab) carries the same token: the unique constraint
lets the second find the first message instead of mailing everyone again. Existing messages keep NULL.

Revision ID: b2d4f6a8c0e1
Revises: ff35a267cd7b
Create Date: 2026-12-05 23:15:00.000000

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "b2d4f6a8c0e1"
down_revision = "ff35a267cd7b"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.add_column(sa.Column("send_token", sa.String(length=64), nullable=True))
        batch_op.create_unique_constraint(batch_op.f("uq_messages_send_token"), ["send_token"])


def downgrade():
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_messages_send_token"), type_="unique")
        batch_op.drop_column("send_token")

"""waiting list, reminders and organisers' messages

A registration may wait for an in-person seat (`waiting_since`, ordered with its id); a session may remind its
delegates some days before its first day; an organiser's message to a group is kept with its filter and count.

Revision ID: a7e2c4d9b1f3
Revises: f3b8d2a6c1e4
Create Date: 2026-12-05 21:45:00.000000

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "a7e2c4d9b1f3"
down_revision = "f3b8d2a6c1e4"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("registrations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("waiting_since", sa.DateTime(), nullable=True))
        batch_op.create_index(
            "ix_registrations_session_id_waiting_since", ["session_id", "waiting_since"], unique=False
        )
    with op.batch_alter_table("meeting_sessions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("reminder_days_before", sa.Integer(), nullable=True))
        batch_op.create_check_constraint(
            "reminder_days_not_negative", "reminder_days_before IS NULL OR reminder_days_before >= 0"
        )
    op.create_table(
        "messages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("session_id", sa.Integer(), nullable=False),
        sa.Column("subject", sa.String(length=200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("filters", sa.String(length=500), nullable=False),
        sa.Column("recipients", sa.Integer(), nullable=False),
        sa.Column("sent_by", sa.String(length=254), nullable=False),
        sa.Column("job_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["job_id"], ["jobs.id"], name=op.f("fk_messages_job_id_jobs"), ondelete="SET NULL"),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["meeting_sessions.id"],
            name=op.f("fk_messages_session_id_meeting_sessions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_messages")),
    )
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_messages_session_id"), ["session_id"], unique=False)


def downgrade():
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_messages_session_id"))
    op.drop_table("messages")
    with op.batch_alter_table("meeting_sessions", schema=None) as batch_op:
        batch_op.drop_constraint("reminder_days_not_negative", type_="check")
        batch_op.drop_column("reminder_days_before")
    with op.batch_alter_table("registrations", schema=None) as batch_op:
        batch_op.drop_index("ix_registrations_session_id_waiting_since")
        batch_op.drop_column("waiting_since")

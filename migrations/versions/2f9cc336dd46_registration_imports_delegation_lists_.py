"""registration imports: delegation lists kept between preview and confirmation

- `registration_imports`: a CSV or XLSX list of delegates an organiser uploaded, kept from its preview until they
  confirm (the file is read again on saving), with when it was saved and what that did.

Revision ID: 2f9cc336dd46
Revises: b7d1c0ffee19
Create Date: 2026-12-04 23:56:36.312412

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "2f9cc336dd46"
down_revision = "b7d1c0ffee19"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "registration_imports",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("session_id", sa.Integer(), nullable=False),
        sa.Column("filename", sa.String(length=255), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.Column("uploaded_by", sa.String(length=254), nullable=False),
        sa.Column("uploaded_at", sa.DateTime(), nullable=False),
        sa.Column("saved_at", sa.DateTime(), nullable=True),
        sa.Column("summary", sa.String(length=500), nullable=False),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["meeting_sessions.id"],
            name=op.f("fk_registration_imports_session_id_meeting_sessions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_registration_imports")),
    )
    with op.batch_alter_table("registration_imports", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_registration_imports_session_id"), ["session_id"], unique=False)


def downgrade():
    with op.batch_alter_table("registration_imports", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_registration_imports_session_id"))

    op.drop_table("registration_imports")

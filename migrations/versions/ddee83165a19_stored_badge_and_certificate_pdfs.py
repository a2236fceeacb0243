"""stored badge and certificate PDFs

A delegate's badge and certificate as last rendered, with the fingerprint of what they show; deleted with
their registration.

Revision ID: ddee83165a19
Revises: 1dfd49e8e7ab
Create Date: 2026-11-28 03:59:47.550150

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "ddee83165a19"
down_revision = "1dfd49e8e7ab"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "stored_pdfs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum("badge", "certificate", name="kind", native_enum=False, create_constraint=True, length=20),
            nullable=False,
        ),
        sa.Column("registration_id", sa.Integer(), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("pdf", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["registration_id"],
            ["registrations.id"],
            name=op.f("fk_stored_pdfs_registration_id_registrations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stored_pdfs")),
        sa.UniqueConstraint("registration_id", "kind", name=op.f("uq_stored_pdfs_registration_id_kind")),
    )


def downgrade():
    op.drop_table("stored_pdfs")

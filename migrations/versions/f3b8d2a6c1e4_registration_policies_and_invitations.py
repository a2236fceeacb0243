"""registration policies, approval and invitations

A session's registration policy (open, approval required, invitation only); two more registration statuses
(pending, declined); invitations (a personal single-use link, or a focal point's link for N nominees) that
registrations and outbox mails may point to. Existing sessions stay open.

Revision ID: f3b8d2a6c1e4
Revises: e5a1c9d3f7b2
Create Date: 2026-12-05 21:40:00.000000

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "f3b8d2a6c1e4"
down_revision = "e5a1c9d3f7b2"
branch_labels = None
depends_on = None

OLD_STATUSES = ("registered", "cancelled")
NEW_STATUSES = ("registered", "cancelled", "pending", "declined")
OLD_RESULTS = (
    "ok",
    "already_checked_in",
    "invalid",
    "cancelled",
    "not_a_meeting_day",
    "wrong_session",
    "undone",
    "checked_out",
)
NEW_RESULTS = OLD_RESULTS + ("not_approved",)


def _allow(batch, table, column, name, values):
    # The column stays VARCHAR(20): only its CHECK changes (an altered Enum type would drop the old one twice).
    batch.drop_constraint(op.f(f"ck_{table}_{name}"), type_="check")
    batch.create_check_constraint(name, sa.column(column).in_(values))


def upgrade():
    op.create_table(
        "invitations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("session_id", sa.Integer(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "personal", "nomination", name="invitation_kind", native_enum=False, create_constraint=True, length=20
            ),
            nullable=False,
        ),
        sa.Column("token", sa.String(64), nullable=False),
        sa.Column("full_name", sa.String(200), nullable=False),
        sa.Column("email", sa.String(254), nullable=False),
        sa.Column("organisation", sa.String(200), nullable=False),
        sa.Column("entity_type_id", sa.Integer(), nullable=True),
        sa.Column("region_id", sa.Integer(), nullable=True),
        sa.Column(
            "mode",
            sa.Enum("in_person", "online", name="mode", native_enum=False, create_constraint=True, length=20),
            nullable=True,
        ),
        sa.Column("places", sa.Integer(), nullable=False),
        sa.Column("used", sa.Integer(), nullable=False),
        sa.Column("revoked_at", sa.DateTime(), nullable=True),
        sa.Column("created_by", sa.String(254), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint("places >= 1", name=op.f("ck_invitations_places_positive")),
        sa.CheckConstraint("used BETWEEN 0 AND places", name=op.f("ck_invitations_used_within_places")),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["meeting_sessions.id"],
            name=op.f("fk_invitations_session_id_meeting_sessions"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["entity_type_id"],
            ["entity_types.id"],
            name=op.f("fk_invitations_entity_type_id_entity_types"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["region_id"], ["regions.id"], name=op.f("fk_invitations_region_id_regions"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_invitations")),
        sa.UniqueConstraint("token", name=op.f("uq_invitations_token")),
    )
    with op.batch_alter_table("invitations") as batch:
        batch.create_index(batch.f("ix_invitations_session_id"), ["session_id"], unique=False)
    op.create_table(
        "invitation_lists",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("session_id", sa.Integer(), nullable=False),
        sa.Column("filename", sa.String(255), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.Column("uploaded_by", sa.String(254), nullable=False),
        sa.Column("uploaded_at", sa.DateTime(), nullable=False),
        sa.Column("saved_at", sa.DateTime(), nullable=True),
        sa.Column("summary", sa.String(500), nullable=False),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["meeting_sessions.id"],
            name=op.f("fk_invitation_lists_session_id_meeting_sessions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_invitation_lists")),
    )
    with op.batch_alter_table("invitation_lists") as batch:
        batch.create_index(batch.f("ix_invitation_lists_session_id"), ["session_id"], unique=False)
    with op.batch_alter_table("meeting_sessions") as batch:
        batch.add_column(
            sa.Column(
                "registration_policy",
                sa.Enum(
                    "open",
                    "approval",
                    "invitation",
                    name="registration_policy",
                    native_enum=False,
                    create_constraint=True,
                    length=20,
                ),
                nullable=False,
                server_default="open",
            )
        )
    with op.batch_alter_table("registrations") as batch:
        _allow(batch, "registrations", "status", "status", NEW_STATUSES)
        batch.add_column(sa.Column("decision_message", sa.String(500), nullable=False, server_default=""))
        batch.add_column(sa.Column("invitation_id", sa.Integer(), nullable=True))
        batch.create_index(batch.f("ix_registrations_invitation_id"), ["invitation_id"], unique=False)
        batch.create_foreign_key(
            batch.f("fk_registrations_invitation_id_invitations"),
            "invitations",
            ["invitation_id"],
            ["id"],
            ondelete="SET NULL",
        )
    with op.batch_alter_table("scan_events") as batch:
        _allow(batch, "scan_events", "result", "scan_result", NEW_RESULTS)
    with op.batch_alter_table("outbox_mails") as batch:
        batch.alter_column("registration_id", existing_type=sa.Integer(), nullable=True)
        batch.add_column(sa.Column("invitation_id", sa.Integer(), nullable=True))
        batch.create_foreign_key(
            batch.f("fk_outbox_mails_invitation_id_invitations"),
            "invitations",
            ["invitation_id"],
            ["id"],
            ondelete="CASCADE",
        )
        batch.create_unique_constraint(
            batch.f("uq_outbox_mails_invitation_id_purpose_version"), ["invitation_id", "purpose", "version"]
        )
        batch.create_check_constraint("one_recipient", "(registration_id IS NULL) <> (invitation_id IS NULL)")


def downgrade():
    op.execute("DELETE FROM outbox_mails WHERE invitation_id IS NOT NULL")
    op.execute("UPDATE scan_events SET result = 'cancelled' WHERE result = 'not_approved'")
    with op.batch_alter_table("scan_events") as batch:
        _allow(batch, "scan_events", "result", "scan_result", OLD_RESULTS)
    with op.batch_alter_table("outbox_mails") as batch:
        batch.drop_constraint(op.f("ck_outbox_mails_one_recipient"), type_="check")
        batch.drop_constraint(batch.f("uq_outbox_mails_invitation_id_purpose_version"), type_="unique")
        batch.drop_constraint(batch.f("fk_outbox_mails_invitation_id_invitations"), type_="foreignkey")
        batch.drop_column("invitation_id")
        batch.alter_column("registration_id", existing_type=sa.Integer(), nullable=False)
    # Who was waiting for approval or declined did not register, in the schema before this one.
    op.execute("UPDATE registrations SET status = 'cancelled' WHERE status IN ('pending', 'declined')")
    with op.batch_alter_table("registrations") as batch:
        batch.drop_constraint(batch.f("fk_registrations_invitation_id_invitations"), type_="foreignkey")
        batch.drop_index(batch.f("ix_registrations_invitation_id"))
        batch.drop_column("invitation_id")
        batch.drop_column("decision_message")
        _allow(batch, "registrations", "status", "status", OLD_STATUSES)
    with op.batch_alter_table("meeting_sessions") as batch:
        batch.drop_constraint(op.f("ck_meeting_sessions_registration_policy"), type_="check")
        batch.drop_column("registration_policy")
    op.drop_table("invitation_lists")
    op.drop_table("invitations")

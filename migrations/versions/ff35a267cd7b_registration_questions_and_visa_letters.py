"""registration questions, answers and visa letters

An organiser adds questions to a session's registration form (short text, one choice, several choices, yes/no,
or the built-in visa letter question); each delegate's answers are kept per question; visa support letters issued
to in-person delegates keep a public id for their verification page. New tables only: nothing to convert.

Revision ID: ff35a267cd7b
Revises: a7e2c4d9b1f3
Create Date: 2026-12-05 21:32:16.720002

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "ff35a267cd7b"
down_revision = "a7e2c4d9b1f3"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "registration_questions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("session_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "text",
                "one_choice",
                "several_choices",
                "yes_no",
                "visa_letter",
                name="question_kind",
                native_enum=False,
                create_constraint=True,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column("label", sa.String(length=300), nullable=False),
        sa.Column("translations", sa.JSON(), nullable=True),
        sa.Column("choices", sa.JSON(), nullable=True),
        sa.Column("required", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["meeting_sessions.id"],
            name=op.f("fk_registration_questions_session_id_meeting_sessions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_registration_questions")),
    )
    with op.batch_alter_table("registration_questions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_registration_questions_session_id"), ["session_id"], unique=False)

    op.create_table(
        "registration_answers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("registration_id", sa.Integer(), nullable=False),
        sa.Column("question_id", sa.Integer(), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["question_id"],
            ["registration_questions.id"],
            name=op.f("fk_registration_answers_question_id_registration_questions"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["registration_id"],
            ["registrations.id"],
            name=op.f("fk_registration_answers_registration_id_registrations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_registration_answers")),
        sa.UniqueConstraint(
            "registration_id", "question_id", name=op.f("uq_registration_answers_registration_id_question_id")
        ),
    )
    with op.batch_alter_table("registration_answers", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_registration_answers_question_id"), ["question_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_registration_answers_registration_id"), ["registration_id"], unique=False)

    op.create_table(
        "visa_letters",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("registration_id", sa.Integer(), nullable=False),
        sa.Column("public_id", sa.String(length=32), nullable=False),
        sa.Column("issued_at", sa.DateTime(), nullable=False),
        sa.Column("issued_by", sa.String(length=254), nullable=False),
        sa.ForeignKeyConstraint(
            ["registration_id"],
            ["registrations.id"],
            name=op.f("fk_visa_letters_registration_id_registrations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_visa_letters")),
        sa.UniqueConstraint("public_id", name=op.f("uq_visa_letters_public_id")),
        sa.UniqueConstraint("registration_id", name=op.f("uq_visa_letters_registration_id")),
    )


def downgrade():
    op.drop_table("visa_letters")
    with op.batch_alter_table("registration_answers", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_registration_answers_registration_id"))
        batch_op.drop_index(batch_op.f("ix_registration_answers_question_id"))

    op.drop_table("registration_answers")
    with op.batch_alter_table("registration_questions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_registration_questions_session_id"))

    op.drop_table("registration_questions")

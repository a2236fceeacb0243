"""visa letters: withdrawn when the delegate's answer stops asking for one, and a new one when they ask again

A delegate whose answer to the visa question changes to "no" no longer wants their letter: it is revoked, marked
"withdrawn", and keeps verifying as revoked. When they answer "yes" again an organiser may issue a new letter, with
a new id: a delegate may now have several letters, at most one of them not revoked (a partial unique index).

Revision ID: 25b371767c84
Revises: a7c9e1b3d5f7
Create Date: 2026-12-06 05:10:00.000000

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "25b371767c84"
down_revision = "a7c9e1b3d5f7"
branch_labels = None
depends_on = None

IN_FORCE = sa.text("revoked_at IS NULL")


def upgrade():
    with op.batch_alter_table("visa_letters", schema=None) as batch_op:
        batch_op.add_column(sa.Column("withdrawn", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.drop_constraint(batch_op.f("uq_visa_letters_registration_id"), type_="unique")
        batch_op.create_index(batch_op.f("ix_visa_letters_registration_id"), ["registration_id"], unique=False)
        batch_op.create_index(
            "uq_visa_letters_registration_id_in_force",
            ["registration_id"],
            unique=True,
            sqlite_where=IN_FORCE,
            postgresql_where=IN_FORCE,
        )


def downgrade():
    # The schema before this one holds one letter per delegate: a delegate's earlier, revoked letters would have to
    # go, and their verification pages would no longer say "revoked". Refuse, and let whoever downgrades decide.
    # A withdrawn letter left alone stays revoked there (an organiser's revocation, as that schema sees it).
    several = (
        op.get_bind()
        .execute(
            sa.text(
                "SELECT count(*) FROM (SELECT registration_id FROM visa_letters GROUP BY registration_id"
                " HAVING count(*) > 1) AS several"
            )
        )
        .scalar()
    )
    if several:
        raise RuntimeError(
            f"{several} delegate(s) have more than one visa letter; the earlier schema holds one. Delete the revoked "
            "ones (their verification pages would then say nothing) or keep this revision before downgrading."
        )
    with op.batch_alter_table("visa_letters", schema=None) as batch_op:
        batch_op.drop_index("uq_visa_letters_registration_id_in_force")
        batch_op.drop_index(batch_op.f("ix_visa_letters_registration_id"))
        batch_op.create_unique_constraint(batch_op.f("uq_visa_letters_registration_id"), ["registration_id"])
        batch_op.drop_column("withdrawn")

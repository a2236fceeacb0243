"""session content in several languages: titles, venues, entity types and regions

An organiser may enter a session's title and venue, and the names of its entity types and regions, in each
enabled language; pages, badges, certificates and reports use the reader's language and fall back to the default
(the existing columns). Existing rows have no translations: NULL.

Revision ID: e5a1c9d3f7b2
Revises: c4e8a1f0b2d3
Create Date: 2026-12-05 00:10:00.000000

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "e5a1c9d3f7b2"
down_revision = "c4e8a1f0b2d3"
branch_labels = None
depends_on = None

TABLES = ("meeting_sessions", "entity_types", "regions")


def upgrade():
    for table in TABLES:
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("translations", sa.JSON(), nullable=True))


def downgrade():
    for table in TABLES:
        with op.batch_alter_table(table) as batch:
            batch.drop_column("translations")

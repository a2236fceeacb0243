"""registrations get a name search key

Door staff and organisers find a delegate by typing part of the name as they would: without accents or case
("nguyen" finds "Nguyễn", "odegard" finds "ØDEGÅRD"). The key is computed in Python, so both databases search
alike; this fills it for existing registrations.

Revision ID: a87d5bab3616
Revises: 585946efb531
Create Date: 2026-11-29 10:24:00

"""

import re
import unicodedata

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "a87d5bab3616"
down_revision = "585946efb531"
branch_labels = None
depends_on = None

registrations = sa.table(
    "registrations", sa.column("id", sa.Integer), sa.column("full_name", sa.String), sa.column("name_key", sa.Text)
)

_BASE_LETTERS = str.maketrans(
    {"ø": "o", "đ": "d", "ð": "d", "ħ": "h", "ı": "i", "ł": "l", "ŧ": "t", "æ": "ae", "œ": "oe", "þ": "th"}
)
_ACCENTS = re.compile(
    "[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f\u0591-\u05c7\u064b-\u065f\u0670]"
)
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")


def _key(text: str) -> str:
    # The rule of `attendance.text.search_key` as of this revision (a migration keeps its own copy).
    folded = unicodedata.normalize("NFKD", unicodedata.normalize("NFKD", text).casefold())
    bare = _ACCENTS.sub("", _CONTROL.sub(" ", folded)).translate(_BASE_LETTERS)
    return unicodedata.normalize("NFC", " ".join(bare.split()))


def upgrade():
    # Added NOT NULL with a default, which both engines do in place: no rebuild of the table others refer to.
    op.add_column("registrations", sa.Column("name_key", sa.Text(), nullable=False, server_default=""))
    connection = op.get_bind()
    rows = connection.execute(sa.select(registrations.c.id, registrations.c.full_name)).all()
    if rows:
        connection.execute(
            registrations.update()
            .where(registrations.c.id == sa.bindparam("row_id"))
            .values(name_key=sa.bindparam("key")),
            [{"row_id": row.id, "key": _key(row.full_name)} for row in rows],
        )
    if connection.dialect.name != "sqlite":  # SQLite can drop a default only by rebuilding the table
        op.alter_column("registrations", "name_key", server_default=None)


def downgrade():
    with op.batch_alter_table("registrations") as batch:
        batch.drop_column("name_key")

"""door staff and scanner tokens bound to sessions; search keys in Latin letters

- `session_door_staff`: the sessions a door staff member is assigned to (none: every session, as before).
- `api_tokens.session_id`: a scanner token made with `token add --session SLUG` works for that session only.
- `registrations.name_key` now holds the name in its own script and in Latin letters (anyascii), the email key,
  the organisation and the consonant skeletons of Arabic and Hebrew words, so that the door finds "Ольга Петрова"
  by "petrova" and "ليلى حداد" by "haddad". Refilled here for existing rows, in place (no table rebuild: on SQLite
  that would run the cascades of the tables that refer to registrations).

Revision ID: 8e04b2fcb833
Revises: b7c3d1e2f4a5
Create Date: 2026-12-04 22:47:03.909600

"""

import re
import unicodedata

import sqlalchemy as sa
from alembic import op
from anyascii import anyascii

# revision identifiers, used by Alembic.
revision = "8e04b2fcb833"
down_revision = "b7c3d1e2f4a5"
branch_labels = None
depends_on = None

registrations = sa.table(
    "registrations",
    sa.column("id", sa.Integer),
    sa.column("full_name", sa.String),
    sa.column("organisation", sa.String),
    sa.column("email_key", sa.String),
    sa.column("name_key", sa.Text),
)

# The rules of `attendance.text` as of this revision (a migration keeps its own copy).
_BASE_LETTERS = str.maketrans(
    {"ø": "o", "đ": "d", "ð": "d", "ħ": "h", "ı": "i", "ł": "l", "ŧ": "t", "æ": "ae", "œ": "oe", "þ": "th"}
)
_ACCENTS = re.compile(
    "[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f\u0591-\u05c7\u064b-\u065f\u0670]"
)
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")
_APOSTROPHES = re.compile("['`ʹʼ]")
_NOT_ALPHANUMERIC = re.compile("[^0-9A-Za-z]+")
_SYLLABLE_BOUNDARY = re.compile("(?<=[a-z])(?=[A-Z])")
_ABJAD = re.compile("[\u0590-\u05ff\u0600-\u06ff\u0750-\u077f\u08a0-\u08ff\ufb1d-\ufdff\ufe70-\ufeff]")
_VOWELS_AND_GLIDES = re.compile("[aeiouwy]")
_REPEATS = re.compile(r"(.)\1+")


def _without_format_characters(text):
    return "".join(c for c in text if unicodedata.category(c) != "Cf")


def _search_key(text, strip_format=True):
    if strip_format:
        text = _without_format_characters(text)
    folded = unicodedata.normalize("NFKD", unicodedata.normalize("NFKD", text).casefold())
    bare = _ACCENTS.sub("", _CONTROL.sub(" ", folded)).translate(_BASE_LETTERS)
    return unicodedata.normalize("NFC", " ".join(bare.split()))


def _latin_key(text):
    latin = _NOT_ALPHANUMERIC.sub(" ", _APOSTROPHES.sub("", anyascii(_without_format_characters(text))))
    return _search_key(_SYLLABLE_BOUNDARY.sub(" ", latin))


def _skeleton(latin_word):
    return _REPEATS.sub(r"\1", _VOWELS_AND_GLIDES.sub("", _NOT_ALPHANUMERIC.sub("", latin_word.lower())))


def _abjad_skeletons(text):
    skeletons = []
    for word in _search_key(text).split():
        if _ABJAD.search(word):
            variants = [word, word[2:]] if word.startswith("ال") and len(word) > 3 else [word]
            skeletons += [_skeleton(_latin_key(variant)) for variant in variants]
    return [skeleton for skeleton in skeletons if len(skeleton) >= 2]


def _search_text(full_name, organisation, email_key):
    parts = []
    for part in [
        _search_key(full_name),
        _latin_key(full_name),
        _search_key(organisation),
        _latin_key(organisation),
        email_key or "",
    ]:
        if part not in parts:
            parts.append(part)
    skeletons = ["~" + skeleton for text in (full_name, organisation) for skeleton in _abjad_skeletons(text)]
    if skeletons:
        parts.append(" ".join(skeletons))
    return "\n".join(parts)


def _refill_name_keys(key_of) -> None:
    connection = op.get_bind()
    rows = connection.execute(
        sa.select(
            registrations.c.id, registrations.c.full_name, registrations.c.organisation, registrations.c.email_key
        )
    ).all()
    if rows:
        connection.execute(
            registrations.update()
            .where(registrations.c.id == sa.bindparam("row_id"))
            .values(name_key=sa.bindparam("key")),
            [{"row_id": row.id, "key": key_of(row)} for row in rows],
        )


def upgrade():
    op.create_table(
        "session_door_staff",
        sa.Column("session_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["meeting_sessions.id"],
            name=op.f("fk_session_door_staff_session_id_meeting_sessions"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["staff_users.id"], name=op.f("fk_session_door_staff_user_id_staff_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("session_id", "user_id", name=op.f("pk_session_door_staff")),
    )
    # Nothing refers to api_tokens, so rebuilding it on SQLite (to add a foreign key) cascades nowhere.
    with op.batch_alter_table("api_tokens", schema=None) as batch_op:
        batch_op.add_column(sa.Column("session_id", sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f("ix_api_tokens_session_id"), ["session_id"], unique=False)
        batch_op.create_foreign_key(
            batch_op.f("fk_api_tokens_session_id_meeting_sessions"),
            "meeting_sessions",
            ["session_id"],
            ["id"],
            ondelete="CASCADE",
        )
    _refill_name_keys(lambda row: _search_text(row.full_name, row.organisation, row.email_key))


def downgrade():
    # The name alone again, by the rule of revision a87d5bab3616.
    _refill_name_keys(lambda row: _search_key(row.full_name, strip_format=False))
    with op.batch_alter_table("api_tokens", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_api_tokens_session_id_meeting_sessions"), type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_api_tokens_session_id"))
        batch_op.drop_column("session_id")

    op.drop_table("session_door_staff")

"""search keys hold every Arabic and Hebrew word's consonant skeleton, whole: "~l~ ~hd~" for ليلى حداد

The door look-up compared Arabic and Hebrew words by their consonants only when they had two at least, so "layla
haddad" found nobody (ليلى is "l"). `registrations.name_key` now keeps the skeletons of one consonant too, each
between two marks, so that a query word of one consonant matches a whole skeleton and one of more its start.
Refilled here for existing rows, in place; going back, the keys are written by the rule before.

Revision ID: 62d0c0993c09
Revises: 25b371767c84
Create Date: 2026-12-06 09:00:00.000000

"""

import re
import unicodedata

import sqlalchemy as sa
from alembic import op
from anyascii import anyascii

# revision identifiers, used by Alembic.
revision = "62d0c0993c09"
down_revision = "25b371767c84"
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


def _search_key(text):
    folded = unicodedata.normalize("NFKD", unicodedata.normalize("NFKD", _without_format_characters(text)).casefold())
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
    return [skeleton for skeleton in skeletons if skeleton]


def _search_text(row, whole):
    """The key of this revision (`whole`: every skeleton, "~l~ ~hd~") or of the one before (those of two
    consonants at least, open at the end: "~hd")."""
    parts = []
    for part in [
        _search_key(row.full_name or ""),
        _latin_key(row.full_name or ""),
        _search_key(row.organisation or ""),
        _latin_key(row.organisation or ""),
        row.email_key or "",
    ]:
        if part not in parts:
            parts.append(part)
    skeletons = [
        "~" + skeleton + ("~" if whole else "")
        for text in (row.full_name or "", row.organisation or "")
        for skeleton in _abjad_skeletons(text)
        if whole or len(skeleton) >= 2
    ]
    if skeletons:
        parts.append(" ".join(skeletons))
    return "\n".join(parts)


def _refill_name_keys(whole) -> None:
    connection = op.get_bind()
    rows = connection.execute(
        sa.select(
            registrations.c.id,
            registrations.c.full_name,
            registrations.c.organisation,
            registrations.c.email_key,
            registrations.c.name_key,
        )
    ).all()
    changed = [{"row_id": row.id, "key": key} for row in rows if (key := _search_text(row, whole)) != row.name_key]
    if changed:
        connection.execute(
            registrations.update()
            .where(registrations.c.id == sa.bindparam("row_id"))
            .values(name_key=sa.bindparam("key")),
            changed,
        )


def upgrade():
    _refill_name_keys(whole=True)


def downgrade():
    _refill_name_keys(whole=False)

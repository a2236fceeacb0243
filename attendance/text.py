"""Text as people type and read it: how names are compared when searched or sorted, and how wide they are."""

import re
import unicodedata

from anyascii import anyascii

# Letters that are not a base letter plus an accent in Unicode, so decomposing leaves them as they are.
_BASE_LETTERS = str.maketrans(
    {"ø": "o", "đ": "d", "ð": "d", "ħ": "h", "ı": "i", "ł": "l", "ŧ": "t", "æ": "ae", "œ": "oe", "þ": "th"}
)
# Marks people leave out when they type a name: Latin, Greek and Cyrillic accents, Hebrew points and Arabic
# vowel signs. Not kana's voicing marks or Indic vowel signs, which make other letters (さとう is not さどう).
_ACCENTS = re.compile(
    "[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f\u0591-\u05c7\u064b-\u065f\u0670]"
)
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")
# Marks that only steer the direction of text (LRM, RLM, ALM, embeddings, overrides, isolates): invisible, so a
# person searching never types them.
BIDI_CONTROLS = re.compile("[\u200e\u200f\u061c\u202a-\u202e\u2066-\u2069]")
FIRST_STRONG_ISOLATE, POP_DIRECTIONAL_ISOLATE = "\u2068", "\u2069"


def _without_format_characters(text: str) -> str:
    # Direction marks and isolates (U+200E, U+2067...), zero-width joiners, soft hyphens: invisible, never typed.
    return "".join(c for c in text if unicodedata.category(c) != "Cf")


def search_key(text: str) -> str:
    """`text` as people type it when they do not know its accents or case: "Nguyễn Ødegård" -> "nguyen odegard".

    Unicode's compatibility caseless form (so "Straße" is "strasse" and full-width letters are plain ones), without
    accents, control or format characters (direction marks) or extra spaces, and composed again (Korean syllables,
    kana with their marks).
    """
    folded = unicodedata.normalize("NFKD", unicodedata.normalize("NFKD", _without_format_characters(text)).casefold())
    bare = _ACCENTS.sub("", _CONTROL.sub(" ", folded)).translate(_BASE_LETTERS)
    return unicodedata.normalize("NFC", " ".join(bare.split()))


#: between the parts of a registration's search text; search_key never leaves one, so no word spans two parts
PART_SEPARATOR = "\n"
#: starts and ends each consonant skeleton in a search text (see `_skeleton`): "~l~ ~hd~" for ليلى حداد, so that a
#: query word can ask for the start of a skeleton ("~hd") or for a whole one ("~l~")
SKELETON_MARK = "~"
_APOSTROPHES = re.compile("['`ʹʼ]")  # anyascii writes Cyrillic ь and Arabic ع, ء so: "Ol'ga", "`mr"
_NOT_ALPHANUMERIC = re.compile("[^0-9A-Za-z]+")
_SYLLABLE_BOUNDARY = re.compile("(?<=[a-z])(?=[A-Z])")  # anyascii's "WangWei" for 王伟
_ABJAD = re.compile("[\u0590-\u05ff\u0600-\u06ff\u0750-\u077f\u08a0-\u08ff\ufb1d-\ufdff\ufe70-\ufeff]")
_VOWELS_AND_GLIDES = re.compile("[aeiouwy]")
_REPEATS = re.compile(r"(.)\1+")


def latin_key(text: str) -> str:
    """`text` in Latin letters, as a door volunteer would type it: "Ольга Петрова" -> "olga petrova",
    "王伟" -> "wang wei" (anyascii's transliteration, one word per Chinese syllable)."""
    latin = _NOT_ALPHANUMERIC.sub(" ", _APOSTROPHES.sub("", anyascii(_without_format_characters(text))))
    return search_key(_SYLLABLE_BOUNDARY.sub(" ", latin))


def _skeleton(latin_word: str) -> str:
    """The consonants of a word, each once in a row: "haddad" -> "hd", "hdd" -> "hd". Arabic and Hebrew write
    few vowels, so anyascii gives حداد as "hdd": compared by skeleton, the "haddad" people type finds it."""
    return _REPEATS.sub(r"\1", _VOWELS_AND_GLIDES.sub("", _NOT_ALPHANUMERIC.sub("", latin_word.lower())))


def _abjad_skeletons(text: str) -> list[str]:
    """The skeletons of the Arabic and Hebrew words of `text`, also without the article: الزهراني is found
    by "alzahrani" and by "zahrani"."""
    skeletons = []
    for word in search_key(text).split():
        if not _ABJAD.search(word):
            continue
        variants = [word, word[2:]] if word.startswith("ال") and len(word) > 3 else [word]
        skeletons += [_skeleton(latin_key(variant)) for variant in variants]
    return [skeleton for skeleton in skeletons if skeleton]


def search_text(*texts: str, verbatim: tuple[str, ...] = ()) -> str:
    """What a search looks in: each of `texts` (a name, an organisation) in its own script and in Latin letters,
    the `verbatim` ones (an email key) as they are, then the consonant skeletons of the texts' Arabic and Hebrew
    words, each between two `SKELETON_MARK`s. The first part is always the first text's `search_key`, so sorting
    by it sorts by name."""
    parts: list[str] = []
    for part in [key for text in texts for key in (search_key(text), latin_key(text))] + list(verbatim):
        if part not in parts:
            parts.append(part)
    skeletons = [SKELETON_MARK + skeleton + SKELETON_MARK for text in texts for skeleton in _abjad_skeletons(text)]
    if skeletons:
        parts.append(" ".join(skeletons))
    return PART_SEPARATOR.join(parts)


def word_patterns(word: str) -> list[str]:
    """What a search text must contain for a query word (a `search_key` word) to match: the word itself, or for
    a word in Latin letters, its skeleton (see `_skeleton`): the start of one when it has two consonants at least
    ("hadd" finds حداد), a whole one when it has a single one. "layla" and "ali" are "l", as ليلى and علي are,
    but a word that only starts with an l (لبنى, "lbn") is not theirs: so "layla haddad" finds ليلى حداد, and
    "ali" does not list every name with an l."""
    patterns = [word]
    if word.isascii() and word.isalpha():
        skeleton = _skeleton(word)
        if len(skeleton) >= 2:
            patterns.append(SKELETON_MARK + skeleton)
        elif skeleton:
            patterns.append(SKELETON_MARK + skeleton + SKELETON_MARK)
    return patterns


def is_wide(character: str) -> bool:
    """Whether a character is as wide as about two Latin letters: Chinese, Japanese, Korean, full-width forms."""
    return unicodedata.east_asian_width(character) in "WF"


def isolate(text: str) -> str:
    """`text` set apart for direction, for plain text and PDFs: it takes the direction of its first letter, and
    neither what surrounds it nor any mark typed into it can reorder the other (Unicode's FSI ... PDI).

    "ليلى حداد 9f3c2e1a" in an English sentence stays right to left with "9f3c2e1a" whole. Text with no
    right-to-left letter, Arabic digit or direction mark needs none and stays as it is."""
    if any(character in _NEEDS_ISOLATION for character in map(unicodedata.bidirectional, text)) or BIDI_CONTROLS.search(
        text
    ):
        return f"{FIRST_STRONG_ISOLATE}{text}{POP_DIRECTIONAL_ISOLATE}"
    return text


_NEEDS_ISOLATION = {"R", "AL", "AN"}


def direction(text: str) -> str:
    """'rtl' or 'ltr', from the first letter with a strong direction (as `dir="auto"` decides in a browser)."""
    for character in BIDI_CONTROLS.sub("", text):
        kind = unicodedata.bidirectional(character)
        if kind in ("R", "AL"):
            return "rtl"
        if kind == "L":
            return "ltr"
    return "ltr"


# Spaces and invisible format characters (zero-width spaces, direction marks, a byte-order mark): a name made of
# nothing else is empty, and one padded with them is the same name.
_INVISIBLE = "\\s\u00ad\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\ufeff"
_EDGES = re.compile(f"^[{_INVISIBLE}]+|[{_INVISIBLE}]+$")


def strip_edges(value: str | None) -> str | None:
    """Typed text without the spaces and invisible characters around it (a form's filter; None stays None)."""
    return _EDGES.sub("", value) if isinstance(value, str) else value


def has_control_characters(text: str) -> bool:
    """Whether typed text holds a control character (a NUL, an escape...): no field of ours may (PostgreSQL cannot
    even store a NUL)."""
    return any(ord(ch) < 32 or ord(ch) == 127 for ch in text)


def without_control_characters(text: str) -> str:
    """A search query as typed, each control character read as a space between words (they match nothing)."""
    return "".join(" " if ord(ch) < 32 or ord(ch) == 127 else ch for ch in text)

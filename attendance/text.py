"""Text as people type and read it: how names are compared when searched or sorted, and how wide they are."""
import re
import unicodedata

# Letters that are not a base letter plus an accent in Unicode, so decomposing leaves them as they are.
_BASE_LETTERS = str.maketrans({"ø": "o", "đ": "d", "ð": "d", "ħ": "h", "ı": "i", "ł": "l", "ŧ": "t", "æ": "ae",
                               "œ": "oe", "þ": "th"})
# Marks people leave out when they type a name: Latin, Greek and Cyrillic accents, Hebrew points and Arabic
# vowel signs. Not kana's voicing marks or Indic vowel signs, which make other letters (さとう is not さどう).
_ACCENTS = re.compile("[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f"
                      "\u0591-\u05c7\u064b-\u065f\u0670]")
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")
# Marks that only steer the direction of text (LRM, RLM, ALM, embeddings, overrides, isolates): invisible, so a
# person searching never types them.
BIDI_CONTROLS = re.compile("[\u200e\u200f\u061c\u202a-\u202e\u2066-\u2069]")
FIRST_STRONG_ISOLATE, POP_DIRECTIONAL_ISOLATE = "\u2068", "\u2069"


def search_key(text: str) -> str:
    """`text` as people type it when they do not know its accents or case: "Nguyễn Ødegård" -> "nguyen odegard".

    Unicode's compatibility caseless form (so "Straße" is "strasse" and full-width letters are plain ones), without
    accents, control characters, direction marks or extra spaces, and composed again (Korean syllables, kana with their marks).
    """
    folded = unicodedata.normalize("NFKD", unicodedata.normalize("NFKD", text).casefold())
    bare = _ACCENTS.sub("", BIDI_CONTROLS.sub("", _CONTROL.sub(" ", folded))).translate(_BASE_LETTERS)
    return unicodedata.normalize("NFC", " ".join(bare.split()))


def is_wide(character: str) -> bool:
    """Whether a character is as wide as about two Latin letters: Chinese, Japanese, Korean, full-width forms."""
    return unicodedata.east_asian_width(character) in "WF"


def isolate(text: str) -> str:
    """`text` set apart for direction, for plain text and PDFs: it takes the direction of its first letter, and
    neither what surrounds it nor any mark typed into it can reorder the other (Unicode's FSI ... PDI).

    "ليلى حداد 9f3c2e1a" in an English sentence stays right to left with "9f3c2e1a" whole. Text with no
    right-to-left letter, Arabic digit or direction mark needs none and stays as it is."""
    if any(character in _NEEDS_ISOLATION for character in map(unicodedata.bidirectional, text)) \
            or BIDI_CONTROLS.search(text):
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

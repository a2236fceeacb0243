"""How names are compared when people search or sort them."""
import unicodedata

# Letters that are not a base letter plus an accent in Unicode, so decomposing leaves them as they are.
_BASE_LETTERS = str.maketrans({"ø": "o", "đ": "d", "ð": "d", "ħ": "h", "ı": "i", "ł": "l", "ŧ": "t", "æ": "ae",
                               "œ": "oe", "þ": "th"})


def search_key(text: str) -> str:
    """`text` as people type it when they do not know its accents or case: "Nguyễn Ødegård" -> "nguyen odegard".

    Unicode's compatibility caseless form (so "Straße" is "strasse" and full-width letters are plain ones) without
    accents or other combining marks, and with its spaces collapsed. Scripts without case or accents are unchanged
    in what they match.
    """
    folded = unicodedata.normalize("NFKD", unicodedata.normalize("NFKD", text).casefold())
    bare = "".join(c for c in folded if not unicodedata.combining(c))
    return " ".join(bare.translate(_BASE_LETTERS).split())

"""ISO 3166-1 alpha-2 countries with their names, from Babel's CLDR data."""
import unicodedata
from functools import cache

from babel import Locale

# CLDR territories that are not countries a delegate comes from (groupings, pseudo-locales, reserved codes).
_NOT_COUNTRIES = {"EU", "EZ", "UN", "ZZ", "XA", "XB", "QO", "AC", "CP", "CQ", "DG", "EA", "IC", "TA"}


@cache
def countries(locale: str = "en") -> dict[str, str]:
    """Code -> name, sorted by name, in the locale's language."""
    territories = Locale.parse(locale.split("_")[0]).territories
    english = Locale.parse("en").territories  # the same countries in every language
    pairs = [(code, territories.get(code, english[code])) for code in english
             if len(code) == 2 and code.isalpha() and code not in _NOT_COUNTRIES]
    return dict(sorted(pairs, key=lambda pair: _sort_key(pair[1])))


def _sort_key(name: str) -> str:
    """Alphabetical as people expect it: "Égypte" among the E's."""
    return "".join(c for c in unicodedata.normalize("NFKD", name.casefold()) if not unicodedata.combining(c))


def country_name(code: str, locale: str = "en") -> str:
    return countries(locale.split("_")[0]).get(code, code)

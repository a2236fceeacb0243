"""ISO 3166-1 alpha-2 countries with their names, from Babel's CLDR data."""

from functools import cache

from babel import Locale

from .text import search_key

# CLDR territories that are not countries a delegate comes from (groupings, pseudo-locales, reserved codes).
_NOT_COUNTRIES = {"EU", "EZ", "UN", "ZZ", "XA", "XB", "QO", "AC", "CP", "CQ", "DG", "EA", "IC", "TA"}


@cache
def countries(locale: str = "en") -> dict[str, str]:
    """Code -> name, sorted by name, in the locale's language."""
    territories = Locale.parse(locale.split("_")[0]).territories
    english = Locale.parse("en").territories  # the same countries in every language
    pairs = [
        (code, territories.get(code, english[code]))
        for code in english
        if isinstance(code, str) and len(code) == 2 and code.isalpha() and code not in _NOT_COUNTRIES
    ]
    return dict(sorted(pairs, key=lambda pair: search_key(pair[1])))  # "Égypte" among the E's


def country_name(code: str, locale: str = "en") -> str:
    return countries(locale.split("_")[0]).get(code, code)

"""ISO 3166-1 alpha-2 countries with their names, from Babel's CLDR data."""
from functools import cache

from babel import Locale

# CLDR territories that are not countries a delegate comes from (groupings, pseudo-locales, reserved codes).
_NOT_COUNTRIES = {"EU", "EZ", "UN", "ZZ", "XA", "XB", "QO", "AC", "CP", "CQ", "DG", "EA", "IC", "TA"}


@cache
def countries(locale: str = "en") -> dict[str, str]:
    """Code -> name, sorted by name."""
    territories = Locale.parse(locale).territories
    pairs = [(code, name) for code, name in territories.items()
             if len(code) == 2 and code.isalpha() and code not in _NOT_COUNTRIES]
    return dict(sorted(pairs, key=lambda pair: pair[1]))


def country_name(code: str, locale: str = "en") -> str:
    return countries(locale).get(code, code)

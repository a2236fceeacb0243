"""The two secrets a delegate holds: the badge token (in the QR) and the access key (in their personal link)."""

import secrets

# Crockford's base32 alphabet: digits and capitals only, without I, L, O and U, which are read as 1, 1, 0 and V.
# Digits and capitals type the same on every keyboard layout, so keyboard-wedge scanners never garble them.
BADGE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
BADGE_TOKEN_LENGTH = 26  # 26 characters of 5 bits: 130 bits


def new_badge_token() -> str:
    return "".join(secrets.choice(BADGE_ALPHABET) for _ in range(BADGE_TOKEN_LENGTH))


def grouped_badge_code(token: str) -> str:
    """The badge token in groups of four, as badges and the delegate's page print it for a person to type when
    the QR cannot be read; the scanner page drops the spaces again."""
    return " ".join(token[start : start + 4] for start in range(0, len(token), 4))


def new_access_key() -> str:
    return secrets.token_urlsafe(32)

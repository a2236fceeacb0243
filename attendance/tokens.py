"""The two secrets a delegate holds: the badge token (in the QR) and the access key (in their personal link)."""
import secrets

# Crockford's base32 alphabet: digits and capitals only, without I, L, O and U, which are read as 1, 1, 0 and V.
# Digits and capitals type the same on every keyboard layout, so keyboard-wedge scanners never garble them.
BADGE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
BADGE_TOKEN_LENGTH = 26  # 26 characters of 5 bits: 130 bits


def new_badge_token() -> str:
    return "".join(secrets.choice(BADGE_ALPHABET) for _ in range(BADGE_TOKEN_LENGTH))


def new_access_key() -> str:
    return secrets.token_urlsafe(32)


def redact(secret: str) -> str:
    """A secret as it may appear in logs: enough to tell two apart, too little to use."""
    return secret[:6] + "…" if len(secret) > 6 else "…"

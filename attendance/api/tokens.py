"""Scanner API tokens: created by organisers, shown once, stored hashed, revocable."""

import hashlib
import secrets

import sqlalchemy as sa

from ..clock import utcnow
from ..dbutil import DriverStatement
from ..extensions import db
from ..models import ApiToken

TOKEN_PREFIX = "att_"


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_api_token(label: str, *, organiser: bool = False, session_id: int | None = None) -> tuple[ApiToken, str]:
    """Returns the stored record and the token itself, which is never stored and cannot be shown again.
    With `session_id`, the token reads and checks in for that session only."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    record = ApiToken(
        label=label.strip()[:80],
        token_hash=_digest(token),
        prefix=token[:10],
        is_organiser=organiser,
        session_id=session_id,
    )
    db.session.add(record)
    db.session.flush()  # its id, and the door's look-up reads the connection directly
    return record, token


_tokens = ApiToken.__table__
# Built once, read on every scanner request: the compiled statement is reused.
_BY_DIGEST = DriverStatement(
    sa.select(_tokens.c.id, _tokens.c.label, _tokens.c.is_organiser, _tokens.c.revoked_at, _tokens.c.session_id).where(
        _tokens.c.token_hash == sa.bindparam("digest")
    )
)


def find_api_token(token: str) -> tuple | None:
    """The token's id, label, is_organiser, revoked_at and session_id; None for a token we never made."""
    if not token.startswith(TOKEN_PREFIX) or len(token) > 100:
        return None
    found = _BY_DIGEST.rows(db.session.connection(), digest=_digest(token))
    return found[0] if found else None


def revoke_api_token(record: ApiToken) -> None:
    record.revoked_at = record.revoked_at or utcnow()
    db.session.flush()

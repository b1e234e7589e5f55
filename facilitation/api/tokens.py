"""Issue, find, check and revoke personal API tokens.

A token reads ``gw_`` followed by 43 URL-safe characters (256 random bits). Only its SHA-256
is stored: a stolen database gives no usable token, and a lookup is one indexed equality (a
high-entropy secret needs no slow hash). Services flush and never commit.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import joinedload

from facilitation.accounts.models import User
from facilitation.api.models import ApiToken, Scope
from facilitation.consent import safety
from facilitation.core.errors import DomainError, NotFound
from facilitation.extensions import db

logger = logging.getLogger(__name__)

TOKEN_PREFIX = "gw_"
#: How much of the token is kept in clear, to tell tokens apart.
VISIBLE_CHARS = 10
#: Longest Authorization value worth hashing.
MAX_TOKEN_LENGTH = 200
#: last_used_at is written at most this often per token.
TOUCH_EVERY = timedelta(minutes=1)
MAX_TOKENS_PER_PERSON = 50
MAX_EXPIRY_DAYS = 366


class InvalidToken(DomainError):
    """The bearer token is missing, unknown, expired, revoked, or its owner may not use it."""

    status = 401


@dataclass(frozen=True)
class IssuedToken:
    """A new token: the row, and the secret, which is shown once and never again."""

    token: ApiToken
    secret: str


def hash_token(secret: str) -> str:
    """Return the hex SHA-256 of a token string."""
    return hashlib.sha256(secret.encode("utf-8", "surrogatepass")).hexdigest()


def issue(
    user: User,
    name: str,
    scopes: set[str],
    *,
    now: datetime,
    expires_in_days: int | None = None,
) -> IssuedToken:
    """Create a token for ``user`` with ``scopes``; return it with its secret."""
    name = " ".join((name or "").split())
    if not name:
        raise DomainError("name_required", "Give the token a name.", "name")
    if len(name) > 80:
        raise DomainError("name_too_long", "Keep the name under 80 characters.", "name")
    if not scopes or not scopes <= set(Scope):
        raise DomainError("bad_scopes", "Choose read, or read and write.", "scopes")
    if expires_in_days is not None and not 1 <= expires_in_days <= MAX_EXPIRY_DAYS:
        raise DomainError(
            "bad_expiry", f"Choose between 1 and {MAX_EXPIRY_DAYS} days.", "expires_in_days"
        )
    if len(tokens_of(user, include_revoked=False)) >= MAX_TOKENS_PER_PERSON:
        raise DomainError("too_many_tokens", "Revoke a token you no longer use first.")
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    ordered = [s.value for s in Scope if s.value in scopes or s is Scope.READ]
    token = ApiToken(
        user_id=user.id,
        name=name,
        token_hash=hash_token(secret),
        prefix=secret[:VISIBLE_CHARS],
        scopes=" ".join(ordered),
        created_at=now,
        expires_at=now + timedelta(days=expires_in_days) if expires_in_days else None,
    )
    db.session.add(token)
    db.session.flush()
    logger.info("api token %s issued to %s (%s)", token.id, user.id, token.scopes)
    return IssuedToken(token, secret)


def tokens_of(user: User, *, include_revoked: bool = True) -> list[ApiToken]:
    """Return a person's tokens, newest first."""
    stmt = sa.select(ApiToken).where(ApiToken.user_id == user.id)
    if not include_revoked:
        stmt = stmt.where(ApiToken.revoked_at.is_(None))
    return list(db.session.scalars(stmt.order_by(ApiToken.id.desc())))


def revoke(user: User, token_id: int, *, now: datetime) -> ApiToken:
    """Revoke one of one's own tokens; revoking it again changes nothing."""
    token = db.session.get(ApiToken, token_id)
    if token is None or token.user_id != user.id:
        raise NotFound("not_found", "No such token.")
    if token.revoked_at is None:
        token.revoked_at = now
        db.session.flush()
        logger.info("api token %s revoked by %s", token.id, user.id)
    return token


def parse_header(value: str | None) -> str:
    """Return the token in an ``Authorization: Bearer gw_...`` header, or raise InvalidToken."""
    if not value:
        raise InvalidToken("token_required", "Send a personal token: Authorization: Bearer gw_…")
    scheme, _, secret = value.strip().partition(" ")
    secret = secret.strip()
    if scheme.lower() != "bearer" or not secret:
        raise InvalidToken("token_required", "Send a personal token: Authorization: Bearer gw_…")
    if not secret.startswith(TOKEN_PREFIX) or len(secret) > MAX_TOKEN_LENGTH:
        raise InvalidToken("invalid_token", "This token is not valid.")
    return secret


def authenticate(header: str | None, *, now: datetime) -> ApiToken:
    """Return the usable token an Authorization header carries, noting its use.

    Unknown, expired and revoked tokens are refused alike, as are the tokens of deactivated
    or banned accounts.
    """
    secret = parse_header(header)
    token = db.session.scalar(
        sa.select(ApiToken)
        .where(ApiToken.token_hash == hash_token(secret))
        .options(joinedload(ApiToken.user))
    )
    if token is None or not token.is_usable(now):
        raise InvalidToken("invalid_token", "This token is not valid, has expired or was revoked.")
    user = token.user
    if not user.is_active_account or safety.active_ban(user.email, user.id) is not None:
        raise InvalidToken("account_unavailable", "This account cannot use the API.")
    if token.last_used_at is None or now - token.last_used_at >= TOUCH_EVERY:
        token.last_used_at = now  # the caller commits it
    return token

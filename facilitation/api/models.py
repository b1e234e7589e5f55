"""Personal API tokens: a person's programs act as that person through the JSON API."""

from __future__ import annotations

import enum
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from facilitation.accounts.models import User
from facilitation.core.db import UTCDateTime
from facilitation.extensions import db


class Scope(enum.StrEnum):
    """What a token may do: read only, or read and change."""

    READ = "read"
    WRITE = "write"


class ApiToken(db.Model):  # type: ignore[name-defined]
    """A personal token; only the SHA-256 of its secret is kept, never the secret."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    #: The owner's label for it ("door tablet", "CRM sync").
    name: Mapped[str] = mapped_column(sa.String(80))
    #: Hex SHA-256 of the whole token string; a lookup needs nothing else.
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    #: The first characters of the token, shown so its owner can tell tokens apart.
    prefix: Mapped[str] = mapped_column(sa.String(16))
    #: Space-separated scopes: "read" or "read write".
    scopes: Mapped[str] = mapped_column(sa.String(40))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    #: Updated at most once a minute, so reading through the API writes rarely.
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship()

    @property
    def scope_set(self) -> frozenset[str]:
        """Return the token's scopes."""
        return frozenset(self.scopes.split())

    def is_usable(self, now: datetime) -> bool:
        """Return whether the token is neither revoked nor expired at ``now``."""
        if self.revoked_at is not None:
            return False
        return self.expires_at is None or now < self.expires_at

    def __repr__(self) -> str:
        return f"<ApiToken {self.id} {self.prefix}>"

"""Encryption at rest for sensitive fields: Fernet (AES-128-CBC + HMAC-SHA256) with one key."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from cryptography.fernet import Fernet, InvalidToken

_cipher: dict[str, Fernet] = {}

#: Prefix of every stored value, so a dump shows at a glance that a column is encrypted.
PREFIX = "enc:v1:"


def configure(key: str) -> None:
    """Set the key used by every encrypted column of this process."""
    try:
        _cipher["current"] = Fernet(key.encode() if isinstance(key, str) else key)
    except (ValueError, TypeError) as exc:
        raise RuntimeError(
            "ENCRYPTION_KEY must be a Fernet key (32 url-safe base64-encoded bytes)"
        ) from exc


def generate_key() -> str:
    """Return a new random key."""
    return Fernet.generate_key().decode()


def _fernet() -> Fernet:
    try:
        return _cipher["current"]
    except KeyError:
        raise RuntimeError("encryption is not configured; create the app first") from None


def encrypt(plaintext: str) -> str:
    """Encrypt text for storage."""
    return PREFIX + _fernet().encrypt(plaintext.encode()).decode()


def decrypt(stored: str) -> str:
    """Decrypt stored text; fail loudly on a wrong key or a tampered value."""
    if not stored.startswith(PREFIX):
        raise ValueError("value is not encrypted")
    try:
        return _fernet().decrypt(stored[len(PREFIX) :].encode()).decode()
    except InvalidToken:
        raise ValueError("cannot decrypt: wrong key or tampered value") from None


class EncryptedText(sa.types.TypeDecorator[str]):
    """A text column stored encrypted; Python code sees plaintext."""

    impl = sa.Text
    cache_ok = True

    def process_bind_param(self, value: str | None, dialect: sa.Dialect) -> str | None:
        """Encrypt on the way in."""
        return None if value is None else encrypt(value)

    def process_result_value(self, value: Any, dialect: sa.Dialect) -> str | None:
        """Decrypt on the way out."""
        return None if value is None else decrypt(value)

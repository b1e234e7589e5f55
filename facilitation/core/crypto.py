"""Encryption at rest for sensitive fields (Fernet, AES-128-CBC + HMAC-SHA256), and seals.

One key, from configuration: it encrypts the sensitive columns and, through a derived key,
seals records that must be shown untouched (signatures).
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

import sqlalchemy as sa
from cryptography.fernet import Fernet, InvalidToken

_cipher: dict[str, Fernet] = {}
_seal_keys: dict[str, bytes] = {}

#: Prefix of every stored value, so a dump shows at a glance that a column is encrypted.
PREFIX = "enc:v1:"


def configure(key: str) -> None:
    """Set the key used by every encrypted column of this process."""
    raw = key.encode() if isinstance(key, str) else key
    try:
        _cipher["current"] = Fernet(raw)
    except (ValueError, TypeError) as exc:
        raise RuntimeError(
            "ENCRYPTION_KEY must be a Fernet key (32 url-safe base64-encoded bytes)"
        ) from exc
    # Seals get their own key, derived from this one, so a seal never reuses Fernet's key.
    _seal_keys["current"] = hmac.new(raw, b"gatherwell seal key v1", hashlib.sha256).digest()


def seal(purpose: str, message: bytes) -> str:
    """Return a keyed HMAC-SHA256 (hex) of ``message`` for ``purpose``; needs the app's key."""
    try:
        key = _seal_keys["current"]
    except KeyError:
        raise RuntimeError("encryption is not configured; create the app first") from None
    purpose_key = hmac.new(key, purpose.encode(), hashlib.sha256).digest()
    return hmac.new(purpose_key, message, hashlib.sha256).hexdigest()


def seal_matches(purpose: str, message: bytes, stored: str | None) -> bool:
    """Return whether ``stored`` is the seal of ``message`` (compared in constant time)."""
    return stored is not None and hmac.compare_digest(seal(purpose, message), stored)


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

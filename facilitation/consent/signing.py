"""What every signing page reads from its post: the drawn signature and when the text was shown.

The participant's own signing page and the check-in desk's both use these, so a signature is
read and pinned the same way wherever it is made.
"""

from __future__ import annotations

import base64
import binascii
from datetime import datetime

from flask import current_app
from itsdangerous import BadSignature, URLSafeTimedSerializer

from facilitation.core.errors import DomainError

#: Longest drawn signature accepted, as a data URL.
MAX_DATA_URL = 300_000
#: How long a signing page stays valid after the text was shown.
VIEWED_MAX_AGE = 60 * 60 * 24
_PNG_PREFIX = "data:image/png;base64,"


def decode_signature(data_url: str) -> bytes:
    """Return the PNG bytes of a signature drawn on the pad (a data URL)."""
    if not data_url:
        raise DomainError("empty_signature", "Draw your signature in the box.", "signature")
    if len(data_url) > MAX_DATA_URL or not data_url.startswith(_PNG_PREFIX):
        raise DomainError("not_png", "The signature must be drawn in the box.", "signature")
    try:
        return base64.b64decode(data_url[len(_PNG_PREFIX) :], validate=True)
    except (binascii.Error, ValueError):
        raise DomainError(
            "not_png", "The signature must be drawn in the box.", "signature"
        ) from None


def _serializer(salt: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=salt)


def viewed_token(version_id: int, now: datetime, salt: str) -> str:
    """Return a signed token saying this version's text was shown at ``now``."""
    return _serializer(salt).dumps({"v": version_id, "t": now.isoformat()})


def viewed_at(token: str, version_id: int, salt: str) -> datetime:
    """Return when the text was shown, from the page's token; refuse a stale or forged one."""
    try:
        data = _serializer(salt).loads(token, max_age=VIEWED_MAX_AGE)
    except BadSignature:
        data = None
    if not isinstance(data, dict) or data.get("v") != version_id:
        raise DomainError("expired", "This page expired. Read the text again and sign.")
    return datetime.fromisoformat(data["t"])

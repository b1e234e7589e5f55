"""Seal each signature over every one of its fields, and check the seal.

The seal is a keyed HMAC-SHA256 (the app's encryption key, ``core.crypto.seal``) over the
canonical bytes of the whole record (``rules.signature_record``): the text's hash, the typed
name, the drawn image, both times, the address, the browser, the e-sign consent, who signed
and for which version and gathering. Anyone who can write to the database but does not hold
the key cannot change a field and make a matching seal.

Rows signed before seals existed have none (``UNSEALED``): only their text can be checked,
and the record page says so. They are not sealed after the fact by the upgrade, which would
bless whatever the rows hold at that moment. Erasure cuts ``user_id`` (the retention policy);
it re-seals only rows whose seal still held, so a row tampered with before stays broken.
"""

from __future__ import annotations

import logging

import sqlalchemy as sa

from facilitation.consent import rules
from facilitation.consent.models import Signature
from facilitation.core import crypto
from facilitation.extensions import db

logger = logging.getLogger(__name__)

PURPOSE = "signature"
#: What checking a signature can find.
VERIFIED, TAMPERED, UNSEALED = "verified", "tampered", "unsealed"


def _record(signature: Signature) -> bytes:
    return rules.signature_record({name: getattr(signature, name) for name in rules.SEALED_FIELDS})


def seal(signature: Signature) -> None:
    """Seal a flushed signature over all its fields."""
    signature.seal = crypto.seal(PURPOSE, _record(signature))


def check(signature: Signature) -> str:
    """Return VERIFIED, TAMPERED or UNSEALED (text intact, but the row predates seals)."""
    version = signature.version
    text_intact = rules.text_sha256(version.body_md) == signature.sha256 == version.sha256
    if not text_intact:
        return TAMPERED
    if signature.seal is None:
        return UNSEALED
    return (
        VERIFIED if crypto.seal_matches(PURPOSE, _record(signature), signature.seal) else TAMPERED
    )


def intact_ids(user_id: int) -> list[int]:
    """Return the ids of a person's signatures whose seal holds (before erasure cuts them)."""
    found = db.session.scalars(sa.select(Signature).where(Signature.user_id == user_id)).all()
    return [s.id for s in found if check(s) == VERIFIED]


def reseal(signature_ids: list[int]) -> None:
    """Seal these signatures again after a change the app itself made (erasure)."""
    for signature in db.session.scalars(
        sa.select(Signature).where(Signature.id.in_(signature_ids))
    ):
        seal(signature)
    db.session.flush()
    logger.info("%s signatures re-sealed", len(signature_ids))

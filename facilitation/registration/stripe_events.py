"""Act on a Stripe webhook event: re-read its PaymentIntent from Stripe and record what it says.

The event only says *that* something happened; what happened is read back from Stripe before
acting, so a replayed, forged-but-signed-long-ago or out-of-order event (a failure after the
success) changes nothing. Like the services, this flushes and never commits: the endpoint
claims the event, calls ``handle``, notes the outcome and commits, then sends refunds.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from facilitation.extensions import db
from facilitation.registration import ledger
from facilitation.registration.models import Payment, Registration
from facilitation.registration.payments import (
    PaymentError,
    PaymentIntentInfo,
    StripeEvent,
    StripeGateway,
    payment_intent_id_of,
)

logger = logging.getLogger(__name__)

#: The event types acted on; every other type is acknowledged and ignored.
HANDLED = frozenset(
    {"payment_intent.succeeded", "payment_intent.payment_failed", "charge.refunded"}
)


@dataclass
class Handled:
    """What handling one event did."""

    outcome: str
    #: Registrations with money to send back once the outcome is committed.
    refund_ids: list[int] = field(default_factory=list)


def registration_for(intent: PaymentIntentInfo) -> Registration | None:
    """Return the registration a PaymentIntent pays for.

    The registration id in the intent's metadata (we put it there) comes first; the stored
    ``payment_intent_id`` is the fallback. A paid intent that is no longer the stored one
    (paid in an older tab) still belongs to its registration: the money must be accounted
    for, and the ledger refunds what cannot be kept.
    """
    stored = db.session.scalar(
        sa.select(Registration).where(Registration.payment_intent_id == intent.id)
    )
    found = db.session.get(Registration, intent.registration_id) if intent.registration_id else None
    if found is None:
        return stored
    if stored is not None and stored.id != found.id:
        logger.warning(
            "payment intent %s is stored on registration %s but names %s; using %s",
            intent.id,
            stored.id,
            found.id,
            found.id,
        )
    return found


def record_intent(
    registration: Registration, intent: PaymentIntentInfo, *, now: datetime
) -> ledger.PaymentOutcome:
    """Record a succeeded PaymentIntent on its registration (idempotent)."""
    return ledger.record_payment(
        registration.id, intent.id, intent.amount_received, intent.currency, now=now
    )


def describe(outcome: ledger.PaymentOutcome) -> str:
    """Return the operator's note for a recorded payment."""
    registration_id = outcome.registration.id
    if not outcome.recorded:
        return f"already recorded {registration_id}"
    if outcome.confirmed:
        return f"confirmed {registration_id}"
    if outcome.refund_needed:
        return f"refund {registration_id} ({outcome.reason})"
    return f"recorded {registration_id}"


def handle(event: StripeEvent, gateway: StripeGateway, *, now: datetime) -> Handled:
    """Act on a verified event already claimed; raise PaymentError when Stripe is down."""
    if event.type not in HANDLED:
        return Handled(f"ignored {event.type}")
    intent_id = payment_intent_id_of(event)
    if not intent_id:
        return Handled("ignored: no payment intent")
    try:
        intent = gateway.retrieve_payment_intent(intent_id)
    except PaymentError as err:
        if err.code != "payment_not_found":
            raise
        logger.error("webhook names payment intent %s, which Stripe does not know", intent_id)
        return Handled(f"ignored: {intent_id} not found at Stripe")
    registration = registration_for(intent)
    if registration is None:
        logger.warning("payment intent %s belongs to no registration here", intent_id)
        return Handled(f"ignored: no registration for {intent_id}")
    if intent.status != "succeeded":
        return Handled(f"not paid {registration.id} ({intent.status})")
    outcome = record_intent(registration, intent, now=now)
    notes = [describe(outcome)]
    if event.type == "charge.refunded":
        notes += _record_refunds(registration, event.data.object, now)
    return Handled(
        "; ".join(notes), [registration.id] if registration.refund_outstanding_minor else []
    )


def _field(obj: Any, name: str) -> Any:
    try:
        return obj[name]
    except (KeyError, TypeError):
        return None


def _record_refunds(registration: Registration, charge: Any, now: datetime) -> list[str]:
    """Record refunds made outside this app (Stripe's dashboard) that the charge lists."""
    notes = []
    for refund in _field(_field(charge, "refunds"), "data") or []:
        refund_id, amount = _field(refund, "id"), _field(refund, "amount")
        if not refund_id or not amount or _field(refund, "status") in ("failed", "canceled"):
            continue
        known = db.session.scalar(sa.select(Payment.id).where(Payment.provider_ref == refund_id))
        if known is None:
            ledger.record_refund(registration.id, str(refund_id), int(amount), now=now)
            notes.append(f"refund recorded {refund_id}")
    return notes

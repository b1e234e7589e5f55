"""Send owed money back through Stripe, after the decision to refund has been committed.

The ledger decides what is owed (``refund_owed_minor``) and records what was sent back;
this module is the step between: for each registration it asks the ledger for a plan, calls
Stripe for each step, and records each refund in its own transaction. A Stripe failure leaves
the rest owed; ``send_all_owed`` (run by the sweeper) tries again later, and organisers see
what is still owed on the registrations page.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime

from flask import current_app

from facilitation.config import card_payments_enabled
from facilitation.core.clock import utcnow
from facilitation.extensions import db
from facilitation.registration import ledger
from facilitation.registration.models import Registration
from facilitation.registration.payments import PaymentError, StripeGateway, gateway

logger = logging.getLogger(__name__)


@dataclass
class RefundReport:
    """What sending refunds did."""

    #: (registration id, Stripe refund id, amount) for each refund sent and recorded.
    sent: list[tuple[int, str, int]] = field(default_factory=list)
    #: registration id -> why its money is still owed (a message an organiser can act on).
    failed: dict[int, str] = field(default_factory=dict)

    @property
    def total_sent(self) -> int:
        """Return the sum sent back, in minor units."""
        return sum(amount for _, _, amount in self.sent)


def _idempotency_key(registration: Registration, payment_intent_id: str) -> str:
    # The refunded sum so far changes after each recorded refund, so a retry of the same
    # step reuses its key (Stripe answers with the first refund) and a later step gets a new one.
    return f"refund:{registration.id}:{payment_intent_id}:{registration.amount_refunded_minor}"


def send_owed(
    registration_ids: Iterable[int],
    *,
    now: Callable[[], datetime] = utcnow,
    stripe: StripeGateway | None = None,
) -> RefundReport:
    """Refund through Stripe what each registration is owed; commit each recorded refund.

    Call after the decision has been committed. Money taken at the door cannot go back by
    card: it stays owed until an organiser records paying it back by hand.
    """
    report = RefundReport()
    ids = sorted(set(registration_ids))
    if not ids:
        return report
    if stripe is None:
        if not card_payments_enabled(current_app.config):
            for registration_id in ids:
                report.failed[registration_id] = (
                    "Card payments are off here: pay this back by hand and record it."
                )
            return report
        stripe = gateway()
    for registration_id in ids:
        registration = db.session.get(Registration, registration_id)
        if registration is None:
            continue
        for step in ledger.refund_plan(registration):
            key = _idempotency_key(registration, step.payment_intent_id)
            try:
                refund = stripe.refund(
                    step.payment_intent_id, step.amount_minor, idempotency_key=key
                )
            except PaymentError as err:
                logger.warning("refund for registration %s failed: %s", registration_id, err.code)
                report.failed[registration_id] = err.message
                break
            try:
                ledger.record_refund(registration_id, refund.id, refund.amount, now=now())
                db.session.commit()
            except Exception:
                db.session.rollback()
                logger.exception(
                    "refund %s for registration %s was sent but not recorded",
                    refund.id,
                    registration_id,
                )
                report.failed[registration_id] = "The refund was sent but could not be recorded."
                break
            report.sent.append((registration_id, refund.id, refund.amount))
        else:
            db.session.refresh(registration)
            if registration.refund_outstanding_minor > 0 and registration_id not in report.failed:
                report.failed[registration_id] = (
                    "Part of this was paid at the door: pay it back by hand and record it."
                )
    return report


def send_all_owed(now: Callable[[], datetime] = utcnow) -> RefundReport:
    """Retry every refund still owed by card (the sweeper calls this)."""
    if not card_payments_enabled(current_app.config):
        return RefundReport()
    owed = [r.id for r in ledger.refunds_outstanding() if ledger.refund_plan(r)]
    return send_owed(owed, now=now)

"""Stripe gateway: PaymentIntents, refunds and webhook signatures over the real ``stripe`` SDK.

Each gateway has a ``stripe.StripeClient`` of its own (key and API base from the app's
configuration), so nothing global in the ``stripe`` module is changed and two apps in one
process (the tests) can talk to two Stripes. Stripe's failures come back as ``PaymentError``
with a code and a sentence a participant can act on.

This is the one module that imports ``stripe`` (tests/test_layering.py checks it): others
name Stripe's types through it (``payments.StripeEvent``).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import stripe

from facilitation.config import card_payments_enabled
from facilitation.core.errors import DomainError

logger = logging.getLogger(__name__)

#: How old a webhook's signed timestamp may be, in seconds (Stripe's own default).
WEBHOOK_TOLERANCE = 300
#: Retries of a failed network call; Stripe's idempotency keys make them safe.
MAX_NETWORK_RETRIES = 2
#: (connect, read) timeouts in seconds: a participant is waiting on the other end.
TIMEOUT = (5.0, 30.0)
#: A verified webhook event, as the ``stripe`` SDK gives it.
StripeEvent = stripe.Event


class PaymentError(DomainError):
    """Stripe said no, or could not be reached; ``code`` says which."""


@dataclass(frozen=True)
class PaymentIntentInfo:
    """What we need to know of a Stripe PaymentIntent."""

    id: str
    client_secret: str | None
    status: str
    #: Amounts are integer minor units (pence, cents) of ``currency``, lower-case ISO 4217.
    amount: int
    currency: str
    amount_received: int = 0
    #: Our registration's id, from the PaymentIntent's metadata (None if absent).
    registration_id: int | None = None
    #: Stripe's message for the last failed attempt, if any (safe to show to the payer).
    last_error: str | None = None


@dataclass(frozen=True)
class RefundInfo:
    """What we need to know of a Stripe Refund."""

    id: str
    status: str
    amount: int


def unavailable(held_until: datetime | None = None) -> PaymentError:
    """Return the error for "Stripe cannot be reached", naming how long the seat stays held."""
    if held_until is None:
        message = "Card payments are unavailable right now; please try again in a few minutes."
    else:
        message = (
            "Card payments are unavailable right now; your seat stays held until "
            f"{held_until:%H:%M} — try again."
        )
    return PaymentError("payments_unavailable", message)


class StripeGateway:
    """Talk to one Stripe account (or to localstripe, in tests)."""

    def __init__(
        self,
        secret_key: str,
        webhook_secret: str | None = None,
        api_base: str = "https://api.stripe.com",
        *,
        max_network_retries: int = MAX_NETWORK_RETRIES,
    ) -> None:
        self.webhook_secret = webhook_secret
        self.client = stripe.StripeClient(
            secret_key,
            base_addresses={"api": api_base.rstrip("/")},
            max_network_retries=max_network_retries,
            http_client=stripe.RequestsClient(timeout=TIMEOUT),
        )

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> StripeGateway:
        """Build the gateway from the app's configuration; fail if card payments are off."""
        if not card_payments_enabled(config):
            raise PaymentError(
                "payments_off", "Card payments are not set up here; the organiser can help."
            )
        return cls(
            config["STRIPE_SECRET_KEY"],
            config.get("STRIPE_WEBHOOK_SECRET"),
            config.get("STRIPE_API_BASE") or "https://api.stripe.com",
        )

    def create_payment_intent(
        self,
        amount_minor: int,
        currency: str,
        *,
        registration_id: int,
        idempotency_key: str,
        description: str,
        held_until: datetime | None = None,
    ) -> PaymentIntentInfo:
        """Create a card PaymentIntent for a registration; Stripe.js confirms it in the page."""
        _check_amount(amount_minor, currency)
        # localstripe refuses the top-level `description` (and `receipt_email`); we send our
        # own receipts, so the description travels in the metadata, which both accept.
        params: dict[str, Any] = {
            "amount": amount_minor,
            "currency": currency,
            "payment_method_types": ["card"],
            "metadata": {"registration_id": str(registration_id), "description": description},
        }
        with _mapped(held_until):
            intent = self.client.v1.payment_intents.create(
                params=params,  # type: ignore[arg-type]
                options={"idempotency_key": idempotency_key},
            )
        logger.info(
            "created payment intent %s for registration %s (%s %s)",
            intent.id,
            registration_id,
            amount_minor,
            currency,
        )
        return _intent_info(intent)

    def confirm_payment_intent(
        self,
        payment_intent_id: str,
        payment_method_id: str,
        *,
        idempotency_key: str,
        held_until: datetime | None = None,
    ) -> PaymentIntentInfo:
        """Attach a PaymentMethod and confirm on the server (status may be requires_action)."""
        # Two calls, not confirm(payment_method=…): localstripe answers that one with a 500,
        # and Stripe treats both the same.
        with _mapped(held_until):
            self.client.v1.payment_intents.update(
                payment_intent_id,
                params={"payment_method": payment_method_id},
                options={"idempotency_key": f"{idempotency_key}:attach"},
            )
            intent = self.client.v1.payment_intents.confirm(
                payment_intent_id, options={"idempotency_key": f"{idempotency_key}:confirm"}
            )
        return _intent_info(intent)

    def retrieve_payment_intent(self, payment_intent_id: str) -> PaymentIntentInfo:
        """Read a PaymentIntent as Stripe has it now (webhooks re-read before acting)."""
        with _mapped(None):
            intent = self.client.v1.payment_intents.retrieve(payment_intent_id)
        return _intent_info(intent)

    def refund(
        self, payment_intent_id: str, amount_minor: int, *, idempotency_key: str
    ) -> RefundInfo:
        """Refund part or all of a PaymentIntent's charge."""
        if not isinstance(amount_minor, int) or amount_minor <= 0:
            raise PaymentError("bad_amount", "A refund must be a positive whole amount.")
        with _mapped(None, refund=True):
            refund = self.client.v1.refunds.create(
                params={"payment_intent": payment_intent_id, "amount": amount_minor},
                options={"idempotency_key": idempotency_key},
            )
        logger.info(
            "refunded %s of payment intent %s (%s)", amount_minor, payment_intent_id, refund.id
        )
        return RefundInfo(id=refund.id, status=str(refund.status), amount=int(refund.amount))

    def verify_webhook(self, payload: bytes, sig_header: str | None) -> stripe.Event:
        """Return the event if Stripe signed ``payload`` with our secret in the last 5 minutes."""
        if not self.webhook_secret:
            raise PaymentError("bad_signature", "No webhook secret is configured.")
        try:
            return self.client.construct_event(
                payload, sig_header, self.webhook_secret, tolerance=WEBHOOK_TOLERANCE
            )
        except (stripe.SignatureVerificationError, ValueError) as exc:
            logger.warning("refused a webhook: %s", str(exc).splitlines()[0][:120])
            raise PaymentError(
                "bad_signature", "The webhook signature is missing or wrong."
            ) from exc


def gateway(config: Mapping[str, Any] | None = None) -> StripeGateway:
    """Return a gateway for ``config``, or for the current app's configuration."""
    if config is None:
        from flask import current_app

        config = current_app.config
    return StripeGateway.from_config(config)


def payment_intent_id_of(event: stripe.Event) -> str | None:
    """Return the PaymentIntent an event is about (payment_intent.* and charge.* events)."""
    obj = event.data.object
    kind = _field(obj, "object")
    if kind == "payment_intent":
        return str(_field(obj, "id"))
    if kind == "charge":
        found = _field(obj, "payment_intent")
        return str(found) if found else None
    return None


def _check_amount(amount_minor: int, currency: str) -> None:
    if not isinstance(amount_minor, int) or isinstance(amount_minor, bool) or amount_minor <= 0:
        raise PaymentError("bad_amount", "A card payment must be a positive whole amount.")
    if len(currency) != 3 or not currency.isalpha() or currency != currency.lower():
        raise PaymentError("bad_currency", "The currency must be a lower-case ISO code, like gbp.")


def _field(obj: Any, name: str, default: Any = None) -> Any:
    # StripeObject is no dict in SDK 16 (no .get); a field the fake leaves out is just absent.
    try:
        return obj[name]
    except (KeyError, TypeError):
        return default


def _intent_info(intent: Any) -> PaymentIntentInfo:
    metadata = _field(intent, "metadata") or {}
    registration = _field(metadata, "registration_id")
    status = str(_field(intent, "status"))
    received = _field(intent, "amount_received")
    if received is None:  # localstripe has no amount_received; Stripe always sends it
        received = _field(intent, "amount") if status == "succeeded" else 0
    error = _field(intent, "last_payment_error")
    return PaymentIntentInfo(
        id=str(intent.id),
        client_secret=_field(intent, "client_secret"),
        status=status,
        amount=int(_field(intent, "amount")),
        currency=str(_field(intent, "currency")),
        amount_received=int(received or 0),
        registration_id=int(registration) if str(registration or "").isdigit() else None,
        last_error=_field(error, "message") if error else None,
    )


@contextmanager
def _mapped(held_until: datetime | None, *, refund: bool = False) -> Iterator[None]:
    """Turn the SDK's exceptions into PaymentErrors with words for people."""
    try:
        yield
    except stripe.StripeError as exc:
        raise _translate(exc, held_until, refund=refund) from exc


def _translate(
    exc: stripe.StripeError, held_until: datetime | None, *, refund: bool
) -> PaymentError:
    status = exc.http_status
    if isinstance(exc, stripe.CardError):
        reason = exc.user_message or "Your card was declined."
        held = f" Your seat stays held until {held_until:%H:%M}." if held_until else ""
        logger.info("card declined (%s)", exc.code)
        return PaymentError(
            "card_declined",
            f"{reason} Try another card, or ask your bank why it was refused.{held}",
        )
    if isinstance(exc, stripe.InvalidRequestError) and status == 404:
        return PaymentError("payment_not_found", "We could not find that payment at Stripe.")
    if isinstance(exc, stripe.InvalidRequestError | stripe.IdempotencyError):
        logger.error("Stripe refused a request: %s", exc.user_message or exc)
        if refund:
            return PaymentError(
                "refund_refused", f"Stripe refused the refund: {exc.user_message or exc}"
            )
        return PaymentError(
            "payment_refused", "This payment could not be started. Please contact the organiser."
        )
    if isinstance(exc, stripe.AuthenticationError | stripe.PermissionError):
        logger.error("Stripe refused our API key (%s): check STRIPE_SECRET_KEY", status)
    else:
        logger.warning("Stripe is unavailable (%s): %s", type(exc).__name__, status)
    return unavailable(held_until)

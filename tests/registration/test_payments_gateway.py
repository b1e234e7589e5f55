"""The Stripe gateway against localstripe: real HTTP, real PaymentIntents, real signed webhooks."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from collections.abc import Iterator
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests
import stripe
from flask import Flask

from facilitation.registration import payments
from facilitation.registration.payments import PaymentError, StripeGateway
from tests.stripe_server import SECRET_KEY, WEBHOOK_SECRET, WebhookReceiver

VISA = "4242424242424242"
DECLINED_WHEN_CHARGED = "4000000000000341"
NEEDS_3DS = "4000002760003184"


@pytest.fixture
def gateway(localstripe) -> StripeGateway:
    """Give a gateway configured as the app would be, pointed at localstripe."""
    return StripeGateway.from_config(localstripe.app_config())


@pytest.fixture(scope="module")
def sdk(localstripe) -> stripe.StripeClient:
    """Give a plain SDK client, for what a browser would do with Stripe.js."""
    return stripe.StripeClient(SECRET_KEY, base_addresses={"api": localstripe.api_base})


def card(sdk: stripe.StripeClient, number: str) -> str:
    """Create a card PaymentMethod, as Stripe.js does from the card field; return its id."""
    details = {"number": number, "exp_month": 12, "exp_year": 2030, "cvc": "123"}
    return sdk.v1.payment_methods.create(params={"type": "card", "card": details}).id


def new_intent(gateway: StripeGateway, amount: int = 2500, key: str | None = None):
    """Create a PaymentIntent for registration 7."""
    return gateway.create_payment_intent(
        amount,
        "gbp",
        registration_id=7,
        idempotency_key=key or f"test-{time.monotonic_ns()}",
        description="Saturday eye-gazing circle",
    )


def paid_intent(gateway: StripeGateway, sdk: stripe.StripeClient, amount: int = 2500):
    """Create and pay a PaymentIntent with a card that works."""
    intent = new_intent(gateway, amount)
    return gateway.confirm_payment_intent(
        intent.id, card(sdk, VISA), idempotency_key=f"confirm-{intent.id}"
    )


class FakeStripe:
    """A loopback HTTP server that records requests and answers each with a fixed reply."""

    def __init__(self, status: int, body: dict) -> None:
        self.requests: list[tuple[str, str, dict[str, str]]] = []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                fake.requests.append((self.command, self.path, dict(self.headers)))
                payload = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_POST = _answer

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def close(self) -> None:
        """Stop serving."""
        self.server.shutdown()
        self.server.server_close()


# --- PaymentIntents ----------------------------------------------------------------------


def test_fake_stripe_js_is_served(localstripe):
    response = requests.get(localstripe.js_url, timeout=5)
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("application/javascript")
    assert "confirmCardPayment" in response.text


def test_new_payment_intent_waits_for_a_card(gateway):
    intent = new_intent(gateway, 2500)
    assert intent.status == "requires_payment_method"
    assert intent.client_secret.startswith(f"{intent.id}_secret_")
    assert (intent.amount, intent.currency, intent.registration_id) == (2500, "gbp", 7)
    assert intent.amount_received == 0


def test_paid_intent_reads_back_as_succeeded(gateway, sdk):
    intent = paid_intent(gateway, sdk, 1800)
    again = gateway.retrieve_payment_intent(intent.id)
    assert again.status == "succeeded"
    assert again.amount_received == 1800
    assert again.registration_id == 7


def test_card_needing_3d_secure_waits_for_the_browser(gateway, sdk, localstripe):
    intent = new_intent(gateway)
    waiting = gateway.confirm_payment_intent(
        intent.id, card(sdk, NEEDS_3DS), idempotency_key=f"confirm-{intent.id}"
    )
    assert waiting.status == "requires_action"
    # What localstripe's Stripe.js sends when the person clicks "Complete authentication".
    response = requests.post(
        f"{localstripe.api_base}/v1/payment_intents/{intent.id}/_authenticate?success=true",
        json={"key": "pk_test_localstripe", "client_secret": intent.client_secret},
        timeout=5,
    )
    assert response.status_code == 200
    assert gateway.retrieve_payment_intent(intent.id).status == "succeeded"


def test_declined_card_says_so(gateway, sdk):
    intent = new_intent(gateway)
    with pytest.raises(PaymentError) as caught:
        gateway.confirm_payment_intent(
            intent.id,
            card(sdk, DECLINED_WHEN_CHARGED),
            idempotency_key=f"confirm-{intent.id}",
            held_until=datetime(2026, 11, 28, 14, 35),
        )
    assert caught.value.code == "card_declined"
    assert caught.value.message.startswith("Your card was declined. Try another card")
    assert caught.value.message.endswith("Your seat stays held until 14:35.")
    after = gateway.retrieve_payment_intent(intent.id)
    assert after.status == "requires_payment_method"  # the person may try another card
    assert after.last_error == "Your card was declined."


def test_unknown_payment_intent_is_not_found(gateway):
    with pytest.raises(PaymentError) as caught:
        gateway.retrieve_payment_intent("pi_doesnotexist")
    assert caught.value.code == "payment_not_found"


@pytest.mark.parametrize(
    "amount, currency, code",
    [(0, "gbp", "bad_amount"), (12.5, "gbp", "bad_amount"), (100, "GBP", "bad_currency")],
)
def test_bad_amounts_are_refused_before_calling_stripe(amount, currency, code):
    nowhere = StripeGateway(SECRET_KEY, WEBHOOK_SECRET, "http://127.0.0.1:9")
    with pytest.raises(PaymentError) as caught:
        nowhere.create_payment_intent(
            amount, currency, registration_id=1, idempotency_key="k", description="d"
        )
    assert caught.value.code == code


# --- Idempotency -------------------------------------------------------------------------


def test_the_idempotency_key_goes_with_every_create():
    intent = {
        "id": "pi_1",
        "object": "payment_intent",
        "status": "requires_payment_method",
        "amount": 2500,
        "currency": "gbp",
        "client_secret": "pi_1_secret_x",
        "metadata": {"registration_id": "7"},
    }
    recorder = FakeStripe(200, intent)
    try:
        gateway = StripeGateway(SECRET_KEY, WEBHOOK_SECRET, recorder.url)
        for _ in range(2):
            assert new_intent(gateway, key="registration-7-attempt-1").id == "pi_1"
        keys = [headers.get("Idempotency-Key") for _, _, headers in recorder.requests]
        assert keys == ["registration-7-attempt-1"] * 2
    finally:
        recorder.close()


def test_localstripe_ignores_idempotency_keys(gateway):
    """A quirk to remember: Stripe would return the first intent; localstripe makes another."""
    first = new_intent(gateway, key="same-key")
    second = new_intent(gateway, key="same-key")
    assert first.id != second.id


# --- Refunds -----------------------------------------------------------------------------


def test_full_refund(gateway, sdk):
    intent = paid_intent(gateway, sdk, 2500)
    refund = gateway.refund(intent.id, 2500, idempotency_key=f"refund-{intent.id}")
    assert (refund.status, refund.amount) == ("succeeded", 2500)
    assert refund.id.startswith("re_")


def test_partial_refunds(gateway, sdk):
    intent = paid_intent(gateway, sdk, 3000)
    first = gateway.refund(intent.id, 1000, idempotency_key=f"refund-{intent.id}-1")
    second = gateway.refund(intent.id, 500, idempotency_key=f"refund-{intent.id}-2")
    assert (first.amount, second.amount) == (1000, 500)
    assert first.id != second.id


def test_refund_of_an_unpaid_intent_is_refused(gateway):
    intent = new_intent(gateway)
    with pytest.raises(PaymentError) as caught:
        gateway.refund(intent.id, 100, idempotency_key=f"refund-{intent.id}")
    assert caught.value.code == "refund_refused"


# --- When Stripe is away -----------------------------------------------------------------


def test_unreachable_stripe_keeps_the_seat_held():
    down = StripeGateway(SECRET_KEY, WEBHOOK_SECRET, "http://127.0.0.1:9")
    with pytest.raises(PaymentError) as caught:
        down.create_payment_intent(
            2500,
            "gbp",
            registration_id=1,
            idempotency_key="k",
            description="d",
            held_until=datetime(2026, 11, 28, 14, 35),
        )
    assert caught.value.code == "payments_unavailable"
    assert "your seat stays held until 14:35 — try again" in caught.value.message


def test_stripe_server_error_is_retried_with_the_same_key_then_reported():
    broken = FakeStripe(500, {"error": {"type": "api_error", "message": "Not implemented"}})
    try:
        gateway = StripeGateway(SECRET_KEY, WEBHOOK_SECRET, broken.url)
        with pytest.raises(PaymentError) as caught:
            new_intent(gateway, key="k-500")
        assert caught.value.code == "payments_unavailable"
        keys = {headers.get("Idempotency-Key") for _, _, headers in broken.requests}
        assert (len(broken.requests), keys) == (1 + payments.MAX_NETWORK_RETRIES, {"k-500"})
    finally:
        broken.close()


def test_wrong_api_key_reads_as_unavailable_to_the_participant(localstripe):
    wrong = StripeGateway("not-a-secret-key", WEBHOOK_SECRET, localstripe.api_base)
    with pytest.raises(PaymentError) as caught:
        wrong.retrieve_payment_intent("pi_anything")
    assert caught.value.code == "payments_unavailable"


def test_gateway_comes_from_the_current_apps_settings(localstripe):
    app = Flask(__name__)
    app.config.update(localstripe.app_config())
    with app.app_context():
        intent = new_intent(payments.gateway())
    assert intent.id.startswith("pi_")


def test_no_keys_means_card_payments_are_off():
    with pytest.raises(PaymentError) as caught:
        payments.gateway({"STRIPE_SECRET_KEY": None, "STRIPE_PUBLISHABLE_KEY": None})
    assert caught.value.code == "payments_off"


# --- Webhooks ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def receiver(localstripe) -> Iterator[WebhookReceiver]:
    """Give a loopback endpoint registered with localstripe for the payment events."""
    receiver = WebhookReceiver()
    webhook = localstripe.register_webhook(
        receiver.url, WEBHOOK_SECRET, ["payment_intent.succeeded", "payment_intent.payment_failed"]
    )
    yield receiver
    localstripe.unregister_webhook(webhook)
    receiver.close()


@pytest.fixture(scope="module")
def delivered(localstripe, sdk, receiver) -> tuple[dict[str, str], bytes, str]:
    """Pay once; give the headers and body localstripe delivered, and the intent's id."""
    gateway = StripeGateway.from_config(localstripe.app_config())
    intent = paid_intent(gateway, sdk)
    headers, body = receiver.wait_for("payment_intent.succeeded", intent.id)
    return headers, body, intent.id


def sign(body: bytes, secret: str, timestamp: int) -> str:
    """Sign ``body`` the way Stripe does."""
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={digest.hexdigest()}"


def test_delivered_event_is_verified(gateway, delivered):
    headers, body, intent_id = delivered
    event = gateway.verify_webhook(body, headers["Stripe-Signature"])
    assert event.type == "payment_intent.succeeded"
    assert payments.payment_intent_id_of(event) == intent_id
    assert event.data.object.metadata["registration_id"] == "7"


def test_event_signed_with_another_secret_is_refused(localstripe, delivered):
    headers, body, _ = delivered
    other = StripeGateway.from_config(localstripe.app_config(webhook_secret="whsec_other"))
    with pytest.raises(PaymentError) as caught:
        other.verify_webhook(body, headers["Stripe-Signature"])
    assert caught.value.code == "bad_signature"


def test_tampered_event_is_refused(gateway, delivered):
    headers, body, _ = delivered
    tampered = body.replace(b'"amount": 2500', b'"amount": 1')
    assert tampered != body
    with pytest.raises(PaymentError, match="signature"):
        gateway.verify_webhook(tampered, headers["Stripe-Signature"])


def test_event_without_a_signature_is_refused(gateway, delivered):
    _, body, _ = delivered
    for missing in (None, ""):
        with pytest.raises(PaymentError) as caught:
            gateway.verify_webhook(body, missing)
        assert caught.value.code == "bad_signature"


def test_stale_event_is_refused(gateway, delivered):
    _, body, _ = delivered
    fresh = sign(body, WEBHOOK_SECRET, int(time.time()))
    assert gateway.verify_webhook(body, fresh).type == "payment_intent.succeeded"
    stale = sign(body, WEBHOOK_SECRET, int(time.time()) - payments.WEBHOOK_TOLERANCE - 5)
    with pytest.raises(PaymentError) as caught:
        gateway.verify_webhook(body, stale)
    assert caught.value.code == "bad_signature"


def test_failed_payment_is_announced_too(gateway, sdk, receiver):
    intent = new_intent(gateway)
    with pytest.raises(PaymentError):
        gateway.confirm_payment_intent(
            intent.id, card(sdk, DECLINED_WHEN_CHARGED), idempotency_key=f"confirm-{intent.id}"
        )
    headers, body = receiver.wait_for("payment_intent.payment_failed", intent.id)
    event = gateway.verify_webhook(body, headers["Stripe-Signature"])
    assert payments.payment_intent_id_of(event) == intent.id

"""Shared pieces of the payment tests against localstripe: a live server for its webhooks,
cards paid on the server side, Stripe-style signatures (the fixtures are in conftest.py)."""

from __future__ import annotations

import hashlib
import hmac
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import stripe
from flask import Flask
from werkzeug.serving import make_server

from facilitation.registration.payments import PaymentIntentInfo, StripeGateway
from tests.live_server import ServerProcess
from tests.stripe_server import SECRET_KEY, WEBHOOK_SECRET

WEBHOOK_PATH = "/payments/stripe/webhook"


@contextmanager
def serving(app: Flask) -> Iterator[str]:
    """Serve the app from a thread on a loopback port; yield its base URL."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()


@contextmanager
def server_process(app: Flask, localstripe, tmp_path: Path) -> Iterator[ServerProcess]:
    """Run the real server (``python wsgi.py``) on the app's database, with cards on."""
    localstripe.flush()
    app.config.update(localstripe.app_config())
    env = {
        "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
        "SECRET_KEY": app.config["SECRET_KEY"],
        "ENCRYPTION_KEY": app.config["ENCRYPTION_KEY"],
        "FACILITATION_INSTANCE_PATH": str(tmp_path),
        "REDIS_URL": "",
        **{f"FACILITATION_{k}": v for k, v in localstripe.app_config().items()},
    }
    process = ServerProcess(env, log_dir=tmp_path).start()
    try:
        yield process
    finally:
        process.stop()


def card(localstripe, number: str = "4242424242424242") -> str:
    """Create a card PaymentMethod at localstripe; return its id."""
    sdk = stripe.StripeClient(SECRET_KEY, base_addresses={"api": localstripe.api_base})
    details = {"number": number, "exp_month": 12, "exp_year": 2030, "cvc": "123"}
    return str(sdk.v1.payment_methods.create(params={"type": "card", "card": details}).id)


def pay(
    gateway: StripeGateway, localstripe, intent_id: str, number: str = "4242424242424242"
) -> PaymentIntentInfo:
    """Pay an intent on the server side, as Stripe.js would in the page."""
    method = card(localstripe, number)
    return gateway.confirm_payment_intent(intent_id, method, idempotency_key=f"test-{method}")


def signature(payload: bytes, secret: str = WEBHOOK_SECRET, at: int | None = None) -> str:
    """Return a Stripe-Signature header for ``payload``, as Stripe signs it."""
    timestamp = int(time.time()) if at is None else at
    signed = hmac.new(secret.encode(), f"{timestamp}.".encode() + payload, hashlib.sha256)
    return f"t={timestamp},v1={signed.hexdigest()}"


def wait_until(check: Callable[[], object], timeout: float = 10.0) -> object:
    """Wait until ``check()`` returns something true; return it."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.05)
    raise AssertionError(f"not within {timeout}s")

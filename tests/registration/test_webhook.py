"""Stripe's webhook: signed events acted on once, whatever the replays, their order or timing;
bad signatures refused; Stripe's own word (read back) decides, never the event's body."""

from __future__ import annotations

import json
import threading
import time
import uuid
from datetime import timedelta

import pytest
import requests
import sqlalchemy as sa
import stripe

from facilitation.accounts.models import Role
from facilitation.core.clock import utcnow
from facilitation.extensions import db
from facilitation.registration import payments, services, stripe_events
from facilitation.registration.models import Payment, StripeEvent
from tests.factories import make_gathering, make_user
from tests.registration.factories import make_option, register
from tests.registration.helpers import row_counts, sent, statuses
from tests.registration.stripe_helpers import WEBHOOK_PATH, pay, server_process, signature
from tests.stripe_server import SECRET_KEY, WEBHOOK_SECRET, WebhookReceiver


def held(gateway, gathering):
    """Give a held registration with its PaymentIntent created at localstripe (not paid yet)."""
    registration = register(make_user(), gathering, make_option(gathering, "fixed"), now=utcnow())
    intent = gateway.create_payment_intent(
        2000,
        "eur",
        registration_id=registration.id,
        idempotency_key=f"test-{registration.id}",
        description="test",
    )
    services.attach_payment_intent(registration, intent.id, now=utcnow())
    db.session.commit()
    return registration, intent.id


def event(kind: str, obj: dict, event_id: str | None = None) -> bytes:
    """Return the body of an event as Stripe sends it."""
    body = {
        "id": event_id or f"evt_{uuid.uuid4().hex[:16]}",
        "object": "event",
        "type": kind,
        "api_version": "2017-08-15",
        "created": int(time.time()),
        "livemode": False,
        "data": {"object": obj},
    }
    return json.dumps(body).encode()


def intent_event(kind: str, intent_id: str, registration_id: int, **more) -> bytes:
    obj = {"id": intent_id, "object": "payment_intent", "amount": 2000, "currency": "eur"}
    obj["metadata"] = {"registration_id": str(registration_id)}
    return event(kind, {**obj, **more})


def deliver(client, body: bytes, header: str | None = "sign"):
    headers = {"Content-Type": "application/json"}
    if header is not None:
        headers["Stripe-Signature"] = signature(body) if header == "sign" else header
    return client.post(WEBHOOK_PATH, data=body, headers=headers)


def stored_events() -> list[tuple[str, str]]:
    db.session.expire_all()
    return [tuple(r) for r in db.session.execute(sa.select(StripeEvent.type, StripeEvent.outcome))]


def charges(registration) -> int:
    stmt = sa.select(sa.func.count()).where(
        Payment.registration_id == registration.id, Payment.kind == "charge"
    )
    return db.session.scalar(stmt)


def test_one_event_ten_times_in_a_row_confirms_once(client, gateway, localstripe, gathering):
    registration, intent_id = held(gateway, gathering)
    pay(gateway, localstripe, intent_id)
    body = intent_event("payment_intent.succeeded", intent_id, registration.id)
    answers = [deliver(client, body) for _ in range(10)]
    assert [a.status_code for a in answers] == [200] * 10
    assert [a.json["outcome"] for a in answers] == [f"confirmed {registration.id}"] + [
        "duplicate"
    ] * 9
    assert statuses(registration) == ["confirmed"] and charges(registration) == 1
    assert len(sent("registration_confirmed")) == 1
    assert stored_events() == [("payment_intent.succeeded", f"confirmed {registration.id}")]


@pytest.mark.parametrize(
    "header",
    [
        None,
        "",
        "t=1,v1=nonsense",
        "wrong secret",
        "stale timestamp",
        "another body",
    ],
)
def test_a_bad_signature_is_refused_and_changes_nothing(
    client, gateway, localstripe, gathering, header
):
    registration, intent_id = held(gateway, gathering)
    pay(gateway, localstripe, intent_id)
    body = intent_event("payment_intent.succeeded", intent_id, registration.id)
    forged = {
        "wrong secret": signature(body, "whsec_someone_else"),
        "stale timestamp": signature(body, at=int(time.time()) - 301),
        "another body": signature(body.replace(b"2000", b"1")),
    }.get(header or "", header)
    before = row_counts()
    response = deliver(client, body, forged)
    assert response.status_code == 400 and response.json == {"error": "bad_signature"}
    assert row_counts() == before and stored_events() == []
    assert statuses(registration) == ["held"]


def test_a_payment_after_the_seat_went_is_refunded_from_the_webhook(
    client, gateway, localstripe, organiser
):
    gathering = make_gathering(organiser, capacity=1)
    lapsed = utcnow() - timedelta(minutes=20)
    late = register(make_user(), gathering, make_option(gathering, "fixed"), now=lapsed)
    intent = gateway.create_payment_intent(
        2000, "eur", registration_id=late.id, idempotency_key="late", description="late"
    )
    services.attach_payment_intent(late, intent.id, now=utcnow())
    register(make_user(), gathering, make_option(gathering), now=utcnow())
    db.session.commit()
    pay(gateway, localstripe, intent.id)
    answer = deliver(client, intent_event("payment_intent.succeeded", intent.id, late.id))
    assert answer.json["outcome"] == f"refund {late.id} (seat_gone)"
    db.session.refresh(late)
    assert late.status == "expired" and late.amount_refunded_minor == 2000
    assert len(sent("late_payment_refunded")) == 1 and len(sent("registration_refunded")) == 1


@pytest.mark.parametrize("body", [b"[]", b"123", b"{}", b'{"id": 5, "type": "x"}'])
def test_a_signed_body_that_is_no_event_is_refused(client, stripe_app, gathering, body):
    response = deliver(client, body)
    assert response.status_code == 400 and response.json == {"error": "bad_event"}
    assert stored_events() == []


def test_a_failure_after_the_success_changes_nothing(client, gateway, localstripe, gathering):
    registration, intent_id = held(gateway, gathering)
    pay(gateway, localstripe, intent_id)
    deliver(client, intent_event("payment_intent.succeeded", intent_id, registration.id))
    late = deliver(
        client, intent_event("payment_intent.payment_failed", intent_id, registration.id)
    )
    assert late.json["outcome"] == f"already recorded {registration.id}"
    assert statuses(registration) == ["confirmed"] and charges(registration) == 1
    assert len(sent("registration_confirmed")) == 1


def test_stripes_word_beats_the_events_body(client, gateway, gathering):
    """An event that says "succeeded" for an intent Stripe says is unpaid confirms nothing."""
    registration, intent_id = held(gateway, gathering)
    body = intent_event("payment_intent.succeeded", intent_id, registration.id, status="succeeded")
    answer = deliver(client, body)
    assert answer.json["outcome"] == f"not paid {registration.id} (requires_payment_method)"
    assert statuses(registration) == ["held"] and charges(registration) == 0


def test_other_event_types_are_acknowledged_and_ignored(client, stripe_app, gathering):
    answer = deliver(client, event("customer.created", {"id": "cus_1", "object": "customer"}))
    assert answer.status_code == 200 and answer.json["outcome"] == "ignored customer.created"


def test_an_intent_stripe_does_not_know_is_ignored(client, stripe_app, gathering):
    answer = deliver(client, intent_event("payment_intent.succeeded", "pi_unknown", 1))
    assert answer.status_code == 200
    assert answer.json["outcome"] == "ignored: pi_unknown not found at Stripe"


def test_stripe_down_leaves_the_event_for_its_retry(
    client, stripe_app, gateway, localstripe, gathering
):
    registration, intent_id = held(gateway, gathering)
    pay(gateway, localstripe, intent_id)
    body = intent_event("payment_intent.succeeded", intent_id, registration.id)
    stripe_app.config["STRIPE_API_BASE"] = "http://127.0.0.1:9"
    down = deliver(client, body)
    assert down.status_code == 503 and stored_events() == []
    stripe_app.config["STRIPE_API_BASE"] = localstripe.api_base
    assert deliver(client, body).json["outcome"] == f"confirmed {registration.id}"


def test_an_unexpected_error_is_a_retry_not_a_500(client, gateway, gathering, monkeypatch):
    registration, intent_id = held(gateway, gathering)

    def broken(*args, **kwargs):
        raise RuntimeError("a bug")

    monkeypatch.setattr(stripe_events, "handle", broken)
    answer = deliver(client, intent_event("payment_intent.succeeded", intent_id, registration.id))
    assert answer.status_code == 503 and answer.json == {"error": "retry_later"}
    assert stored_events() == [] and statuses(registration) == ["held"]


def test_without_card_payments_the_endpoint_asks_for_a_retry(client, gathering):
    assert deliver(client, event("customer.created", {"id": "cus_1"})).status_code == 503


def test_the_endpoint_needs_no_csrf_token(client, stripe_app, gathering):
    stripe_app.config["WTF_CSRF_ENABLED"] = True
    answer = deliver(client, event("customer.created", {"id": "cus_1", "object": "customer"}))
    assert answer.status_code == 200


def test_a_refund_made_in_stripes_dashboard_is_recorded(client, gateway, localstripe, gathering):
    registration, intent_id = held(gateway, gathering)
    pay(gateway, localstripe, intent_id)
    deliver(client, intent_event("payment_intent.succeeded", intent_id, registration.id))
    sdk = stripe.StripeClient(SECRET_KEY, base_addresses={"api": localstripe.api_base})
    refund = sdk.v1.refunds.create(params={"payment_intent": intent_id, "amount": 500})
    charge = {
        "id": "ch_1",
        "object": "charge",
        "payment_intent": intent_id,
        "refunds": {"data": [{"id": refund.id, "amount": 500, "status": "succeeded"}]},
    }
    body = event("charge.refunded", charge)
    first, again = deliver(client, body), deliver(client, event("charge.refunded", charge))
    assert first.json["outcome"] == (
        f"already recorded {registration.id}; refund recorded {refund.id}"
    )
    assert again.json["outcome"] == f"already recorded {registration.id}"
    db.session.refresh(registration)
    assert registration.amount_refunded_minor == 500 and registration.status == "confirmed"
    assert len(sent("registration_refunded")) == 1


# --- ten at once, against a real server process on PostgreSQL -----------------------------


@pytest.fixture
def server(pg_app, localstripe, tmp_path):
    with server_process(pg_app, localstripe, tmp_path) as process:
        yield process


def test_one_event_ten_times_at_once_confirms_once(pg_app, server, localstripe):
    gathering = make_gathering(make_user(Role.ORGANISER), capacity=2)
    gw = payments.gateway()
    registration, intent_id = held(gw, gathering)
    receiver = WebhookReceiver()
    hook = localstripe.register_webhook(receiver.url, WEBHOOK_SECRET)
    try:
        pay(gw, localstripe, intent_id)
        headers, body = receiver.wait_for("payment_intent.succeeded", intent_id)
    finally:
        localstripe.unregister_webhook(hook)
        receiver.close()

    start = threading.Barrier(10)
    answers: list[requests.Response] = []
    lock = threading.Lock()

    def send() -> None:
        start.wait()
        answer = requests.post(
            server.url + WEBHOOK_PATH,
            data=body,
            headers={
                "Content-Type": "application/json",
                "Stripe-Signature": headers["Stripe-Signature"],
            },
            timeout=30,
        )
        with lock:
            answers.append(answer)

    threads = [threading.Thread(target=send) for _ in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(a.status_code for a in answers) == [200] * 10, server.log()[-2000:]
    outcomes = sorted(a.json()["outcome"] for a in answers)
    assert outcomes == [f"confirmed {registration.id}"] + ["duplicate"] * 9
    assert statuses(registration) == ["confirmed"] and charges(registration) == 1
    assert len(sent("registration_confirmed")) == 1
    assert stored_events() == [("payment_intent.succeeded", f"confirmed {registration.id}")]

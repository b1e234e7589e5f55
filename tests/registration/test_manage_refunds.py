"""Refunds sent from the organisers' pages go through Stripe for real (localstripe).

Card payments are made as the payment page makes them: a PaymentIntent from the gateway,
confirmed with a card, recorded with ``ledger.record_payment``.
"""

import uuid
from datetime import time, timedelta

import pytest
import sqlalchemy as sa
import stripe

from facilitation.accounts.models import Role
from facilitation.core.clock import utcnow
from facilitation.extensions import db
from facilitation.gatherings import services as gatherings
from facilitation.registration import ledger, payments
from facilitation.registration.models import Payment, Registration
from tests.factories import details, make_gathering, make_user
from tests.registration.factories import before_start, make_option, register
from tests.registration.helpers import sent
from tests.registration.manage_helpers import act, base, log_in, text
from tests.stripe_server import SECRET_KEY

VISA = "4242424242424242"


@pytest.fixture
def sdk(app, localstripe):
    """Point the app at localstripe; give a plain SDK client, as Stripe.js would use."""
    app.config.update(localstripe.app_config())
    return stripe.StripeClient(SECRET_KEY, base_addresses={"api": localstripe.api_base})


@pytest.fixture
def manager(auth):
    return log_in(auth, make_user(Role.ORGANISER))


def pay_by_card(sdk, registration):
    """Pay a held registration by card at localstripe and record it; return the intent id."""
    gateway = payments.gateway()
    intent = gateway.create_payment_intent(
        registration.amount_minor,
        registration.currency.lower(),
        registration_id=registration.id,
        idempotency_key=f"test-{uuid.uuid4()}",
        description=registration.gathering.title,
    )
    card = {"number": VISA, "exp_month": 12, "exp_year": 2030, "cvc": "123"}
    method = sdk.v1.payment_methods.create(params={"type": "card", "card": card}).id
    done = gateway.confirm_payment_intent(intent.id, method, idempotency_key=f"c-{intent.id}")
    assert done.status == "succeeded"
    outcome = ledger.record_payment(
        registration.id, done.id, done.amount_received, done.currency, now=utcnow()
    )
    assert outcome.confirmed
    return done.id


def person(name):
    return make_user(name=name, email=f"{name.split()[0].lower()}@example.org")


def stripe_refunds(registration):
    return list(
        db.session.scalars(
            sa.select(Payment).where(
                Payment.registration_id == registration.id, Payment.kind == "refund"
            )
        )
    )


def test_cancelling_the_gathering_refunds_card_payments_through_stripe(
    client, sdk, manager, organiser
):
    gathering = make_gathering(organiser, capacity=5)
    card = register(person("Ada Lovelace"), gathering, make_option(gathering, "fixed"))
    intent_id = pay_by_card(sdk, card)
    door = register(person("Ben Okri"), gathering, make_option(gathering, "door", price_minor=1500))
    ledger.record_door_payment(organiser, door, 1500, now=before_start(gathering))
    free = register(person("Cy Twombly"), gathering, make_option(gathering, "free"))
    db.session.commit()
    warning = text(client.get(f"/manage/gatherings/{gathering.id}/cancel"))
    assert "3 people are registered." in warning and "refunded by card" in warning
    response = client.post(
        f"/manage/gatherings/{gathering.id}/cancel", data={"note": "The hall flooded."}
    )
    assert response.status_code == 302
    page = text(client.get(response.headers["Location"]))
    assert "Cancelled. 3 registration(s) cancelled" in page
    assert "Refunded EUR 20.00 by card (1 refund(s))." in page
    assert "Ben Okri is still owed EUR 15.00. Part of this was paid at the door" in page
    db.session.expire_all()
    [refund] = stripe_refunds(card)
    assert (refund.provider, refund.amount_minor) == ("stripe", 2000)
    at_stripe = sdk.v1.refunds.retrieve(refund.provider_ref)
    assert (at_stripe.amount, at_stripe.payment_intent) == (2000, intent_id)
    card, door, free = (db.session.get(Registration, r.id) for r in (card, door, free))
    assert [r.status for r in (card, door, free)] == ["cancelled"] * 3
    assert (card.amount_refunded_minor, card.refund_outstanding_minor) == (2000, 0)
    assert door.refund_outstanding_minor == 1500 and free.refund_owed_minor == 0
    assert len(sent("registration_refunded", "ada@example.org")) == 1
    assert "The hall flooded." in sent("registration_cancelled", "cy@example.org")[0].body_text
    owed = text(client.get(f"{base(gathering)}/registrations"))
    assert "Owed back, not sent yet" in owed and "Ben Okri</a>: EUR 15.00" in owed


def test_a_granted_refund_goes_back_by_card_at_once(client, sdk, manager, gathering):
    registration = register(person("Ada Lovelace"), gathering, make_option(gathering, "fixed"))
    pay_by_card(sdk, registration)
    db.session.commit()
    response = act(client, registration, "refund", amount="7.50")
    page = text(client.get(response.headers["Location"]))
    assert "A refund of EUR 7.50 to Ada Lovelace is granted." in page
    assert "Refunded EUR 7.50 by card" in page and "Owed back, not sent yet" not in page
    db.session.expire_all()
    [refund] = stripe_refunds(registration)
    assert sdk.v1.refunds.retrieve(refund.provider_ref).amount == 750


def test_a_refund_stripe_could_not_make_is_shown_owed_and_sent_again(
    app, client, sdk, manager, gathering
):
    registration = register(person("Ada Lovelace"), gathering, make_option(gathering, "fixed"))
    pay_by_card(sdk, registration)
    db.session.commit()
    working = app.config["STRIPE_API_BASE"]
    app.config["STRIPE_API_BASE"] = "http://127.0.0.1:9"  # Stripe unreachable
    response = act(client, registration, "cancel", refund="y")
    page = text(client.get(response.headers["Location"]))
    assert "Ada Lovelace is still owed EUR 20.00. Card payments are unavailable" in page
    assert "Owed back, not sent yet" in page and "Send card refunds now" in page
    assert stripe_refunds(registration) == []
    app.config["STRIPE_API_BASE"] = working
    again = client.post(f"{base(gathering)}/refunds/send")
    assert "Refunded EUR 20.00 by card" in text(client.get(again.headers["Location"]))
    db.session.expire_all()
    assert [r.amount_minor for r in stripe_refunds(registration)] == [2000]


def test_cancelling_a_series_refunds_each_date_by_card(client, sdk, manager, organiser):
    today = utcnow().date()
    series = gatherings.create_series(
        organiser,
        details(capacity=5),
        gatherings.Recurrence(
            frequency="weekly",
            first_date=today + timedelta(days=7),
            start_time=time(19, 30),
            duration_minutes=90,
            occurrence_count=3,
        ),
        publish_now=True,
        now=utcnow(),
    )
    first, second = series.occurrences[:2]
    ada, paid = person("Ada Lovelace"), []
    for gathering in (first, second):
        registration = register(ada, gathering, make_option(gathering, "fixed"))
        pay_by_card(sdk, registration)
        paid.append(registration)
    db.session.commit()
    response = client.post(f"/manage/series/{series.id}/cancel", data={"note": "Moving city"})
    assert "Refunded EUR 40.00 by card (2 refund(s))." in text(
        client.get(response.headers["Location"])
    )
    db.session.expire_all()
    assert [len(stripe_refunds(r)) for r in paid] == [1, 1]

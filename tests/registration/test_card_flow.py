"""Paying by card against localstripe for real: the page, the return page, localstripe's own
webhooks delivered to a live server, declines, and refunds of money that cannot be kept."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa
import stripe

from facilitation.core.clock import utcnow
from facilitation.core.errors import DomainError
from facilitation.extensions import db
from facilitation.registration import services
from facilitation.registration.models import Payment, Registration, StripeEvent
from tests.factories import make_gathering, make_user
from tests.registration.factories import make_option, make_settings, organiser_of, register
from tests.registration.helpers import sent, statuses
from tests.registration.stripe_helpers import pay, wait_until
from tests.stripe_server import SECRET_KEY


def mine(person) -> Registration:
    db.session.expire_all()
    return db.session.scalar(sa.select(Registration).where(Registration.user_id == person.id))


def register_sliding(client, gathering, amount: str = "15.00"):
    option = make_option(gathering, "sliding")
    db.session.commit()
    return client.post(
        f"/gatherings/{gathering.id}/register",
        data={"option_id": option.id, f"amount_{option.id}": amount},
    )


def processed(event_type: str):
    """Return the outcomes of the webhook events of a type that have been handled."""
    db.session.expire_all()
    return db.session.scalars(
        sa.select(StripeEvent.outcome).where(
            StripeEvent.type == event_type, StripeEvent.processed_at.is_not(None)
        )
    ).all()


def payments_of(registration) -> list[tuple[str, int]]:
    rows = db.session.execute(
        sa.select(Payment.kind, Payment.amount_minor)
        .where(Payment.registration_id == registration.id)
        .order_by(Payment.id)
    ).all()
    return [tuple(row) for row in rows]


def test_register_pay_and_return_confirm_once_then_the_webhook_changes_nothing(
    client, delivered, gateway, localstripe, gathering, person
):
    response = register_sliding(client, gathering)
    registration = mine(person)
    assert response.location == f"/registrations/{registration.id}/pay"
    assert (registration.status, registration.amount_minor) == ("held", 1500)
    intent = gateway.retrieve_payment_intent(registration.payment_intent_id)
    assert (intent.amount, intent.currency, intent.registration_id) == (
        1500,
        "eur",
        registration.id,
    )

    html = client.get(response.location).get_data(as_text=True)
    assert f'data-client-secret="{intent.client_secret}"' in html
    assert f'<script src="{localstripe.js_url}"></script>' in html
    assert "js/registration/pay.js" in html and "<script>" not in html  # no inline script
    # Pressing Pay again (a reload, a second tab) reuses the stored intent.
    again = client.post(f"/registrations/{registration.id}/pay")
    assert again.location == f"/registrations/{registration.id}/pay"
    assert mine(person).payment_intent_id == intent.id

    assert pay(gateway, localstripe, intent.id).status == "succeeded"
    back = client.get(f"/registrations/{registration.id}/return?payment_intent={intent.id}")
    page = client.get(back.location).get_data(as_text=True)
    assert "Paid, thank you: your place is confirmed." in page and "You&#39;re coming" in page
    assert mine(person).status == "confirmed" and mine(person).amount_paid_minor == 1500

    # localstripe delivers payment_intent.succeeded to the live server about a second later.
    outcome = wait_until(lambda: processed("payment_intent.succeeded"))
    assert outcome == [f"already recorded {registration.id}"]
    assert payments_of(registration) == [("charge", 1500)]
    assert len(sent("registration_confirmed", person.email)) == 1


def test_the_webhook_alone_confirms_a_payment(
    client, delivered, gateway, localstripe, gathering, person
):
    register_sliding(client, gathering, "20")
    registration = mine(person)
    pay(gateway, localstripe, registration.payment_intent_id)
    assert wait_until(lambda: processed("payment_intent.succeeded")) == [
        f"confirmed {registration.id}"
    ]
    assert statuses(registration) == ["confirmed"]
    assert payments_of(registration) == [("charge", 2000)]
    assert len(sent("registration_confirmed", person.email)) == 1


def test_a_declined_card_keeps_the_hold_and_lets_the_person_try_again(
    client, delivered, gateway, localstripe, gathering, person
):
    register_sliding(client, gathering)
    registration = mine(person)
    held_until = registration.hold_expires_at
    with pytest.raises(DomainError) as caught:
        pay(gateway, localstripe, registration.payment_intent_id, "4000000000000341")
    assert caught.value.code == "card_declined"

    back = client.get(
        f"/registrations/{registration.id}/return?payment_intent={registration.payment_intent_id}"
    )
    page = client.get(back.location).get_data(as_text=True)
    assert "The payment did not go through. Your card was declined." in page
    assert "Your seat stays held until" in page and "Pay EUR 15.00 by card" in page
    assert wait_until(lambda: processed("payment_intent.payment_failed")) == [
        f"not paid {registration.id} (requires_payment_method)"
    ]
    assert (mine(person).status, mine(person).hold_expires_at) == ("held", held_until)

    retry = client.post(f"/registrations/{registration.id}/pay")
    assert retry.location == f"/registrations/{registration.id}/pay"
    assert client.get(retry.location).status_code == 200
    assert mine(person).payment_intent_id == registration.payment_intent_id
    assert payments_of(registration) == [] and sent("registration_confirmed") == []


def test_a_payment_after_the_hold_lapsed_and_the_seat_went_is_refunded(
    client, gateway, localstripe, organiser, person
):
    gathering = make_gathering(organiser, capacity=1)
    late = register(
        person, gathering, make_option(gathering, "fixed"), now=utcnow() - timedelta(minutes=20)
    )
    intent = gateway.create_payment_intent(
        2000, "eur", registration_id=late.id, idempotency_key="late", description="late"
    )
    services.attach_payment_intent(late, intent.id, now=utcnow())
    seated = register(make_user(), gathering, make_option(gathering), now=utcnow())
    db.session.commit()
    assert seated.status == "confirmed"

    pay(gateway, localstripe, intent.id)
    back = client.get(f"/registrations/{late.id}/return?payment_intent={intent.id}")
    page = client.get(back.location).get_data(as_text=True)
    assert "the time to pay ran out and the seat went to someone else" in page
    assert "We have refunded EUR 20.00 to your card." in page

    late = mine(person)
    assert late.status == "expired" and late.amount_refunded_minor == 2000
    assert payments_of(late) == [("charge", 2000), ("refund", 2000)]
    refund_id = db.session.scalar(sa.select(Payment.provider_ref).where(Payment.kind == "refund"))
    sdk = stripe.StripeClient(SECRET_KEY, base_addresses={"api": localstripe.api_base})
    assert sdk.v1.refunds.retrieve(refund_id).amount == 2000
    assert len(sent("late_payment_refunded", person.email)) == 1
    assert len(sent("registration_refunded", person.email)) == 1
    assert statuses(seated) == ["confirmed"]


def test_cancelling_a_paid_place_refunds_it_through_stripe(
    client, gateway, localstripe, gathering, person
):
    register_sliding(client, gathering, "12.50")
    registration = mine(person)
    pay(gateway, localstripe, registration.payment_intent_id)
    client.get(f"/registrations/{registration.id}/return")  # the stored intent is read back
    assert mine(person).status == "confirmed"

    page = client.get(f"/registrations/{registration.id}/cancel").get_data(as_text=True)
    assert "You will get back EUR 12.50 in full" in page
    response = client.post(f"/registrations/{registration.id}/cancel")
    html = client.get(response.location).get_data(as_text=True)
    assert "We have refunded EUR 12.50 to your card." in html
    assert payments_of(registration) == [("charge", 1250), ("refund", 1250)]
    assert mine(person).status == "cancelled" and mine(person).refund_outstanding_minor == 0


def test_an_approved_application_is_paid_from_its_offer(client, gateway, gathering, person):
    make_settings(gathering, requires_approval=True)
    registration = register(person, gathering, make_option(gathering, "fixed"), now=utcnow())
    services.approve(organiser_of(gathering), registration, "Welcome!", now=utcnow())
    db.session.commit()
    html = client.get(f"/registrations/{registration.id}").get_data(as_text=True)
    assert "Accept and pay EUR 20.00" in html and "Welcome!" in html
    response = client.post(f"/registrations/{registration.id}/pay")
    assert response.location == f"/registrations/{registration.id}/pay"
    assert mine(person).status == "held"
    intent = gateway.retrieve_payment_intent(mine(person).payment_intent_id)
    assert (intent.amount, intent.registration_id) == (2000, registration.id)


def test_a_lapsed_hold_takes_a_free_seat_again_to_pay(client, gateway, gathering, person):
    option = make_option(gathering, "fixed")
    registration = register(person, gathering, option, now=utcnow() - timedelta(minutes=30))
    db.session.commit()
    response = client.post(f"/registrations/{registration.id}/pay")
    assert response.location == f"/registrations/{registration.id}/pay"
    renewed = mine(person)
    assert renewed.status == "held" and renewed.hold_expires_at > utcnow()
    assert client.get(response.location).status_code == 200

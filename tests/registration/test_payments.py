"""Recording card payments: confirm once, refund what cannot be kept, retry after a failure."""

from datetime import timedelta

import pytest
import sqlalchemy as sa

from facilitation.core.clock import utcnow
from facilitation.core.errors import DomainError
from facilitation.extensions import db
from facilitation.registration import cancellation, ledger, services
from facilitation.registration.models import Payment, StripeEvent
from tests.factories import make_gathering, make_user
from tests.registration.factories import before_start, make_option, organiser_of, register
from tests.registration.helpers import sent, statuses


@pytest.fixture
def one_seat(organiser):
    return make_gathering(organiser, capacity=1)


def held(gathering, now):
    return register(make_user(), gathering, make_option(gathering, "fixed"), now=now)


def test_a_payment_confirms_a_held_seat_once(one_seat):
    now = before_start(one_seat)
    registration = held(one_seat, now)
    first = ledger.record_payment(
        registration.id, "pi_1", 2000, "eur", now=now + timedelta(minutes=2)
    )
    again = ledger.record_payment(
        registration.id, "pi_1", 2000, "eur", now=now + timedelta(minutes=3)
    )
    assert (first.recorded, first.confirmed, first.refund_needed) == (True, True, False)
    assert (again.recorded, again.confirmed, again.refund_needed) == (False, False, False)
    assert registration.status == "confirmed" and registration.amount_paid_minor == 2000
    assert registration.payment_intent_id == "pi_1" and registration.hold_expires_at is None
    assert len(sent("registration_confirmed")) == 1
    assert "Paid: EUR 20.00" in sent("registration_confirmed")[0].body_text


def test_a_late_payment_still_confirms_while_a_seat_is_free(one_seat):
    now = before_start(one_seat)
    registration = held(one_seat, now)
    outcome = ledger.record_payment(
        registration.id, "pi_1", 2000, "EUR", now=now + timedelta(hours=1)
    )
    assert outcome.confirmed and registration.status == "confirmed"


def test_a_late_payment_after_the_seat_has_gone_is_refunded_and_the_person_told(one_seat):
    now = before_start(one_seat)
    late = held(one_seat, now)
    other = register(make_user(), one_seat, make_option(one_seat), now=now + timedelta(minutes=20))
    assert other.status == "confirmed"
    outcome = ledger.record_payment(
        late.id, "pi_late", 2000, "eur", now=now + timedelta(minutes=21)
    )
    assert outcome.refund_needed and outcome.refund_minor == 2000 and outcome.reason == "seat_gone"
    assert late.status == "expired" and late.refund_outstanding_minor == 2000
    [email] = sent("late_payment_refunded", late.user.email)
    assert "register again" in email.body_text
    assert ledger.refund_plan(late) == [ledger.RefundStep("pi_late", 2000)]
    ledger.record_refund(late.id, "re_late", 2000, now=now + timedelta(minutes=22))
    assert ledger.refunds_outstanding() == []


def test_a_payment_for_a_cancelled_registration_is_refunded(one_seat):
    now = before_start(one_seat)
    registration = held(one_seat, now)
    cancellation.cancel_by_participant(registration.user, registration, now=now)
    outcome = ledger.record_payment(registration.id, "pi_1", 2000, "eur", now=now)
    assert outcome.refund_needed and outcome.reason == "not_payable"
    assert registration.status == "cancelled"


def test_a_wrong_amount_or_currency_is_refunded(one_seat):
    now = before_start(one_seat)
    registration = held(one_seat, now)
    wrong = ledger.record_payment(registration.id, "pi_1", 1999, "eur", now=now)
    assert wrong.refund_needed and wrong.reason == "amount_mismatch"
    assert registration.status == "held"  # the person can still pay the right amount
    other = ledger.record_payment(registration.id, "pi_2", 2000, "usd", now=now)
    assert other.reason == "amount_mismatch"
    right = ledger.record_payment(registration.id, "pi_3", 2000, "eur", now=now)
    assert right.confirmed


def test_a_second_payment_for_a_paid_registration_is_refunded(one_seat):
    now = before_start(one_seat)
    registration = held(one_seat, now)
    ledger.record_payment(registration.id, "pi_1", 2000, "eur", now=now)
    twice = ledger.record_payment(registration.id, "pi_2", 2000, "eur", now=now)
    assert twice.refund_needed and twice.reason == "already_paid"
    assert ledger.refund_plan(registration) == [ledger.RefundStep("pi_2", 2000)]


def test_a_failed_payment_leaves_the_hold_and_a_retry_keeps_it(one_seat):
    now = before_start(one_seat)
    registration = held(one_seat, now)
    until = registration.hold_expires_at
    again = services.start_payment(registration, now=now + timedelta(minutes=5))
    assert again.status == "held" and again.hold_expires_at == until


def test_paying_after_the_hold_lapsed_takes_a_free_seat_again(one_seat):
    now = before_start(one_seat)
    registration = held(one_seat, now)
    retry = now + timedelta(minutes=30)
    services.start_payment(registration, now=retry)
    assert registration.status == "held"
    assert registration.hold_expires_at == retry + timedelta(minutes=15)


def test_paying_after_the_hold_lapsed_and_the_seat_went_is_refused(one_seat):
    now = before_start(one_seat)
    registration = held(one_seat, now)
    register(make_user(), one_seat, make_option(one_seat), now=now + timedelta(minutes=20))
    with pytest.raises(DomainError) as caught:
        services.start_payment(registration, now=now + timedelta(minutes=21))
    assert caught.value.code == "seat_gone" and "Register again" in caught.value.message


def test_nothing_to_pay_by_card(one_seat):
    registration = register(make_user(), one_seat, make_option(one_seat, "door"))
    with pytest.raises(DomainError) as caught:
        services.start_payment(registration, now=before_start(one_seat))
    assert caught.value.code == "not_payable"


def test_money_taken_at_the_door(one_seat):
    registration = register(make_user(), one_seat, make_option(one_seat, "door"))
    organiser = organiser_of(one_seat)
    payment = ledger.record_door_payment(organiser, registration, 2000, now=before_start(one_seat))
    assert payment.provider == "door" and payment.recorded_by_id == organiser.id
    assert registration.pay_at_door_due_minor == 0 and registration.amount_paid_minor == 2000
    # A door payment cannot be sent back through Stripe: the plan leaves it to be done by hand.
    ledger.grant_refund(organiser, registration, 2000, now=before_start(one_seat))
    assert ledger.refund_plan(registration) == []
    ledger.record_refund(
        registration.id,
        "cash-1",
        2000,
        now=before_start(one_seat),
        provider="manual",
        actor=organiser,
    )
    assert "paid back EUR 20.00" in sent("registration_refunded")[0].body_text


def test_a_refund_plan_spreads_over_card_payments_newest_first(one_seat):
    now = before_start(one_seat)
    registration = held(one_seat, now)
    ledger.record_payment(registration.id, "pi_a", 2000, "eur", now=now)
    ledger.record_payment(registration.id, "pi_b", 2000, "eur", now=now + timedelta(seconds=1))
    ledger.grant_refund(organiser_of(one_seat), registration, 1000, now=now)
    plan = ledger.refund_plan(registration)
    assert plan == [ledger.RefundStep("pi_b", 2000), ledger.RefundStep("pi_a", 1000)]
    ledger.record_refund(registration.id, "re_b", 2000, now=now)
    assert ledger.refund_plan(registration) == [ledger.RefundStep("pi_a", 1000)]


def test_stripe_events_are_claimed_once(app):
    assert ledger.claim_stripe_event("evt_1", "payment_intent.succeeded", now=utcnow())
    assert not ledger.claim_stripe_event("evt_1", "payment_intent.succeeded", now=utcnow())
    ledger.finish_stripe_event("evt_1", "confirmed 1", now=utcnow())
    assert db.session.get(StripeEvent, "evt_1").outcome == "confirmed 1"


def test_a_payment_is_one_ledger_row(one_seat):
    now = before_start(one_seat)
    registration = held(one_seat, now)
    ledger.record_payment(registration.id, "pi_1", 2000, "eur", now=now)
    stmt = sa.select(Payment.kind).where(Payment.registration_id == registration.id)
    assert db.session.scalars(stmt).all() == ["charge"]
    assert statuses(registration) == ["confirmed"]

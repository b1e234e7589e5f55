"""Cancelling: the refund follows the policy, the seat goes to the waitlist, everyone is told."""

from datetime import timedelta

import pytest

from facilitation.core.clock import utcnow
from facilitation.core.errors import DomainError, Forbidden
from facilitation.gatherings import services as gatherings
from facilitation.registration import cancellation, ledger
from facilitation.registration.states import RefundDecision
from tests.factories import make_gathering, make_user
from tests.registration.factories import (
    before_start,
    make_option,
    make_settings,
    organiser_of,
    register,
)
from tests.registration.helpers import sent, statuses


def paid(gathering, person=None, *, now=None):
    """Register someone for a fixed price and record their card payment."""
    person = person or make_user()
    now = now or before_start(gathering, days=10)
    registration = register(person, gathering, make_option(gathering, "fixed"), now=now)
    ledger.record_payment(registration.id, f"pi_{registration.id}", 2000, "eur", now=now)
    assert registration.status == "confirmed"
    return registration


@pytest.mark.parametrize(
    ("hours_before", "refund", "decision"),
    [
        (49, 2000, RefundDecision.FULL),
        (48, 0, RefundDecision.NONE),  # at the deadline: no refund
        (2, 0, RefundDecision.NONE),
    ],
)
def test_the_default_policy_refunds_in_full_before_48_hours(
    gathering, hours_before, refund, decision
):
    registration = paid(gathering)
    now = gathering.starts_at - timedelta(hours=hours_before)
    outcome = cancellation.cancel_by_participant(registration.user, registration, now=now)
    assert (outcome.refund_minor, outcome.decision) == (refund, decision)
    assert registration.status == "cancelled" and registration.cancelled_at == now
    assert registration.refund_owed_minor == refund
    [email] = sent("registration_cancelled", registration.user.email)
    if refund:
        assert "We are refunding EUR 20.00" in email.body_text
    else:
        assert "no refund is due" in email.body_text


def test_no_refund_policy_and_organiser_decides(gathering):
    make_settings(gathering, refund_policy="organiser_decides")
    registration = paid(gathering)
    outcome = cancellation.cancel_by_participant(
        registration.user, registration, now=before_start(gathering, days=9)
    )
    assert (outcome.decision, outcome.refund_minor) == (RefundDecision.ORGANISER, 0)
    assert "The organisers decide" in sent("registration_cancelled")[0].body_text
    # The organiser then grants a refund of half.
    assert ledger.grant_refund(organiser_of(gathering), registration, 1000, now=utcnow()) == 1000
    assert ledger.refund_plan(registration) == [ledger.RefundStep(f"pi_{registration.id}", 1000)]
    with pytest.raises(DomainError, match=r"left to refund \(EUR 10\.00\)"):
        ledger.grant_refund(organiser_of(gathering), registration, 1001, now=utcnow())


def test_a_participant_may_cancel_only_their_own_and_only_once(gathering):
    registration = register(make_user(), gathering, make_option(gathering))
    with pytest.raises(Forbidden):
        cancellation.cancel_by_participant(make_user(), registration, now=before_start(gathering))
    cancellation.cancel_by_participant(registration.user, registration, now=before_start(gathering))
    with pytest.raises(DomainError) as caught:
        cancellation.cancel_by_participant(
            registration.user, registration, now=before_start(gathering)
        )
    assert caught.value.code == "not_cancellable"


def test_nothing_to_cancel_once_the_gathering_is_over(gathering):
    registration = register(make_user(), gathering, make_option(gathering))
    with pytest.raises(DomainError) as caught:
        cancellation.cancel_by_participant(registration.user, registration, now=gathering.ends_at)
    assert caught.value.code == "gathering_over"


def test_leaving_the_waitlist_is_a_cancellation(gathering):
    option = make_option(gathering)
    for _ in range(2):
        register(make_user(), gathering, option)
    waiting = register(make_user(), gathering, option)
    outcome = cancellation.cancel_by_participant(waiting.user, waiting, now=before_start(gathering))
    assert outcome.registration.status == "cancelled" and outcome.offered == []


def test_an_organiser_cancels_with_or_without_a_refund(gathering):
    organiser = organiser_of(gathering)
    refunded, kept = paid(gathering), paid(gathering)
    late = gathering.starts_at - timedelta(hours=1)
    with_refund = cancellation.cancel_by_organiser(
        organiser, refunded, "Double booked.", True, now=late
    )
    without = cancellation.cancel_by_organiser(organiser, kept, "", False, now=late)
    assert (with_refund.refund_minor, without.refund_minor) == (2000, 0)
    assert refunded.cancelled_by_id == organiser.id and refunded.cancel_reason == "Double booked."
    body = sent("registration_cancelled", refunded.user.email)[0].body_text
    assert "cancelled by the organisers" in body and "Double booked." in body


def test_cancelling_a_gathering_cancels_and_refunds_everyone(organiser):
    gathering = make_gathering(organiser, capacity=1)
    card = paid(gathering)
    waiting = register(make_user(), gathering, make_option(gathering))
    gatherings.cancel(organiser, gathering, "The hall flooded.", now=before_start(gathering))
    assert statuses(card, waiting) == ["cancelled", "cancelled"]
    assert card.refund_outstanding_minor == 2000 and waiting.refund_outstanding_minor == 0
    assert ledger.refunds_outstanding(gathering.id) == [card]
    bodies = [m.body_text for m in sent("registration_cancelled")]
    assert len(bodies) == 2 and all("The hall flooded." in b for b in bodies)
    assert (
        "We are refunding EUR 20.00" in sent("registration_cancelled", card.user.email)[0].body_text
    )


def test_a_refund_is_recorded_once_and_the_person_told(gathering):
    registration = paid(gathering)
    cancellation.cancel_by_participant(
        registration.user, registration, now=before_start(gathering, days=9)
    )
    [step] = ledger.refund_plan(registration)
    now = before_start(gathering, days=9)
    assert ledger.record_refund(registration.id, "re_1", step.amount_minor, now=now)
    assert not ledger.record_refund(registration.id, "re_1", step.amount_minor, now=now)
    assert registration.amount_refunded_minor == 2000 and registration.refund_outstanding_minor == 0
    assert len(sent("registration_refunded")) == 1 and ledger.refund_plan(registration) == []
    with pytest.raises(DomainError) as caught:
        ledger.record_refund(registration.id, "re_2", 1, now=now)
    assert caught.value.code == "refund_too_large"

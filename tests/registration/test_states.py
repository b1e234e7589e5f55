"""Status moves and the refund policy: pure rules, edges included."""

from datetime import UTC, datetime, timedelta

import pytest

from facilitation.registration import states
from facilitation.registration.states import (
    Placement,
    RefundDecision,
    StateError,
    Status,
    judge_payment,
    place,
    refund_decision,
)

START = datetime(2031, 6, 1, 18, 0, tzinfo=UTC)
DEADLINE = states.refund_deadline(START, 48)


def test_the_refund_deadline_is_counted_back_from_the_start():
    assert START - timedelta(hours=48) == DEADLINE


@pytest.mark.parametrize(
    ("now", "decision"),
    [
        (DEADLINE - timedelta(seconds=1), RefundDecision.FULL),
        (DEADLINE, RefundDecision.NONE),  # at the deadline itself the policy already says no
        (DEADLINE + timedelta(hours=1), RefundDecision.NONE),
    ],
)
def test_full_refund_only_strictly_before_the_deadline(now, decision):
    assert refund_decision("full_before_deadline", DEADLINE, now, 2000) is decision


def test_other_policies_and_nothing_paid():
    early = DEADLINE - timedelta(days=10)
    assert refund_decision("none", DEADLINE, early, 2000) is RefundDecision.NONE
    assert refund_decision("organiser_decides", DEADLINE, early, 2000) is RefundDecision.ORGANISER
    assert refund_decision("full_before_deadline", DEADLINE, early, 0) is RefundDecision.NONE
    assert refund_decision("organiser_decides", DEADLINE, early, 0) is RefundDecision.NONE


def test_allowed_and_refused_moves():
    assert states.can_move("applied", "offered") and states.can_move("held", "confirmed")
    assert states.can_move("expired", "confirmed")  # a late payment while a seat is free
    assert not states.can_move("cancelled", "confirmed")
    assert not states.can_move("declined", "applied")
    assert not states.can_move("waitlisted", "confirmed")  # always through an offer
    with pytest.raises(StateError) as caught:
        states.check_move("cancelled", "held")
    assert caught.value.code == "bad_transition" and "cancelled" in caught.value.message


def test_every_status_has_its_moves_and_terminal_ones_have_none():
    assert set(states.TRANSITIONS) == set(Status)
    assert not states.TRANSITIONS[Status.CANCELLED] and not states.TRANSITIONS[Status.DECLINED]
    assert states.SEATED <= states.LIVE
    assert states.is_live("waitlisted") and not states.is_live("expired")


@pytest.mark.parametrize(
    ("needs_approval", "approved", "has_seat", "card", "placement"),
    [
        (True, False, True, True, Placement.APPLIED),
        (True, False, False, False, Placement.APPLIED),
        (False, False, False, True, Placement.WAITLISTED),
        (False, False, True, False, Placement.CONFIRMED),
        (False, False, True, True, Placement.HELD),
        (True, True, True, True, Placement.OFFERED),
        (True, True, True, False, Placement.CONFIRMED),
        (True, True, False, True, Placement.WAITLISTED),
    ],
)
def test_where_a_registration_lands(needs_approval, approved, has_seat, card, placement):
    landed = place(
        needs_approval=needs_approval, approved=approved, has_seat=has_seat, pays_by_card=card
    )
    assert landed is placement


def judge(status, *, amount_ok=True, keeps_seat=True, seat_free=False, other_live=False):
    return judge_payment(
        status=status,
        amount_ok=amount_ok,
        keeps_seat=keeps_seat,
        seat_free=seat_free,
        other_live=other_live,
    )


def test_a_payment_on_a_live_hold_confirms():
    assert judge("held").confirm and judge("offered").confirm


def test_a_late_payment_confirms_only_while_a_seat_is_free():
    assert judge("held", keeps_seat=False, seat_free=True).confirm
    assert judge("expired", keeps_seat=False, seat_free=True).confirm
    late = judge("held", keeps_seat=False, seat_free=False)
    assert not late.confirm and late.refund_reason == "seat_gone"
    again = judge("expired", keeps_seat=False, seat_free=True, other_live=True)
    assert again.refund_reason == "seat_gone"


def test_payments_that_cannot_be_kept_say_why():
    assert judge("confirmed").refund_reason == "already_paid"
    assert judge("cancelled").refund_reason == "not_payable"
    assert judge("waitlisted").refund_reason == "not_payable"
    assert judge("held", amount_ok=False).refund_reason == "amount_mismatch"

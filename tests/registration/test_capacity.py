"""Seat and role counting: pure rules, with hypothesis for the waitlist order."""

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from facilitation.registration.capacity import Room, holds_seat, newcomer_has_seat, offers_for

NOW = datetime(2031, 3, 1, 12, 0, tzinfo=UTC)
A, B = 1, 2


def test_confirmed_always_holds_a_seat_holds_and_offers_until_their_deadline():
    later, earlier = NOW + timedelta(seconds=1), NOW
    assert holds_seat("confirmed", None, None, NOW)
    assert holds_seat("held", later, None, NOW) and not holds_seat("held", earlier, None, NOW)
    assert holds_seat("offered", None, later, NOW)
    assert not holds_seat("offered", None, earlier, NOW)
    assert not holds_seat("waitlisted", None, None, NOW)
    assert not holds_seat("held", None, None, NOW)


def test_seats_left_never_goes_below_zero():
    assert Room(capacity=3, taken=5).seats_left == 0
    assert Room(capacity=3, taken=1).seats_left == 2


def test_a_role_cap_limits_that_role_only():
    room = Room(capacity=10, taken=4, role_caps={A: 2, B: None}, role_taken={A: 2, B: 2})
    assert not room.has_seat(A)
    assert room.has_seat(B) and room.has_seat(None)
    assert room.role_left(A) == 0 and room.role_left(B) is None


def test_offers_go_in_order_passing_over_a_full_role():
    room = Room(capacity=5, taken=3, role_caps={A: 1, B: 3}, role_taken={A: 1, B: 2})
    queue = [(10, A), (11, B), (12, None), (13, B)]
    assert offers_for(room, queue) == [11, 12]


def test_a_newcomer_does_not_jump_the_waitlist():
    room = Room(capacity=2, taken=1)
    assert not newcomer_has_seat(room, [(10, None)], None)
    assert newcomer_has_seat(Room(capacity=3, taken=1), [(10, None)], None)
    assert newcomer_has_seat(room, [], None)


def test_a_newcomer_in_another_role_may_take_a_seat_the_waiting_role_cannot():
    room = Room(capacity=3, taken=2, role_caps={A: 1}, role_taken={A: 1})
    assert newcomer_has_seat(room, [(10, A)], B)
    assert not newcomer_has_seat(room, [(10, A)], A)


roles = st.sampled_from([None, A, B])


@given(
    capacity=st.integers(0, 8),
    cap_a=st.none() | st.integers(0, 5),
    taken=st.lists(roles, max_size=8),
    queue=st.lists(roles, max_size=12),
)
def test_offers_never_exceed_capacity_or_a_role_cap_and_keep_queue_order(
    capacity, cap_a, taken, queue
):
    room = Room(
        capacity=capacity,
        taken=len(taken),
        role_caps={A: cap_a, B: None},
        role_taken={r: taken.count(r) for r in (A, B)},
    )
    entries = list(enumerate(queue))
    chosen = offers_for(room, entries)
    assert chosen == sorted(chosen)
    assert len(taken) + len(chosen) <= max(capacity, len(taken))
    picked_a = sum(1 for i in chosen if queue[i] == A)
    if cap_a is not None:
        assert taken.count(A) + picked_a <= max(cap_a, taken.count(A))
    # Nobody who could have had a seat is passed over for someone behind them.
    for i, role in entries:
        if i not in chosen and chosen and i < max(chosen):
            assert role == A

"""The waitlist: freed seats are offered in order with a deadline, and the next one follows."""

from datetime import timedelta

import pytest

from facilitation.accounts.models import Role
from facilitation.core.errors import DomainError, Forbidden
from facilitation.gatherings import services as gatherings
from facilitation.registration import cancellation, services, sweeper, waitlist
from tests.factories import details, make_gathering, make_user
from tests.registration.factories import (
    before_start,
    make_option,
    make_role,
    make_settings,
    register,
)
from tests.registration.helpers import sent, statuses


@pytest.fixture
def full(organiser):
    """A one-seat gathering: one person confirmed, two waiting (in order)."""
    gathering = make_gathering(organiser, capacity=1)
    option = make_option(gathering)
    now = before_start(gathering, days=5)
    seated = register(make_user(), gathering, option, now=now)
    first = register(make_user(), gathering, option, now=now + timedelta(minutes=1))
    second = register(make_user(), gathering, option, now=now + timedelta(minutes=2))
    return gathering, seated, first, second


def test_a_cancellation_offers_the_seat_to_the_first_waiting(full):
    gathering, seated, first, second = full
    now = before_start(gathering, days=4)
    outcome = cancellation.cancel_by_participant(seated.user, seated, now=now)
    assert outcome.offered == [first]
    assert statuses(first, second) == ["offered", "waitlisted"]
    assert first.offer_expires_at == now + timedelta(hours=24)
    [email] = sent("waitlist_offer", first.user.email)
    # The deadline is shown in the gathering's own time zone (London: GMT in winter, BST in summer).
    assert any(zone in email.body_text for zone in ("GMT", "BST"))
    assert "before" in email.body_text


def test_accepting_a_free_offer_confirms(full):
    gathering, seated, first, _ = full
    now = before_start(gathering, days=4)
    cancellation.cancel_by_participant(seated.user, seated, now=now)
    services.accept_offer(first.user, first, now=now + timedelta(hours=1))
    assert first.status == "confirmed"
    assert sent("registration_confirmed", first.user.email)


def test_a_lapsed_offer_goes_to_the_next_person(full):
    gathering, seated, first, second = full
    now = before_start(gathering, days=4)
    cancellation.cancel_by_participant(seated.user, seated, now=now)
    later = now + timedelta(hours=24)
    with pytest.raises(DomainError) as caught:
        services.accept_offer(first.user, first, now=later)
    assert caught.value.code == "offer_lapsed"
    [outcome] = sweeper.sweep(later)
    assert outcome.expired == [first.id] and outcome.offered == [second.id]
    assert statuses(first, second) == ["expired", "offered"]


def test_a_paid_offer_is_accepted_by_holding_the_seat_to_pay(organiser):
    gathering = make_gathering(organiser, capacity=1)
    option = make_option(gathering, "fixed")
    now = before_start(gathering, days=5)
    seated = register(make_user(), gathering, option, now=now)
    waiting = register(make_user(), gathering, option, now=now + timedelta(minutes=1))
    # The first person never pays; their hold lapses and the sweeper offers the seat.
    sweeper.sweep(now + timedelta(minutes=15))
    assert statuses(seated, waiting) == ["expired", "offered"]
    held = services.accept_offer(waiting.user, waiting, now=now + timedelta(hours=1))
    assert held.status == "held"


def test_raising_the_capacity_offers_seats(full, organiser):
    gathering, _, first, second = full
    data = details(capacity=3)
    timing = gatherings.Timing(
        gathering.starts_at.replace(tzinfo=None), gathering.ends_at.replace(tzinfo=None)
    )
    gatherings.update_gathering(organiser, gathering, data, timing, now=before_start(gathering))
    assert statuses(first, second) == ["offered", "offered"]


def test_offers_respect_role_caps_and_keep_the_passed_over_in_place(organiser):
    gathering = make_gathering(organiser, capacity=2)
    a = make_role(gathering, "Partner A group", cap=1)
    b = make_role(gathering, "Partner B group", cap=1)
    option = make_option(gathering)
    now = before_start(gathering, days=5)
    a1 = register(make_user(), gathering, option, role_id=a.id, now=now)
    b1 = register(make_user(), gathering, option, role_id=b.id, now=now)
    a2 = register(make_user(), gathering, option, role_id=a.id, now=now + timedelta(minutes=1))
    b2 = register(make_user(), gathering, option, role_id=b.id, now=now + timedelta(minutes=2))
    cancellation.cancel_by_participant(b1.user, b1, now=now + timedelta(hours=1))
    assert statuses(a1, a2, b2) == ["confirmed", "waitlisted", "offered"]
    assert waitlist.position(a2) == 1


def test_an_organiser_can_move_someone_from_the_waitlist_when_a_seat_is_free(full, organiser):
    gathering, _, first, second = full
    with pytest.raises(DomainError) as caught:
        waitlist.offer_now(organiser, second, now=before_start(gathering))
    assert caught.value.code == "no_seat"
    gathering.capacity = 2
    waitlist.offer_now(organiser, second, now=before_start(gathering))
    assert statuses(first, second) == ["waitlisted", "offered"]
    assert sent("waitlist_offer", second.user.email)


def test_positions_count_from_one(full):
    _, _, first, second = full
    assert (waitlist.position(first), waitlist.position(second)) == (1, 2)


def test_nobody_is_offered_a_seat_once_the_gathering_has_started(full):
    gathering, seated, first, second = full
    cancellation.cancel_by_participant(seated.user, seated, now=gathering.starts_at)
    assert sweeper.sweep(gathering.starts_at + timedelta(minutes=5)) == []
    assert statuses(first, second) == ["waitlisted", "waitlisted"]


def test_only_the_person_can_accept_their_offer(full):
    gathering, seated, first, _ = full
    cancellation.cancel_by_participant(seated.user, seated, now=before_start(gathering))
    with pytest.raises(Forbidden):
        services.accept_offer(make_user(Role.ORGANISER), first, now=before_start(gathering))


def test_a_waitlist_offer_lasts_as_long_as_the_settings_say(full):
    gathering, seated, first, _ = full
    make_settings(gathering, offer_hours=2)
    now = before_start(gathering)
    cancellation.cancel_by_participant(seated.user, seated, now=now)
    assert statuses(first) == ["offered"] and first.offer_expires_at == now + timedelta(hours=2)

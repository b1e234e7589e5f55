"""The sweeper lets lapsed holds and offers go and offers the seats; running it again is a no-op."""

from datetime import timedelta

from facilitation.extensions import db
from facilitation.registration import sweeper
from tests.factories import make_gathering, make_user
from tests.registration.factories import before_start, make_option, register
from tests.registration.helpers import sent, statuses


def test_a_sweep_expires_lapsed_holds_and_offers_the_seats_once(organiser):
    gathering = make_gathering(organiser, capacity=1)
    now = before_start(gathering)
    card = register(make_user(), gathering, make_option(gathering, "fixed"), now=now)
    waiting = register(make_user(), gathering, make_option(gathering), now=now)
    db.session.commit()
    assert sweeper.due_gathering_ids(now) == [gathering.id]  # someone is waiting
    assert sweeper.sweep(now) == []  # nothing lapsed yet, no seat free
    later = now + timedelta(minutes=15)
    [outcome] = sweeper.sweep(later)
    assert (outcome.expired, outcome.offered) == ([card.id], [waiting.id])
    assert statuses(card, waiting) == ["expired", "offered"]
    assert sweeper.sweep(later) == []
    assert len(sent("waitlist_offer")) == 1


def test_nothing_is_due_without_lapsed_holds_or_waiting_people(organiser):
    gathering = make_gathering(organiser)
    register(make_user(), gathering, make_option(gathering))
    db.session.commit()
    assert sweeper.due_gathering_ids(before_start(gathering)) == []


def test_the_background_sweeper_does_not_start_in_tests(app):
    sweeper.ensure_sweeper(app)
    assert id(app) not in sweeper._started

"""Races on PostgreSQL: many transactions at once never overbook; without the lock they do.

Each scenario runs its jobs in threads, each with its own app context and so its own
database session and connection, released together by a barrier. The control runs switch the
lock off (``seats.LOCKING``) and use the test-only ``seats._before_seat_write`` hook to sleep
between counting and writing; they must overbook, or the harness would prove nothing.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from facilitation.accounts.models import Role, User
from facilitation.core.errors import DomainError
from facilitation.extensions import db
from facilitation.gatherings.models import Gathering
from facilitation.messaging.models import OutboxMessage
from facilitation.registration import cancellation, ledger, seats, services, sweeper
from facilitation.registration.models import Registration
from tests.factories import make_gathering, make_user
from tests.live_server import PATIENCE_S
from tests.registration.factories import before_start, make_option, register

pytestmark = pytest.mark.postgres_only

PEOPLE = 50
REPEATS = 20


@pytest.fixture
def people(pg_app) -> list[int]:
    """Give the ids of 50 committed participants and an organiser (the first id)."""
    organiser = make_user(Role.ORGANISER)
    ids = [organiser.id] + [make_user().id for _ in range(PEOPLE)]
    db.session.commit()
    return ids


def run_together(app, jobs: list[tuple[str, Callable[[], Any]]]) -> list[Any]:
    """Run each (name, job) in its own thread and transaction, all released at once.

    Returns each job's result, its DomainError, or any other exception that escaped.
    """
    barrier = threading.Barrier(len(jobs))
    results: list[Any] = [None] * len(jobs)

    def work(index: int, job: Callable[[], Any]) -> None:
        with app.app_context():
            try:
                barrier.wait(timeout=PATIENCE_S)
                results[index] = job()
                db.session.commit()
            except Exception as exc:  # recorded, asserted on by the test
                db.session.rollback()
                results[index] = exc
            finally:
                db.session.remove()

    threads = [
        threading.Thread(target=work, args=(i, job), name=name)
        for i, (name, job) in enumerate(jobs)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=PATIENCE_S)
    assert not any(t.is_alive() for t in threads), "a job hung"
    return results


def escaped(results: list[Any]) -> list[Exception]:
    """Return the exceptions that were not domain errors (a 5xx in a view)."""
    return [r for r in results if isinstance(r, Exception) and not isinstance(r, DomainError)]


def seated(gathering_id: int, now) -> int:
    """Count the seats taken in a gathering, straight from the database."""
    db.session.expire_all()
    return db.session.scalar(
        sa.select(sa.func.count()).where(
            Registration.gathering_id == gathering_id, seats.seat_condition(now)
        )
    )


def registering(user_id: int, gathering_id: int, option_id: int, now) -> Callable[[], str]:
    def job() -> str:
        user = db.session.get(User, user_id)
        gathering = db.session.get(Gathering, gathering_id)
        data = services.RegistrationInput(option_id=option_id)
        return services.register(user, gathering, data, now=now).status

    return job


def sweeping(gathering_id: int, now) -> Callable[[], Any]:
    def job() -> Any:
        return sweeper.sweep_gathering(db.session.get(Gathering, gathering_id), now=now)

    return job


@pytest.fixture
def unlocked(monkeypatch):
    """Switch the lock off and widen the race window: the control run."""

    def set_sleep(sleep: Callable[[str], None]) -> None:
        monkeypatch.setattr(seats, "_before_seat_write", sleep)

    monkeypatch.setattr(seats, "LOCKING", False)
    set_sleep(lambda label: time.sleep(0.05))
    return set_sleep


# --- 50 people, the last seat -----------------------------------------------------------------


def last_seat(people: list[int], kind: str) -> tuple[int, int, Any]:
    """A gathering with two seats, one taken; return its id, an option id and the time."""
    organiser = db.session.get(User, people[0])
    gathering = make_gathering(organiser, capacity=2)
    option = make_option(gathering, kind)
    now = before_start(gathering)
    register(make_user(), gathering, make_option(gathering, "free"), now=now)
    db.session.commit()
    return gathering.id, option.id, now


def fifty_for_the_last_seat(app, people, kind):
    gathering_id, option_id, now = last_seat(people, kind)
    jobs = [(f"person-{uid}", registering(uid, gathering_id, option_id, now)) for uid in people[1:]]
    return gathering_id, now, run_together(app, jobs)


def test_fifty_people_at_once_for_the_last_seat_get_one_seat(pg_app, people):
    for repeat in range(REPEATS):
        kind = "free" if repeat % 2 == 0 else "fixed"
        gathering_id, now, results = fifty_for_the_last_seat(pg_app, people, kind)
        assert escaped(results) == []
        winners = [r for r in results if r in ("confirmed", "held")]
        assert len(winners) == 1, results
        assert sorted(set(results) - set(winners)) == ["waitlisted"]
        assert seated(gathering_id, now) == 2


def test_control_without_the_lock_fifty_people_overbook(pg_app, people, unlocked):
    gathering_id, now, results = fifty_for_the_last_seat(pg_app, people, "free")
    assert results.count("confirmed") > 1
    assert seated(gathering_id, now) > 2


# --- a lapsed hold, its late payment, the sweeper and newcomers -------------------------------


def lapsed_hold(app, people, repeat: int) -> tuple[int, list[Any], Any]:
    organiser = db.session.get(User, people[0])
    gathering = make_gathering(organiser, capacity=1)
    card, free = make_option(gathering, "fixed"), make_option(gathering, "free")
    start = before_start(gathering)
    holder = register(make_user(), gathering, card, now=start)
    db.session.commit()
    now = start + timedelta(minutes=16)  # the hold has lapsed; nobody has swept yet
    holder_id, gathering_id, free_id = holder.id, gathering.id, free.id

    def pays_late() -> Any:
        return ledger.record_payment(holder_id, f"pi_late_{repeat}", 2000, "eur", now=now).confirmed

    def retries() -> str:
        return services.start_payment(db.session.get(Registration, holder_id), now=now).status

    jobs = [
        ("sweeper-1", sweeping(gathering_id, now)),
        ("holder-pays", pays_late),
        ("holder-retries", retries),
    ]
    jobs += [
        (f"person-{uid}", registering(uid, gathering_id, free_id, now)) for uid in people[1:31]
    ]
    return gathering_id, run_together(app, jobs), now


def test_a_lapsing_hold_racing_newcomers_never_overbooks(pg_app, people):
    for repeat in range(5):
        gathering_id, results, now = lapsed_hold(pg_app, people, repeat)
        assert escaped(results) == []
        refusals = {r.code for r in results if isinstance(r, DomainError)}
        assert refusals <= {"seat_gone", "already_paid"}, results
        assert seated(gathering_id, now) == 1


def test_control_without_the_lock_a_lapsing_hold_overbooks(pg_app, people, unlocked):
    gathering_id, _, now = lapsed_hold(pg_app, people, 0)
    assert seated(gathering_id, now) > 1


# --- a cancellation's promotion racing sweepers' promotions -----------------------------------


def cancel_and_sweep(app, people) -> tuple[int, list[int], Any]:
    """Two seats: one confirmed person, one lapsed hold; four people waiting, in order."""
    organiser = db.session.get(User, people[0])
    gathering = make_gathering(organiser, capacity=2)
    free, card = make_option(gathering), make_option(gathering, "fixed")
    start = before_start(gathering)
    leaving = register(make_user(), gathering, free, now=start)
    register(make_user(), gathering, card, now=start)
    waiting = [
        register(make_user(), gathering, free, now=start + timedelta(seconds=i)).id
        for i in range(1, 5)
    ]
    db.session.commit()
    now = start + timedelta(minutes=20)
    leaving_id, user_id, gathering_id = leaving.id, leaving.user_id, gathering.id

    def cancels() -> Any:
        registration = db.session.get(Registration, leaving_id)
        return cancellation.cancel_by_participant(
            db.session.get(User, user_id), registration, now=now
        )

    jobs = [("leaver", cancels)] + [(f"sweeper-{i}", sweeping(gathering_id, now)) for i in range(3)]
    jobs += [
        (f"person-{uid}", registering(uid, gathering_id, free.id, now)) for uid in people[1:11]
    ]
    run = run_together(app, jobs)
    assert escaped(run) == [] or not seats.LOCKING
    return gathering_id, waiting, now


def offers_to(gathering_id: int) -> list[str]:
    return list(
        db.session.scalars(
            sa.select(OutboxMessage.to_email).where(OutboxMessage.kind == "waitlist_offer")
        )
    )


def test_a_cancellation_racing_sweepers_offers_each_seat_once_in_order(pg_app, people):
    for _ in range(5):
        gathering_id, waiting, now = cancel_and_sweep(pg_app, people)
        assert seated(gathering_id, now) == 2
        rows = {
            r.id: r
            for r in db.session.scalars(sa.select(Registration).where(Registration.id.in_(waiting)))
        }
        assert [rows[i].status for i in waiting] == [
            "offered",
            "offered",
            "waitlisted",
            "waitlisted",
        ]
        emails = sorted(offers_to(gathering_id))
        expected = sorted(rows[i].user.email for i in waiting[:2])
        assert [e for e in emails if e in expected] == expected  # one offer each
        db.session.execute(sa.delete(OutboxMessage))
        db.session.commit()


def test_control_without_the_lock_promotions_overbook(pg_app, people, unlocked):
    def sweepers_late(label: str) -> None:
        if label == "promote":
            slow = threading.current_thread().name.startswith("sweeper")
            time.sleep(0.4 if slow else 0.1)

    unlocked(sweepers_late)
    overbooked = False
    for _ in range(3):
        gathering_id, _, now = cancel_and_sweep(pg_app, people)
        overbooked = overbooked or seated(gathering_id, now) > 2
    assert overbooked


# --- sweepers at once -------------------------------------------------------------------------


def seats_freed_without_offers(people) -> tuple[int, list[int], Any]:
    """Three seated, six waiting; then three more seats appear without anyone offering them."""
    organiser = db.session.get(User, people[0])
    gathering = make_gathering(organiser, capacity=3)
    option = make_option(gathering)
    start = before_start(gathering)
    for _ in range(3):
        register(make_user(), gathering, option, now=start)
    waiting = [
        register(make_user(), gathering, option, now=start + timedelta(seconds=i)).id
        for i in range(1, 7)
    ]
    # As if a process had raised the capacity and died before promoting anyone.
    db.session.execute(sa.update(Gathering).where(Gathering.id == gathering.id).values(capacity=6))
    db.session.commit()
    return gathering.id, waiting, start + timedelta(minutes=1)


def test_sweepers_at_once_offer_each_free_seat_once(pg_app, people):
    for _ in range(5):
        gathering_id, waiting, now = seats_freed_without_offers(people)
        results = run_together(
            pg_app, [(f"sweeper-{i}", sweeping(gathering_id, now)) for i in range(4)]
        )
        assert escaped(results) == []
        assert sorted(o for r in results for o in r.offered) == waiting[:3]
        assert seated(gathering_id, now) == 6


def test_control_without_the_lock_sweepers_overbook(pg_app, people, unlocked):
    def first_sweeper_fast(label: str) -> None:
        if threading.current_thread().name != "sweeper-0":
            time.sleep(0.3)

    unlocked(first_sweeper_fast)
    gathering_id, _, now = seats_freed_without_offers(people)
    run_together(pg_app, [(f"sweeper-{i}", sweeping(gathering_id, now)) for i in range(4)])
    assert seated(gathering_id, now) > 6

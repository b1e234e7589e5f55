"""Check-ins at once on PostgreSQL: a retried request or two desks never count a person twice.

The jobs run in threads, each in its own transaction, released together (the harness of the
registration races). The control run switches the gathering lock off: the partial unique
index (one standing check-in per registration) must still hold the line.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
import sqlalchemy as sa

from facilitation.accounts.models import Role, User
from facilitation.attendance import services
from facilitation.attendance.models import CheckIn, WalkIn
from facilitation.extensions import db
from facilitation.gatherings.models import Gathering
from facilitation.registration import seats
from facilitation.registration.models import Payment, Registration
from tests.attendance.factories import at_door, coming, request_id
from tests.factories import make_gathering, make_user
from tests.registration.factories import make_option
from tests.registration.test_races import escaped, run_together

pytestmark = pytest.mark.postgres_only

DESKS = 8
REPEATS = 5


def count(model: Any, **where: Any) -> int:
    db.session.expire_all()
    stmt = sa.select(sa.func.count()).select_from(model)
    for column, value in where.items():
        stmt = stmt.where(getattr(model, column) == value)
    return db.session.scalar(stmt)


def checking_in(
    desk_id: int, gathering_id: int, registration_id: int, nonce: str, paid: int | None = None
) -> Callable[[], tuple[str, int, bool]]:
    def job() -> tuple[str, int, bool]:
        desk = db.session.get(User, desk_id)
        gathering = db.session.get(Gathering, gathering_id)
        outcome = services.check_in(
            desk, gathering, registration_id, nonce, at_door(gathering), paid
        )
        return outcome.result, outcome.check_in.id, outcome.replayed

    return job


@pytest.fixture
def door(pg_app) -> tuple[int, Gathering]:
    """Give a committed door volunteer's id and a gathering."""
    desk = make_user(Role.DOOR)
    gathering = make_gathering(capacity=50)
    db.session.commit()
    return desk.id, gathering


@pytest.mark.parametrize("attempt", range(REPEATS))
def test_one_request_sent_many_times_at_once_checks_in_once(pg_app, door, attempt):
    desk_id, gathering = door
    registration = coming(gathering, option=make_option(gathering, "door", price_minor=900))
    db.session.commit()
    nonce = request_id()
    jobs = [
        (f"retry-{i}", checking_in(desk_id, gathering.id, registration.id, nonce, 900))
        for i in range(DESKS)
    ]
    results = run_together(pg_app, jobs)
    assert escaped(results) == []
    assert {r[:2] for r in results} == {("checked_in", results[0][1])}
    assert sum(1 for r in results if not r[2]) == 1  # one did it, the others replayed it
    assert count(CheckIn) == 1
    assert count(Payment, registration_id=registration.id) == 1


def test_two_desks_at_once_check_a_person_in_once(pg_app, door):
    desk_id, gathering = door
    registration = coming(gathering)
    db.session.commit()
    jobs = [
        (f"desk-{i}", checking_in(desk_id, gathering.id, registration.id, request_id()))
        for i in range(DESKS)
    ]
    results = run_together(pg_app, jobs)
    assert escaped(results) == []
    assert sorted(r[0] for r in results) == ["already_checked_in"] * (DESKS - 1) + ["checked_in"]
    assert count(CheckIn) == 1


def test_without_the_lock_the_index_still_stops_a_double_count(pg_app, door, monkeypatch):
    desk_id, gathering = door
    registration = coming(gathering)
    db.session.commit()
    monkeypatch.setattr(seats, "LOCKING", False)
    original = services.admit

    decided = threading.Barrier(DESKS, timeout=30)

    def slow_admit(*args: Any, **kwargs: Any) -> Any:
        # Every desk has read "not checked in" and decided to admit before any desk writes. A
        # sleep here was not enough on a loaded machine: a late thread read after the first
        # commit and was (rightly) told "already checked in".
        decided.wait()
        return original(*args, **kwargs)

    monkeypatch.setattr(services, "admit", slow_admit)
    jobs = [
        (f"desk-{i}", checking_in(desk_id, gathering.id, registration.id, request_id()))
        for i in range(DESKS)
    ]
    results = run_together(pg_app, jobs)
    # The control: unlocked desks all try to write, and the database refuses all but one.
    assert len(escaped(results)) == DESKS - 1
    assert count(CheckIn) == 1


def test_one_walk_in_submitted_many_times_at_once_registers_once(pg_app, door):
    desk_id, gathering = door
    option = make_option(gathering, "door", price_minor=700)
    db.session.commit()
    data = services.WalkInInput("Robin Walker", "robin@example.org", option.id, 700, request_id())

    def job() -> tuple[int, bool]:
        desk = db.session.get(User, desk_id)
        outcome = services.walk_in(
            desk, db.session.get(Gathering, gathering.id), data, at_door(gathering)
        )
        return outcome.registration.id, outcome.replayed

    results = run_together(pg_app, [(f"submit-{i}", job) for i in range(DESKS)])
    assert escaped(results) == []
    assert len({r[0] for r in results}) == 1 and sum(1 for r in results if not r[1]) == 1
    assert (count(WalkIn), count(CheckIn), count(Payment)) == (1, 1, 1)
    assert count(Registration, gathering_id=gathering.id) == 1

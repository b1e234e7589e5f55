"""The seat-hold deadline rule is written once (capacity.SEAT_DEADLINES) and read alike in
Python and in SQL: for every status and deadline, the database's seat count, its list of
lapsed holds and offers, and ``holds_seat`` agree, on the deadline itself too."""

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from facilitation.extensions import db
from facilitation.registration import capacity, seats
from facilitation.registration.models import Registration
from facilitation.registration.states import Status
from tests.factories import make_gathering, make_user
from tests.registration.factories import before_start, make_option, register

OFFSETS = [None, timedelta(seconds=-1), timedelta(0), timedelta(seconds=1)]


@pytest.mark.parametrize("status", list(Status))
def test_sql_and_python_agree_on_who_keeps_a_seat(app, status):
    gathering = make_gathering(capacity=100)
    option = make_option(gathering)
    now = before_start(gathering)
    rows = []
    for hold in OFFSETS:
        for offer in OFFSETS:
            registration = register(make_user(), gathering, option, now=now)
            registration.status = status
            registration.hold_expires_at = None if hold is None else now + hold
            registration.offer_expires_at = None if offer is None else now + offer
            rows.append(registration)
    db.session.flush()
    ids = [r.id for r in rows]

    def selected(condition):
        return set(
            db.session.scalars(
                sa.select(Registration.id).where(condition, Registration.id.in_(ids))
            )
        )

    keeps = {
        r.id
        for r in rows
        if capacity.holds_seat(r.status, r.hold_expires_at, r.offer_expires_at, now)
    }
    assert selected(seats.seat_condition(now)) == keeps
    deadline_statuses = set(capacity.SEAT_DEADLINES)
    column = capacity.SEAT_DEADLINES.get(status)
    lapsed = {
        r.id
        for r in rows
        if status in deadline_statuses and getattr(r, column) is not None and r.id not in keeps
    }
    assert selected(seats.lapsed_condition(now)) == lapsed


def test_a_hold_lapses_at_its_deadline_not_after():
    t = datetime(2026, 12, 5, 19, 0, tzinfo=UTC)
    assert capacity.kept_before(t, t - timedelta(microseconds=1))
    assert not capacity.kept_before(t, t)
    assert not capacity.kept_before(None, t)

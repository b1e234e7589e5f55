"""A read remembered for the transaction: forgotten on commit, and on a change to its tables."""

from __future__ import annotations

import sqlalchemy as sa

from facilitation.core.memo import memo
from facilitation.extensions import db
from tests.factories import make_gathering


def _counting_load(calls: list[int]):  # type: ignore[no-untyped-def]
    def load() -> int:
        db.session.execute(sa.text("SELECT 1"))  # a real read, inside the transaction
        calls.append(1)
        return len(calls)

    return load


def test_a_read_is_made_once_per_transaction(app):
    calls: list[int] = []
    load = _counting_load(calls)
    assert memo(db.session, ("k",), ["gatherings"], load) == 1
    assert memo(db.session, ("k",), ["gatherings"], load) == 1
    db.session.commit()
    assert memo(db.session, ("k",), ["gatherings"], load) == 2


def test_a_change_to_its_tables_makes_it_read_again(app):
    calls: list[int] = []
    load = _counting_load(calls)
    memo(db.session, ("k",), ["gatherings"], load)
    gathering = make_gathering()  # flushed: a new row in gatherings
    assert memo(db.session, ("k",), ["gatherings"], load) == 2
    gathering.title = "Changed, not flushed yet"
    assert memo(db.session, ("k",), ["gatherings"], load) == 3  # its read flushed the change
    db.session.flush()
    assert memo(db.session, ("k",), ["gatherings"], load) == 3


def test_changes_elsewhere_keep_it(app):
    calls: list[int] = []
    load = _counting_load(calls)
    memo(db.session, ("k",), ["registration_settings"], load)
    make_gathering()
    assert memo(db.session, ("k",), ["registration_settings"], load) == 1


def test_a_rollback_forgets_it(app):
    calls: list[int] = []
    load = _counting_load(calls)
    memo(db.session, ("k",), ["gatherings"], load)
    db.session.rollback()
    assert memo(db.session, ("k",), ["gatherings"], load) == 2

"""Lock a gathering's seats and count them; every seat-changing service goes through here.

Seats are counted and taken inside one transaction that first locks the gathering's row:
``SELECT … FOR NO KEY UPDATE`` on PostgreSQL (it waits for any other registration change of
the same gathering to commit; rows that merely reference the gathering are not blocked), and
on SQLite a no-op ``UPDATE`` of that row as the transaction's first write, which takes
SQLite's single write lock, so two writers can never both count and then insert.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import sqlalchemy as sa

from facilitation.extensions import db
from facilitation.gatherings.models import Gathering
from facilitation.registration.capacity import SEAT_DEADLINES, Room
from facilitation.registration.models import PairingRole, Registration
from facilitation.registration.states import Status

#: Test-only switch: False skips the lock, so the race tests can show that their harness
#: does catch overbooking (the control run). Never change it in the app.
LOCKING = True

#: Test-only hook, called with a label ("register", "promote", …) after seats are counted and
#: before the seat is written; a race test sets it to sleep and so widens the window a missing
#: lock would leave open. None in the app.
_before_seat_write: Callable[[str], None] | None = None


def lock(gathering: Gathering) -> Gathering:
    """Take the gathering's registration lock for this transaction and reload the gathering."""
    db.session.flush()  # a reload must not discard changes this transaction has made
    if not LOCKING:
        db.session.refresh(gathering)
        return gathering
    if db.session.get_bind().dialect.name == "sqlite":
        table = Gathering.__table__
        db.session.execute(
            sa.update(table).where(table.c.id == gathering.id).values(revision=table.c.revision)
        )
        db.session.refresh(gathering)
    else:
        db.session.refresh(gathering, with_for_update={"key_share": True})
    return gathering


def before_seat_write(label: str) -> None:
    """Call the test-only hook, if one is set."""
    if _before_seat_write is not None:
        _before_seat_write(label)


def seat_condition(now: datetime) -> sa.ColumnElement[bool]:
    """Return the SQL condition for "this registration keeps a seat at ``now``"."""
    return sa.or_(
        Registration.status == Status.CONFIRMED,
        *(
            sa.and_(Registration.status == status, getattr(Registration, column) > now)
            for status, column in SEAT_DEADLINES.items()
        ),
    )


def lapsed_condition(now: datetime) -> sa.ColumnElement[bool]:
    """Return the SQL condition for "a hold or offer whose deadline has passed at ``now``"."""
    return sa.or_(
        *(
            sa.and_(Registration.status == status, getattr(Registration, column) <= now)
            for status, column in SEAT_DEADLINES.items()
        )
    )


def room(gathering: Gathering, now: datetime, *, without_id: int | None = None) -> Room:
    """Count the seats of a gathering at ``now`` (call under ``lock`` before taking one).

    ``without_id`` leaves one registration out of the count (the one being judged).
    """
    stmt = (
        sa.select(Registration.role_id, sa.func.count())
        .where(Registration.gathering_id == gathering.id, seat_condition(now))
        .group_by(Registration.role_id)
    )
    if without_id is not None:
        stmt = stmt.where(Registration.id != without_id)
    counts = {role_id: n for role_id, n in db.session.execute(stmt).all()}
    caps = dict(
        db.session.execute(
            sa.select(PairingRole.id, PairingRole.cap).where(
                PairingRole.gathering_id == gathering.id
            )
        ).all()
    )
    return Room(
        capacity=gathering.capacity,
        taken=sum(counts.values()),
        role_caps=caps,
        role_taken={k: v for k, v in counts.items() if k is not None},
    )


def room_and_queue(
    gathering: Gathering, now: datetime, *, has_roles: bool = True
) -> tuple[Room, list[tuple[int, int | None]]]:
    """Count the seats and read the waitlist (as ``queue`` gives it), in as few queries as can be.

    Call under ``lock``. The waitlist is read only when someone is waiting; the groups' caps
    only when the caller has not already seen that the gathering has no groups.
    """
    waiting_now = Registration.status == Status.WAITLISTED
    rows = db.session.execute(
        sa.select(
            Registration.role_id,
            sa.func.count().filter(seat_condition(now)),
            sa.func.count().filter(waiting_now),
        )
        .where(Registration.gathering_id == gathering.id, sa.or_(seat_condition(now), waiting_now))
        .group_by(Registration.role_id)
    ).all()
    counts = {role_id: n for role_id, n, _ in rows if n}
    caps: dict[int, int | None] = {}
    if has_roles:
        caps = dict(
            db.session.execute(
                sa.select(PairingRole.id, PairingRole.cap).where(
                    PairingRole.gathering_id == gathering.id
                )
            ).all()
        )
    found = Room(
        capacity=gathering.capacity,
        taken=sum(counts.values()),
        role_caps=caps,
        role_taken={k: v for k, v in counts.items() if k is not None},
    )
    someone_waits = any(w for _, _, w in rows)
    return found, queue(waitlist(gathering)) if someone_waits else []


def waitlist(gathering: Gathering) -> list[Registration]:
    """Return the waiting registrations of a gathering, first come first (fresh from the DB)."""
    return list(
        db.session.scalars(
            sa.select(Registration)
            .where(
                Registration.gathering_id == gathering.id,
                Registration.status == Status.WAITLISTED,
            )
            .order_by(Registration.waitlisted_at, Registration.id)
            .execution_options(populate_existing=True)
        )
    )


def queue(waiting: list[Registration]) -> list[tuple[int, int | None]]:
    """Return the waitlist as (registration id, role id) pairs for the capacity rules."""
    return [(r.id, r.role_id) for r in waiting]


def lock_for(registration: Registration) -> Registration:
    """Take the lock of the registration's gathering, then read the registration again.

    Read after the lock, it shows every change another transaction committed before ours.
    """
    lock(registration.gathering)
    db.session.refresh(registration)
    return registration

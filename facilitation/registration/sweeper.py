"""Let lapsed holds and offers go and offer the freed seats, in the background.

``sweep`` is idempotent and safe from several processes at once: each gathering is swept in
its own transaction under the gathering's registration lock, so a second sweeper waits and
then finds nothing left to do.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from datetime import datetime

import sqlalchemy as sa
from flask import Flask

from facilitation.core.clock import utcnow
from facilitation.extensions import db, socketio
from facilitation.gatherings.models import Gathering, GatheringStatus
from facilitation.registration import refunds, seats, waitlist
from facilitation.registration.models import Registration
from facilitation.registration.states import Status

logger = logging.getLogger(__name__)

#: Seconds between two sweeps; a lapsed hold frees its seat at most this late.
SWEEP_SECONDS = 30
#: Refunds Stripe failed to make are tried again every this many sweeps (5 minutes).
REFUND_RETRY_SWEEPS = 10


@dataclass
class SweepOutcome:
    """What sweeping one gathering did."""

    gathering_id: int
    expired: list[int] = field(default_factory=list)
    offered: list[int] = field(default_factory=list)


def due_gathering_ids(now: datetime) -> list[int]:
    """Return gatherings with a lapsed hold or offer, or people waiting for a seat."""
    lapsed = sa.select(Registration.gathering_id).where(seats.lapsed_condition(now))
    waiting = (
        sa.select(Registration.gathering_id)
        .join(Gathering, Gathering.id == Registration.gathering_id)
        .where(
            Registration.status == Status.WAITLISTED,
            Gathering.status == GatheringStatus.PUBLISHED,
            Gathering.starts_at > now,
        )
    )
    found = set(db.session.scalars(lapsed.distinct())) | set(db.session.scalars(waiting.distinct()))
    return sorted(found)


def sweep_gathering(gathering: Gathering, *, now: datetime) -> SweepOutcome:
    """Under the gathering's lock, end lapsed holds and offers, then offer free seats."""
    seats.lock(gathering)
    expired = waitlist.expire_lapsed(gathering, now=now)
    offered = waitlist.promote_locked(gathering, now=now)
    return SweepOutcome(gathering.id, [r.id for r in expired], [r.id for r in offered])


def sweep(now: datetime | None = None) -> list[SweepOutcome]:
    """Sweep every gathering that needs it, committing each one; return what changed."""
    now = now or utcnow()
    outcomes = []
    for gathering_id in due_gathering_ids(now):
        try:
            gathering = db.session.get(Gathering, gathering_id)
            if gathering is None:
                continue
            outcome = sweep_gathering(gathering, now=now)
            db.session.commit()
        except Exception:
            db.session.rollback()
            logger.exception("sweeping registrations of gathering %s failed", gathering_id)
            continue
        if outcome.expired or outcome.offered:
            outcomes.append(outcome)
    return outcomes


_start_lock = threading.Lock()
_started: set[int] = set()


def ensure_sweeper(app: Flask) -> None:
    """Start this process's registration sweeper once (never while testing)."""
    if id(app) in _started or app.config.get("TESTING"):
        return
    with _start_lock:
        if id(app) in _started:
            return
        _started.add(id(app))
    socketio.start_background_task(_loop, app)


def _loop(app: Flask) -> None:
    logger.info("registration sweeper started")
    rounds = 0
    while True:
        socketio.sleep(SWEEP_SECONDS)
        rounds += 1
        with app.app_context():
            try:
                sweep()
                if rounds % REFUND_RETRY_SWEEPS == 0:
                    refunds.send_all_owed()
            except Exception:
                logger.exception("registration sweep failed")
            finally:
                db.session.remove()

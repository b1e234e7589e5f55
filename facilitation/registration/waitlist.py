"""The waitlist: offer freed seats in order, and let lapsed holds and offers go.

Run whenever a seat may have freed: a cancellation, a lapsed hold or offer (the sweeper), a
raised capacity or role cap. Offers go first come first, passing over people whose role is
full (they keep their place), and every offer has a deadline. Accepting an offer is in
``services`` (for a paid seat it starts the payment).
"""

from __future__ import annotations

import logging
from datetime import datetime

import sqlalchemy as sa

from facilitation.accounts.models import User
from facilitation.core.errors import DomainError
from facilitation.extensions import db
from facilitation.gatherings.models import Gathering
from facilitation.registration import capacity, emails, moves, options, seats
from facilitation.registration.models import Registration
from facilitation.registration.states import Status

logger = logging.getLogger(__name__)


def promote(gathering: Gathering, *, now: datetime) -> list[Registration]:
    """Lock the gathering and offer every free seat to the next people waiting."""
    seats.lock(gathering)
    return promote_locked(gathering, now=now)


def promote_locked(gathering: Gathering, *, now: datetime) -> list[Registration]:
    """Offer free seats to the next people waiting; the caller holds the gathering's lock.

    Nothing is offered once the gathering has started, or when it is not published.
    """
    if not gathering.is_published or now >= gathering.starts_at:
        return []
    room = seats.room(gathering, now)
    if room.seats_left == 0:
        return []
    seats.before_seat_write("promote")
    waiting = seats.waitlist(gathering)
    chosen = set(capacity.offers_for(room, seats.queue(waiting)))
    if not chosen:
        return []
    settings = options.read_settings(gathering)
    offered = [r for r in waiting if r.id in chosen]
    for registration in offered:
        moves.offer(registration, settings, now)
    db.session.flush()
    for registration in offered:
        emails.offer(registration)
        logger.info("registration %s offered a seat from the waitlist", registration.id)
    return offered


def expire_lapsed(gathering: Gathering, *, now: datetime) -> list[Registration]:
    """End holds and offers whose deadline has passed; the caller holds the lock."""
    lapsed = list(
        db.session.scalars(
            sa.select(Registration)
            .where(
                Registration.gathering_id == gathering.id,
                seats.lapsed_condition(now),
            )
            .order_by(Registration.id)
            .execution_options(populate_existing=True)
        )
    )
    for registration in lapsed:
        moves.move(registration, Status.EXPIRED, now)
        logger.info("registration %s expired (hold or offer lapsed)", registration.id)
    db.session.flush()
    return lapsed


def offer_now(actor: User, registration: Registration, *, now: datetime) -> Registration:
    """Move someone from the waitlist to an offer now, ahead of the order, if a seat is free."""
    gathering = registration.gathering
    options.require_manager(actor, gathering)
    seats.lock_for(registration)
    if registration.status != Status.WAITLISTED:
        raise DomainError("not_waiting", "This person is not on the waitlist.")
    options.check_open(gathering, options.read_settings(gathering), now)
    room = seats.room(gathering, now)
    if not room.has_seat(registration.role_id):
        raise DomainError(
            "no_seat",
            "Every seat (or every place in this person's group) is taken. Raise the capacity "
            "first, or wait for a cancellation.",
        )
    seats.before_seat_write("offer_now")
    moves.offer(registration, options.read_settings(gathering), now)
    db.session.flush()
    emails.offer(registration)
    logger.info("registration %s offered a seat by %s", registration.id, actor.id)
    return registration


def position(registration: Registration) -> int | None:
    """Return a waiting registration's place in the queue (1 is next), else None."""
    if registration.status != Status.WAITLISTED or registration.waitlisted_at is None:
        return None
    ahead = db.session.scalar(
        sa.select(sa.func.count()).where(
            Registration.gathering_id == registration.gathering_id,
            Registration.status == Status.WAITLISTED,
            sa.or_(
                Registration.waitlisted_at < registration.waitlisted_at,
                sa.and_(
                    Registration.waitlisted_at == registration.waitlisted_at,
                    Registration.id < registration.id,
                ),
            ),
        )
    )
    return (ahead or 0) + 1

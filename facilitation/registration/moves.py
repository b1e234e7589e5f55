"""Move a registration to a new status, checked against the pure rules, with its timestamps.

Callers hold the gathering's lock (``seats.lock``) and send the emails.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa

from facilitation.extensions import db
from facilitation.gatherings.models import Gathering
from facilitation.registration import states
from facilitation.registration.models import Registration, RegistrationSettings
from facilitation.registration.pricing import OptionKind
from facilitation.registration.states import Status


def move(registration: Registration, target: Status, now: datetime) -> Registration:
    """Change the status, refusing a move the rules do not allow (a new one may start anywhere)."""
    if registration.status is not None:
        states.check_move(registration.status, target)
    registration.status = target
    registration.updated_at = now
    if target is not Status.HELD:
        registration.hold_expires_at = None
    if target is not Status.OFFERED:
        registration.offer_expires_at = None
    return registration


def confirm(registration: Registration, now: datetime) -> Registration:
    """Confirm a place; a pay-at-the-door option leaves its amount due at the door."""
    move(registration, Status.CONFIRMED, now)
    registration.confirmed_at = now
    if registration.ticket_option.kind == OptionKind.DOOR:
        registration.pay_at_door_due_minor = max(
            registration.amount_minor - registration.amount_paid_minor, 0
        )
    return registration


def hold(registration: Registration, settings: RegistrationSettings, now: datetime) -> Registration:
    """Hold a seat while the person pays by card."""
    move(registration, Status.HELD, now)
    registration.hold_expires_at = now + timedelta(minutes=settings.hold_minutes)
    return registration


def offer_deadline(settings: RegistrationSettings, gathering: Gathering, now: datetime) -> datetime:
    """Return when an offer made now lapses: after ``offer_hours``, but not after the start."""
    deadline = now + timedelta(hours=settings.offer_hours)
    if now < gathering.starts_at < deadline:
        return gathering.starts_at
    return deadline


def offer(
    registration: Registration, settings: RegistrationSettings, now: datetime
) -> Registration:
    """Keep a seat for someone until the offer deadline."""
    move(registration, Status.OFFERED, now)
    registration.offer_expires_at = offer_deadline(settings, registration.gathering, now)
    return registration


def waitlist(registration: Registration, now: datetime) -> Registration:
    """Put someone at the end of the waitlist."""
    move(registration, Status.WAITLISTED, now)
    registration.waitlisted_at = now
    return registration


def other_live(registration: Registration) -> Registration | None:
    """Return the person's other live registration for the same gathering, if any."""
    return db.session.scalar(
        sa.select(Registration).where(
            Registration.gathering_id == registration.gathering_id,
            Registration.user_id == registration.user_id,
            Registration.id != registration.id,
            Registration.status.in_([s.value for s in states.LIVE]),
        )
    )

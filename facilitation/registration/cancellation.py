"""Cancel registrations: by the participant (refund by policy), by the organisers, with a ban
(refund by policy), or all of a cancelled gathering's. Each frees its seat for the waitlist
in the same transaction.

A refund is decided here and recorded as owed; the caller sends it through Stripe after the
commit (``ledger.refund_plan`` gives the steps) and records it with ``ledger.record_refund``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime

import sqlalchemy as sa

from facilitation.accounts.models import User
from facilitation.core.errors import DomainError, Forbidden
from facilitation.extensions import db
from facilitation.gatherings.models import Gathering
from facilitation.registration import emails, moves, options, seats, states, waitlist
from facilitation.registration.models import Registration
from facilitation.registration.states import LIVE, RefundDecision, Status

logger = logging.getLogger(__name__)


@dataclass
class CancelOutcome:
    """What a cancellation did."""

    registration: Registration
    decision: RefundDecision
    #: Owed back and not yet sent: refund this through Stripe after the commit.
    refund_minor: int
    #: People offered the freed seat.
    offered: list[Registration] = field(default_factory=list)


def _unpaid_share(registration: Registration) -> int:
    """Return what the person paid that is not already owed back to them."""
    return max(registration.amount_paid_minor - registration.refund_owed_minor, 0)


def _cancel(registration: Registration, by: User, reason: str, now: datetime) -> None:
    if registration.status not in LIVE:
        raise DomainError(
            "not_cancellable", f"This registration is {registration.status}; nothing to cancel."
        )
    moves.move(registration, Status.CANCELLED, now)
    registration.cancelled_at = now
    registration.cancelled_by_id = by.id
    registration.cancel_reason = reason.strip()[:2000]
    registration.pay_at_door_due_minor = 0


def cancel_by_participant(
    user: User, registration: Registration, *, now: datetime
) -> CancelOutcome:
    """Cancel one's own registration; the gathering's refund policy decides the refund."""
    if registration.user_id != user.id:
        raise Forbidden("forbidden", "This is not your registration.")
    gathering = registration.gathering
    seats.lock_for(registration)
    if now >= gathering.ends_at:
        raise DomainError("gathering_over", "This gathering is over; nothing to cancel.")
    paid = _unpaid_share(registration)
    decision = refund_by_policy(registration, now)
    _cancel(registration, user, "", now)
    if decision is RefundDecision.FULL:
        registration.refund_owed_minor += paid
    db.session.flush()
    offered = waitlist.promote_locked(gathering, now=now)
    emails.cancelled(
        registration, refund_minor=registration.refund_outstanding_minor, decision=decision
    )
    logger.info("registration %s cancelled by its participant (%s)", registration.id, decision)
    return CancelOutcome(registration, decision, registration.refund_outstanding_minor, offered)


def cancel_by_organiser(
    actor: User, registration: Registration, reason: str, refund: bool, *, now: datetime
) -> CancelOutcome:
    """Cancel someone's registration as organiser, with a full refund or none."""
    gathering = registration.gathering
    options.require_manager(actor, gathering)
    seats.lock_for(registration)
    paid = _unpaid_share(registration)
    _cancel(registration, actor, reason, now)
    decision = RefundDecision.FULL if refund and paid > 0 else RefundDecision.NONE
    if decision is RefundDecision.FULL:
        registration.refund_owed_minor += paid
    db.session.flush()
    offered = waitlist.promote_locked(gathering, now=now)
    emails.cancelled(
        registration,
        refund_minor=registration.refund_outstanding_minor,
        decision=decision,
        by_organiser=True,
    )
    logger.info("registration %s cancelled by %s (refund: %s)", registration.id, actor.id, refund)
    return CancelOutcome(registration, decision, registration.refund_outstanding_minor, offered)


def upcoming_live(user_id: int, now: datetime) -> list[Registration]:
    """Return a person's live registrations for gatherings not yet over nor cancelled."""
    return list(
        db.session.scalars(
            sa.select(Registration)
            .join(Gathering, Gathering.id == Registration.gathering_id)
            .where(
                Registration.user_id == user_id,
                Registration.status.in_([s.value for s in LIVE]),
                Gathering.ends_at > now,
                Gathering.status != "cancelled",
            )
            .order_by(Gathering.starts_at, Registration.id)
        )
    )


def refund_by_policy(registration: Registration, now: datetime) -> RefundDecision:
    """Return what the gathering's refund policy gives back if this registration ends now."""
    gathering = registration.gathering
    settings = options.read_settings(gathering)
    deadline = states.refund_deadline(gathering.starts_at, settings.refund_deadline_hours)
    return states.refund_decision(
        settings.refund_policy, deadline, now, _unpaid_share(registration)
    )


def cancel_for_ban(actor: User, registration: Registration, *, now: datetime) -> CancelOutcome:
    """Cancel a banned person's registration, refunding by the gathering's refund policy."""
    options.require_manager(actor, registration.gathering)
    seats.lock_for(registration)
    paid = _unpaid_share(registration)
    decision = refund_by_policy(registration, now)
    _cancel(registration, actor, "", now)
    if decision is RefundDecision.FULL:
        registration.refund_owed_minor += paid
    db.session.flush()
    offered = waitlist.promote_locked(registration.gathering, now=now)
    emails.cancelled(
        registration,
        refund_minor=registration.refund_outstanding_minor,
        decision=decision,
        by_organiser=True,
    )
    logger.info("registration %s cancelled with a ban (%s)", registration.id, decision)
    return CancelOutcome(registration, decision, registration.refund_outstanding_minor, offered)


def cancel_gathering_registrations(
    actor: User, gathering: Gathering, *, now: datetime
) -> list[CancelOutcome]:
    """Cancel every live registration of a cancelled gathering with a full refund; tell all."""
    options.require_manager(actor, gathering)
    seats.lock(gathering)
    live = db.session.scalars(
        sa.select(Registration)
        .where(
            Registration.gathering_id == gathering.id,
            Registration.status.in_([s.value for s in LIVE]),
        )
        .order_by(Registration.id)
        .execution_options(populate_existing=True)
    ).all()
    outcomes = []
    for registration in live:
        paid = _unpaid_share(registration)
        _cancel(registration, actor, gathering.cancellation_note, now)
        registration.refund_owed_minor += paid
        decision = RefundDecision.FULL if paid else RefundDecision.NONE
        outcomes.append(
            CancelOutcome(registration, decision, registration.refund_outstanding_minor)
        )
    db.session.flush()
    for outcome in outcomes:
        emails.cancelled(
            outcome.registration,
            refund_minor=outcome.refund_minor,
            decision=outcome.decision,
            gathering_cancelled=True,
        )
    logger.info("gathering %s cancelled: %d registrations cancelled", gathering.id, len(outcomes))
    return outcomes

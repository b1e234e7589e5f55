"""Money in and out of registrations: payments, refunds and the Stripe events that report them.

The payments ledger is append-only; a registration's paid and refunded sums are cached by
these services, the only ones that write it. Stripe calls happen in the caller, never here:
the caller re-reads the PaymentIntent from Stripe, calls ``record_payment``, commits, and
then refunds through Stripe when told to, and records that with ``record_refund``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from facilitation.accounts.models import User
from facilitation.core.errors import DomainError
from facilitation.extensions import db
from facilitation.registration import capacity, emails, moves, options, seats, states
from facilitation.registration.models import (
    Payment,
    PaymentKind,
    PaymentProvider,
    Registration,
    StripeEvent,
)
from facilitation.registration.pricing import format_money
from facilitation.registration.services import get_registration
from facilitation.registration.states import Status

logger = logging.getLogger(__name__)


@dataclass
class PaymentOutcome:
    """What recording a received payment did."""

    registration: Registration
    #: False when this payment had been recorded before: nothing changed, no email went.
    recorded: bool
    #: This call confirmed the registration.
    confirmed: bool = False
    #: The money cannot be kept: refund ``refund_minor`` through Stripe, then record it.
    refund_needed: bool = False
    refund_minor: int = 0
    #: Why it is refunded: ``seat_gone``, ``not_payable``, ``amount_mismatch``, ``already_paid``.
    reason: str | None = None


def _existing(provider_ref: str) -> Payment | None:
    return db.session.scalar(sa.select(Payment).where(Payment.provider_ref == provider_ref))


def record_payment(
    registration_id: int,
    payment_intent_id: str,
    amount_received: int,
    currency: str,
    *,
    now: datetime,
) -> PaymentOutcome:
    """Record a card payment Stripe says succeeded; confirm the seat or say to refund it.

    Idempotent by PaymentIntent id: a second call changes nothing and sends no email. A
    payment on a lapsed hold still confirms while a seat is free for the person; otherwise
    (seat gone, registration cancelled, wrong amount) the whole amount is owed back.
    """
    if amount_received <= 0:
        raise DomainError("bad_amount", "A payment must be above zero.")
    registration = get_registration(registration_id)
    seats.lock_for(registration)
    if _existing(payment_intent_id) is not None:
        return PaymentOutcome(registration, recorded=False)
    currency = currency.upper()
    db.session.add(
        Payment(
            registration_id=registration.id,
            kind=PaymentKind.CHARGE,
            provider=PaymentProvider.STRIPE,
            provider_ref=payment_intent_id,
            amount_minor=amount_received,
            currency=currency,
            created_at=now,
        )
    )
    registration.amount_paid_minor += amount_received
    registration.payment_intent_id = payment_intent_id
    registration.updated_at = now
    gathering = registration.gathering
    status = registration.status
    if gathering.is_cancelled:
        status = Status.CANCELLED  # judged as not payable; its registrations are being cancelled
    room = seats.room(gathering, now, without_id=registration.id)
    verdict = states.judge_payment(
        status=status,
        amount_ok=amount_received == registration.amount_minor
        and currency == registration.currency,
        keeps_seat=capacity.holds_seat(
            registration.status, registration.hold_expires_at, registration.offer_expires_at, now
        ),
        seat_free=room.has_seat(registration.role_id),
        other_live=moves.other_live(registration) is not None,
    )
    if verdict.confirm:
        seats.before_seat_write("payment")
        moves.confirm(registration, now)
        db.session.flush()
        emails.confirmed(registration, now)
        logger.info("registration %s paid (%s) and confirmed", registration.id, payment_intent_id)
        return PaymentOutcome(registration, recorded=True, confirmed=True)
    if verdict.refund_reason == "seat_gone" and registration.status != Status.EXPIRED:
        moves.move(registration, Status.EXPIRED, now)
    registration.refund_owed_minor += amount_received
    db.session.flush()
    emails.late_payment(registration, amount_received, verdict.refund_reason or "not_payable")
    logger.info(
        "registration %s payment %s to be refunded (%s)",
        registration.id,
        payment_intent_id,
        verdict.refund_reason,
    )
    return PaymentOutcome(
        registration,
        recorded=True,
        refund_needed=True,
        refund_minor=amount_received,
        reason=verdict.refund_reason,
    )


def record_refund(
    registration_id: int,
    refund_id: str,
    amount_minor: int,
    *,
    now: datetime,
    provider: str = PaymentProvider.STRIPE,
    actor: User | None = None,
    note: str = "",
) -> bool:
    """Record money paid back (a Stripe refund re_…, or by hand); False if recorded before."""
    if amount_minor <= 0:
        raise DomainError("bad_amount", "A refund must be above zero.")
    if provider not in set(PaymentProvider):
        raise DomainError("bad_provider", "Say how the money was paid back.")
    registration = get_registration(registration_id)
    seats.lock_for(registration)
    if _existing(refund_id) is not None:
        return False
    if registration.amount_refunded_minor + amount_minor > registration.amount_paid_minor:
        raise DomainError("refund_too_large", "That is more than this registration paid.")
    db.session.add(
        Payment(
            registration_id=registration.id,
            kind=PaymentKind.REFUND,
            provider=provider,
            provider_ref=refund_id,
            amount_minor=amount_minor,
            currency=registration.currency,
            created_at=now,
            recorded_by_id=actor.id if actor is not None else None,
            note=note.strip()[:1000],
        )
    )
    registration.amount_refunded_minor += amount_minor
    # A refund made elsewhere (Stripe's dashboard) was owed all the same.
    registration.refund_owed_minor = max(
        registration.refund_owed_minor, registration.amount_refunded_minor
    )
    registration.updated_at = now
    db.session.flush()
    emails.refunded(registration, amount_minor, by_card=provider == PaymentProvider.STRIPE)
    logger.info("registration %s refunded %s (%s)", registration.id, amount_minor, refund_id)
    return True


def record_door_payment(
    actor: User, registration: Registration, amount_minor: int, *, now: datetime, note: str = ""
) -> Payment:
    """Record money taken at the door (or by hand) for a confirmed registration."""
    options.require_manager(actor, registration.gathering)
    return take_door_payment(actor, registration, amount_minor, now=now, note=note)


def take_door_payment(
    actor: User, registration: Registration, amount_minor: int, *, now: datetime, note: str = ""
) -> Payment:
    """Record money taken at the door by someone the caller has already authorised.

    The check-in desk calls this for its door volunteers, who may take money at the door
    but not manage registrations; everyone else goes through ``record_door_payment``.
    """
    if amount_minor <= 0:
        raise DomainError("bad_amount", "Give the amount received.", "amount_minor")
    seats.lock_for(registration)
    if registration.status != Status.CONFIRMED:
        raise DomainError("not_confirmed", "Only a confirmed registration can pay at the door.")
    payment = Payment(
        registration_id=registration.id,
        kind=PaymentKind.CHARGE,
        provider=PaymentProvider.DOOR,
        amount_minor=amount_minor,
        currency=registration.currency,
        created_at=now,
        recorded_by_id=actor.id,
        note=note.strip()[:1000],
    )
    db.session.add(payment)
    registration.amount_paid_minor += amount_minor
    registration.pay_at_door_due_minor = max(registration.pay_at_door_due_minor - amount_minor, 0)
    registration.updated_at = now
    db.session.flush()
    logger.info("registration %s paid %s at the door (%s)", registration.id, amount_minor, actor.id)
    return payment


def grant_refund(
    actor: User, registration: Registration, amount_minor: int, *, now: datetime
) -> int:
    """Decide to pay back part or all of what someone paid; return what is now to be sent."""
    options.require_manager(actor, registration.gathering)
    seats.lock_for(registration)
    room_left = registration.amount_paid_minor - registration.refund_owed_minor
    if amount_minor <= 0 or amount_minor > room_left:
        raise DomainError(
            "bad_refund",
            "Give an amount above zero and at most what is left to refund "
            f"({format_money(max(room_left, 0), registration.currency)}).",
            "amount_minor",
        )
    registration.refund_owed_minor += amount_minor
    registration.updated_at = now
    db.session.flush()
    logger.info(
        "refund of %s granted on registration %s by %s", amount_minor, registration.id, actor.id
    )
    return registration.refund_outstanding_minor


@dataclass(frozen=True)
class RefundStep:
    """Send this much back against this Stripe PaymentIntent."""

    payment_intent_id: str
    amount_minor: int


def refund_plan(registration: Registration) -> list[RefundStep]:
    """Split what is still owed back across the registration's card payments, newest first.

    What card payments cannot cover (money taken at the door) is left to be paid back by hand
    and recorded with ``record_refund(..., provider="manual")``.
    """
    owed = registration.refund_outstanding_minor
    rows = db.session.scalars(
        sa.select(Payment)
        .where(Payment.registration_id == registration.id)
        .order_by(Payment.created_at.desc(), Payment.id.desc())
    ).all()
    refunded = sum(p.amount_minor for p in rows if p.kind == PaymentKind.REFUND)
    steps: list[RefundStep] = []
    # Earlier refunds are taken as covering the newest charges first, as the plan does.
    for charge in (p for p in rows if p.kind == PaymentKind.CHARGE):
        if owed <= 0:
            break
        if charge.provider != PaymentProvider.STRIPE or charge.provider_ref is None:
            continue
        left = charge.amount_minor - min(refunded, charge.amount_minor)
        refunded -= charge.amount_minor - left
        if left > 0:
            steps.append(RefundStep(charge.provider_ref, min(left, owed)))
            owed -= min(left, owed)
    return steps


def refunds_outstanding(gathering_id: int | None = None) -> list[Registration]:
    """Return registrations with money still to send back (for a retry after a failure)."""
    stmt = sa.select(Registration).where(
        Registration.refund_owed_minor > Registration.amount_refunded_minor
    )
    if gathering_id is not None:
        stmt = stmt.where(Registration.gathering_id == gathering_id)
    return list(db.session.scalars(stmt.order_by(Registration.id)))


def claim_stripe_event(event_id: str, event_type: str, *, now: datetime) -> bool:
    """Store a webhook event's id once; return False if it was stored before (a replay).

    Concurrent deliveries of one event wait for each other: only one inserts, and if its
    transaction rolls back the next delivery may claim the event instead.
    """
    dialect = db.session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    inserted = db.session.execute(
        insert(StripeEvent.__table__)
        .values(id=event_id, type=event_type[:100], received_at=now, outcome="")
        .on_conflict_do_nothing(index_elements=["id"])
        .returning(StripeEvent.__table__.c.id)
    ).first()
    return inserted is not None


def finish_stripe_event(event_id: str, outcome: str, *, now: datetime) -> None:
    """Note what handling a webhook event did."""
    db.session.execute(
        sa.update(StripeEvent)
        .where(StripeEvent.id == event_id)
        .values(processed_at=now, outcome=outcome[:2000])
    )

"""Registration statuses, the moves allowed between them, and the refund policy; pure.

A registration is *live* while it stands for a person coming or wanting to come (at most one
live registration per person and gathering). A live registration *holds a seat* when it is
confirmed, or held or offered before its deadline:

    applied ──approve──▶ offered ─start payment─▶ held ──paid──▶ confirmed
       │  └─approve (free / door)──────────────────────────────▶ confirmed
       │  └─approve, no seat──▶ waitlisted ──seat frees──▶ offered ──accept (free)──▶ confirmed
       └─decline──▶ declined
    offered / held ──deadline passes──▶ expired ──late payment, seat free──▶ confirmed
    any live or confirmed ──cancel──▶ cancelled
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime, timedelta

from facilitation.core.errors import DomainError

#: Pure core: no framework import, here or in what it imports (tests/core/test_pure_core.py).
__pure__ = True


class Status(enum.StrEnum):
    """Where one registration stands."""

    APPLIED = "applied"  #: waiting for the facilitators' decision; no seat
    OFFERED = "offered"  #: a seat is kept until ``offer_expires_at``
    HELD = "held"  #: a seat is kept while paying until ``hold_expires_at``
    CONFIRMED = "confirmed"
    WAITLISTED = "waitlisted"
    DECLINED = "declined"
    CANCELLED = "cancelled"
    EXPIRED = "expired"


#: Statuses in which a person counts as registered (one per person and gathering).
LIVE = frozenset({Status.APPLIED, Status.OFFERED, Status.HELD, Status.CONFIRMED, Status.WAITLISTED})
#: Statuses that keep a seat (offered and held only until their deadline).
SEATED = frozenset({Status.OFFERED, Status.HELD, Status.CONFIRMED})

TRANSITIONS: dict[Status, frozenset[Status]] = {
    Status.APPLIED: frozenset(
        {Status.OFFERED, Status.CONFIRMED, Status.WAITLISTED, Status.DECLINED, Status.CANCELLED}
    ),
    Status.WAITLISTED: frozenset({Status.OFFERED, Status.CANCELLED}),
    Status.OFFERED: frozenset({Status.HELD, Status.CONFIRMED, Status.EXPIRED, Status.CANCELLED}),
    Status.HELD: frozenset({Status.HELD, Status.CONFIRMED, Status.EXPIRED, Status.CANCELLED}),
    Status.EXPIRED: frozenset({Status.HELD, Status.CONFIRMED}),
    Status.CONFIRMED: frozenset({Status.CANCELLED}),
    Status.DECLINED: frozenset(),
    Status.CANCELLED: frozenset(),
}


class StateError(DomainError):
    """A registration cannot move from its status to the one asked for."""


def can_move(current: str, target: str) -> bool:
    """Return whether a registration may go from ``current`` to ``target``."""
    return Status(target) in TRANSITIONS[Status(current)]


def check_move(current: str, target: str) -> None:
    """Raise ``StateError`` unless a registration may go from ``current`` to ``target``."""
    if not can_move(current, target):
        raise StateError(
            "bad_transition",
            f"This registration is {Status(current).value} and cannot become "
            f"{Status(target).value}. Reload the page to see where it stands.",
        )


def is_live(status: str) -> bool:
    """Return whether a registration in ``status`` counts as the person's registration."""
    return Status(status) in LIVE


class Placement(enum.StrEnum):
    """Where a new (or newly approved) registration lands."""

    APPLIED = "applied"
    WAITLISTED = "waitlisted"
    CONFIRMED = "confirmed"  #: nothing to pay now (free, fully discounted, or at the door)
    HELD = "held"  #: seat held while paying by card
    OFFERED = "offered"  #: approved and paid by card: a seat kept until the offer deadline


def place(
    *, needs_approval: bool, has_seat: bool, pays_by_card: bool, approved: bool = False
) -> Placement:
    """Decide where a registration lands.

    ``needs_approval`` and not yet ``approved``: an application. Otherwise no seat means the
    waitlist; nothing to pay by card means confirmed; a card payment means a held seat, or an
    offer when it follows an approval (the person pays later, within the offer deadline).
    """
    if needs_approval and not approved:
        return Placement.APPLIED
    if not has_seat:
        return Placement.WAITLISTED
    if not pays_by_card:
        return Placement.CONFIRMED
    return Placement.OFFERED if approved else Placement.HELD


class RefundPolicy(enum.StrEnum):
    """What a participant who cancels gets back."""

    FULL_BEFORE_DEADLINE = "full_before_deadline"
    NONE = "none"
    ORGANISER_DECIDES = "organiser_decides"


class RefundDecision(enum.StrEnum):
    """What the policy says about one cancellation."""

    FULL = "full"
    NONE = "none"
    ORGANISER = "organiser"  #: no automatic refund; the organisers decide


def refund_deadline(starts_at: datetime, hours_before: int) -> datetime:
    """Return the moment after which a cancellation no longer earns a full refund."""
    return starts_at - timedelta(hours=hours_before)


def refund_decision(
    policy: str, deadline: datetime, now: datetime, paid_minor: int
) -> RefundDecision:
    """Apply a refund policy to a cancellation at ``now`` of a registration that paid this much.

    A full refund needs the cancellation strictly before the deadline; at the deadline itself
    the policy already says no.
    """
    if paid_minor <= 0:
        return RefundDecision.NONE
    chosen = RefundPolicy(policy)
    if chosen is RefundPolicy.NONE:
        return RefundDecision.NONE
    if chosen is RefundPolicy.ORGANISER_DECIDES:
        return RefundDecision.ORGANISER
    return RefundDecision.FULL if now < deadline else RefundDecision.NONE


@dataclass(frozen=True)
class LatePayment:
    """What to do with money that arrived for a registration: confirm it or give it back."""

    confirm: bool
    #: Why it is given back: ``seat_gone``, ``not_payable``, ``amount_mismatch``, ``already_paid``.
    refund_reason: str | None = None


def judge_payment(
    *, status: str, amount_ok: bool, keeps_seat: bool, seat_free: bool, other_live: bool
) -> LatePayment:
    """Decide what a received payment does.

    ``keeps_seat``: the hold or offer has not lapsed. ``seat_free``: a seat is free for this
    person now (counted without them). ``other_live``: the person registered again since.
    """
    current = Status(status)
    if current is Status.CONFIRMED:
        return LatePayment(False, "already_paid")
    if current not in {Status.HELD, Status.OFFERED, Status.EXPIRED}:
        return LatePayment(False, "not_payable")
    if not amount_ok:
        return LatePayment(False, "amount_mismatch")
    if current is not Status.EXPIRED and keeps_seat:
        return LatePayment(True)
    if seat_free and not other_live:
        return LatePayment(True)
    return LatePayment(False, "seat_gone")

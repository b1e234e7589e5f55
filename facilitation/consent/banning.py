"""A ban, confirmed on purpose: it cancels the person's upcoming registrations (refunds by each
gathering's refund policy) and the desk then refuses them.

The caller commits, then sends the card refunds (``registration.refunds.send_owed``) and takes
the person out of live runs; money taken at the door stays listed as owed back.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime

from facilitation.accounts.models import User
from facilitation.consent import safety
from facilitation.consent.models import Ban
from facilitation.core.errors import DomainError
from facilitation.registration import cancellation
from facilitation.registration.cancellation import CancelOutcome
from facilitation.registration.models import Registration
from facilitation.registration.states import RefundDecision

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Planned:
    """One upcoming registration a ban would cancel, and what its policy refunds."""

    registration: Registration
    decision: RefundDecision
    #: What goes back by the policy (0 when the policy keeps it or organisers decide).
    refund_minor: int


@dataclass
class BanOutcome:
    """What a confirmed ban did."""

    ban: Ban
    cancelled: list[CancelOutcome] = field(default_factory=list)

    @property
    def refund_ids(self) -> list[int]:
        """Return the registrations with money owed back, to send after the commit."""
        return [o.registration.id for o in self.cancelled if o.refund_minor > 0]


def plan(actor: User, person: User, *, now: datetime) -> list[Planned]:
    """Say what banning ``person`` would cancel and refund; change nothing."""
    safety.check_bannable(actor, person)
    planned = []
    for registration in cancellation.upcoming_live(person.id, now):
        decision = cancellation.refund_by_policy(registration, now)
        owed = registration.amount_paid_minor - registration.refund_owed_minor
        refund = max(owed, 0) if decision is RefundDecision.FULL else 0
        planned.append(Planned(registration, decision, refund))
    return planned


def ban_person(
    actor: User, person: User, reason: str, *, confirmed: bool, now: datetime
) -> BanOutcome:
    """Ban a person once confirmed, cancelling their upcoming registrations by policy."""
    safety.check_bannable(actor, person)
    if not confirmed:
        raise DomainError(
            "confirm_ban", "Tick the box to confirm the ban; nothing was changed.", "confirm"
        )
    record = safety.ban(actor, person, reason, now=now)
    outcome = BanOutcome(record)
    for registration in cancellation.upcoming_live(person.id, now):
        outcome.cancelled.append(cancellation.cancel_for_ban(actor, registration, now=now))
    logger.info(
        "ban %s: %d upcoming registrations cancelled by %s",
        record.id,
        len(outcome.cancelled),
        actor.id,
    )
    return outcome

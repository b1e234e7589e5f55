"""The check-in desk's building blocks: who may work it, what it shows, admitting someone.

The public services (``services``, ``walk_ins``) are built from these. What the desk shows of
a person is deliberately small (name, email, ticket option, status, what is missing); never
registration answers, boundaries or sensitive notes, which door volunteers must not see.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from facilitation.accounts.models import User
from facilitation.attendance import rules
from facilitation.attendance.models import CheckIn, CheckInMethod, WalkIn
from facilitation.consent import safety
from facilitation.consent import services as consent_services
from facilitation.core.errors import DomainError, Forbidden
from facilitation.extensions import db
from facilitation.gatherings import permissions
from facilitation.gatherings.models import Gathering
from facilitation.registration import capacity
from facilitation.registration.models import Registration
from facilitation.registration.states import Status

logger = logging.getLogger(__name__)

#: What a desk's request id may look like: a client-made nonce (a UUID, say).
REQUEST_ID = re.compile(r"[A-Za-z0-9_.:-]{8,64}")


class DeskRefusal(DomainError):
    """The desk may not admit this person now; ``decision`` says why, in large type."""

    status = 409

    def __init__(self, decision: rules.DeskDecision) -> None:
        super().__init__(decision.code, decision.headline)
        self.decision = decision


def require_desk(user: User, gathering: Gathering) -> None:
    """Refuse anyone who may not work this gathering's desk."""
    if not permissions.may_work_desk(user, gathering):
        raise Forbidden("forbidden", "Only organisers, facilitators and door staff can check in.")


def check_request_id(request_id: str) -> str:
    """Return a desk request id if it is well formed; refuse it otherwise."""
    if not REQUEST_ID.fullmatch(request_id or ""):
        raise DomainError("bad_request_id", "This request cannot be identified; reload the desk.")
    return request_id


@dataclass(frozen=True)
class DeskView:
    """One registration as the desk shows it, with the desk's decision."""

    registration_id: int
    gathering_id: int
    name: str
    display_name: str
    #: Empty for a ticket of another gathering: the desk has no business with it.
    email: str
    option: str
    status: str
    decision: rules.DeskDecision
    #: When they were checked in, and the check-in to undo, while they are checked in.
    checked_in_at: datetime | None
    check_in_id: int | None
    #: Required agreements not validly signed yet, as (agreement id, title), to sign at the desk.
    agreements_to_sign: tuple[tuple[int, str], ...]
    door_due_minor: int
    currency: str
    #: Registered at the door.
    walk_in: bool


def active_check_in(gathering_id: int, user_id: int) -> CheckIn | None:
    """Return the person's standing check-in at a gathering, if they are checked in."""
    return db.session.scalar(
        sa.select(CheckIn).where(
            CheckIn.gathering_id == gathering_id,
            CheckIn.user_id == user_id,
            CheckIn.undone_at.is_(None),
        )
    )


def by_request(request_id: str) -> CheckIn | None:
    """Return the check-in a desk request made, if it made one."""
    return db.session.scalar(sa.select(CheckIn).where(CheckIn.request_id == request_id))


def _first_visit(user_id: int, gathering_id: int) -> bool:
    elsewhere = sa.select(CheckIn.id).where(
        CheckIn.user_id == user_id,
        CheckIn.gathering_id != gathering_id,
        CheckIn.undone_at.is_(None),
    )
    return not db.session.scalar(sa.select(elsewhere.exists()))


def effective_status(registration: Registration, now: datetime) -> str:
    """Return the registration's status, a hold or offer past its deadline read as expired."""
    status = registration.status
    if status in (Status.HELD, Status.OFFERED) and not capacity.holds_seat(
        status, registration.hold_expires_at, registration.offer_expires_at, now
    ):
        return Status.EXPIRED
    return status


@dataclass(frozen=True)
class Gathered:
    """The facts about one registration at a desk, and what the view needs besides."""

    facts: rules.DeskFacts
    check_in: CheckIn | None
    to_sign: tuple[tuple[int, str], ...]


def gather(
    registration: Registration,
    gathering: Gathering,
    now: datetime,
    *,
    payment_taken_minor: int | None = None,
) -> Gathered:
    """Collect what the rules need to decide about a registration at this gathering's desk."""
    person = registration.user
    if registration.gathering_id != gathering.id:
        other = registration.gathering
        facts = rules.DeskFacts(
            status=registration.status,
            timezone=gathering.timezone,
            other_gathering=rules.OtherGathering(other.title, other.starts_at, other.timezone),
        )
        return Gathered(facts, None, ())
    missing = consent_services.missing_agreements(person.id, gathering.id)
    standing = active_check_in(gathering.id, person.id)
    facts = rules.DeskFacts(
        status=effective_status(registration, now),
        timezone=gathering.timezone,
        gathering_cancelled=gathering.is_cancelled,
        missing_agreements=tuple(a.title for a in missing),
        door_due_minor=registration.pay_at_door_due_minor,
        currency=registration.currency,
        banned=safety.active_ban(person.email, person.id) is not None,
        checked_in_at=standing.checked_in_at if standing is not None else None,
        first_visit=_first_visit(person.id, gathering.id),
        payment_taken_minor=payment_taken_minor,
    )
    return Gathered(facts, standing, tuple((a.id, a.title) for a in missing))


def view_of(
    registration: Registration,
    gathering: Gathering,
    now: datetime,
    gathered: Gathered | None = None,
) -> DeskView:
    """Return what the desk shows about a registration, with the rules' decision."""
    gathered = gathered or gather(registration, gathering, now)
    person = registration.user
    same = registration.gathering_id == gathering.id
    walk_in = same and db.session.scalar(
        sa.select(sa.select(WalkIn.id).where(WalkIn.registration_id == registration.id).exists())
    )
    standing = gathered.check_in
    return DeskView(
        registration_id=registration.id,
        gathering_id=registration.gathering_id,
        name=person.name,
        display_name=person.display_name,
        email=person.email if same else "",
        option=registration.ticket_option.name if same else "",
        status=gathered.facts.status,
        decision=rules.decide(gathered.facts),
        checked_in_at=standing.checked_in_at if standing is not None else None,
        check_in_id=standing.id if standing is not None else None,
        agreements_to_sign=gathered.to_sign,
        door_due_minor=registration.pay_at_door_due_minor if same else 0,
        currency=registration.currency,
        walk_in=bool(walk_in),
    )


def admit(
    actor: User,
    registration: Registration,
    *,
    request_id: str,
    method: str,
    now: datetime,
) -> CheckIn:
    """Add the check-in row (the caller holds the gathering's lock and has decided to admit)."""
    if method not in set(CheckInMethod):
        raise DomainError("bad_method", "Say how the person was found: scan, search or walk-in.")
    row = CheckIn(
        gathering_id=registration.gathering_id,
        registration_id=registration.id,
        user_id=registration.user_id,
        checked_in_at=now,
        by_id=actor.id,
        method=method,
        request_id=request_id,
    )
    db.session.add(row)
    db.session.flush()
    logger.info(
        "registration %s checked in at gathering %s by %s (%s, check-in %s)",
        registration.id,
        registration.gathering_id,
        actor.id,
        method,
        row.id,
    )
    return row

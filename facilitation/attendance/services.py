"""Check-in at the door: look a ticket up, search, admit, undo, sign at the desk, count.

Every rule is enforced here, so the desk page, an API or a script get the same answers.
Services flush and never commit; on a ``DomainError`` the caller rolls back, as everywhere.

An admission runs under the gathering's lock (``seats.lock_for``), so two desks, or one
desk's retried request, cannot admit the same person twice; a partial unique index (one
standing check-in per registration) holds that line in the database as well. A request the
desk retries (same ``request_id``) gets the first outcome back and writes nothing.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from facilitation.accounts.models import User
from facilitation.attendance import rules, tickets
from facilitation.attendance.desk import (
    DeskRefusal,
    DeskView,
    active_check_in,
    admit,
    by_request,
    check_request_id,
    gather,
    require_desk,
    view_of,
)
from facilitation.attendance.models import CheckIn, CheckInMethod, WalkIn
from facilitation.attendance.walk_ins import WalkInInput, WalkInOutcome, walk_in
from facilitation.consent import services as consent_services
from facilitation.consent.models import AgreementVersion, Signature
from facilitation.core.errors import DomainError, NotFound
from facilitation.extensions import db
from facilitation.gatherings.models import Gathering
from facilitation.registration import ledger, seats
from facilitation.registration.models import Payment, Registration
from facilitation.registration.states import LIVE, Status

__all__ = [
    "CheckInMethod",
    "CheckInOutcome",
    "DeskRefusal",
    "DeskView",
    "Headcount",
    "WalkInInput",
    "WalkInOutcome",
    "active_check_in",
    "check_in",
    "checked_in_user_ids",
    "desk_sign",
    "headcount",
    "lookup_ticket",
    "search",
    "undo_check_in",
    "uses_check_in",
    "walk_in",
]

logger = logging.getLogger(__name__)

#: Most people one desk search shows.
SEARCH_LIMIT = 20


def lookup_ticket(actor: User, gathering: Gathering, scanned_text: str, now: datetime) -> DeskView:
    """Return what the desk shows for a scanned or typed ticket code; write nothing.

    An unreadable code raises ``UnreadableCode``; a well-formed code that is no ticket of
    ours raises ``unknown_ticket``. A ticket of another gathering comes back refused with
    that gathering's name.
    """
    require_desk(actor, gathering)
    token = tickets.read_code(scanned_text)
    ticket = tickets.find_ticket(token)
    if ticket is None:
        raise NotFound("unknown_ticket", "This code is not one of our tickets.")
    return view_of(ticket.registration, gathering, now)


def _like(text: str) -> str:
    return "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def _rank(registration: Registration) -> tuple[int, int]:
    """Order one person's registrations: confirmed, then other live ones, then the newest."""
    if registration.status == Status.CONFIRMED:
        return (0, -registration.id)
    if registration.status in LIVE:
        return (1, -registration.id)
    return (2, -registration.id)


def search(actor: User, gathering: Gathering, text: str, now: datetime) -> list[DeskView]:
    """Find people registered for this gathering by name or email (at least two characters).

    One row per person: their confirmed registration if any, else their latest one.
    """
    require_desk(actor, gathering)
    text = " ".join(text.split()).lower()
    if len(text) < 2:
        return []
    pattern = _like(text)
    found = db.session.scalars(
        sa.select(Registration)
        .join(User, User.id == Registration.user_id)
        .where(
            Registration.gathering_id == gathering.id,
            sa.or_(
                sa.func.lower(User.name).like(pattern, escape="\\"),
                sa.func.lower(User.display_name).like(pattern, escape="\\"),
                sa.func.lower(User.email).like(pattern, escape="\\"),
            ),
        )
        .order_by(User.name, Registration.id)
        .limit(SEARCH_LIMIT * 3)
    ).all()
    best: dict[int, Registration] = {}
    for registration in found:
        kept = best.get(registration.user_id)
        if kept is None or _rank(registration) < _rank(kept):
            best[registration.user_id] = registration
    chosen = sorted(best.values(), key=lambda r: (_rank(r)[0], r.user.name.lower()))
    return [view_of(r, gathering, now) for r in chosen[:SEARCH_LIMIT]]


@dataclass(frozen=True)
class CheckInOutcome:
    """What a check-in request did."""

    #: ``checked_in`` (admitted now, or by this same request before) or ``already_checked_in``.
    result: str
    check_in: CheckIn
    decision: rules.DeskDecision
    #: This request had been handled before; nothing was written now.
    replayed: bool = False
    #: The money taken at the door with this admission, if any.
    payment: Payment | None = None

    @property
    def checked_in_at(self) -> datetime:
        """Return when the person was checked in."""
        return self.check_in.checked_in_at


def _replay(row: CheckIn, gathering: Gathering, registration_id: int) -> CheckInOutcome:
    if row.gathering_id != gathering.id or row.registration_id != registration_id:
        raise DomainError("request_reused", "This request was already used for someone else.")
    at = rules.clock(row.checked_in_at, gathering.timezone)
    decision = rules.DeskDecision(rules.Verdict.ADMIT, "admit", "Admit", f"Checked in at {at}")
    return CheckInOutcome("checked_in", row, decision, replayed=True)


def check_in(
    actor: User,
    gathering: Gathering,
    registration_id: int,
    request_id: str,
    now: datetime,
    door_payment_minor: int | None = None,
    *,
    method: str = CheckInMethod.SEARCH,
) -> CheckInOutcome:
    """Admit a person at the desk, taking the money due at the door when there is some.

    ``door_payment_minor`` says the desk has taken that sum; it must be exactly what is due.
    Raises ``DeskRefusal`` (with the rules' decision) when the person may not come in; a
    person already checked in gets ``already_checked_in`` and the time, and nothing changes.
    """
    require_desk(actor, gathering)
    check_request_id(request_id)
    registration = db.session.get(Registration, registration_id)
    if registration is None:
        raise NotFound("not_found", "No such registration.")
    seats.lock_for(registration)
    earlier = by_request(request_id)
    if earlier is not None:
        return _replay(earlier, gathering, registration_id)
    gathered = gather(registration, gathering, now, payment_taken_minor=door_payment_minor)
    decision = rules.decide(gathered.facts)
    if decision.code == "already_checked_in" and gathered.check_in is not None:
        return CheckInOutcome("already_checked_in", gathered.check_in, decision)
    if not decision.admitted:
        raise DeskRefusal(decision)
    payment = None
    if door_payment_minor:
        payment = ledger.take_door_payment(
            actor, registration, door_payment_minor, now=now, note="Taken at the check-in desk."
        )
    row = admit(actor, registration, request_id=request_id, method=method, now=now)
    return CheckInOutcome("checked_in", row, decision, payment=payment)


def undo_check_in(actor: User, check_in_id: int, now: datetime) -> CheckIn:
    """Undo a check-in (a mistap); the row stays, stamped. Money taken stays recorded.

    Undoing one already undone changes nothing. The person can be checked in again.
    """
    row = db.session.get(CheckIn, check_in_id)
    if row is None:
        raise NotFound("not_found", "No such check-in.")
    gathering = db.session.get(Gathering, row.gathering_id)
    assert gathering is not None
    require_desk(actor, gathering)
    seats.lock_for(row.registration)
    db.session.refresh(row)
    if row.undone_at is not None:
        return row
    row.undone_at = now
    row.undone_by_id = actor.id
    db.session.flush()
    logger.info("check-in %s undone by %s", row.id, actor.id)
    return row


def desk_sign(
    actor: User,
    gathering: Gathering,
    registration_id: int,
    data: consent_services.SignInput,
    *,
    now: datetime,
) -> Signature:
    """Let a person sign one of the gathering's required agreements on the desk's device."""
    require_desk(actor, gathering)
    registration = db.session.get(Registration, registration_id)
    if registration is None or registration.gathering_id != gathering.id:
        raise NotFound("not_found", "No such registration for this gathering.")
    version = db.session.get(AgreementVersion, data.version_id)
    required = {a.id for a in consent_services.required_agreements(gathering.id)}
    if version is None or version.agreement_id not in required:
        raise NotFound("not_required", "This gathering does not ask for that agreement.")
    data.gathering_id = gathering.id
    signature = consent_services.sign(registration.user, data, now=now)
    logger.info(
        "signature %s made at the desk of gathering %s (by %s)",
        signature.id,
        gathering.id,
        actor.id,
    )
    return signature


@dataclass(frozen=True)
class Headcount:
    """Who is in the room, against who is expected."""

    #: People checked in now.
    checked_in: int
    #: Confirmed registrations (walk-ins included).
    expected: int
    #: Registrations made at the door.
    walk_ins: int

    @property
    def not_arrived(self) -> int:
        """Return how many expected people are not checked in (never below zero)."""
        return max(self.expected - self.checked_in, 0)


def headcount(gathering: Gathering) -> Headcount:
    """Count who is checked in at a gathering, who is expected and who walked in."""
    checked_in = db.session.scalar(
        sa.select(sa.func.count(sa.distinct(CheckIn.user_id))).where(
            CheckIn.gathering_id == gathering.id, CheckIn.undone_at.is_(None)
        )
    )
    expected = db.session.scalar(
        sa.select(sa.func.count()).where(
            Registration.gathering_id == gathering.id, Registration.status == Status.CONFIRMED
        )
    )
    walk_ins = db.session.scalar(
        sa.select(sa.func.count()).where(WalkIn.gathering_id == gathering.id)
    )
    return Headcount(int(checked_in or 0), int(expected or 0), int(walk_ins or 0))


def checked_in_user_ids(gathering_id: int) -> set[int]:
    """Return the accounts checked in at a gathering now."""
    return set(
        db.session.scalars(
            sa.select(CheckIn.user_id).where(
                CheckIn.gathering_id == gathering_id, CheckIn.undone_at.is_(None)
            )
        )
    )


def uses_check_in(gathering_id: int) -> bool:
    """Return whether anyone has ever been checked in at this gathering (undone or not)."""
    any_row = sa.select(CheckIn.id).where(CheckIn.gathering_id == gathering_id)
    return bool(db.session.scalar(sa.select(any_row.exists())))

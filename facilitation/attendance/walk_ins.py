"""Walk-ins: register someone at the door, take their money and check them in, in one go.

The desk's one screen gives a name, an email, a free or pay-at-the-door option, the money
taken and a request id. Everything happens in the caller's one transaction: the account (if
the address is new), the registration (through ``registration.services.register``, so
capacity, the waitlist's priority and bans apply), the door payment, the walk-in record and
the check-in. On any ``DomainError`` the caller rolls back and nothing is left behind.

A required agreement not yet signed stops only the check-in: the registration and payment
stand, the outcome says what to sign, and the desk checks them in once they have signed.
"""

from __future__ import annotations

import logging
import re
import secrets
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from facilitation.accounts import services as accounts
from facilitation.accounts.models import User
from facilitation.attendance import rules
from facilitation.attendance.desk import (
    DeskRefusal,
    admit,
    check_request_id,
    gather,
    require_desk,
)
from facilitation.attendance.models import CheckIn, CheckInMethod, WalkIn
from facilitation.consent import safety
from facilitation.core.errors import DomainError
from facilitation.core.links import site_url_for
from facilitation.extensions import db
from facilitation.gatherings import permissions
from facilitation.gatherings.models import Gathering
from facilitation.messaging import services as mail
from facilitation.registration import capacity, ledger, options, seats
from facilitation.registration import services as registration_services
from facilitation.registration.models import Payment, Registration, TicketOption
from facilitation.registration.pricing import OptionKind, format_money
from facilitation.registration.states import Status

logger = logging.getLogger(__name__)

#: Stored as the password of an account made at the door: no password can match it, so
#: the account opens only through the link emailed to choose one.
NO_PASSWORD_YET = "!walk-in:no-password-yet"
EMAIL_SHAPE = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
FULL = "No seat left for a walk-in."


@dataclass
class WalkInInput:
    """What the walk-in screen sends."""

    name: str
    email: str
    option_id: int | None
    #: Money taken at the door, in minor units: the option's price (0 for a free option).
    amount_minor: int | None
    #: The desk's nonce for this submit; a retried submit returns the first outcome.
    request_id: str
    role_id: int | None = None


@dataclass(frozen=True)
class WalkInOutcome:
    """What a walk-in did."""

    registration: Registration
    walk_in: WalkIn
    #: What the desk shows now: ``admit``, or ``agreements_missing`` with what to sign.
    decision: rules.DeskDecision
    check_in: CheckIn | None
    payment: Payment | None
    account_created: bool
    replayed: bool = False


def _option(gathering: Gathering, option_id: int | None) -> TicketOption:
    option = db.session.get(TicketOption, option_id) if option_id is not None else None
    if option is None or option.gathering_id != gathering.id or not option.is_active:
        raise DomainError("option_required", "Choose one of the ticket options.", "option_id")
    if option.kind not in (OptionKind.FREE, OptionKind.DOOR):
        raise DomainError(
            "option_not_at_door",
            "At the door, choose a free or pay-at-the-door option.",
            "option_id",
        )
    return option


def _check_amount(option: TicketOption, amount_minor: int | None, currency: str) -> int:
    due = option.price_minor if option.kind == OptionKind.DOOR else 0
    if (amount_minor or 0) != due:
        money = format_money(due, currency)
        message = f"Take exactly {money}." if due else "This option is free: take no money."
        raise DomainError("wrong_amount", message, "amount_minor")
    return due


def _replay(earlier: WalkIn, gathering: Gathering) -> WalkInOutcome:
    if earlier.gathering_id != gathering.id:
        raise DomainError("request_reused", "This request was already used for someone else.")
    registration = earlier.registration
    row = db.session.scalar(
        sa.select(CheckIn)
        .where(CheckIn.registration_id == registration.id)
        .order_by(CheckIn.id.desc())
        .limit(1)
    )
    payment = db.session.scalar(
        sa.select(Payment)
        .where(Payment.registration_id == registration.id, Payment.provider == "door")
        .order_by(Payment.id)
        .limit(1)
    )
    decision = (
        rules.DeskDecision(rules.Verdict.ADMIT, "admit", "Admit")
        if row is not None
        else rules.DeskDecision(rules.Verdict.REFUSE, "agreements_missing", "Please sign first.")
    )
    return WalkInOutcome(
        registration, earlier, decision, row, payment, earlier.account_created, replayed=True
    )


def _refuse_early(
    actor: User, gathering: Gathering, email: str, data: WalkInInput, now: datetime
) -> User | None:
    """Refuse before anything is written when the answer is already known.

    Return the existing account with this address, if there is one.
    """
    existing = accounts.find_by_email(email)
    if safety.active_ban(email, existing.id if existing else None) is not None:
        raise DeskRefusal(rules.ban_decision())
    if existing is not None and registration_services.live_registration(existing, gathering, now):
        raise DomainError("already_registered", "They are registered already: find them by name.")
    settings = options.read_settings(gathering)
    options.check_open(gathering, settings, now, at_door=True)
    if settings.requires_approval and not permissions.may_manage(actor, gathering):
        raise DomainError(
            "needs_approval",
            "This gathering takes applications: an organiser or facilitator must register them.",
        )
    room = seats.room(gathering, now)
    if not capacity.newcomer_has_seat(room, seats.queue(seats.waitlist(gathering)), data.role_id):
        raise DomainError("full", FULL)
    return existing


def _new_account(name: str, email: str, gathering: Gathering, now: datetime) -> User:
    """Make an account with no password yet, and email its owner a link to choose one."""
    user = accounts.sign_up(email, name, secrets.token_urlsafe(32), now=now)
    user.password_hash = NO_PASSWORD_YET
    _welcome(user, gathering)
    return user


def _welcome(user: User, gathering: Gathering) -> None:
    """Email a person registered at the door a link to choose a password."""
    link = site_url_for("accounts.reset_password", token=accounts.make_reset_token(user))
    again = site_url_for("accounts.forgot_password")
    mail.queue(
        user.email,
        "Your account: choose a password",
        f"Hello {user.display_name},\n\nYou were registered at the door of “{gathering.title}”, "
        "so we made an account for you with this address. With it you can see your ticket, "
        "sign agreements and register next time.\n\nChoose a password here (the link works "
        f"for one hour):\n\n{link}\n\nIf it has expired, ask for a new one at {again}\n",
        kind="walk_in_account",
    )


def walk_in(actor: User, gathering: Gathering, data: WalkInInput, now: datetime) -> WalkInOutcome:
    """Register someone at the door, take their money, and check them in if nothing is missing."""
    require_desk(actor, gathering)
    check_request_id(data.request_id)
    # Under the gathering's lock, a retried submit waits for the first and then replays it.
    seats.lock(gathering)
    earlier = db.session.scalar(sa.select(WalkIn).where(WalkIn.request_id == data.request_id))
    if earlier is not None:
        return _replay(earlier, gathering)
    name = " ".join((data.name or "").split())
    email = accounts.normalise_email(data.email or "")
    if not name:
        raise DomainError("name_required", "Write their name.", "name")
    if len(email) > 320 or not EMAIL_SHAPE.fullmatch(email):
        raise DomainError("bad_email", "Write their email address.", "email")
    option = _option(gathering, data.option_id)
    due = _check_amount(option, data.amount_minor, options.read_settings(gathering).currency)
    existing = _refuse_early(actor, gathering, email, data, now)
    created = existing is None
    user = existing or _new_account(name, email, gathering, now)
    registration = registration_services.register(
        user,
        gathering,
        registration_services.RegistrationInput(option_id=option.id, role_id=data.role_id),
        now=now,
        at_door=True,
    )
    if registration.status == Status.APPLIED:
        registration_services.approve(actor, registration, "Registered at the door.", now=now)
    if registration.status != Status.CONFIRMED:
        raise DomainError("full", FULL)
    record = WalkIn(
        gathering_id=gathering.id,
        registration_id=registration.id,
        request_id=data.request_id,
        registered_by_id=actor.id,
        account_created=created,
        created_at=now,
    )
    db.session.add(record)
    payment = None
    if due:
        payment = ledger.take_door_payment(actor, registration, due, now=now, note="Walk-in.")
    decision = rules.decide(gather(registration, gathering, now).facts)
    row = None
    if decision.admitted:
        row = admit(
            actor, registration, request_id=data.request_id, method=CheckInMethod.WALK_IN, now=now
        )
    db.session.flush()
    logger.info(
        "walk-in %s at gathering %s by %s: registration %s, account %s (%s)",
        record.id,
        gathering.id,
        actor.id,
        registration.id,
        user.id,
        "new" if created else "existing",
    )
    return WalkInOutcome(registration, record, decision, row, payment, created)

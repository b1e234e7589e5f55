"""Register for a gathering, approve or decline applications, hold a seat to pay.

Every change that can take a seat runs under the gathering's lock (``seats.lock``), so a
confirmed registration never exceeds capacity whatever the concurrency. Services flush and
never commit; the caller commits, and the queued emails go out after the commit.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field, replace
from datetime import datetime

import sqlalchemy as sa

from facilitation.accounts.models import User
from facilitation.consent import safety
from facilitation.core.errors import DomainError, Forbidden, NotFound
from facilitation.extensions import db
from facilitation.gatherings.models import Gathering
from facilitation.registration import (
    answers,
    capacity,
    emails,
    moves,
    options,
    pricing,
    questions,
    seats,
)
from facilitation.registration.models import (
    DiscountCode,
    PairingRole,
    Registration,
    RegistrationAnswer,
    RegistrationSettings,
    TicketOption,
)
from facilitation.registration.states import LIVE, Placement, Status, place

logger = logging.getLogger(__name__)

NOT_AVAILABLE = (
    "Registration is not available for this account. If you think this is a mistake, please "
    "contact the organisers."
)
ALREADY = {
    Status.CONFIRMED: "Your place is confirmed.",
    Status.HELD: "Your seat is held while you pay; finish paying from your gatherings page.",
    Status.OFFERED: "A seat is offered to you; accept it from your gatherings page.",
    Status.WAITLISTED: "You are on the waitlist.",
    Status.APPLIED: "Your application is with the facilitators.",
}


@dataclass
class RegistrationInput:
    """What a participant chose on the registration form."""

    option_id: int | None
    #: The amount chosen on a sliding scale, in minor units; ignored for other options.
    amount_minor: int | None = None
    code: str = ""
    #: Answers by question id: text, or a list of choices for multiple choice.
    answers: dict[int, object] = field(default_factory=dict)
    role_id: int | None = None


def live_registration(user: User, gathering: Gathering, now: datetime) -> Registration | None:
    """Return the person's registration for a gathering, leaving out a lapsed hold or offer."""
    found = db.session.scalar(
        sa.select(Registration).where(
            Registration.gathering_id == gathering.id,
            Registration.user_id == user.id,
            Registration.status.in_([s.value for s in LIVE]),
        )
    )
    if found is None or _lapsed(found, now):
        return None
    return found


def _lapsed(registration: Registration, now: datetime) -> bool:
    status = registration.status
    return status in (Status.HELD, Status.OFFERED) and not capacity.holds_seat(
        status, registration.hold_expires_at, registration.offer_expires_at, now
    )


def _refuse_second(existing: Registration) -> None:
    raise DomainError(
        "already_registered",
        f"You are already registered for this gathering. {ALREADY[Status(existing.status)]}",
    )


def _chosen_option(gathering: Gathering, option_id: int | None) -> TicketOption:
    option = db.session.get(TicketOption, option_id) if option_id is not None else None
    if option is None or option.gathering_id != gathering.id or not option.is_active:
        raise DomainError("option_required", "Choose one of the ticket options.", "option_id")
    return option


def _chosen_role(gathering: Gathering, role_id: int | None) -> PairingRole | None:
    roles = questions.roles_for(gathering)
    if not roles:
        return None
    chosen = next((r for r in roles if r.id == role_id), None)
    if chosen is None:
        raise DomainError("role_required", "Choose the group you will be in.", "role_id")
    return chosen


def _price(
    option: TicketOption, data: RegistrationInput, code: DiscountCode | None, now: datetime
) -> int:
    rule = options.code_rule(code, now) if code is not None else None
    return pricing.quote(options.rule_of(option), data.amount_minor, rule, now)


def register(
    user: User,
    gathering: Gathering,
    data: RegistrationInput,
    *,
    now: datetime,
    at_door: bool = False,
) -> Registration:
    """Register a person: an application, the waitlist, a held seat to pay, or confirmed.

    ``at_door``: the check-in desk registers a walk-in: allowed until the gathering ends, and
    the questions are not required (the desk asks in person). Capacity and bans still apply.
    """
    settings = options.read_settings(gathering)
    options.check_open(gathering, settings, now, at_door=at_door)
    if safety.active_ban(user.email, user.id) is not None:
        raise DomainError("not_available", NOT_AVAILABLE)
    existing = live_registration(user, gathering, now)
    if existing is not None:
        _refuse_second(existing)
    option = _chosen_option(gathering, data.option_id)
    code = options.find_code(gathering, data.code) if data.code.strip() else None
    amount = _price(option, data, code, now)
    rules = questions.question_rules(gathering)
    if at_door:
        rules = [replace(rule, required=False) for rule in rules]
    given = answers.check_answers(rules, data.answers)
    role = _chosen_role(gathering, data.role_id)

    seats.lock(gathering)
    options.check_open(gathering, settings, now, at_door=at_door)
    _expire_own_lapsed(user, gathering, now)
    if code is not None:
        amount = _price(option, data, code, now)  # its uses, counted again under the lock
    # The groups were read above (once per transaction): without any, no caps to read.
    has_roles = role is not None or bool(questions.roles_for(gathering))
    room, queue = seats.room_and_queue(gathering, now, has_roles=has_roles)
    role_id = role.id if role is not None else None
    has_seat = capacity.newcomer_has_seat(room, queue, role_id)
    seats.before_seat_write("register")
    registration = Registration(
        gathering=gathering,
        user=user,
        ticket_option=option,
        role_id=role_id,
        amount_minor=amount,
        currency=settings.currency,
        discount_code_id=code.id if code is not None else None,
        amount_paid_minor=0,
        amount_refunded_minor=0,
        pay_at_door_due_minor=0,
        refund_owed_minor=0,
        decision_message="",
        cancel_reason="",
        created_at=now,
        updated_at=now,
        answers=[RegistrationAnswer(question_id=q, value=v) for q, v in given.items()],
    )
    placement = place(
        needs_approval=settings.requires_approval,
        has_seat=has_seat,
        pays_by_card=pricing.pays_by_card(option.kind, amount),
    )
    _land(registration, placement, settings, now)
    _tell_new(registration, now)
    logger.info(
        "registration %s of account %s for gathering %s: %s",
        registration.id,
        user.id,
        gathering.id,
        registration.status,
    )
    return registration


def _expire_own_lapsed(user: User, gathering: Gathering, now: datetime) -> None:
    """Under the lock: end the person's lapsed hold or offer, refuse a live registration."""
    for mine in db.session.scalars(
        sa.select(Registration)
        .where(
            Registration.gathering_id == gathering.id,
            Registration.user_id == user.id,
            Registration.status.in_([s.value for s in LIVE]),
        )
        .execution_options(populate_existing=True)
    ):
        if not _lapsed(mine, now):
            _refuse_second(mine)
        moves.move(mine, Status.EXPIRED, now)
    db.session.flush()


def _land(
    registration: Registration, placement: Placement, settings: RegistrationSettings, now: datetime
) -> None:
    """Put a new or approved registration where ``place`` decided."""
    if placement is Placement.APPLIED:
        moves.move(registration, Status.APPLIED, now)
    elif placement is Placement.WAITLISTED:
        moves.waitlist(registration, now)
    elif placement is Placement.CONFIRMED:
        moves.confirm(registration, now)
    elif placement is Placement.HELD:
        moves.hold(registration, settings, now)
    else:
        moves.offer(registration, settings, now)
    db.session.add(registration)
    db.session.flush()


def _tell_new(registration: Registration, now: datetime) -> None:
    """Email a new registration's person where they stand (a held seat needs no email)."""
    if registration.status == Status.APPLIED:
        emails.received(registration)
    elif registration.status == Status.WAITLISTED:
        emails.waitlisted(registration)
    elif registration.status == Status.CONFIRMED:
        emails.confirmed(registration, now)


def get_registration(registration_id: int) -> Registration:
    """Return a registration by id, or raise NotFound."""
    registration = db.session.get(Registration, registration_id)
    if registration is None:
        raise NotFound("not_found", "No such registration.")
    return registration


def approve(
    actor: User, registration: Registration, message: str, *, now: datetime
) -> Registration:
    """Approve an application: confirmed (nothing to pay by card), offered, or waitlisted."""
    options.require_manager(actor, registration.gathering)
    seats.lock_for(registration)
    _require_status(registration, Status.APPLIED, "This application has already been decided.")
    gathering = registration.gathering
    settings = options.read_settings(gathering)
    room = seats.room(gathering, now)
    queue = seats.queue(seats.waitlist(gathering))
    has_seat = capacity.newcomer_has_seat(room, queue, registration.role_id)
    seats.before_seat_write("approve")
    _decide(registration, actor, message, now)
    placement = place(
        needs_approval=True,
        approved=True,
        has_seat=has_seat,
        pays_by_card=pricing.pays_by_card(
            registration.ticket_option.kind, registration.amount_minor
        ),
    )
    _land(registration, placement, settings, now)
    emails.approved(registration)
    if placement is Placement.CONFIRMED:
        emails.confirmed(registration, now)
    logger.info("registration %s approved by %s: %s", registration.id, actor.id, placement)
    return registration


def decline(
    actor: User, registration: Registration, message: str, *, now: datetime
) -> Registration:
    """Decline an application, with a message to the applicant."""
    options.require_manager(actor, registration.gathering)
    seats.lock_for(registration)
    _require_status(registration, Status.APPLIED, "This application has already been decided.")
    _decide(registration, actor, message, now)
    moves.move(registration, Status.DECLINED, now)
    db.session.flush()
    emails.declined(registration)
    logger.info("registration %s declined by %s", registration.id, actor.id)
    return registration


def _decide(registration: Registration, actor: User, message: str, now: datetime) -> None:
    registration.decision_message = message.strip()[:5000]
    registration.decided_by_id = actor.id
    registration.decided_at = now


def _require_status(registration: Registration, status: Status, message: str) -> None:
    if registration.status != status:
        raise DomainError("wrong_status", message)


def start_payment(registration: Registration, *, now: datetime) -> Registration:
    """Get a registration ready for a card payment: its seat held until the hold lapses.

    An offer becomes a hold (keeping the seat); a live hold stays as it is (a failed payment
    may be tried again until it lapses); a lapsed hold or offer takes a seat again if one is
    free and nobody is waiting ahead, else the person is told the seat has gone.
    """
    seats.lock_for(registration)
    gathering = registration.gathering
    settings = options.read_settings(gathering)
    status = registration.status
    if gathering.is_cancelled or now >= gathering.starts_at:
        raise DomainError("not_payable", "This gathering is no longer taking payments.")
    if not pricing.pays_by_card(registration.ticket_option.kind, registration.amount_minor):
        raise DomainError("not_payable", "This registration has nothing to pay by card.")
    if status == Status.CONFIRMED:
        raise DomainError("already_paid", "Your place is confirmed and paid; nothing more to pay.")
    if status not in (Status.HELD, Status.OFFERED, Status.EXPIRED):
        raise DomainError("not_payable", f"This registration is {status}; it cannot be paid now.")
    if status == Status.HELD and not _lapsed(registration, now):
        return registration
    if status == Status.OFFERED and not _lapsed(registration, now):
        moves.hold(registration, settings, now)
        db.session.flush()
        return registration
    if moves.other_live(registration) is not None:
        raise DomainError(
            "already_registered", "You have registered again since; pay from that registration."
        )
    room = seats.room(gathering, now, without_id=registration.id)
    queue = seats.queue(seats.waitlist(gathering))
    if not capacity.newcomer_has_seat(room, queue, registration.role_id):
        raise DomainError(
            "seat_gone",
            "The time to pay ran out and the seat has gone to someone else. "
            "Register again to join the waitlist.",
        )
    seats.before_seat_write("retake")
    moves.hold(registration, settings, now)
    db.session.flush()
    logger.info("registration %s took a seat again to pay", registration.id)
    return registration


def accept_offer(user: User, registration: Registration, *, now: datetime) -> Registration:
    """Accept an offered seat: confirmed if nothing is paid by card, else held to pay."""
    if registration.user_id != user.id:
        raise Forbidden("forbidden", "This is not your registration.")
    if pricing.pays_by_card(registration.ticket_option.kind, registration.amount_minor):
        if registration.status != Status.OFFERED:
            raise DomainError("no_offer", "There is no open offer on this registration.")
        return start_payment(registration, now=now)
    seats.lock_for(registration)
    if registration.status != Status.OFFERED or not capacity.holds_seat(
        registration.status, None, registration.offer_expires_at, now
    ):
        raise DomainError(
            "offer_lapsed",
            "This offer is no longer open; the seat has gone to the next person waiting.",
        )
    moves.confirm(registration, now)
    db.session.flush()
    emails.confirmed(registration, now)
    logger.info("registration %s accepted its offer", registration.id)
    return registration


def attach_payment_intent(
    registration: Registration, payment_intent_id: str, *, now: datetime
) -> Registration:
    """Remember the Stripe PaymentIntent (pi_…) of the current payment attempt."""
    seats.lock_for(registration)
    registration.payment_intent_id = payment_intent_id
    registration.updated_at = now
    db.session.flush()
    return registration

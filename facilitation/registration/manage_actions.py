"""What the organisers' registration pages do, apart from the pages themselves.

The editors of a gathering's items (ticket options, codes, questions, roles), the actions on
one registration (each returns what to tell the organiser and which refunds to send), and
sending refunds through Stripe after the commit with the outcome flashed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask import flash

from facilitation.accounts.models import User
from facilitation.core.clock import utcnow
from facilitation.core.display import local
from facilitation.extensions import db
from facilitation.gatherings.models import Gathering
from facilitation.registration import (
    cancellation,
    ledger,
    options,
    questions,
    refunds,
    services,
    waitlist,
)
from facilitation.registration.manage_forms import (
    CodeForm,
    ItemForm,
    OptionForm,
    QuestionForm,
    RoleForm,
)
from facilitation.registration.models import (
    DiscountCode,
    PairingRole,
    PaymentProvider,
    Registration,
    RegistrationQuestion,
    TicketOption,
)
from facilitation.registration.pricing import format_money
from facilitation.registration.states import Status

# --- a gathering's items -----------------------------------------------------------------


def _switch_off_code(actor: User, gathering: Gathering, code_id: int, *, now: datetime) -> None:
    """Switch a code off (codes are kept: registrations name the code they used)."""
    code = options.owned(DiscountCode, code_id, gathering, "code")
    data = options.CodeInput(
        code.code,
        code.kind,
        code.value,
        code.max_uses,
        code.expires_at,
        code.is_scholarship,
        is_active=False,
    )
    options.update_code(actor, gathering, code_id, data, now=now)


@dataclass(frozen=True)
class Editor:
    """How the pages add, change and remove one kind of a gathering's items."""

    noun: str
    form: type[ItemForm]
    model: type
    add: Callable[..., Any]
    update: Callable[..., Any]
    remove: Callable[..., Any]
    #: Flashed when an item is kept, switched off, instead of deleted.
    kept: str


EDITORS = {
    "ticket-options": Editor(
        "ticket option",
        OptionForm,
        TicketOption,
        options.add_option,
        options.update_option,
        options.remove_option,
        "Switched off: people already registered with it keep it.",
    ),
    "codes": Editor(
        "code",
        CodeForm,
        DiscountCode,
        options.add_code,
        options.update_code,
        _switch_off_code,
        "Switched off: nobody can use it from now on.",
    ),
    "questions": Editor(
        "question",
        QuestionForm,
        RegistrationQuestion,
        questions.add_question,
        questions.update_question,
        questions.remove_question,
        "Removed from the form; the answers already given are kept.",
    ),
    "roles": Editor(
        "pairing role",
        RoleForm,
        PairingRole,
        questions.add_role,
        questions.update_role,
        questions.remove_role,
        "",
    ),
}


# --- one registration --------------------------------------------------------------------


@dataclass
class Done:
    """What an action did: a message, and registrations now owed a refund to send."""

    message: str
    refund_ids: list[int]


def _name(registration: Registration) -> str:
    return registration.user.name


def _until(registration: Registration) -> str:
    moment = registration.offer_expires_at or registration.hold_expires_at
    if moment is None:
        return ""
    here = local(moment, registration.gathering.timezone)
    return f" until {here:%a %d %b, %H:%M %Z}"


def _approve(actor: User, registration: Registration, form: Any) -> Done:
    services.approve(actor, registration, form.message.data or "", now=utcnow())
    where = {
        Status.CONFIRMED: "is confirmed",
        Status.OFFERED: f"is offered a seat to pay for{_until(registration)}",
        Status.WAITLISTED: "is on the waitlist: no seat is free now",
    }[Status(registration.status)]
    return Done(f"Approved: {_name(registration)} {where}. They have been emailed.", [])


def _decline(actor: User, registration: Registration, form: Any) -> Done:
    services.decline(actor, registration, form.message.data or "", now=utcnow())
    return Done(f"Declined. {_name(registration)} has been emailed.", [])


def _offer(actor: User, registration: Registration, form: Any) -> Done:
    waitlist.offer_now(actor, registration, now=utcnow())
    return Done(f"{_name(registration)} is offered a seat{_until(registration)}; emailed.", [])


def _cancel(actor: User, registration: Registration, form: Any) -> Done:
    outcome = cancellation.cancel_by_organiser(
        actor, registration, form.reason.data or "", bool(form.refund.data), now=utcnow()
    )
    message = f"{_name(registration)}'s registration is cancelled; they have been emailed."
    if outcome.offered:
        message += f" The seat was offered to the next {len(outcome.offered)} waiting."
    return Done(message, [registration.id] if outcome.refund_minor else [])


def _grant_refund(actor: User, registration: Registration, form: Any) -> Done:
    amount = form.minor(registration.currency)
    ledger.grant_refund(actor, registration, amount, now=utcnow())
    money = format_money(amount, registration.currency)
    return Done(f"A refund of {money} to {_name(registration)} is granted.", [registration.id])


def _door_payment(actor: User, registration: Registration, form: Any) -> Done:
    amount = form.minor(registration.currency)
    ledger.record_door_payment(actor, registration, amount, now=utcnow(), note=form.note.data or "")
    money = format_money(amount, registration.currency)
    return Done(f"Recorded {money} paid at the door by {_name(registration)}.", [])


def _manual_refund(actor: User, registration: Registration, form: Any) -> Done:
    amount = form.minor(registration.currency)
    recorded = ledger.record_refund(
        registration.id,
        f"manual-{form.nonce.data}",
        amount,
        now=utcnow(),
        provider=PaymentProvider.MANUAL,
        actor=actor,
        note=form.note.data or "",
    )
    money = format_money(amount, registration.currency)
    if not recorded:
        return Done("That refund was recorded already.", [])
    return Done(f"Recorded {money} paid back by hand to {_name(registration)}.", [])


ACTIONS: dict[str, Callable[[User, Registration, Any], Done]] = {
    "approve": _approve,
    "decline": _decline,
    "offer": _offer,
    "cancel": _cancel,
    "refund": _grant_refund,
    "door-payment": _door_payment,
    "manual-refund": _manual_refund,
}


# --- refunds after the commit -----------------------------------------------------------


def _money_list(amounts: list[tuple[int, str]]) -> str:
    totals: dict[str, int] = {}
    for minor, currency in amounts:
        totals[currency] = totals.get(currency, 0) + minor
    return " and ".join(format_money(minor, currency) for currency, minor in totals.items())


def send_refunds_and_tell(registration_ids: list[int]) -> None:
    """Send what these registrations are owed through Stripe; flash what went and what did not.

    Call after the decision to refund has been committed.
    """
    if not registration_ids:
        return
    report = refunds.send_owed(registration_ids)
    if report.sent:
        sent = [
            (amount, db.session.get(Registration, rid).currency) for rid, _, amount in report.sent
        ]
        flash(f"Refunded {_money_list(sent)} by card ({len(sent)} refund(s)).", "success")
    owed = [db.session.get(Registration, rid) for rid in report.failed]
    if len(owed) > 5:
        total = _money_list([(r.refund_outstanding_minor, r.currency) for r in owed])
        flash(
            f"{len(owed)} people are still owed {total} in all: see “Owed back” on the "
            "registrations page; pay it back by hand and record it there.",
            "error",
        )
        return
    for registration in owed:
        amount = format_money(registration.refund_outstanding_minor, registration.currency)
        flash(
            f"{registration.user.name} is still owed {amount}. {report.failed[registration.id]}",
            "error",
        )

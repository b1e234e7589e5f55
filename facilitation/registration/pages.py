"""What the participant's registration pages show: the gathering's panel, statuses, refunds.

Read-only helpers for the views and templates; every change goes through the services.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask import current_app

from facilitation.accounts.models import User
from facilitation.config import card_payments_enabled
from facilitation.core.display import local
from facilitation.core.errors import DomainError
from facilitation.gatherings.models import Gathering
from facilitation.registration import (
    capacity,
    forms,
    options,
    queries,
    questions,
    services,
    states,
)
from facilitation.registration.emails import local_time
from facilitation.registration.models import (
    PairingRole,
    Registration,
    RegistrationQuestion,
    TicketOption,
)
from facilitation.registration.pricing import OptionKind, format_money
from facilitation.registration.states import RefundDecision, RefundPolicy, Status
from facilitation.registration.waitlist import position

#: Options paid by card when registering; unavailable while card payments are off.
CARD_KINDS = (OptionKind.FIXED, OptionKind.SLIDING)
CARDS_OFF = (
    "Card payments are not set up here, so this option is unavailable. Choose another option, "
    "or ask the organisers."
)


def cards_enabled() -> bool:
    """Return whether this installation takes card payments (both Stripe keys are set)."""
    return card_payments_enabled(current_app.config)


def money(minor: int, currency: str) -> str:
    """Format an amount: 'EUR 12.50'."""
    return format_money(minor, currency)


@dataclass
class Panel:
    """The registration section of a gathering's page, for one viewer."""

    gathering: Gathering
    currency: str
    options: list[TicketOption]
    questions: list[RegistrationQuestion]
    roles: list[PairingRole]
    requires_approval: bool
    #: Why nobody can register now; empty while registration is open.
    closed: str
    seats_left: int
    waiting: int
    #: The viewer's live registration, if they have one.
    mine: Registration | None
    cards_enabled: bool
    now: datetime
    form: forms.RegistrationForm | None = None
    cards_off: str = CARDS_OFF

    @property
    def full(self) -> bool:
        """Return whether a newcomer would join the waitlist."""
        return self.seats_left == 0 or self.waiting > 0

    def unavailable(self, option: TicketOption) -> bool:
        """Return whether an option cannot be chosen (paid by card while cards are off)."""
        return not self.cards_enabled and option.kind in CARD_KINDS

    @property
    def any_unavailable(self) -> bool:
        """Return whether some option cannot be chosen because card payments are off."""
        return any(self.unavailable(o) for o in self.options)

    def status_of(self, registration: Registration) -> str:
        """Describe where the viewer's registration stands."""
        return status_text(registration, self.now)

    def money(self, minor: int) -> str:
        """Format an amount in the gathering's currency."""
        return money(minor, self.currency)

    def price(self, option: TicketOption) -> str:
        """Describe what an option costs."""
        kind = OptionKind(option.kind)
        if kind is OptionKind.FREE:
            return "Free"
        if kind is OptionKind.DOOR:
            return f"{self.money(option.price_minor)}, paid at the door"
        if kind is OptionKind.FIXED:
            return self.money(option.price_minor)
        low, high = self.money(option.min_minor), self.money(option.max_minor)
        return f"Sliding scale: {low} to {high} (suggested {self.money(option.suggested_minor)})"


def gathering_panel(
    gathering: Gathering,
    viewer: User | None,
    now: datetime,
    *,
    form: forms.RegistrationForm | None = None,
    with_form: bool = False,
) -> Panel:
    """Return what the gathering's page shows about registering, for ``viewer``."""
    settings = options.read_settings(gathering)
    closed = ""
    try:
        options.check_open(gathering, settings, now)
    except DomainError as err:
        closed = err.message
    ticket_options = options.options_for(gathering)
    if not closed and not ticket_options:
        closed = "Registration for this gathering has not opened yet."
    mine = services.live_registration(viewer, gathering, now) if viewer is not None else None
    seats_left, waiting = queries.seats_and_waiting(gathering, now)
    # A visitor who is not logged in sees no form, so neither its questions nor its groups.
    anonymous = viewer is None and form is None and not with_form
    panel = Panel(
        gathering=gathering,
        currency=settings.currency,
        options=ticket_options,
        questions=[] if anonymous else questions.questions_for(gathering),
        roles=[] if anonymous else questions.roles_for(gathering),
        requires_approval=settings.requires_approval,
        closed=closed,
        seats_left=seats_left,
        waiting=waiting,
        mine=mine,
        cards_enabled=cards_enabled(),
        now=now,
    )
    if viewer is not None and (form is not None or with_form or (mine is None and not closed)):
        panel.form = form or forms.registration_form(
            panel.options, panel.questions, panel.roles, panel.currency
        )
    return panel


def registration_form_for(
    gathering: Gathering,
) -> tuple[forms.RegistrationForm, list[RegistrationQuestion], str]:
    """Return the registration form of a gathering, its questions and its currency."""
    settings = options.read_settings(gathering)
    asked = questions.questions_for(gathering)
    form = forms.registration_form(
        options.options_for(gathering), asked, questions.roles_for(gathering), settings.currency
    )
    return form, asked, settings.currency


def lapsed(registration: Registration, now: datetime) -> bool:
    """Return whether a held seat or an offer ran out of time without being turned into money."""
    return registration.status in (Status.HELD, Status.OFFERED) and not capacity.holds_seat(
        registration.status, registration.hold_expires_at, registration.offer_expires_at, now
    )


def clock(moment: datetime, gathering: Gathering) -> str:
    """Return a moment's time of day in the gathering's time zone: '19:45 GMT'."""
    return f"{local(moment, gathering.timezone):%H:%M %Z}"


def status_text(registration: Registration, now: datetime) -> str:
    """Describe where a registration stands, in a few words."""
    gathering = registration.gathering
    status = Status(registration.status)
    if lapsed(registration, now):
        return "Time to pay ran out" if status is Status.HELD else "Offer lapsed"
    if status is Status.HELD and registration.hold_expires_at is not None:
        return f"Seat held while you pay (until {clock(registration.hold_expires_at, gathering)})"
    if status is Status.OFFERED and registration.offer_expires_at is not None:
        return f"Seat offered: accept by {local_time(registration.offer_expires_at, gathering)}"
    if status is Status.WAITLISTED:
        return f"On the waitlist (number {position(registration) or '–'})"
    return {
        Status.APPLIED: "Application received: awaiting the facilitators' decision",
        Status.CONFIRMED: "Confirmed",
        Status.DECLINED: "Application declined",
        Status.CANCELLED: "Cancelled",
        Status.EXPIRED: "Expired: the time to pay or accept ran out",
    }[status]


@dataclass(frozen=True)
class RefundPreview:
    """What cancelling now would give back, by the gathering's policy."""

    decision: RefundDecision
    #: What the person paid that is not already owed back to them.
    paid_minor: int
    sentence: str


def refund_preview(registration: Registration, now: datetime) -> RefundPreview:
    """Say what the refund policy gives if the person cancels now."""
    gathering = registration.gathering
    settings = options.read_settings(gathering)
    paid = max(registration.amount_paid_minor - registration.refund_owed_minor, 0)
    deadline = states.refund_deadline(gathering.starts_at, settings.refund_deadline_hours)
    decision = states.refund_decision(settings.refund_policy, deadline, now, paid)
    amount = money(paid, registration.currency)
    if paid == 0:
        sentence = "You have paid nothing by card, so there is nothing to refund."
    elif decision is RefundDecision.FULL:
        sentence = (
            f"You will get back {amount} in full, to the card you paid with: you are cancelling "
            f"before the full-refund deadline ({local_time(deadline, gathering)})."
        )
    elif decision is RefundDecision.ORGANISER:
        sentence = (
            f"You paid {amount}. The organisers decide about refunds for this gathering; "
            "they will be in touch."
        )
    elif settings.refund_policy == RefundPolicy.NONE:
        sentence = (
            f"This gathering's policy gives no refund on cancelling: the {amount} you paid "
            "is not refunded."
        )
    else:
        sentence = (
            f"Full refunds ended {local_time(deadline, gathering)}, so the {amount} you paid is "
            "not refunded."
        )
    return RefundPreview(decision, paid, sentence)

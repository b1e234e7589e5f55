"""What a gathering offers at registration: settings, ticket options, discount codes.

Organisers and the gathering's own facilitators change these; every change is checked here.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

import sqlalchemy as sa

from facilitation.accounts.models import User
from facilitation.core.errors import DomainError, Forbidden, NotFound
from facilitation.core.memo import memo
from facilitation.extensions import db
from facilitation.gatherings import permissions
from facilitation.gatherings.models import Gathering, GatheringStatus
from facilitation.registration import pricing, seats
from facilitation.registration.models import (
    DiscountCode,
    Registration,
    RegistrationSettings,
    TicketOption,
)
from facilitation.registration.states import LIVE, RefundPolicy

logger = logging.getLogger(__name__)

T = TypeVar("T")


def require_manager(actor: User, gathering: Gathering) -> None:
    """Refuse anyone but organisers and the gathering's facilitators."""
    if not permissions.may_manage(actor, gathering):
        raise Forbidden("forbidden", "Only organisers and this gathering's facilitators can.")


# --- settings ----------------------------------------------------------------------------


@dataclass
class SettingsInput:
    """How a gathering takes registrations, as typed into the form."""

    requires_approval: bool = False
    hold_minutes: int = 15
    offer_hours: int = 24
    refund_policy: str = RefundPolicy.FULL_BEFORE_DEADLINE
    refund_deadline_hours: int = 48
    currency: str = pricing.DEFAULT_CURRENCY
    registration_closes_at: datetime | None = None


def _defaults(gathering: Gathering) -> RegistrationSettings:
    values = SettingsInput()
    return RegistrationSettings(
        gathering_id=gathering.id,
        requires_approval=values.requires_approval,
        hold_minutes=values.hold_minutes,
        offer_hours=values.offer_hours,
        refund_policy=values.refund_policy,
        refund_deadline_hours=values.refund_deadline_hours,
        currency=values.currency,
    )


def read_settings(gathering: Gathering) -> RegistrationSettings:
    """Return a gathering's settings; the defaults (not saved) if it has none yet."""
    found = memo(
        db.session,
        ("settings", gathering.id),
        ["registration_settings"],
        lambda: db.session.scalar(
            sa.select(RegistrationSettings).where(RegistrationSettings.gathering_id == gathering.id)
        ),
    )
    return found if found is not None else _defaults(gathering)


def settings_for(gathering: Gathering) -> RegistrationSettings:
    """Return a gathering's settings, saving the defaults first if it has none."""
    found = read_settings(gathering)
    if found.id is None:
        db.session.add(found)
        db.session.flush()
    return found


def update_settings(
    actor: User, gathering: Gathering, data: SettingsInput, *, now: datetime
) -> RegistrationSettings:
    """Change how a gathering takes registrations."""
    require_manager(actor, gathering)
    if not 1 <= data.hold_minutes <= 1440:
        raise DomainError(
            "bad_hold", "Hold a seat for 1 minute to 24 hours while people pay.", "hold_minutes"
        )
    if not 1 <= data.offer_hours <= 720:
        raise DomainError(
            "bad_offer_hours", "Keep offers open for 1 hour to 30 days.", "offer_hours"
        )
    if data.refund_policy not in set(RefundPolicy):
        raise DomainError("bad_policy", "Choose a refund policy.", "refund_policy")
    if not 0 <= data.refund_deadline_hours <= 24 * 365:
        raise DomainError(
            "bad_deadline",
            "Give the refund deadline in hours before the start.",
            "refund_deadline_hours",
        )
    closes = data.registration_closes_at
    if closes is not None and closes.tzinfo is None:
        raise DomainError("naive_time", "Give the closing time with its time zone.")
    currency = pricing.check_currency(data.currency)
    if currency != read_settings(gathering).currency and _has_money(gathering):
        raise DomainError(
            "currency_locked",
            "People have registered with amounts in the current currency; it cannot change now.",
            "currency",
        )
    settings = settings_for(gathering)
    settings.requires_approval = data.requires_approval
    settings.hold_minutes = data.hold_minutes
    settings.offer_hours = data.offer_hours
    settings.refund_policy = data.refund_policy
    settings.refund_deadline_hours = data.refund_deadline_hours
    settings.currency = currency
    settings.registration_closes_at = closes
    settings.updated_at = now
    db.session.flush()
    logger.info("registration settings of gathering %s changed by %s", gathering.id, actor.id)
    return settings


def _has_money(gathering: Gathering) -> bool:
    return (
        db.session.scalar(
            sa.select(Registration.id)
            .where(Registration.gathering_id == gathering.id, Registration.amount_minor > 0)
            .limit(1)
        )
        is not None
    )


def in_use(column: sa.ColumnElement[int], value: int) -> bool:
    """Return whether any registration has ``value`` in ``column`` (an option, a role)."""
    return db.session.scalar(sa.select(Registration.id).where(column == value).limit(1)) is not None


def owned(model: type[T], item_id: int | None, gathering: Gathering, what: str) -> T:
    """Return the gathering's item of this model by id, or raise NotFound."""
    item: Any = db.session.get(model, item_id) if item_id is not None else None
    if item is None or item.gathering_id != gathering.id:
        raise NotFound("not_found", f"No such {what} for this gathering.")
    return item


def check_open(
    gathering: Gathering, settings: RegistrationSettings, now: datetime, *, at_door: bool = False
) -> None:
    """Refuse registration for a gathering that is not open for it at ``now``.

    ``at_door``: the check-in desk registers a walk-in, which it may do until the gathering
    ends, whatever the online closing time.
    """
    if gathering.status == GatheringStatus.CANCELLED:
        raise DomainError("gathering_cancelled", "This gathering has been cancelled.")
    if gathering.status != GatheringStatus.PUBLISHED:
        raise DomainError("not_open", "Registration for this gathering is not open.")
    if at_door:
        if now >= gathering.ends_at:
            raise DomainError("already_ended", "This gathering has ended.")
        if gathering.capacity == 0:
            raise DomainError("registration_closed", "This gathering takes nobody.")
        return
    if now >= gathering.starts_at:
        raise DomainError(
            "already_started", "This gathering has already started; registration is closed."
        )
    closes = settings.registration_closes_at
    if (closes is not None and now >= closes) or gathering.capacity == 0:
        raise DomainError("registration_closed", "Registration for this gathering has closed.")


# --- ticket options ----------------------------------------------------------------------


@dataclass
class OptionInput:
    """A ticket option as typed into the form; amounts in minor units."""

    name: str
    kind: str
    price_minor: int = 0
    min_minor: int = 0
    suggested_minor: int = 0
    max_minor: int = 0
    guidance: str = ""
    is_active: bool = True


def rule_of(option: TicketOption) -> pricing.PriceRule:
    """Return the pricing rule of a stored option."""
    return pricing.PriceRule(
        option.kind, option.price_minor, option.min_minor, option.suggested_minor, option.max_minor
    )


def _apply_option(option: TicketOption, data: OptionInput) -> None:
    name = " ".join(data.name.split())
    if not name:
        raise DomainError("name_required", "Give the option a name.", "name")
    if len(name) > 100:
        raise DomainError("name_too_long", "Keep the name under 100 characters.", "name")
    sliding = data.kind == pricing.OptionKind.SLIDING
    priced = data.kind in (pricing.OptionKind.FIXED, pricing.OptionKind.DOOR)
    rule = pricing.PriceRule(
        data.kind,
        data.price_minor if priced else 0,
        data.min_minor if sliding else 0,
        data.suggested_minor if sliding else 0,
        data.max_minor if sliding else 0,
    )
    pricing.check_option(rule)
    option.name, option.kind = name, data.kind
    option.price_minor, option.min_minor = rule.price_minor, rule.min_minor
    option.suggested_minor, option.max_minor = rule.suggested_minor, rule.max_minor
    option.guidance = data.guidance.strip()[:1000]
    option.is_active = data.is_active


def add_option(
    actor: User, gathering: Gathering, data: OptionInput, *, now: datetime
) -> TicketOption:
    """Add a ticket option at the end of a gathering's list."""
    require_manager(actor, gathering)
    option = TicketOption(
        gathering_id=gathering.id, position=next_position(TicketOption, gathering)
    )
    _apply_option(option, data)
    db.session.add(option)
    db.session.flush()
    logger.info("ticket option %s added to gathering %s by %s", option.id, gathering.id, actor.id)
    return option


def update_option(
    actor: User, gathering: Gathering, option_id: int, data: OptionInput, *, now: datetime
) -> TicketOption:
    """Change a ticket option; registrations already made keep the amount they owe."""
    require_manager(actor, gathering)
    option = owned(TicketOption, option_id, gathering, "ticket option")
    _apply_option(option, data)
    db.session.flush()
    return option


def remove_option(actor: User, gathering: Gathering, option_id: int, *, now: datetime) -> None:
    """Remove a ticket option, or switch it off when registrations use it."""
    require_manager(actor, gathering)
    option = owned(TicketOption, option_id, gathering, "ticket option")
    if in_use(Registration.ticket_option_id, option.id):
        option.is_active = False
    else:
        db.session.delete(option)
    db.session.flush()


def options_for(gathering: Gathering, *, include_inactive: bool = False) -> list[TicketOption]:
    """Return a gathering's ticket options in their order."""
    stmt = sa.select(TicketOption).where(TicketOption.gathering_id == gathering.id)
    if not include_inactive:
        stmt = stmt.where(TicketOption.is_active.is_(True))
    return list(db.session.scalars(stmt.order_by(TicketOption.position, TicketOption.id)))


def next_position(model: Any, gathering: Gathering) -> int:
    """Return the position after the last of a gathering's items of this model."""
    column, owner = model.position, model.gathering_id
    highest = db.session.scalar(sa.select(sa.func.max(column)).where(owner == gathering.id))
    return 0 if highest is None else highest + 1


# --- discount and scholarship codes ------------------------------------------------------


@dataclass
class CodeInput:
    """A discount code as typed into the form."""

    code: str
    kind: str
    value: int
    max_uses: int | None = None
    expires_at: datetime | None = None
    is_scholarship: bool = False
    is_active: bool = True


def _apply_code(code: DiscountCode, data: CodeInput, gathering: Gathering) -> None:
    text = pricing.check_code_format(data.code)
    pricing.check_discount(data.kind, data.value, data.max_uses)
    taken = db.session.scalar(
        sa.select(DiscountCode.id).where(
            DiscountCode.gathering_id == gathering.id, DiscountCode.code == text
        )
    )
    if taken is not None and taken != code.id:
        raise DomainError("code_taken", "This gathering already has that code.", "code")
    code.code, code.kind, code.value = text, data.kind, data.value
    code.max_uses, code.expires_at = data.max_uses, data.expires_at
    code.is_scholarship, code.is_active = data.is_scholarship, data.is_active


def add_code(actor: User, gathering: Gathering, data: CodeInput, *, now: datetime) -> DiscountCode:
    """Add a discount or scholarship code to a gathering."""
    require_manager(actor, gathering)
    code = DiscountCode(gathering_id=gathering.id, created_at=now)
    _apply_code(code, data, gathering)
    db.session.add(code)
    db.session.flush()
    logger.info("discount code %s added to gathering %s by %s", code.id, gathering.id, actor.id)
    return code


def update_code(
    actor: User, gathering: Gathering, code_id: int, data: CodeInput, *, now: datetime
) -> DiscountCode:
    """Change a code; registrations already made keep their price."""
    require_manager(actor, gathering)
    code = owned(DiscountCode, code_id, gathering, "code")
    _apply_code(code, data, gathering)
    db.session.flush()
    return code


def find_code(gathering: Gathering, text: str) -> DiscountCode:
    """Return the gathering's code a participant typed, or refuse it."""
    code = db.session.scalar(
        sa.select(DiscountCode).where(
            DiscountCode.gathering_id == gathering.id,
            DiscountCode.code == pricing.normalise_code(text),
        )
    )
    if code is None:
        raise DomainError("unknown_code", "We do not know that code; check its spelling.", "code")
    return code


def code_uses(code: DiscountCode, now: datetime) -> int:
    """Count the registrations using a code: waiting, applied, offered, held or confirmed.

    Waiting and applied ones count too, so a limited scholarship is never promised to more
    people than it has places; lapsed holds and offers do not.
    """
    lapsed = seats.lapsed_condition(now)
    return (
        db.session.scalar(
            sa.select(sa.func.count()).where(
                Registration.discount_code_id == code.id,
                Registration.status.in_([s.value for s in LIVE]),
                sa.not_(lapsed),
            )
        )
        or 0
    )


def code_rule(code: DiscountCode, now: datetime) -> pricing.CodeRule:
    """Return the pricing rule of a stored code, with its uses counted now."""
    return pricing.CodeRule(
        code.code,
        code.kind,
        code.value,
        code.max_uses,
        code_uses(code, now),
        code.expires_at,
        code.is_active,
    )


def codes_for(gathering: Gathering) -> list[DiscountCode]:
    """Return a gathering's codes, newest first."""
    return list(
        db.session.scalars(
            sa.select(DiscountCode)
            .where(DiscountCode.gathering_id == gathering.id)
            .order_by(DiscountCode.created_at.desc(), DiscountCode.id.desc())
        )
    )

"""Prices of ticket options, discount and scholarship codes, and money formatting; pure.

Every amount is an integer in the currency's minor unit (cents for EUR, yen for JPY).
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, DecimalException

from facilitation.core.errors import DomainError

#: Pure core: no framework import, here or in what it imports (tests/core/test_pure_core.py).
__pure__ = True

#: Currency of a gathering whose organiser has not chosen one.
DEFAULT_CURRENCY = "EUR"
#: Currencies whose minor unit is not a hundredth (ISO 4217 exponent).
EXPONENTS = {"JPY": 0, "KRW": 0, "ISK": 0, "CLP": 0, "VND": 0, "BHD": 3, "KWD": 3, "JOD": 3}
#: Highest price an option may ask, in minor units (a guard against a slipped finger).
MAX_PRICE_MINOR = 100_000_00
CODE_PATTERN = re.compile(r"^[A-Z0-9][A-Z0-9_-]{2,39}$")
CURRENCY_PATTERN = re.compile(r"^[A-Z]{3}$")


class OptionKind(enum.StrEnum):
    """How a ticket option is paid."""

    FREE = "free"
    FIXED = "fixed"
    SLIDING = "sliding"  #: the participant picks between a minimum and a maximum
    DOOR = "door"  #: a fixed price paid at the door


class DiscountKind(enum.StrEnum):
    """How a code lowers the price."""

    AMOUNT = "amount"  #: ``value`` minor units off
    PERCENT = "percent"  #: ``value`` per cent off, 1 to 100


class PricingError(DomainError):
    """A price, an amount or a code is not acceptable; the message says what to change."""


@dataclass(frozen=True)
class PriceRule:
    """What a ticket option asks."""

    kind: str
    price_minor: int = 0
    min_minor: int = 0
    suggested_minor: int = 0
    max_minor: int = 0


@dataclass(frozen=True)
class CodeRule:
    """A discount code as it stands now, with the uses already counted."""

    code: str
    kind: str
    value: int
    max_uses: int | None
    uses: int
    expires_at: datetime | None
    is_active: bool


def exponent(currency: str) -> int:
    """Return how many decimal places the currency's minor unit has."""
    return EXPONENTS.get(currency, 2)


def format_money(minor: int, currency: str) -> str:
    """Format an amount for people: 'EUR 12.50', 'JPY 1500'."""
    places = exponent(currency)
    if places == 0:
        return f"{currency} {minor}"
    sign = "-" if minor < 0 else ""
    whole, part = divmod(abs(minor), 10**places)
    return f"{currency} {sign}{whole}.{part:0{places}d}"


def parse_money(text: str, currency: str, field: str = "amount") -> int:
    """Read an amount typed by a person ('12', '12.5', '12,50') into minor units."""
    cleaned = text.strip().replace(",", ".").removeprefix(currency).strip()
    not_a_number = PricingError("bad_amount", "Give the amount as a number, like 12.50.", field)
    try:
        value = Decimal(cleaned)
        if not value.is_finite():
            raise not_a_number
        if value.adjusted() > 30:  # far above any price; scaling '1e999999' would overflow
            raise _too_high(field)
        if value and value.adjusted() < -30:  # far below any currency's minor unit
            raise not_a_number
        scaled = value * (10 ** exponent(currency))
    except DecimalException:
        raise not_a_number from None
    if scaled != scaled.to_integral_value():
        raise not_a_number
    if abs(scaled) > MAX_PRICE_MINOR:
        raise _too_high(field)
    return int(scaled)


def _too_high(field: str) -> PricingError:
    return PricingError("amount_too_high", "That amount is too high; check it.", field)


def normalise_code(text: str) -> str:
    """Return a code as stored: trimmed and upper-case."""
    return text.strip().upper()


def check_currency(currency: str) -> str:
    """Return an ISO 4217 code in upper case, or refuse it."""
    code = currency.strip().upper()
    if not CURRENCY_PATTERN.match(code):
        raise PricingError(
            "bad_currency", "Give the currency as a three-letter code, such as EUR.", "currency"
        )
    return code


def _check_price(value: int, field: str, label: str) -> None:
    if value < 0:
        raise PricingError("negative_price", f"The {label} cannot be below zero.", field)
    if value > MAX_PRICE_MINOR:
        raise PricingError("price_too_high", f"The {label} is too high; check it.", field)


def check_option(rule: PriceRule) -> None:
    """Refuse a ticket option whose prices do not make sense."""
    if rule.kind not in set(OptionKind):
        raise PricingError("bad_kind", "Choose how this option is paid.", "kind")
    if rule.kind in (OptionKind.FIXED, OptionKind.DOOR):
        _check_price(rule.price_minor, "price_minor", "price")
        if rule.kind == OptionKind.FIXED and rule.price_minor == 0:
            raise PricingError(
                "fixed_price_zero", "A fixed price must be above zero; choose Free.", "price_minor"
            )
    if rule.kind == OptionKind.SLIDING:
        _check_price(rule.min_minor, "min_minor", "minimum")
        _check_price(rule.suggested_minor, "suggested_minor", "suggested amount")
        _check_price(rule.max_minor, "max_minor", "maximum")
        if not rule.min_minor <= rule.suggested_minor <= rule.max_minor:
            raise PricingError(
                "bad_sliding_scale",
                "The minimum must not be above the suggested amount, nor that above the maximum.",
                "suggested_minor",
            )
        if rule.max_minor == 0:
            raise PricingError(
                "sliding_all_zero", "A sliding scale needs a maximum above zero.", "max_minor"
            )


def check_discount(kind: str, value: int, max_uses: int | None) -> None:
    """Refuse a discount code whose kind, value or limit does not make sense."""
    if kind not in set(DiscountKind):
        raise PricingError("bad_discount_kind", "Choose an amount or a percentage off.", "kind")
    if kind == DiscountKind.PERCENT and not 1 <= value <= 100:
        raise PricingError("bad_percent", "A percentage off must be from 1 to 100.", "value")
    if kind == DiscountKind.AMOUNT:
        if value <= 0:
            raise PricingError("bad_discount", "The amount off must be above zero.", "value")
        _check_price(value, "value", "amount off")
    if max_uses is not None and max_uses < 1:
        raise PricingError(
            "bad_max_uses", "Allow at least one use, or leave the limit empty.", "max_uses"
        )


def check_code_format(code: str) -> str:
    """Return the code normalised, or refuse it."""
    code = normalise_code(code)
    if not CODE_PATTERN.match(code):
        raise PricingError(
            "bad_code_format",
            "Use 3 to 40 letters, digits, dashes or underscores for the code.",
            "code",
        )
    return code


def base_amount(rule: PriceRule, chosen_minor: int | None) -> int:
    """Return what an option costs before any code; a sliding scale takes the chosen amount."""
    kind = OptionKind(rule.kind)
    if kind is OptionKind.FREE:
        return 0
    if kind is not OptionKind.SLIDING:
        return rule.price_minor
    if chosen_minor is None:
        raise PricingError("amount_required", "Choose how much you will pay.", "amount_minor")
    if chosen_minor < rule.min_minor:
        raise PricingError(
            "below_minimum", "That is below the minimum for this option.", "amount_minor"
        )
    if chosen_minor > rule.max_minor:
        raise PricingError(
            "above_maximum", "That is above the maximum for this option.", "amount_minor"
        )
    return chosen_minor


def check_code_usable(code: CodeRule, now: datetime) -> None:
    """Refuse a code that is switched off, out of date or used up."""
    if not code.is_active:
        raise PricingError("code_inactive", "That code is no longer valid.", "code")
    if code.expires_at is not None and now >= code.expires_at:
        raise PricingError("code_expired", "That code has expired.", "code")
    if code.max_uses is not None and code.uses >= code.max_uses:
        raise PricingError("code_used_up", "That code has been used up.", "code")


def apply_discount(amount_minor: int, code: CodeRule) -> int:
    """Return the amount after a code; never below zero (a percentage rounds the price up)."""
    off = amount_minor * code.value // 100 if code.kind == DiscountKind.PERCENT else code.value
    return max(amount_minor - off, 0)


def quote(rule: PriceRule, chosen_minor: int | None, code: CodeRule | None, now: datetime) -> int:
    """Return what a participant owes for an option, a chosen amount and an optional code."""
    amount = base_amount(rule, chosen_minor)
    if code is None:
        return amount
    check_code_usable(code, now)
    return apply_discount(amount, code)


def pays_by_card(kind: str, amount_minor: int) -> bool:
    """Return whether this option and amount are paid by card when registering."""
    return kind in (OptionKind.FIXED, OptionKind.SLIDING) and amount_minor > 0

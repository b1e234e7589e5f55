"""Prices, sliding scales and codes: pure rules, checked with examples and with hypothesis."""

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from facilitation.registration import pricing
from facilitation.registration.pricing import CodeRule, PriceRule, PricingError

NOW = datetime(2031, 3, 1, 12, 0, tzinfo=UTC)
SLIDING = PriceRule("sliding", min_minor=1000, suggested_minor=2000, max_minor=3000)


def code(kind="percent", value=50, max_uses=None, uses=0, expires_at=None, is_active=True):
    return CodeRule("HALF", kind, value, max_uses, uses, expires_at, is_active)


def refused(code_name, call, *args):
    with pytest.raises(PricingError) as caught:
        call(*args)
    assert caught.value.code == code_name
    return caught.value


def test_free_costs_nothing_and_fixed_costs_its_price():
    assert pricing.quote(PriceRule("free"), None, None, NOW) == 0
    assert pricing.quote(PriceRule("fixed", price_minor=2500), None, None, NOW) == 2500
    assert pricing.quote(PriceRule("door", price_minor=1500), 9999, None, NOW) == 1500


def test_sliding_scale_takes_the_chosen_amount_within_its_bounds():
    assert pricing.quote(SLIDING, 1000, None, NOW) == 1000
    assert pricing.quote(SLIDING, 3000, None, NOW) == 3000
    error = refused("below_minimum", pricing.quote, SLIDING, 999, None, NOW)
    assert error.field == "amount_minor" and "minimum" in error.message
    refused("above_maximum", pricing.quote, SLIDING, 3001, None, NOW)
    refused("amount_required", pricing.quote, SLIDING, None, None, NOW)


def test_codes_take_an_amount_or_a_percentage_off_never_below_zero():
    assert pricing.quote(SLIDING, 2000, code("percent", 25), NOW) == 1500
    assert pricing.quote(SLIDING, 2000, code("percent", 100), NOW) == 0
    assert pricing.quote(SLIDING, 2000, code("amount", 500), NOW) == 1500
    assert pricing.quote(SLIDING, 2000, code("amount", 5000), NOW) == 0


def test_a_percentage_rounds_the_price_up():
    assert pricing.apply_discount(999, code("percent", 50)) == 500


def test_expired_inactive_and_used_up_codes_are_refused():
    refused("code_expired", pricing.quote, SLIDING, 2000, code(expires_at=NOW), NOW)
    later = code(expires_at=NOW + timedelta(seconds=1))
    assert pricing.quote(SLIDING, 2000, later, NOW) == 1000
    refused("code_inactive", pricing.quote, SLIDING, 2000, code(is_active=False), NOW)
    assert refused("code_used_up", pricing.quote, SLIDING, 2000, code(max_uses=3, uses=3), NOW)
    assert pricing.quote(SLIDING, 2000, code(max_uses=3, uses=2), NOW) == 1000


@pytest.mark.parametrize(
    ("rule", "error"),
    [
        (PriceRule("fixed", price_minor=0), "fixed_price_zero"),
        (PriceRule("fixed", price_minor=-1), "negative_price"),
        (PriceRule("door", price_minor=pricing.MAX_PRICE_MINOR + 1), "price_too_high"),
        (
            PriceRule("sliding", min_minor=2000, suggested_minor=1000, max_minor=3000),
            "bad_sliding_scale",
        ),
        (PriceRule("sliding", min_minor=0, suggested_minor=0, max_minor=0), "sliding_all_zero"),
        (PriceRule("raffle"), "bad_kind"),
    ],
)
def test_options_that_do_not_make_sense_are_refused(rule, error):
    refused(error, pricing.check_option, rule)


@pytest.mark.parametrize(
    ("kind", "value", "max_uses", "error"),
    [
        ("percent", 0, None, "bad_percent"),
        ("percent", 101, None, "bad_percent"),
        ("amount", 0, None, "bad_discount"),
        ("amount", 100, 0, "bad_max_uses"),
        ("gift", 10, None, "bad_discount_kind"),
    ],
)
def test_discounts_that_do_not_make_sense_are_refused(kind, value, max_uses, error):
    refused(error, pricing.check_discount, kind, value, max_uses)


def test_codes_are_stored_upper_case_and_checked_for_format():
    assert pricing.check_code_format("  spring-25 ") == "SPRING-25"
    refused("bad_code_format", pricing.check_code_format, "a b")
    refused("bad_code_format", pricing.check_code_format, "ab")


def test_money_is_formatted_and_parsed_in_minor_units():
    assert pricing.format_money(1250, "EUR") == "EUR 12.50"
    assert pricing.format_money(5, "GBP") == "GBP 0.05"
    assert pricing.format_money(1500, "JPY") == "JPY 1500"
    assert pricing.parse_money("12,5", "EUR") == 1250
    assert pricing.parse_money("EUR 12.50", "EUR") == 1250
    assert pricing.parse_money("1500", "JPY") == 1500
    refused("bad_amount", pricing.parse_money, "12.505", "EUR")
    refused("bad_amount", pricing.parse_money, "twelve", "EUR")
    refused("bad_amount", pricing.parse_money, "NaN", "EUR")


@pytest.mark.parametrize("text", ["sNaN", "-Infinity", "1e-99999999", "0.1e-40"])
def test_odd_numbers_typed_are_refused_not_crashed_on(text):
    refused("bad_amount", pricing.parse_money, text, "EUR")


@pytest.mark.parametrize("text", ["1e999999999", "-1e999999", "100000.01", "1e20"])
def test_amounts_above_the_highest_price_are_refused(text):
    assert pricing.parse_money("100000", "EUR") == pricing.MAX_PRICE_MINOR
    refused("amount_too_high", pricing.parse_money, text, "EUR")
    assert pricing.check_currency(" gbp ") == "GBP"
    refused("bad_currency", pricing.check_currency, "pounds")


def test_only_fixed_and_sliding_amounts_above_zero_are_paid_by_card():
    assert pricing.pays_by_card("fixed", 100) and pricing.pays_by_card("sliding", 1)
    assert not pricing.pays_by_card("sliding", 0)
    assert not pricing.pays_by_card("door", 2000) and not pricing.pays_by_card("free", 0)


sliding_scales = (
    st.tuples(st.integers(0, 50_000), st.integers(0, 50_000), st.integers(1, 50_000))
    .map(sorted)
    .map(lambda t: PriceRule("sliding", min_minor=t[0], suggested_minor=t[1], max_minor=t[2]))
)
codes = st.builds(
    code,
    kind=st.sampled_from(["amount", "percent"]),
    value=st.integers(1, 100),
)


@given(rule=sliding_scales, chosen=st.integers(-10, 60_000), discount=st.none() | codes)
def test_a_quote_is_never_below_zero_nor_above_the_chosen_amount(rule, chosen, discount):
    try:
        amount = pricing.quote(rule, chosen, discount, NOW)
    except PricingError as err:
        assert err.code in {"below_minimum", "above_maximum"}
        assert not rule.min_minor <= chosen <= rule.max_minor
        return
    assert rule.min_minor <= chosen <= rule.max_minor
    assert 0 <= amount <= chosen
    if discount is None:
        assert amount == chosen


@given(
    minor=st.integers(0, pricing.MAX_PRICE_MINOR), currency=st.sampled_from(["EUR", "JPY", "KWD"])
)
def test_formatting_and_parsing_round_trip(minor, currency):
    assert pricing.parse_money(pricing.format_money(minor, currency), currency) == minor

"""Tests for the recurrence of a series of gatherings and the local/UTC helpers."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from facilitation.gatherings.schedule import (
    MAX_OCCURRENCES,
    Frequency,
    Occurrence,
    ScheduleError,
    SeriesRule,
    nth_date,
    occurrences,
    to_local,
    to_utc,
    validate_time_range,
    zone,
)

LONDON = "Europe/London"
NEW_YORK = "America/New_York"
TWO_HOURS = timedelta(hours=2)


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    """Return an aware UTC datetime."""
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def rule(first: datetime, frequency: Frequency = Frequency.WEEKLY, **kw: Any) -> SeriesRule:
    """Return a London rule of two-hour gatherings; ``count=4`` unless an end is given."""
    kw.setdefault("tz_name", LONDON)
    if "until" not in kw:
        kw.setdefault("count", 4)
    return SeriesRule(first, kw.pop("duration", TWO_HOURS), frequency=frequency, **kw)


def local_dates(series: list[Occurrence], tz_name: str = LONDON) -> list[date]:
    """Return the local start dates of occurrences."""
    return [to_local(o.starts_at_utc, tz_name).date() for o in series]


def code_of(call: Callable[[], object]) -> str:
    """Return the code of the ScheduleError that ``call`` raises."""
    with pytest.raises(ScheduleError) as info:
        call()
    return info.value.code


# --- helpers ---------------------------------------------------------------------------------


def test_to_utc_and_to_local_round_trip() -> None:
    starts = to_utc(datetime(2024, 7, 1, 19, 0), LONDON)
    assert starts == utc(2024, 7, 1, 18, 0)
    assert starts.tzinfo is UTC
    local = to_local(starts, LONDON)
    assert local.replace(tzinfo=None) == datetime(2024, 7, 1, 19, 0)
    assert local.utcoffset() == timedelta(hours=1)


def test_helpers_refuse_the_wrong_kind_of_datetime() -> None:
    assert code_of(lambda: to_utc(utc(2024, 1, 1), LONDON)) == "expected_naive"
    assert code_of(lambda: to_local(datetime(2024, 1, 1), LONDON)) == "expected_aware"


@pytest.mark.parametrize(
    "name", ["Mars/Olympus_Mons", "", "  ", "../../etc/passwd", "Europe/", "Europe", "America"]
)
def test_unknown_time_zone_is_refused(name: str) -> None:
    assert code_of(lambda: zone(name)) == "unknown_time_zone"
    assert code_of(lambda: to_utc(datetime(2024, 1, 1), name)) == "unknown_time_zone"
    assert code_of(lambda: rule(datetime(2024, 1, 1), tz_name=name)) == "unknown_time_zone"


def test_validate_time_range_needs_the_end_after_the_start() -> None:
    validate_time_range(utc(2024, 1, 1, 19), utc(2024, 1, 1, 21))
    assert code_of(lambda: validate_time_range(utc(2024, 1, 1), utc(2024, 1, 1))) == (
        "ends_before_start"
    )
    assert code_of(lambda: validate_time_range(utc(2024, 1, 2), utc(2024, 1, 1))) == (
        "ends_before_start"
    )


def test_schedule_error_carries_code_and_message() -> None:
    error = ScheduleError("invalid_count", "count must be at least 1")
    assert (error.code, str(error)) == ("invalid_count", "count must be at least 1")


# --- DST: nonexistent and ambiguous local times ----------------------------------------------


@pytest.mark.parametrize(
    ("tz_name", "local", "expected_utc", "shown_locally"),
    [
        # Spring forward: the gap is read with the offset before it, landing after the gap.
        (LONDON, datetime(2024, 3, 31, 1, 30), utc(2024, 3, 31, 1, 30), time(2, 30)),
        (NEW_YORK, datetime(2024, 3, 10, 2, 30), utc(2024, 3, 10, 7, 30), time(3, 30)),
        # Fall back: the first of the two instants (summer offset, fold=0).
        (LONDON, datetime(2024, 10, 27, 1, 30), utc(2024, 10, 27, 0, 30), time(1, 30)),
        (NEW_YORK, datetime(2024, 11, 3, 1, 30), utc(2024, 11, 3, 5, 30), time(1, 30)),
    ],
)
def test_nonexistent_and_ambiguous_local_times_resolve_deterministically(
    tz_name: str, local: datetime, expected_utc: datetime, shown_locally: time
) -> None:
    assert to_utc(local, tz_name) == expected_utc
    assert to_local(expected_utc, tz_name).time() == shown_locally
    assert to_utc(local.replace(fold=1), tz_name) == expected_utc  # fold is ignored


def test_weekly_series_keeps_local_wall_time_across_dst_in_london() -> None:
    series = occurrences(rule(datetime(2024, 3, 17, 19, 0), count=3))
    assert [o.starts_at_utc for o in series] == [
        utc(2024, 3, 17, 19),
        utc(2024, 3, 24, 19),
        utc(2024, 3, 31, 18),  # BST from 31 March
    ]
    assert [o.ends_at_utc - o.starts_at_utc for o in series] == [TWO_HOURS] * 3
    assert [o.index for o in series] == [0, 1, 2]


def test_weekly_series_keeps_local_wall_time_across_dst_in_new_york() -> None:
    series = occurrences(rule(datetime(2024, 10, 27, 19, 0), tz_name=NEW_YORK, count=2))
    assert [o.starts_at_utc for o in series] == [utc(2024, 10, 27, 23), utc(2024, 11, 4, 0)]


def test_series_through_a_spring_gap_shifts_only_that_occurrence() -> None:
    series = occurrences(rule(datetime(2024, 3, 24, 1, 30), count=3))
    assert [to_local(o.starts_at_utc, LONDON).time() for o in series] == [
        time(1, 30),
        time(2, 30),  # 01:30 does not exist on 31 March 2024
        time(1, 30),
    ]


def test_series_through_a_fall_back_takes_the_first_instant() -> None:
    series = occurrences(rule(datetime(2024, 10, 27, 1, 30), tz_name=NEW_YORK, count=2))
    assert series[0].starts_at_utc == utc(2024, 10, 27, 5, 30)
    assert series[1].starts_at_utc == utc(2024, 11, 3, 5, 30)  # EDT, not EST


def test_duration_is_elapsed_time_even_across_a_dst_change() -> None:
    first = datetime(2024, 11, 3, 0, 30)  # fall back at 02:00 that night
    only = occurrences(rule(first, tz_name=NEW_YORK, count=1, duration=timedelta(hours=3)))[0]
    assert only.ends_at_utc - only.starts_at_utc == timedelta(hours=3)
    assert to_local(only.ends_at_utc, NEW_YORK).time() == time(2, 30)


# --- frequencies -----------------------------------------------------------------------------


def test_fortnightly_series_skips_a_week() -> None:
    series = occurrences(rule(datetime(2024, 1, 1, 19), Frequency.FORTNIGHTLY))
    assert local_dates(series) == [date(2024, 1, d) for d in (1, 15, 29)] + [date(2024, 2, 12)]


def test_monthly_date_uses_the_last_day_of_shorter_months() -> None:
    series = occurrences(rule(datetime(2024, 1, 31, 19), Frequency.MONTHLY_DATE, count=5))
    assert local_dates(series) == [
        date(2024, 1, 31),
        date(2024, 2, 29),
        date(2024, 3, 31),  # back to the 31st: anchored on the first occurrence, no drift
        date(2024, 4, 30),
        date(2024, 5, 31),
    ]


def test_monthly_date_crosses_the_year() -> None:
    series = occurrences(rule(datetime(2024, 11, 15, 19), Frequency.MONTHLY_DATE, count=3))
    assert local_dates(series) == [date(2024, 11, 15), date(2024, 12, 15), date(2025, 1, 15)]


def test_monthly_weekday_keeps_the_nth_weekday() -> None:
    series = occurrences(rule(datetime(2024, 1, 9, 19), Frequency.MONTHLY_WEEKDAY))
    # Second Tuesday of each month.
    assert local_dates(series) == [
        date(2024, 1, 9),
        date(2024, 2, 13),
        date(2024, 3, 12),
        date(2024, 4, 9),
    ]


def test_monthly_weekday_from_a_fifth_weekday_uses_the_last_one() -> None:
    series = occurrences(rule(datetime(2024, 1, 30, 19), Frequency.MONTHLY_WEEKDAY))
    assert local_dates(series) == [
        date(2024, 1, 30),
        date(2024, 2, 27),
        date(2024, 3, 26),
        date(2024, 4, 30),
    ]


def test_monthly_weekday_from_a_fourth_weekday_stays_fourth() -> None:
    series = occurrences(rule(datetime(2024, 1, 23, 19), Frequency.MONTHLY_WEEKDAY))
    assert local_dates(series)[3] == date(2024, 4, 23)  # not the last Tuesday, 30 April


def test_frequency_may_be_given_as_its_string_value() -> None:
    by_name = rule(datetime(2024, 1, 1, 19), "monthly_date")  # type: ignore[arg-type]
    by_enum = rule(datetime(2024, 1, 1, 19), Frequency.MONTHLY_DATE)
    assert occurrences(by_name) == occurrences(by_enum)
    assert local_dates(occurrences(by_name))[1] == date(2024, 2, 1)


# --- ends and limits -------------------------------------------------------------------------


def test_until_is_inclusive() -> None:
    first = datetime(2024, 1, 1, 19)
    assert len(occurrences(rule(first, until=date(2024, 1, 29)))) == 5
    assert len(occurrences(rule(first, until=date(2024, 1, 28)))) == 4
    assert len(occurrences(rule(first, until=date(2024, 1, 1)))) == 1


def test_the_cap_allows_exactly_max_occurrences() -> None:
    first = datetime(2024, 1, 1, 19)
    assert len(occurrences(rule(first, count=MAX_OCCURRENCES))) == MAX_OCCURRENCES
    last_allowed = first.date() + timedelta(weeks=MAX_OCCURRENCES - 1)
    assert len(occurrences(rule(first, until=last_allowed))) == MAX_OCCURRENCES


def test_more_than_max_occurrences_is_refused() -> None:
    first = datetime(2024, 1, 1, 19)
    assert code_of(lambda: rule(first, count=MAX_OCCURRENCES + 1)) == "too_many_occurrences"
    too_far = first.date() + timedelta(weeks=MAX_OCCURRENCES)
    assert code_of(lambda: occurrences(rule(first, until=too_far))) == "too_many_occurrences"


def test_series_past_the_last_representable_date_is_refused() -> None:
    late = rule(datetime(9999, 6, 1, 19), Frequency.MONTHLY_DATE, count=12)
    assert code_of(lambda: occurrences(late)) == "out_of_range"


@pytest.mark.parametrize(
    ("kw", "code"),
    [
        ({"count": 0}, "invalid_count"),
        ({"count": -3}, "invalid_count"),
        ({"count": True}, "invalid_count"),
        ({"count": 2.0}, "invalid_count"),
        ({"until": date(2023, 12, 31)}, "until_before_start"),
        ({"until": datetime(2024, 2, 1)}, "invalid_until"),
        ({"until": date(2024, 2, 1), "count": 3}, "invalid_end"),
        ({"count": None}, "invalid_end"),
        ({"duration": timedelta(0)}, "invalid_duration"),
        ({"duration": timedelta(minutes=-5)}, "invalid_duration"),
        ({"frequency": "daily"}, "unknown_frequency"),
    ],
)
def test_invalid_rule_is_refused(kw: dict[str, Any], code: str) -> None:
    frequency = kw.pop("frequency", Frequency.WEEKLY)
    assert code_of(lambda: rule(datetime(2024, 1, 1, 19), frequency, **kw)) == code


def test_aware_first_start_is_refused() -> None:
    assert code_of(lambda: rule(utc(2024, 1, 1, 19))) == "expected_naive"


# --- properties ------------------------------------------------------------------------------

ZONES = [LONDON, NEW_YORK, "Australia/Sydney", "Australia/Lord_Howe", "Asia/Kolkata", "UTC"]
#: Night-time wall times where these zones change offset, and any minute of the day.
wall_times = st.one_of(
    st.sampled_from([time(0, 30), time(1, 0), time(1, 30), time(2, 0), time(2, 30), time(3, 0)]),
    st.times().map(lambda t: t.replace(second=0, microsecond=0)),
)
#: Dates, half of them moved to a Sunday, when these zones change offset.
days = st.tuples(st.dates(date(2020, 1, 1), date(2030, 12, 25)), st.booleans()).map(
    lambda pair: pair[0] + timedelta(days=(6 - pair[0].weekday()) % 7 if pair[1] else 0)
)
firsts = st.builds(datetime.combine, days, wall_times)
frequencies = st.sampled_from(list(Frequency))


def check_wall_time(series: list[Occurrence], first: datetime, tz_name: str) -> None:
    """Assert each start shows the first's wall time, or is a gap time pushed forward."""
    wanted = first.time()
    for occurrence in series:
        local = to_local(occurrence.starts_at_utc, tz_name)
        assert local.fold == 0  # an ambiguous time takes its first instant
        if local.time() != wanted:
            naive = datetime.combine(local.date(), wanted)
            gap = local.replace(tzinfo=None) - naive
            assert timedelta(0) < gap <= timedelta(hours=1)  # shifted forward over the gap
            assert to_local(to_utc(naive, tz_name), tz_name).replace(tzinfo=None) != naive


def check_dates(series: list[Occurrence], first: datetime, rule_: SeriesRule) -> None:
    """Assert the local dates follow the frequency from the first date."""
    for occurrence in series:
        expected = nth_date(first.date(), rule_.frequency, occurrence.index)
        local = to_local(occurrence.starts_at_utc, rule_.tz_name)
        assert local.date() == expected
        if rule_.frequency == Frequency.MONTHLY_WEEKDAY:
            assert expected.weekday() == first.weekday()
        if rule_.frequency == Frequency.MONTHLY_DATE:
            assert expected.day == first.day or expected.day >= 28


@settings(max_examples=200, deadline=None)
@given(
    first=firsts,
    tz_name=st.sampled_from(ZONES),
    frequency=frequencies,
    count=st.integers(1, 60),
    minutes=st.integers(1, 60 * 24),
)
def test_counted_series_keeps_wall_time_and_order(
    first: datetime, tz_name: str, frequency: Frequency, count: int, minutes: int
) -> None:
    duration = timedelta(minutes=minutes)
    rule_ = SeriesRule(first, duration, tz_name, frequency, count=count)
    series = occurrences(rule_)
    assert [o.index for o in series] == list(range(count))
    starts = [o.starts_at_utc for o in series]
    assert starts == sorted(set(starts))
    assert all(o.ends_at_utc - o.starts_at_utc == duration for o in series)
    assert all(o.starts_at_utc.tzinfo is UTC for o in series)
    check_wall_time(series, first, tz_name)
    check_dates(series, first, rule_)


@settings(max_examples=200, deadline=None)
@given(
    first=firsts,
    tz_name=st.sampled_from(ZONES),
    frequency=frequencies,
    span_days=st.integers(0, 5 * 366),
)
def test_series_until_a_date_stops_on_or_before_it(
    first: datetime, tz_name: str, frequency: Frequency, span_days: int
) -> None:
    until = first.date() + timedelta(days=span_days)
    rule_ = SeriesRule(first, TWO_HOURS, tz_name, frequency, until=until)
    try:
        series = occurrences(rule_)
    except ScheduleError as error:
        assert error.code == "too_many_occurrences"
        assert nth_date(first.date(), frequency, MAX_OCCURRENCES) <= until
        return
    dates = [nth_date(first.date(), frequency, o.index) for o in series]
    assert dates[0] == first.date()
    assert all(d <= until for d in dates)
    assert nth_date(first.date(), frequency, len(series)) > until
    check_wall_time(series, first, tz_name)

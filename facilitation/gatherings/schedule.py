"""Occurrences of a recurring series of gatherings, and local/UTC time helpers; pure.

Wall-clock rule: every occurrence starts at the first occurrence's local wall time in the
series' IANA zone, whatever the UTC offset that day (19:00 stays 19:00 in winter and summer).
Local times are resolved with ``fold=0``, as ``zoneinfo`` does by default:

- an ambiguous time (autumn fall-back, the hour happens twice) takes its first instance, the
  one with the summer offset;
- a nonexistent time (spring-forward gap) is read with the offset in force before the gap, so
  it lands after the gap by the gap's length (01:30 in London on a spring-forward Sunday is
  02:30 BST; 02:30 in New York is 03:30 EDT).

An occurrence ends ``duration`` of elapsed time after it starts (not at a local wall time).
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

#: Pure core: no framework import, here or in what it imports (tests/core/test_pure_core.py).
__pure__ = True

#: Most occurrences one series may create.
MAX_OCCURRENCES = 200


class ScheduleError(Exception):
    """Refuse an invalid schedule or time range, naming why in ``code``."""

    def __init__(self, code: str, message: str | None = None) -> None:
        super().__init__(message or code)
        self.code = code


class Frequency(StrEnum):
    """Name how often a series repeats."""

    WEEKLY = "weekly"
    FORTNIGHTLY = "fortnightly"
    #: Same day of the month; a month without that day (the 31st) uses its last day.
    MONTHLY_DATE = "monthly_date"
    #: Same nth weekday as the first occurrence; a 5th weekday means the month's last one.
    MONTHLY_WEEKDAY = "monthly_weekday"


@dataclass(frozen=True)
class Occurrence:
    """Give one occurrence of a series, 0-based, in aware UTC."""

    index: int
    starts_at_utc: datetime
    ends_at_utc: datetime


def zone(tz_name: str) -> ZoneInfo:
    """Return the IANA time zone named ``tz_name`` or raise ``unknown_time_zone``."""
    if not isinstance(tz_name, str) or not tz_name.strip():
        raise ScheduleError("unknown_time_zone", f"unknown time zone {tz_name!r}")
    try:
        return ZoneInfo(tz_name)
    except (ZoneInfoNotFoundError, ValueError, OSError) as exc:
        # OSError: a folder of the zone database ("Europe") is no zone.
        raise ScheduleError("unknown_time_zone", f"unknown time zone {tz_name!r}") from exc


def to_utc(local_naive: datetime, tz_name: str) -> datetime:
    """Return the aware UTC instant of a naive local wall time (``fold=0``; see module doc)."""
    if local_naive.tzinfo is not None:
        raise ScheduleError("expected_naive", "a local wall time must be naive")
    return local_naive.replace(tzinfo=zone(tz_name), fold=0).astimezone(UTC)


def to_local(utc_dt: datetime, tz_name: str) -> datetime:
    """Return an aware instant as an aware datetime in the named zone."""
    if utc_dt.tzinfo is None or utc_dt.utcoffset() is None:
        raise ScheduleError("expected_aware", "an instant must be timezone-aware")
    return utc_dt.astimezone(zone(tz_name))


def validate_time_range(starts_at: datetime, ends_at: datetime) -> None:
    """Raise ``ends_before_start`` unless ``ends_at`` is strictly after ``starts_at``."""
    if ends_at <= starts_at:
        raise ScheduleError("ends_before_start", "the end must be after the start")


def _add_months(day: date, months: int) -> tuple[int, int]:
    total = day.year * 12 + day.month - 1 + months
    return total // 12, total % 12 + 1


def _monthly_date(first: date, k: int) -> date:
    year, month = _add_months(first, k)
    return date(year, month, min(first.day, calendar.monthrange(year, month)[1]))


def _monthly_weekday(first: date, k: int) -> date:
    year, month = _add_months(first, k)
    nth = (first.day - 1) // 7 + 1
    days_in_month = calendar.monthrange(year, month)[1]
    if nth == 5:
        last = date(year, month, days_in_month)
        return last - timedelta(days=(last.weekday() - first.weekday()) % 7)
    first_of_month = date(year, month, 1)
    offset = (first.weekday() - first_of_month.weekday()) % 7
    return first_of_month + timedelta(days=offset + 7 * (nth - 1))


def nth_date(first: date, frequency: Frequency, k: int) -> date:
    """Return the local date of the series' occurrence number ``k`` (0-based)."""
    if frequency == Frequency.WEEKLY:
        return first + timedelta(weeks=k)
    if frequency == Frequency.FORTNIGHTLY:
        return first + timedelta(weeks=2 * k)
    if frequency == Frequency.MONTHLY_DATE:
        return _monthly_date(first, k)
    return _monthly_weekday(first, k)


@dataclass(frozen=True)
class SeriesRule:
    """Describe a series: first local start, duration, zone, frequency, and one end."""

    first_start_local: datetime
    duration: timedelta
    tz_name: str
    frequency: Frequency
    until: date | None = None
    count: int | None = None

    def __post_init__(self) -> None:
        zone(self.tz_name)
        if self.first_start_local.tzinfo is not None:
            raise ScheduleError("expected_naive", "the first start is a naive local wall time")
        if self.frequency not in tuple(Frequency):
            raise ScheduleError("unknown_frequency", f"unknown frequency {self.frequency!r}")
        if self.duration <= timedelta(0):
            raise ScheduleError("invalid_duration", "the duration must be positive")
        if (self.until is None) == (self.count is None):
            raise ScheduleError("invalid_end", "give exactly one of until and count")
        if self.count is not None:
            if isinstance(self.count, bool) or not isinstance(self.count, int) or self.count < 1:
                raise ScheduleError("invalid_count", "count must be a whole number, at least 1")
            if self.count > MAX_OCCURRENCES:
                raise ScheduleError("too_many_occurrences", f"at most {MAX_OCCURRENCES}")
        if self.until is not None:
            if isinstance(self.until, datetime) or not isinstance(self.until, date):
                raise ScheduleError("invalid_until", "until must be a date")
            if self.until < self.first_start_local.date():
                raise ScheduleError("until_before_start", "until is before the first date")


def occurrences(rule: SeriesRule) -> list[Occurrence]:
    """Return the series' occurrences in order, or raise ``too_many_occurrences``."""
    first = rule.first_start_local
    frequency = Frequency(rule.frequency)
    wall_time = first.time()
    result: list[Occurrence] = []
    for k in range(MAX_OCCURRENCES + 1):
        if rule.count is not None and k == rule.count:
            break
        try:
            day = nth_date(first.date(), frequency, k)
            if rule.until is not None and day > rule.until:
                break
            if k == MAX_OCCURRENCES:
                raise ScheduleError("too_many_occurrences", f"at most {MAX_OCCURRENCES}")
            starts = to_utc(datetime.combine(day, wall_time), rule.tz_name)
            result.append(Occurrence(k, starts, starts + rule.duration))
        except (OverflowError, ValueError) as exc:
            raise ScheduleError("out_of_range", "the series runs past the last date") from exc
    return result

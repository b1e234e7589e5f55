"""What organisers learn from attendance: figures for a gathering, a series, a person; pure.

The queries (``report_queries``) collect plain rows; these functions count. Definitions:

- *registered*: people whose registration is confirmed (walk-ins included);
- *checked in*: people with a standing check-in (an undone one does not count);
- *no-shows*: registered people who are not checked in;
- *walk-ins*: registrations made at the door;
- *first-timers*: people checked in whose first gathering ever attended (by start time) in
  the organisation is this one;
- in a series, *newcomers* attend an occurrence of the series for the first time;
  *returning* people attended an earlier occurrence; *came back* people attend a later one.

Every CSV cell goes through ``safe_cell``, so a name like ``=HYPERLINK(…)`` stays text.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from facilitation.registration.export import safe_cell
from facilitation.registration.pricing import format_money
from facilitation.registration.states import Status

#: Pure core: no framework import, here or in what it imports (tests/core/test_pure_core.py).
__pure__ = True


def _time(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M") if value else ""


def _rate(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def _percent(rate: float | None) -> str:
    return "" if rate is None else f"{rate * 100:.0f}%"


def fill_ratio(taken: int, capacity: int) -> float:
    """Return how full a gathering is, from 0 to 1 (a gathering of no seats counts as full)."""
    if capacity <= 0:
        return 1.0
    return min(taken / capacity, 1.0)


# --- who came first where -----------------------------------------------------------------


@dataclass(frozen=True)
class Attendance:
    """One person checked in at one gathering."""

    user_id: int
    gathering_id: int
    starts_at: datetime


def first_gatherings(attended: Sequence[Attendance]) -> dict[int, int]:
    """Return, for each person, the gathering they attended first (earliest start, then id)."""
    first: dict[int, Attendance] = {}
    for row in attended:
        kept = first.get(row.user_id)
        if kept is None or (row.starts_at, row.gathering_id) < (kept.starts_at, kept.gathering_id):
            first[row.user_id] = row
    return {user_id: row.gathering_id for user_id, row in first.items()}


# --- one gathering ------------------------------------------------------------------------


@dataclass(frozen=True)
class PersonRow:
    """One person's registration at a gathering, as the report needs it."""

    user_id: int
    name: str
    email: str
    status: str
    option: str
    checked_in_at: datetime | None
    walk_in: bool


@dataclass(frozen=True)
class MoneyRow:
    """One ledger row of a gathering: a charge or a refund on a registration's option."""

    option: str
    kind: str
    amount_minor: int
    currency: str


@dataclass(frozen=True)
class Revenue:
    """Money kept on one ticket option, in one currency."""

    option: str
    currency: str
    charged_minor: int
    refunded_minor: int

    @property
    def net_minor(self) -> int:
        """Return charges minus refunds."""
        return self.charged_minor - self.refunded_minor


@dataclass(frozen=True)
class GatheringReport:
    """The figures of one gathering."""

    registered: int
    checked_in: int
    no_shows: int
    walk_ins: int
    waitlist: int
    cancelled: int
    first_timers: int
    revenue: tuple[Revenue, ...]


def revenue_by_option(money: Sequence[MoneyRow]) -> tuple[Revenue, ...]:
    """Sum charges and refunds by ticket option and currency."""
    sums: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0])
    for row in money:
        sums[(row.option, row.currency)][0 if row.kind == "charge" else 1] += row.amount_minor
    return tuple(
        Revenue(option, currency, charged, refunded)
        for (option, currency), (charged, refunded) in sorted(sums.items())
    )


def gathering_report(
    gathering_id: int,
    people: Sequence[PersonRow],
    money: Sequence[MoneyRow],
    first_gathering: Mapping[int, int],
) -> GatheringReport:
    """Count a gathering's figures from its registrations, its ledger and first visits."""
    confirmed = {p.user_id for p in people if p.status == Status.CONFIRMED}
    present = {p.user_id for p in people if p.checked_in_at is not None}
    return GatheringReport(
        registered=len(confirmed),
        checked_in=len(present),
        no_shows=len(confirmed - present),
        walk_ins=sum(1 for p in people if p.walk_in),
        waitlist=len({p.user_id for p in people if p.status == Status.WAITLISTED}),
        cancelled=len({p.user_id for p in people if p.status == Status.CANCELLED} - confirmed),
        first_timers=sum(1 for uid in present if first_gathering.get(uid) == gathering_id),
        revenue=revenue_by_option(money),
    )


def gathering_summary_rows(report: GatheringReport) -> list[list[str]]:
    """Return a gathering's figures as CSV rows (header first), revenue after the counts."""
    rows = [
        ["Measure", "Value"],
        ["Registered", str(report.registered)],
        ["Checked in", str(report.checked_in)],
        ["No-shows", str(report.no_shows)],
        ["Walk-ins", str(report.walk_ins)],
        ["Waitlist", str(report.waitlist)],
        ["Cancelled", str(report.cancelled)],
        ["First-timers", str(report.first_timers)],
    ]
    for line in report.revenue:
        rows.append(
            [
                f"Revenue: {line.option} ({line.currency})",
                format_money(line.net_minor, line.currency),
            ]
        )
    return [[safe_cell(cell) for cell in row] for row in rows]


def attendee_rows(
    people: Sequence[PersonRow], first_gathering: Mapping[int, int], gathering_id: int
) -> list[list[str]]:
    """Return a gathering's people as CSV rows (header first)."""
    table = [["Name", "Email", "Status", "Option", "Checked in (UTC)", "Walk-in", "First time"]]
    for p in people:
        first = p.checked_in_at is not None and first_gathering.get(p.user_id) == gathering_id
        row = [
            p.name,
            p.email,
            p.status,
            p.option,
            _time(p.checked_in_at),
            "yes" if p.walk_in else "",
            "yes" if first else "",
        ]
        table.append([safe_cell(cell) for cell in row])
    return table


# --- a series -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Occurrence:
    """One date of a series that took place."""

    gathering_id: int
    starts_at: datetime
    label: str


@dataclass(frozen=True)
class OccurrenceFigures:
    """Attendance at one occurrence of a series."""

    occurrence: Occurrence
    attended: int
    newcomers: int
    returning: int
    #: Of those who came, how many come to a later occurrence (None after the last one).
    came_back: int | None

    @property
    def returning_rate(self) -> float | None:
        """Return the share of those who came who had come before (None if nobody came)."""
        return _rate(self.returning, self.attended)

    @property
    def came_back_rate(self) -> float | None:
        """Return the share of those who came who came again later."""
        return None if self.came_back is None else _rate(self.came_back, self.attended)


@dataclass(frozen=True)
class SeriesReport:
    """Attendance over a series: per occurrence, and how often people came."""

    occurrences: tuple[OccurrenceFigures, ...]
    #: (number of occurrences attended, how many people attended that many), fewest first.
    retention: tuple[tuple[int, int], ...]
    people: int


def series_report(
    occurrences: Sequence[Occurrence], attended: Sequence[Attendance]
) -> SeriesReport:
    """Count attendance, newcomers, returning people and retention over a series."""
    ordered = sorted(occurrences, key=lambda o: (o.starts_at, o.gathering_id))
    index = {o.gathering_id: i for i, o in enumerate(ordered)}
    present: list[set[int]] = [set() for _ in ordered]
    for row in attended:
        if row.gathering_id in index:
            present[index[row.gathering_id]].add(row.user_id)
    first_seen: dict[int, int] = {}
    last_seen: dict[int, int] = {}
    for i, people in enumerate(present):
        for user_id in people:
            first_seen.setdefault(user_id, i)
            last_seen[user_id] = i
    figures = []
    for i, (occurrence, people) in enumerate(zip(ordered, present, strict=True)):
        new = sum(1 for uid in people if first_seen[uid] == i)
        later = None if i == len(ordered) - 1 else sum(1 for uid in people if last_seen[uid] > i)
        figures.append(OccurrenceFigures(occurrence, len(people), new, len(people) - new, later))
    times = Counter(sum(1 for people in present if uid in people) for uid in first_seen)
    return SeriesReport(tuple(figures), tuple(sorted(times.items())), len(first_seen))


def series_rows(report: SeriesReport) -> list[list[str]]:
    """Return a series report as CSV rows: one per occurrence, then the retention table."""
    table = [
        [
            "Date (UTC)",
            "Occurrence",
            "Attended",
            "Newcomers",
            "Returning",
            "Returning rate",
            "Came back later",
            "Came back rate",
        ]
    ]
    for f in report.occurrences:
        table.append(
            [
                _time(f.occurrence.starts_at),
                f.occurrence.label,
                str(f.attended),
                str(f.newcomers),
                str(f.returning),
                _percent(f.returning_rate),
                "" if f.came_back is None else str(f.came_back),
                _percent(f.came_back_rate),
            ]
        )
    table += [[], ["Occurrences attended", "People"]]
    table += [[str(times), str(people)] for times, people in report.retention]
    return [[safe_cell(cell) for cell in row] for row in table]


# --- one person ---------------------------------------------------------------------------


@dataclass(frozen=True)
class HistoryRow:
    """One of a person's registrations, with whether they came."""

    gathering_id: int
    title: str
    starts_at: datetime
    ends_at: datetime
    status: str
    checked_in_at: datetime | None
    walk_in: bool


@dataclass(frozen=True)
class History:
    """A person's attendance history, newest first."""

    rows: tuple[HistoryRow, ...]
    attended: int
    no_shows: int
    cancelled: int
    upcoming: int


def participant_history(rows: Sequence[HistoryRow], now: datetime) -> History:
    """Summarise a person's registrations: attended, missed, cancelled, still to come."""
    ordered = tuple(sorted(rows, key=lambda r: (r.starts_at, r.gathering_id), reverse=True))
    attended = {r.gathering_id for r in ordered if r.checked_in_at is not None}
    past_confirmed = {
        r.gathering_id for r in ordered if r.status == Status.CONFIRMED and r.ends_at <= now
    }
    upcoming = {
        r.gathering_id
        for r in ordered
        if r.status == Status.CONFIRMED and r.ends_at > now and r.gathering_id not in attended
    }
    cancelled = {r.gathering_id for r in ordered if r.status == Status.CANCELLED} - attended
    return History(
        rows=ordered,
        attended=len(attended),
        no_shows=len(past_confirmed - attended),
        cancelled=len(cancelled - past_confirmed - upcoming),
        upcoming=len(upcoming),
    )


def history_rows(history: History) -> list[list[str]]:
    """Return a person's history as CSV rows (header first)."""
    table = [["Date (UTC)", "Gathering", "Status", "Checked in (UTC)", "Walk-in"]]
    for r in history.rows:
        row = [
            _time(r.starts_at),
            r.title,
            r.status,
            _time(r.checked_in_at),
            "yes" if r.walk_in else "",
        ]
        table.append([safe_cell(cell) for cell in row])
    return table

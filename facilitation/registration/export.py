"""Rows of the registrations export (CSV) from plain values; pure."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from facilitation.registration.pricing import format_money

#: Pure core: no framework import, here or in what it imports (tests/core/test_pure_core.py).
__pure__ = True

HEADER = [
    "Name",
    "Email",
    "Status",
    "Option",
    "Role",
    "Amount",
    "Paid",
    "Refunded",
    "Due at the door",
    "Code",
    "Registered (UTC)",
    "Confirmed (UTC)",
]
#: A spreadsheet treats a cell starting with one of these as a formula.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class ExportRecord:
    """One registration flattened for export."""

    name: str
    email: str
    status: str
    option: str
    role: str
    currency: str
    amount_minor: int
    paid_minor: int
    refunded_minor: int
    door_due_minor: int
    code: str
    created_at: datetime
    confirmed_at: datetime | None
    #: Answers by question id, already as text.
    answers: Mapping[int, str] = field(default_factory=dict)


def safe_cell(value: str) -> str:
    """Keep a spreadsheet from running a cell as a formula (CSV injection)."""
    return "'" + value if value.startswith(_FORMULA_STARTS) else value


def _time(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M") if value else ""


def rows(records: Sequence[ExportRecord], questions: Sequence[tuple[int, str]]) -> list[list[str]]:
    """Return the header and one row per registration, with a column per question."""
    table = [HEADER + [safe_cell(label) for _, label in questions]]
    for r in records:
        row = [
            r.name,
            r.email,
            r.status,
            r.option,
            r.role,
            format_money(r.amount_minor, r.currency),
            format_money(r.paid_minor, r.currency),
            format_money(r.refunded_minor, r.currency),
            format_money(r.door_due_minor, r.currency) if r.door_due_minor else "",
            r.code,
            _time(r.created_at),
            _time(r.confirmed_at),
        ]
        row += [r.answers.get(question_id, "") for question_id, _ in questions]
        table.append([safe_cell(cell) for cell in row])
    return table

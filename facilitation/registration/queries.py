"""What the registration pages show: a person's gatherings, a gathering's registrations."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import joinedload, selectinload

from facilitation.accounts.models import User
from facilitation.core.errors import DomainError
from facilitation.extensions import db
from facilitation.gatherings.models import Gathering
from facilitation.registration import answers, export, options, seats
from facilitation.registration.models import (
    DiscountCode,
    Payment,
    Registration,
    RegistrationAnswer,
    RegistrationQuestion,
)
from facilitation.registration.states import Status

#: Most rows one registrations list shows.
LIST_LIMIT = 2000


@dataclass
class MyRegistrations:
    """A person's registrations: gatherings still to come (soonest first) and past ones."""

    upcoming: list[Registration]
    past: list[Registration]


def my_registrations(user: User, now: datetime) -> MyRegistrations:
    """Return a person's registrations, split into upcoming and past."""
    rows = db.session.scalars(
        sa.select(Registration)
        .join(Gathering, Gathering.id == Registration.gathering_id)
        .where(Registration.user_id == user.id)
        .options(joinedload(Registration.gathering), joinedload(Registration.ticket_option))
        .order_by(Gathering.starts_at, Registration.id)
    ).all()
    upcoming = [r for r in rows if r.gathering.ends_at > now]
    past = [r for r in rows if r.gathering.ends_at <= now]
    past.reverse()
    return MyRegistrations(upcoming, past)


def registrations_for(
    actor: User, gathering: Gathering, *, status: str | None = None, search: str = ""
) -> list[Registration]:
    """Return a gathering's registrations for its managers, filtered by status and name/email."""
    options.require_manager(actor, gathering)
    stmt = (
        sa.select(Registration)
        .join(User, User.id == Registration.user_id)
        .where(Registration.gathering_id == gathering.id)
        .options(
            joinedload(Registration.user),
            joinedload(Registration.ticket_option),
            joinedload(Registration.role),
            joinedload(Registration.discount_code),
        )
        .order_by(Registration.created_at, Registration.id)
        .limit(LIST_LIMIT)
    )
    if status:
        if status not in set(Status):
            raise DomainError("bad_status", "Choose one of the statuses listed.", "status")
        stmt = stmt.where(Registration.status == status)
    text = search.strip().lower()
    if text:
        pattern = "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        stmt = stmt.where(
            sa.or_(
                sa.func.lower(User.name).like(pattern, escape="\\"),
                sa.func.lower(User.email).like(pattern, escape="\\"),
            )
        )
    return list(db.session.scalars(stmt).unique())


def counts_by_status(gathering: Gathering) -> dict[str, int]:
    """Return how many registrations a gathering has in each status."""
    rows = db.session.execute(
        sa.select(Registration.status, sa.func.count())
        .where(Registration.gathering_id == gathering.id)
        .group_by(Registration.status)
    ).all()
    return {status: n for status, n in rows}


def seats_and_waiting(gathering: Gathering, now: datetime) -> tuple[int, int]:
    """Return (seats free, people waiting) at ``now`` in one query (a snapshot for display)."""
    taken, waiting = db.session.execute(
        sa.select(
            sa.func.count().filter(seats.seat_condition(now)),
            sa.func.count().filter(Registration.status == Status.WAITLISTED),
        ).where(Registration.gathering_id == gathering.id)
    ).one()
    return max(gathering.capacity - taken, 0), waiting


def seats_left(gathering: Gathering, now: datetime) -> int:
    """Return how many seats are free at ``now`` (a snapshot for display; not a promise)."""
    return seats.room(gathering, now).seats_left


def answers_for(actor: User, gathering: Gathering) -> dict[int, list[tuple[str, str]]]:
    """Return each registration's answers as (question, answer) pairs, in question order."""
    options.require_manager(actor, gathering)
    rows = db.session.execute(
        sa.select(
            RegistrationAnswer.registration_id, RegistrationQuestion, RegistrationAnswer.value
        )
        .join(RegistrationQuestion, RegistrationQuestion.id == RegistrationAnswer.question_id)
        .join(Registration, Registration.id == RegistrationAnswer.registration_id)
        .where(Registration.gathering_id == gathering.id)
        .order_by(RegistrationQuestion.position, RegistrationQuestion.id)
    ).all()
    found: dict[int, list[tuple[str, str]]] = {}
    for registration_id, question, value in rows:
        shown = answers.display(question.kind, value)
        found.setdefault(registration_id, []).append((question.label, shown))
    return found


def payments_of(registration: Registration) -> list[Payment]:
    """Return the payments ledger of one registration, oldest first (for a receipt)."""
    return list(
        db.session.scalars(
            sa.select(Payment)
            .where(Payment.registration_id == registration.id)
            .order_by(Payment.created_at, Payment.id)
        )
    )


def export_rows(actor: User, gathering: Gathering) -> list[list[str]]:
    """Return a gathering's registrations as CSV rows (header first), answers included."""
    registrations = registrations_for(actor, gathering)
    questions = db.session.scalars(
        sa.select(RegistrationQuestion)
        .where(RegistrationQuestion.gathering_id == gathering.id)
        .order_by(RegistrationQuestion.position, RegistrationQuestion.id)
    ).all()
    kinds = {q.id: q.kind for q in questions}
    # Loads every answer in one query into the registrations already in the session.
    db.session.scalars(
        sa.select(Registration)
        .where(Registration.id.in_([r.id for r in registrations]))
        .options(selectinload(Registration.answers))
    ).all()
    records = [_record(r, kinds) for r in registrations]
    return export.rows(records, [(q.id, q.label) for q in questions])


def _record(r: Registration, kinds: dict[int, str]) -> export.ExportRecord:
    code: DiscountCode | None = r.discount_code
    return export.ExportRecord(
        name=r.user.name,
        email=r.user.email,
        status=r.status,
        option=r.ticket_option.name,
        role=r.role.name if r.role is not None else "",
        currency=r.currency,
        amount_minor=r.amount_minor,
        paid_minor=r.amount_paid_minor,
        refunded_minor=r.amount_refunded_minor,
        door_due_minor=r.pay_at_door_due_minor,
        code=code.code if code is not None else "",
        created_at=r.created_at,
        confirmed_at=r.confirmed_at,
        answers={a.question_id: answers.display(kinds[a.question_id], a.value) for a in r.answers},
    )

"""What the API says about each thing: small dictionaries, never a sensitive field.

Registration answers, boundaries, do-not-pair requests, sensitive notes and payment details
beyond the amounts are deliberately absent: nothing here reads them.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa

from facilitation.accounts.models import User
from facilitation.attendance.models import CheckIn
from facilitation.attendance.rules import DeskDecision
from facilitation.exercises.models import Run
from facilitation.extensions import db
from facilitation.gatherings.models import Gathering
from facilitation.registration import options
from facilitation.registration.models import Registration, TicketOption
from facilitation.registration.pricing import OptionKind, pays_by_card


def when(value: datetime | None) -> str | None:
    """Return a time as RFC 3339 in UTC, or None."""
    return value.isoformat() if value is not None else None


def me(user: User, scopes: frozenset[str]) -> dict[str, Any]:
    """Return who a token acts for."""
    return {
        "id": user.id,
        "name": user.name,
        "display_name": user.display_name,
        "email": user.email,
        "role": user.role,
        "scopes": sorted(scopes),
    }


def _option(option: TicketOption) -> dict[str, Any]:
    # A sliding scale is paid by card for any amount above zero.
    card = option.kind == OptionKind.SLIDING or pays_by_card(option.kind, option.price_minor)
    return {
        "id": option.id,
        "name": option.name,
        "kind": option.kind,
        "price_minor": option.price_minor,
        "min_minor": option.min_minor,
        "suggested_minor": option.suggested_minor,
        "max_minor": option.max_minor,
        "pays_by_card": card,
    }


def gathering(item: Gathering) -> dict[str, Any]:
    """Return a gathering with its facilitators and active ticket options."""
    active = db.session.scalars(
        sa.select(TicketOption)
        .where(TicketOption.gathering_id == item.id, TicketOption.is_active.is_(True))
        .order_by(TicketOption.position, TicketOption.id)
    ).all()
    return {
        "id": item.id,
        "title": item.title,
        "description_md": item.description_md,
        "kind": item.kind,
        "status": item.status,
        "timezone": item.timezone,
        "starts_at": when(item.starts_at),
        "ends_at": when(item.ends_at),
        "venue_name": item.venue_name,
        "venue_address": item.venue_address,
        "online_url": item.online_url,
        "capacity": item.capacity,
        "accessibility_notes": item.accessibility_notes,
        "cancellation_note": item.cancellation_note,
        "series_id": item.series_id,
        "published_at": when(item.published_at),
        "facilitators": [{"id": f.id, "display_name": f.display_name} for f in item.facilitators],
        "ticket_options": [_option(o) for o in active],
        "currency": options.read_settings(item).currency,
    }


def registration(item: Registration, *, with_person: bool) -> dict[str, Any]:
    """Return a registration; ``with_person`` adds name and email (for its managers)."""
    option = item.ticket_option
    return {
        "id": item.id,
        "gathering_id": item.gathering_id,
        "user_id": item.user_id,
        "status": item.status,
        "ticket_option": {"id": option.id, "name": option.name, "kind": option.kind},
        "amount_minor": item.amount_minor,
        "currency": item.currency,
        "amount_paid_minor": item.amount_paid_minor,
        "amount_refunded_minor": item.amount_refunded_minor,
        "pay_at_door_due_minor": item.pay_at_door_due_minor,
        "created_at": when(item.created_at),
        "confirmed_at": when(item.confirmed_at),
        "cancelled_at": when(item.cancelled_at),
        "hold_expires_at": when(item.hold_expires_at),
        "offer_expires_at": when(item.offer_expires_at),
        "person": ({"name": item.user.name, "email": item.user.email} if with_person else None),
    }


def paid_by_card(item: Registration) -> bool:
    """Return whether a registration would be paid by card (which only the pages take)."""
    return pays_by_card(item.ticket_option.kind, item.amount_minor)


def check_in(row: CheckIn) -> dict[str, Any]:
    """Return a check-in as the desk sees it."""
    return {
        "id": row.id,
        "gathering_id": row.gathering_id,
        "registration_id": row.registration_id,
        "user_id": row.user_id,
        "name": row.user.name,
        "method": row.method,
        "checked_in_at": when(row.checked_in_at),
        "undone_at": when(row.undone_at),
    }


def decision(item: DeskDecision) -> dict[str, Any]:
    """Return the desk's decision."""
    return {
        "verdict": item.verdict.value,
        "code": item.code,
        "headline": item.headline,
        "detail": item.detail,
        "warnings": list(item.warnings),
    }


def run(item: Run) -> dict[str, Any]:
    """Return a run's summary."""
    return {
        "id": item.id,
        "gathering_id": item.gathering_id,
        "title": item.title,
        "status": item.status,
        "created_at": when(item.created_at),
        "ended_at": when(item.ended_at),
    }

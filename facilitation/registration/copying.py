"""Copy what a gathering offers (settings, ticket options, codes, questions, pairing roles) into
a duplicate. Nobody's registrations, answers, payments or code uses come along.

Every column is copied except the row's id and gathering; dates tied to the gathering (when
registration closes, when a code expires) move with it, and the copy's own timestamps are now.
A removed option, code or question (switched off) stays behind: it was no longer offered.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from facilitation.extensions import db
from facilitation.gatherings.models import Gathering
from facilitation.registration.models import (
    DiscountCode,
    PairingRole,
    RegistrationQuestion,
    RegistrationSettings,
    TicketOption,
)

_MODELS = (RegistrationSettings, TicketOption, DiscountCode, RegistrationQuestion, PairingRole)
#: Columns that are the row's own, never copied.
_OWN = {"id", "gathering_id"}
#: Columns that move by the same offset as the gathering.
_SHIFTED = {"registration_closes_at", "expires_at"}
#: Columns set to the moment of copying.
_STAMPED = {"created_at", "updated_at"}


def _copied(row: Any, gathering_id: int, shift: timedelta, now: datetime) -> Any:
    values: dict[str, Any] = {"gathering_id": gathering_id}
    for column in sa.inspect(type(row)).columns:
        name = column.key
        if name in _OWN:
            continue
        value = getattr(row, name)
        if name in _SHIFTED and value is not None:
            value = value + shift
        elif name in _STAMPED:
            value = now
        elif isinstance(value, list):
            value = list(value)
        values[name] = value
    return type(row)(**values)


def _rows(model: Any, gathering_id: int) -> list[Any]:
    stmt = sa.select(model).where(model.gathering_id == gathering_id).order_by(model.id)
    if hasattr(model, "is_active"):
        stmt = stmt.where(model.is_active.is_(True))
    return list(db.session.scalars(stmt))


def copy_offering(source: Gathering, copy: Gathering, *, shift: timedelta, now: datetime) -> None:
    """Give ``copy`` the source's registration settings, options, codes, questions and roles."""
    for model in _MODELS:
        for row in _rows(model, source.id):
            db.session.add(_copied(row, copy.id, shift, now))
    db.session.flush()

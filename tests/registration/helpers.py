"""Small checks shared by the registration tests."""

from __future__ import annotations

import sqlalchemy as sa

from facilitation.extensions import db
from facilitation.messaging.models import OutboxMessage
from facilitation.registration.models import Payment, Registration, RegistrationAnswer


def row_counts() -> dict[str, int]:
    """Return how many rows the tables a registration writes to hold."""
    return {
        model.__tablename__: db.session.scalar(sa.select(sa.func.count()).select_from(model))
        for model in (Registration, RegistrationAnswer, Payment, OutboxMessage)
    }


def sent(kind: str, to: str | None = None) -> list[OutboxMessage]:
    """Return the queued emails of a kind (to one address, if given)."""
    stmt = sa.select(OutboxMessage).where(OutboxMessage.kind == kind)
    if to is not None:
        stmt = stmt.where(OutboxMessage.to_email == to)
    return list(db.session.scalars(stmt.order_by(OutboxMessage.id)))


def statuses(*registrations: Registration) -> list[str]:
    """Return the statuses of registrations as the database has them now."""
    for registration in registrations:
        db.session.refresh(registration)
    return [r.status for r in registrations]

"""Tickets: issued lazily to confirmed registrations, found again by their token.

The code format, reading scanned codes and drawing QR codes are pure and live in
``ticket_codes``; they are re-exported here so callers need one module.
"""

from __future__ import annotations

import logging
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from facilitation.attendance.models import Ticket
from facilitation.attendance.ticket_codes import (
    PREFIX,
    UnreadableCode,
    new_token,
    parse_scanned,
    qr_content,
    qr_png,
    qr_svg,
    read_code,
    ticket_path,
)
from facilitation.core.errors import DomainError
from facilitation.core.links import site_url
from facilitation.extensions import db
from facilitation.registration.models import Registration
from facilitation.registration.states import Status

__all__ = [
    "PREFIX",
    "UnreadableCode",
    "find_ticket",
    "parse_scanned",
    "qr_content",
    "qr_png",
    "qr_svg",
    "read_code",
    "ticket_for",
    "ticket_url",
]

logger = logging.getLogger(__name__)


def ticket_for(registration: Registration, now: datetime) -> Ticket:
    """Return the registration's ticket, issuing it (flushed) the first time it is asked for.

    Only a registration that is or was confirmed has one. Two transactions asking at once
    both get the one ticket: the insert does nothing when the other has made it.
    """
    if registration.status != Status.CONFIRMED and registration.confirmed_at is None:
        raise DomainError("no_ticket", "Only a confirmed place has a ticket.")
    dialect = db.session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    db.session.flush()
    # One statement in the usual case (a first confirmation, inside the seat lock): insert,
    # and read the existing ticket only when there already was one.
    issued = db.session.scalar(
        insert(Ticket)
        .values(registration_id=registration.id, token=new_token(), issued_at=now)
        .on_conflict_do_nothing(index_elements=["registration_id"])
        .returning(Ticket)
    )
    if issued is None:
        existing = _ticket_of(registration.id)
        assert existing is not None
        return existing
    logger.info("ticket %s issued to registration %s", issued.id, registration.id)
    return issued


def _ticket_of(registration_id: int) -> Ticket | None:
    return db.session.scalar(sa.select(Ticket).where(Ticket.registration_id == registration_id))


def find_ticket(token: str) -> Ticket | None:
    """Return the ticket with this token, if there is one."""
    return db.session.scalar(sa.select(Ticket).where(Ticket.token == token))


def ticket_url(token: str) -> str:
    """Return the full address of a ticket's page, or "" where none can be built."""
    return site_url() + ticket_path(token)

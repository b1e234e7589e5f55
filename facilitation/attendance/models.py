"""Tickets, check-ins at the door and registrations made there (walk-ins).

Check-ins are facts: a row is added for every admission and is never deleted; an undo only
stamps ``undone_at``. A person is checked in while their registration has a check-in that is
not undone, and a partial unique index lets each registration have at most one such row.
"""

from __future__ import annotations

import enum
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from facilitation.accounts.models import User
from facilitation.core.db import UTCDateTime, check_in
from facilitation.extensions import db
from facilitation.registration.models import Registration

#: SQL condition of a check-in that stands (one per registration).
ACTIVE_SQL = "undone_at IS NULL"


class CheckInMethod(enum.StrEnum):
    """How the desk found the person."""

    SCAN = "scan"  #: their ticket's QR code
    SEARCH = "search"  #: by name or email
    WALK_IN = "walk_in"  #: registered at the door


class Ticket(db.Model):  # type: ignore[name-defined]
    """The ticket of a registration that is or was confirmed: an unguessable token."""

    __tablename__ = "tickets"

    id: Mapped[int] = mapped_column(primary_key=True)
    registration_id: Mapped[int] = mapped_column(sa.ForeignKey("registrations.id"), unique=True)
    #: ``secrets.token_urlsafe(18)``: 24 characters, 144 random bits; never a database id.
    token: Mapped[str] = mapped_column(sa.String(40), unique=True)
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime)

    registration: Mapped[Registration] = relationship()


class CheckIn(db.Model):  # type: ignore[name-defined]
    """One admission at the door; undone by stamping, never deleted."""

    __tablename__ = "check_ins"
    __table_args__ = (
        check_in("method", CheckInMethod),
        sa.CheckConstraint(
            "(undone_at IS NULL) = (undone_by_id IS NULL)", name="undone_fields_together"
        ),
        sa.Index("ix_check_ins_gathering_id_user_id", "gathering_id", "user_id"),
        # At most one standing check-in per registration, whatever the concurrency.
        sa.Index(
            "uq_check_ins_active_per_registration",
            "registration_id",
            unique=True,
            sqlite_where=sa.text(ACTIVE_SQL),
            postgresql_where=sa.text(ACTIVE_SQL),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    gathering_id: Mapped[int] = mapped_column(sa.ForeignKey("gatherings.id"))
    registration_id: Mapped[int] = mapped_column(sa.ForeignKey("registrations.id"), index=True)
    #: The registration's person, kept here so counts need no join.
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    checked_in_at: Mapped[datetime] = mapped_column(UTCDateTime)
    #: Who admitted them at the desk.
    by_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    method: Mapped[str] = mapped_column(sa.String(10))
    #: The desk's nonce for this admission: a retried request finds this row, adds none.
    request_id: Mapped[str] = mapped_column(sa.String(64), unique=True)
    undone_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    undone_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))

    registration: Mapped[Registration] = relationship()
    user: Mapped[User] = relationship(foreign_keys=[user_id])

    @property
    def is_active(self) -> bool:
        """Return whether this check-in stands (it has not been undone)."""
        return self.undone_at is None


class WalkIn(db.Model):  # type: ignore[name-defined]
    """A registration made at the door by the desk (the fact reports count as a walk-in)."""

    __tablename__ = "walk_ins"

    id: Mapped[int] = mapped_column(primary_key=True)
    gathering_id: Mapped[int] = mapped_column(sa.ForeignKey("gatherings.id"), index=True)
    registration_id: Mapped[int] = mapped_column(sa.ForeignKey("registrations.id"), unique=True)
    #: The desk's nonce for the walk-in form: a retried submit replays, registers nobody twice.
    request_id: Mapped[str] = mapped_column(sa.String(64), unique=True)
    registered_by_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    #: The account was made at the door (its owner got a link to choose a password).
    account_created: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    registration: Mapped[Registration] = relationship()

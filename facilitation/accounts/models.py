"""People who use the platform and the role each one has."""

from __future__ import annotations

import enum
from datetime import datetime

import sqlalchemy as sa
from flask_login import UserMixin
from sqlalchemy.orm import Mapped, mapped_column

from facilitation.core.db import UTCDateTime, check_in
from facilitation.extensions import db


class Role(enum.StrEnum):
    """What a person may do; each role includes the ones before it."""

    PARTICIPANT = "participant"
    #: Works the check-in desk of any gathering, and nothing else a facilitator may do.
    DOOR = "door"
    FACILITATOR = "facilitator"
    ORGANISER = "organiser"


ROLE_RANK = {Role.PARTICIPANT: 0, Role.DOOR: 1, Role.FACILITATOR: 2, Role.ORGANISER: 3}
#: How each role is named where people choose one.
ROLE_LABELS = {
    Role.PARTICIPANT: "Participant",
    Role.DOOR: "Door (check-in desk only)",
    Role.FACILITATOR: "Facilitator",
    Role.ORGANISER: "Organiser",
}


class User(UserMixin, db.Model):  # type: ignore[name-defined]
    """A person with a log-in: participant, door volunteer, facilitator or organiser."""

    __tablename__ = "users"
    __table_args__ = (check_in("role", Role),)

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Stored lower-cased so that one address is one account.
    email: Mapped[str] = mapped_column(sa.String(320), unique=True)
    #: Full name, as it appears on agreements.
    name: Mapped[str] = mapped_column(sa.String(120))
    #: What others see in the room (projector, partner's phone); defaults to the first name.
    display_name: Mapped[str] = mapped_column(sa.String(60))
    password_hash: Mapped[str] = mapped_column(sa.String(255))
    role: Mapped[str] = mapped_column(sa.String(20), default=Role.PARTICIPANT)
    is_active_account: Mapped[bool] = mapped_column(sa.Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: Raised by one to end every session of the account (log-out, password reset, ban, role
    #: change): the session cookie carries the value it was made with, and an older one no
    #: longer logs anyone in (``get_id`` and ``accounts.services.load_session_user``).
    session_generation: Mapped[int] = mapped_column(sa.Integer, default=0, server_default="0")

    def get_id(self) -> str:
        """Return the id Flask-Login keeps in the session: account id and session generation."""
        return f"{self.id}.{self.session_generation or 0}"

    @property
    def is_active(self) -> bool:  # type: ignore[override]
        """Let Flask-Login refuse deactivated accounts."""
        return self.is_active_account

    def has_role(self, role: Role) -> bool:
        """Return whether this person's role is ``role`` or above."""
        return ROLE_RANK[Role(self.role)] >= ROLE_RANK[role]

    @property
    def is_organiser(self) -> bool:
        """Return whether this person is an organiser."""
        return self.has_role(Role.ORGANISER)

    @property
    def is_door(self) -> bool:
        """Return whether this person holds the door role (the check-in desk, nothing else)."""
        return self.role == Role.DOOR

    @property
    def is_facilitator(self) -> bool:
        """Return whether this person can facilitate (facilitators and organisers)."""
        return self.has_role(Role.FACILITATOR)

    def __repr__(self) -> str:
        return f"<User {self.id} {self.role}>"


class PasswordAttempt(db.Model):  # type: ignore[name-defined]
    """How many password checks one key had in the current window of one limit.

    Counted in one atomic statement *before* each check (``accounts.attempts``), so a hundred
    guesses sent at once cannot all be checked while the count lags behind.
    """

    __tablename__ = "password_attempts"

    #: ``log_in:<SHA-256 of the email typed>`` or ``erase:<account id>``; no address is kept.
    key: Mapped[str] = mapped_column(sa.String(80), primary_key=True)
    #: The limit's window in seconds: one row per limit of a key.
    window_s: Mapped[int] = mapped_column(sa.Integer, primary_key=True, autoincrement=False)
    #: When the current window began (Unix seconds): at the first check after the last ended.
    window_started: Mapped[int] = mapped_column(sa.BigInteger)
    attempts: Mapped[int] = mapped_column(sa.Integer)

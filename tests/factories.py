"""Builders for test data: they flush, never commit."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import count

from facilitation.accounts import services as accounts
from facilitation.accounts.models import Role, User
from facilitation.core.clock import utcnow
from facilitation.extensions import db
from facilitation.gatherings import services as gatherings
from facilitation.gatherings.models import Gathering

__all__ = ["PASSWORD", "User", "make_gathering", "make_user"]

PASSWORD = "correct horse battery"
_seq = count(1)


def make_user(
    role: Role = Role.PARTICIPANT, name: str | None = None, email: str | None = None
) -> User:
    """Create an account with the shared test password."""
    n = next(_seq)
    return accounts.sign_up(
        email or f"person{n}@example.org",
        name or f"Person {n} Example",
        PASSWORD,
        now=utcnow(),
        role=role,
    )


def details(**overrides: object) -> gatherings.Details:
    """Return valid gathering details."""
    values: dict[str, object] = {
        "title": "Eye-gazing evening",
        "timezone": "Europe/London",
        "capacity": 20,
        "description_md": "Come as you are.",
        "kind": "workshop",
        "venue_name": "The Quiet Room",
        "venue_address": "12 Garden Lane",
    }
    values.update(overrides)
    return gatherings.Details(**values)  # type: ignore[arg-type]


def make_gathering(
    organiser: User | None = None,
    *,
    starts_local: datetime | None = None,
    hours: float = 2,
    publish: bool = True,
    **overrides: object,
) -> Gathering:
    """Create a gathering (published unless told otherwise), a week from now by default."""
    organiser = organiser or make_user(Role.ORGANISER)
    if starts_local is None:
        starts_local = (datetime.now(UTC) + timedelta(days=7)).replace(
            tzinfo=None, hour=19, minute=0, second=0, microsecond=0
        )
    timing = gatherings.Timing(starts_local, starts_local + timedelta(hours=hours))
    gathering = gatherings.create_gathering(organiser, details(**overrides), timing, now=utcnow())
    if publish:
        gatherings.publish(organiser, gathering, now=utcnow())
    db.session.flush()
    return gathering

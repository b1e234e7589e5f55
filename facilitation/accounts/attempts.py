"""Count password checks before they are made, atomically, in the database.

Flask-Limiter counted failed log-ins only after the password was checked, so a hundred
guesses sent at once were all checked before the first failure was counted. Here each check
is counted first, by one ``INSERT … ON CONFLICT DO UPDATE … RETURNING`` per limit: the
database serialises concurrent counts of one key, in every process, and the answer says at
once whether this check is still within the limit. A successful log-in gives its count back,
so only failures use up the limit. The caller commits the count before the check.
"""

from __future__ import annotations

import hashlib
import logging
import math
from dataclasses import dataclass
from datetime import datetime

import limits
import sqlalchemy as sa
from flask import current_app
from sqlalchemy.dialects import postgresql, sqlite

from facilitation.accounts.models import PasswordAttempt
from facilitation.core.errors import DomainError
from facilitation.extensions import db

logger = logging.getLogger(__name__)


class TooManyAttempts(DomainError):
    """A password check over its limit; ``retry_after_s`` says when the next one may be made."""

    status = 429

    def __init__(self, code: str, message: str, retry_after_s: int) -> None:
        super().__init__(code, message)
        self.retry_after_s = retry_after_s


@dataclass(frozen=True)
class Attempt:
    """One counted password check: its key and each (window, its start) it was counted in."""

    key: str
    windows: tuple[tuple[int, int], ...] = ()


def key_for(kind: str, subject: str) -> str:
    """Return the stored key of a subject: its kind and a SHA-256, never the subject itself."""
    return f"{kind}:{hashlib.sha256(subject.encode()).hexdigest()[:64]}"


def _increment(key: str, window_s: int, now_s: int) -> tuple[int, int]:
    """Count one check in the key's current window (a new one if it ended); return both."""
    table = PasswordAttempt.__table__
    dialect = db.session.get_bind().dialect.name
    insert = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}[dialect]
    stmt = insert(table).values(key=key, window_s=window_s, window_started=now_s, attempts=1)
    current = table.c.window_started > stmt.excluded.window_started - window_s
    stmt = stmt.on_conflict_do_update(
        index_elements=[table.c.key, table.c.window_s],
        set_={
            "attempts": sa.case((current, table.c.attempts + 1), else_=1),
            "window_started": sa.case(
                (current, table.c.window_started), else_=stmt.excluded.window_started
            ),
        },
    ).returning(table.c.attempts, table.c.window_started)
    attempts, started = db.session.execute(stmt).one()
    return int(attempts), int(started)


def count(kind: str, subject: str, spec: str, *, now: datetime, message: str) -> Attempt:
    """Count one password check against every limit of ``spec``; refuse one over a limit.

    ``spec`` is in Flask-Limiter's notation ("10 per 15 minutes;50 per day"). Limits are
    counted in order and counting stops at the first one exceeded. Off when the app's
    ``RATELIMIT_ENABLED`` is false. The caller commits before checking the password.
    """
    key = key_for(kind, subject)
    if not current_app.config.get("RATELIMIT_ENABLED", True):
        return Attempt(key)
    now_s = math.floor(now.timestamp())
    windows = []
    for item in limits.parse_many(spec):
        window_s = int(item.get_expiry())
        attempts, started = _increment(key, window_s, now_s)
        if attempts > item.amount:
            logger.info("password checks for %s over %s; refused", kind, item)
            wait = max(1, started + window_s - now_s)
            raise TooManyAttempts("too_many_attempts", message, wait)
        windows.append((window_s, started))
    return Attempt(key, tuple(windows))


def give_back(attempt: Attempt) -> None:
    """Return a counted check to its limits (a successful log-in costs nothing)."""
    for window_s, started in attempt.windows:
        db.session.execute(
            sa.update(PasswordAttempt)
            .where(
                PasswordAttempt.key == attempt.key,
                PasswordAttempt.window_s == window_s,
                PasswordAttempt.window_started == started,
                PasswordAttempt.attempts > 0,
            )
            .values(attempts=PasswordAttempt.attempts - 1)
        )

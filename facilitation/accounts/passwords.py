"""Password hashing with argon2id.

A hash at the production cost takes about a quarter of a second of CPU. Under gevent
(``wsgi.py``) that would freeze every request and every phone of the process for as long, so
hashing runs in gevent's pool of real threads (argon2 releases the GIL while it works); the
hub keeps serving meanwhile. Measured by ``benchmarks/load_hash_pause.py``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

MIN_LENGTH = 10
T = TypeVar("T")


def off_the_loop(work: Callable[..., T], *args: object) -> T:
    """Run CPU-heavy ``work`` in gevent's thread pool when gevent serves; else right here."""
    from gevent import monkey

    if not monkey.is_module_patched("threading"):
        return work(*args)
    import gevent

    return gevent.get_hub().threadpool.apply(work, args)  # type: ignore[no-any-return]


def hasher(time_cost: int, memory_cost: int) -> PasswordHasher:
    """Return an argon2id hasher with the given cost."""
    return PasswordHasher(time_cost=time_cost, memory_cost=memory_cost)


def hash_password(ph: PasswordHasher, password: str) -> str:
    """Hash a password for storage."""
    return off_the_loop(ph.hash, password)


def verify_password(ph: PasswordHasher, stored: str, password: str) -> bool:
    """Return whether ``password`` matches the stored hash."""
    return off_the_loop(_verify, ph, stored, password)


def _verify(ph: PasswordHasher, stored: str, password: str) -> bool:
    # A mismatch is an answer, not an error: caught here, in the worker thread.
    try:
        return ph.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return False


def password_problem(password: str, email: str = "", name: str = "") -> str | None:
    """Say what is wrong with a new password, or None when it is acceptable."""
    if len(password) < MIN_LENGTH:
        return f"Use at least {MIN_LENGTH} characters."
    if len(password) > 200:
        return "Use at most 200 characters."
    lowered = password.lower()
    if email and lowered == email.lower():
        return "Choose a password that is not your email address."
    if name and lowered == name.lower():
        return "Choose a password that is not your name."
    if len(set(password)) < 4:
        return "Choose a password with more variety."
    return None

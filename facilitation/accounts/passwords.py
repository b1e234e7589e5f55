"""Password hashing with argon2id."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

MIN_LENGTH = 10


def hasher(time_cost: int, memory_cost: int) -> PasswordHasher:
    """Return an argon2id hasher with the given cost."""
    return PasswordHasher(time_cost=time_cost, memory_cost=memory_cost)


def hash_password(ph: PasswordHasher, password: str) -> str:
    """Hash a password for storage."""
    return ph.hash(password)


def verify_password(ph: PasswordHasher, stored: str, password: str) -> bool:
    """Return whether ``password`` matches the stored hash."""
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

"""Moved: live removal lives in ``facilitation.exercises.removal`` (issue 20).

Kept only so older imports keep working; new code calls the exercises service directly.
"""

from __future__ import annotations

from facilitation.consent.safety import is_banned
from facilitation.exercises.removal import announce_removal, disconnect_user
from facilitation.exercises.removal import remove_from_runs as remove_from_live_runs

disconnect_person = disconnect_user

__all__ = [
    "announce_removal",
    "disconnect_person",
    "disconnect_user",
    "is_banned",
    "remove_from_live_runs",
]

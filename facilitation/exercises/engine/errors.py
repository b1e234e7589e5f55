"""Domain errors of the exercise engine."""

from __future__ import annotations

#: Pure core: no framework import, here or in what it imports (tests/core/test_pure_core.py).
__pure__ = True


class RunError(Exception):
    """Refuse an invalid run transition, plan or stored state, naming why in ``code``."""

    def __init__(self, code: str, message: str | None = None) -> None:
        super().__init__(message or code)
        self.code = code

"""Domain errors: every rule a service enforces fails with one of these, carrying a code."""

from __future__ import annotations


class DomainError(Exception):
    """A rule was broken; ``code`` is stable for programs, ``message`` is for people."""

    status = 400

    def __init__(self, code: str, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        #: The form field the message belongs next to, when there is one.
        self.field = field


class NotFound(DomainError):
    """The thing asked for does not exist (or is not visible to the asker)."""

    status = 404


class Forbidden(DomainError):
    """The asker may not do this."""

    status = 403

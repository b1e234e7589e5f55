"""Rate limits (being written for issue #8)."""

from __future__ import annotations

from flask import Flask


def install(app: Flask) -> None:
    """Attach the rate limiter to the app."""

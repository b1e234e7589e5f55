"""Security headers on every response (being written for issue #8)."""

from __future__ import annotations

from flask import Flask


def install(app: Flask) -> None:
    """Add the security headers to every response."""

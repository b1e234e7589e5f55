"""The JSON API, /api/v1 (being written for issue #8)."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("api", __name__, url_prefix="/api")

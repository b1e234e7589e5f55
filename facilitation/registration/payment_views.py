"""Stripe's webhook and the card payment pages."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("payments", __name__)

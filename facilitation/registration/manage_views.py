"""Organisers' registration pages: ticket options, codes, questions, roles, registrations."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("registration_manage", __name__)

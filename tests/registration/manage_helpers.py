"""Shared steps of the tests of the organisers' registration pages."""

from __future__ import annotations

import re
from typing import Any

from flask.testing import FlaskClient

from facilitation.accounts.models import User
from facilitation.extensions import db
from facilitation.gatherings.models import Gathering
from facilitation.registration.models import Registration


def log_in(auth: Any, user: User) -> User:
    """Save what the test built, then log ``user`` in."""
    db.session.commit()
    auth.login(user)
    return user


def base(gathering: Gathering) -> str:
    """Return the start of the organisers' registration addresses of a gathering."""
    return f"/manage/gatherings/{gathering.id}"


def act(client: FlaskClient, registration: Registration, action: str, **fields: Any) -> Any:
    """Post one action on a registration, its fields named as the page names them."""
    data = {f"{action}-{registration.id}-{name}": value for name, value in fields.items()}
    if action in ("door-payment", "manual-refund"):
        data.setdefault(f"{action}-{registration.id}-nonce", "ab" * 16)
    url = f"{base(registration.gathering)}/registrations/{registration.id}/{action}"
    return client.post(url, data=data)


def text(response: Any) -> str:
    """Return a response's body as text."""
    return response.get_data(as_text=True)


def value_of(page: str, name: str) -> str | None:
    """Return the value of the input named ``name`` on a page, or None if there is none."""
    found = re.search(rf'<input [^>]*name="{re.escape(name)}"[^>]*value="([^"]*)"', page)
    return found.group(1) if found else None

"""Fixtures of the attendance tests: an organiser and a published gathering a week away."""

from __future__ import annotations

import pytest

from facilitation.accounts.models import Role, User
from facilitation.gatherings.models import Gathering
from tests.factories import make_gathering, make_user


@pytest.fixture
def organiser(app) -> User:
    """Give an organiser."""
    return make_user(Role.ORGANISER)


@pytest.fixture
def gathering(organiser) -> Gathering:
    """Give a published gathering of ten seats, a week away at 19:00 in London."""
    return make_gathering(organiser, capacity=10, title="Thursday circle")

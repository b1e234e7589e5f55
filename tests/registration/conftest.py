"""Fixtures of the registration tests: an organiser, a small published gathering."""

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
    """Give a published gathering with two seats, a week away."""
    return make_gathering(organiser, capacity=2)

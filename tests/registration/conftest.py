"""Fixtures of the registration tests: an organiser, a small published gathering, and an app
with card payments on against localstripe (with a live server for its webhooks)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask

from facilitation.accounts.models import Role, User
from facilitation.extensions import db
from facilitation.gatherings.models import Gathering
from facilitation.registration import payments
from facilitation.registration.payments import StripeGateway
from tests.factories import make_gathering, make_user
from tests.registration.stripe_helpers import WEBHOOK_PATH, serving


@pytest.fixture
def organiser(app) -> User:
    """Give an organiser."""
    return make_user(Role.ORGANISER)


@pytest.fixture
def gathering(organiser) -> Gathering:
    """Give a published gathering with two seats, a week away."""
    return make_gathering(organiser, capacity=2)


@pytest.fixture
def person(auth) -> User:
    """Give a participant, logged in on the test client."""
    user = make_user()
    db.session.commit()
    auth.login(user)
    return user


@pytest.fixture
def stripe_app(app, localstripe) -> Flask:
    """Give the app with card payments on, pointed at localstripe (its old objects forgotten).

    Forgetting them first means a late webhook from an earlier test names an intent Stripe no
    longer knows, and so cannot touch this test's registrations (their ids start again at 1).
    """
    localstripe.flush()
    app.config.update(localstripe.app_config())
    return app


@pytest.fixture
def gateway(stripe_app) -> StripeGateway:
    """Give the app's own gateway to localstripe."""
    return payments.gateway()


@pytest.fixture
def delivered(stripe_app, localstripe) -> Iterator[str]:
    """Serve the app and have localstripe deliver its webhooks to it; yield the base URL."""
    with serving(stripe_app) as url:
        hook = localstripe.register_webhook(url + WEBHOOK_PATH)
        try:
            yield url
        finally:
            localstripe.unregister_webhook(hook)

"""Builders for consent tests."""

from __future__ import annotations

from facilitation.accounts.models import Role, User
from facilitation.consent import services
from facilitation.consent.models import Agreement
from facilitation.core.clock import utcnow
from tests.consent.signatures import signed
from tests.factories import make_user


def make_agreement(
    organiser: User | None = None, body: str = "I will respect everyone's no."
) -> Agreement:
    """Create an agreement with one version."""
    organiser = organiser or make_user(Role.ORGANISER)
    return services.create_agreement(
        organiser, "Consent agreement", "consent_safety", body, now=utcnow()
    )


def sign(user: User, agreement: Agreement, **overrides: object):
    """Sign the latest version as the signing page would."""
    version = services.latest_version(agreement)
    data = services.SignInput(
        version_id=version.id,
        shown_sha256=version.sha256,
        typed_name=user.name,
        signature_png=signed(),
        consented_electronic=True,
        viewed_at=utcnow(),
        ip="192.0.2.10",
        user_agent="pytest",
    )
    for key, value in overrides.items():
        setattr(data, key, value)
    return services.sign(user, data, now=utcnow())

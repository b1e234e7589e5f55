"""Builders for attendance tests: they flush, never commit."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from facilitation.accounts.models import Role, User
from facilitation.attendance import services
from facilitation.consent import services as consent_services
from facilitation.consent.models import Agreement
from facilitation.gatherings.models import Gathering
from facilitation.registration.models import Registration, TicketOption
from tests.consent.factories import make_agreement
from tests.factories import make_user
from tests.registration.factories import make_option, organiser_of, register


def request_id() -> str:
    """Return a fresh desk request id, as the desk page makes one per tap."""
    return uuid.uuid4().hex


def at_door(gathering: Gathering, minutes: float = 10) -> datetime:
    """Return a moment this many minutes before the gathering starts."""
    return gathering.starts_at - timedelta(minutes=minutes)


def door_volunteer() -> User:
    """Return someone with the door role."""
    return make_user(Role.DOOR)


def coming(
    gathering: Gathering,
    person: User | None = None,
    option: TicketOption | None = None,
    **values: Any,
) -> Registration:
    """Register someone (free option unless given) three days before the start."""
    option = option or make_option(gathering, "free")
    return register(person or make_user(), gathering, option, **values)


def require_agreement(gathering: Gathering) -> Agreement:
    """Make a gathering require a new agreement."""
    organiser = organiser_of(gathering)
    agreement = make_agreement(organiser)
    current = [a.id for a in consent_services.required_agreements(gathering.id)]
    consent_services.set_required(organiser, gathering, [*current, agreement.id])
    return agreement


def check_in(
    actor: User,
    gathering: Gathering,
    registration: Registration,
    now: datetime | None = None,
    **values: Any,
) -> services.CheckInOutcome:
    """Check a registration in at the desk with a fresh request id."""
    return services.check_in(
        actor, gathering, registration.id, request_id(), now or at_door(gathering), **values
    )

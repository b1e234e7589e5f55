"""Builders for registration tests: they flush, never commit."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from facilitation.accounts.models import User
from facilitation.extensions import db
from facilitation.gatherings.models import Gathering
from facilitation.registration import options, questions, services
from facilitation.registration.models import (
    DiscountCode,
    PairingRole,
    Registration,
    RegistrationQuestion,
    RegistrationSettings,
    TicketOption,
)


def organiser_of(gathering: Gathering) -> User:
    """Return the organiser who created a gathering."""
    return db.session.get(User, gathering.created_by_id)


def before_start(gathering: Gathering, **delta: float) -> datetime:
    """Return a moment this long before the gathering starts (three days by default)."""
    return gathering.starts_at - timedelta(**(delta or {"days": 3}))


def make_settings(gathering: Gathering, **values: Any) -> RegistrationSettings:
    """Save a gathering's registration settings: the defaults with these changes."""
    data = options.SettingsInput(**values)
    return options.update_settings(
        organiser_of(gathering), gathering, data, now=before_start(gathering, days=10)
    )


def make_option(gathering: Gathering, kind: str = "free", **values: Any) -> TicketOption:
    """Add a ticket option (a fixed or door price defaults to 20.00, sliding to 10–30)."""
    defaults: dict[str, Any] = {
        "fixed": {"price_minor": 2000},
        "door": {"price_minor": 2000},
        "sliding": {"min_minor": 1000, "suggested_minor": 2000, "max_minor": 3000},
    }.get(kind, {})
    data = options.OptionInput(**{"name": kind.title(), "kind": kind, **defaults, **values})
    return options.add_option(
        organiser_of(gathering), gathering, data, now=before_start(gathering, days=10)
    )


def make_code(
    gathering: Gathering, code: str = "HALF", kind: str = "percent", value: int = 50, **values: Any
) -> DiscountCode:
    """Add a discount code (50% off by default)."""
    data = options.CodeInput(code=code, kind=kind, value=value, **values)
    return options.add_code(
        organiser_of(gathering), gathering, data, now=before_start(gathering, days=10)
    )


def make_role(gathering: Gathering, name: str, cap: int | None = None) -> PairingRole:
    """Add a self-chosen pairing role."""
    return questions.add_role(
        organiser_of(gathering),
        gathering,
        questions.RoleInput(name, cap),
        now=before_start(gathering, days=10),
    )


def make_question(
    gathering: Gathering,
    label: str = "What brings you?",
    kind: str = "short_text",
    choices: list[str] | None = None,
    required: bool = False,
) -> RegistrationQuestion:
    """Add a question to the registration form."""
    data = questions.QuestionInput(label, kind, choices or [], required)
    return questions.add_question(
        organiser_of(gathering), gathering, data, now=before_start(gathering, days=10)
    )


def register(
    user: User,
    gathering: Gathering,
    option: TicketOption,
    *,
    now: datetime | None = None,
    **values: Any,
) -> Registration:
    """Register a person with an option (at three days before the start unless told)."""
    data = services.RegistrationInput(option_id=option.id, **values)
    return services.register(user, gathering, data, now=now or before_start(gathering))

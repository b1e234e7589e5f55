"""Builders for live-run tests: a gathering with a facilitator, a run, people present."""

from __future__ import annotations

import uuid
from datetime import datetime

import sqlalchemy as sa

from facilitation.accounts.models import Role, User
from facilitation.core.clock import utcnow
from facilitation.exercises import participants, services
from facilitation.exercises.models import Exercise, Run
from facilitation.extensions import db
from facilitation.gatherings.models import Gathering
from facilitation.registration.models import TicketOption
from tests.factories import make_gathering, make_user
from tests.registration.factories import make_option, register


def eye_gazing(now: datetime | None = None) -> Exercise:
    """Return the built-in eye-gazing rotation."""
    exercises = services.ensure_builtin_exercises(now=now or utcnow())
    return next(e for e in exercises if e.builtin_key == "eye-gazing-rotation")


def make_run(
    people: int = 4, *, odd_policy: str = "rest", seed: int = 7, rounds: int | None = None
) -> tuple[Run, User, list[User]]:
    """Create a run with a facilitator and ``people`` participants present."""
    facilitator = make_user(Role.FACILITATOR)
    gathering = make_gathering(facilitator_ids=[facilitator.id])
    run = services.create_run(
        facilitator,
        gathering,
        eye_gazing(),
        now=utcnow(),
        odd_policy=odd_policy,
        seed=seed,
        rounds_override=rounds,
    )
    present = [make_user(name=f"Person{i} Example") for i in range(people)]
    admit(gathering, *present)
    for person in present:
        participants.join_run(run, person, now=utcnow())
    db.session.commit()
    return run, facilitator, present


def admit(gathering: Gathering, *people: User) -> None:
    """Register each person (free, so confirmed) for a gathering: its runs admit them."""
    option = db.session.scalars(
        sa.select(TicketOption).where(TicketOption.gathering_id == gathering.id).limit(1)
    ).first() or make_option(gathering, "free")
    for person in people:
        register(person, gathering, option)


def command() -> str:
    """Return a fresh command id."""
    return uuid.uuid4().hex


def session_cookie(app, user) -> str:  # type: ignore[no-untyped-def]
    """Return a signed session cookie that logs ``user`` in, as the browser would hold."""
    serializer = app.session_interface.get_signing_serializer(app)
    return serializer.dumps({"_user_id": user.get_id(), "_fresh": False})

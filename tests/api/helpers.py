"""Builders for API tests: a small world of people with tokens, a gathering, a run."""

from __future__ import annotations

from dataclasses import dataclass, field

from flask.testing import FlaskClient

from facilitation.accounts.models import Role, User
from facilitation.api import tokens
from facilitation.core.clock import utcnow
from facilitation.exercises import services as exercise_services
from facilitation.exercises.models import Run
from facilitation.extensions import db
from facilitation.gatherings.models import Gathering
from facilitation.registration.models import Registration, TicketOption
from tests.exercises.live_helpers import eye_gazing
from tests.factories import make_gathering, make_user
from tests.registration.factories import make_option, register

ROLES = ("participant", "door", "facilitator", "organiser")


def token_for(user: User, *scopes: str) -> str:
    """Issue a token (read and write unless told) and return its secret."""
    issued = tokens.issue(user, "test", set(scopes or ("read", "write")), now=utcnow())
    return issued.secret


def bearer(secret: str) -> dict[str, str]:
    """Return the Authorization header for a token."""
    return {"Authorization": f"Bearer {secret}"}


@dataclass
class World:
    """People of every role with write tokens, a published and a draft gathering, a run."""

    people: dict[str, User]
    secrets: dict[str, str]
    gathering: Gathering
    draft: Gathering
    free: TicketOption
    door_option: TicketOption
    card_option: TicketOption
    registration: Registration
    run: Run
    others: dict[str, User] = field(default_factory=dict)

    def headers(self, role: str) -> dict[str, str]:
        """Return the Authorization header of a role's token."""
        return bearer(self.secrets[role])


def make_world() -> World:
    """Build the world and commit it (the API runs in its own transactions)."""
    organiser = make_user(Role.ORGANISER, name="Olive Organiser")
    facilitator = make_user(Role.FACILITATOR, name="Fern Facilitator")
    people = {
        "organiser": organiser,
        "facilitator": facilitator,
        "door": make_user(Role.DOOR, name="Dora Door"),
        "participant": make_user(name="Pat Participant"),
    }
    gathering = make_gathering(organiser, facilitator_ids=[facilitator.id], title="API circle")
    draft = make_gathering(organiser, publish=False, title="Draft circle")
    free = make_option(gathering, "free")
    door_option = make_option(gathering, "door")
    card_option = make_option(gathering, "fixed")
    registration = register(people["participant"], gathering, free)
    run = exercise_services.create_run(facilitator, gathering, eye_gazing(), now=utcnow())
    secrets = {role: token_for(user) for role, user in people.items()}
    others = {
        "facilitator": make_user(Role.FACILITATOR, name="Felix Elsewhere"),
        "participant": make_user(name="Quinn Other"),
    }
    for role, user in others.items():
        secrets[f"other_{role}"] = token_for(user)
    db.session.commit()
    return World(
        people,
        secrets,
        gathering,
        draft,
        free,
        door_option,
        card_option,
        registration,
        run,
        others,
    )


def call(client: FlaskClient, method: str, path: str, secret: str | None = None, **kw):  # type: ignore[no-untyped-def]
    """Call the API with a token (or none)."""
    headers = bearer(secret) if secret else {}
    return client.open(path, method=method, headers=headers, **kw)

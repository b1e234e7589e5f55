"""Schemathesis against /api/openapi.json, in-process, once per role: every check it has.

Each operation gets up to 100 generated requests per role (positive and negative data), with
a fixed seed so a failure replays. Path ids that the generator draws as even numbers are
swapped for ids of seeded rows, so requests reach real gatherings, registrations, check-ins
and runs instead of only 404s. SQLite only: the behaviour tests cover PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import schemathesis
from flask import Flask
from hypothesis import HealthCheck, settings

from facilitation.api import openapi
from facilitation.attendance import services as attendance
from facilitation.core.clock import utcnow
from facilitation.extensions import db
from tests.api.helpers import World, bearer, make_world
from tests.conftest import _app_on, _migrated

SEED = 20261126
ROLES = ["anonymous", "participant", "door", "facilitator", "organiser"]
CONFIG = schemathesis.config.SchemathesisConfig.from_dict(
    {
        "seed": SEED,
        "generation": {
            "mode": "all",
            "max-examples": 100,
            "deterministic": True,
            "database": "none",
        },
        # The fuzzing phase's 100 examples per operation; the coverage phase would add about
        # as many boundary cases again, which the 90-second budget of this test cannot afford.
        "phases": {"coverage": {"enabled": False}},
    }
)


@pytest.fixture(scope="module")
def api_app(tmp_path_factory: pytest.TempPathFactory, instance_dir: str) -> Iterator[Flask]:
    """Give one app on its own SQLite file for the whole module, with the world seeded."""
    path = tmp_path_factory.mktemp("schemathesis") / "api.sqlite3"
    uri = _migrated(f"sqlite:///{path}", instance_dir)
    for app in _app_on(uri, instance_dir, empty_after=False):
        world = make_world()
        outcome = attendance.check_in(
            world.people["organiser"],
            world.gathering,
            world.registration.id,
            "seeded-check-in",
            utcnow(),
        )
        db.session.commit()
        app.config["API_WORLD"] = world
        app.config["API_IDS"] = {
            "gathering_id": [world.gathering.id, world.draft.id],
            "registration_id": [world.registration.id],
            "check_in_id": [outcome.check_in.id],
            "run_id": [world.run.id],
        }
        yield app


# The document is pure data, so it loads at import; requests go to the app in-process.
schema = schemathesis.openapi.from_dict(openapi.document(), config=CONFIG)


def _real_ids(case, ids: dict[str, list[int]]) -> None:  # type: ignore[no-untyped-def]
    """Point half of the valid requests at seeded rows (a valid id for a valid id)."""
    meta = case.meta
    if meta is None or not meta.generation.mode.is_positive or not case.path_parameters:
        return
    for name, value in list(case.path_parameters.items()):
        known = ids.get(name)
        if known and isinstance(value, int) and value % 2 == 0:
            case.path_parameters[name] = known[value // 2 % len(known)]


@schema.parametrize()
@settings(
    max_examples=100,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)
def test_api_conforms_for_every_role(case, api_app: Flask) -> None:  # type: ignore[no-untyped-def]
    world: World = api_app.config["API_WORLD"]
    _real_ids(case, api_app.config["API_IDS"])
    # The schema was loaded before the app existed: send its requests (and probes) in-process.
    case.operation.app = case.operation.schema.app = api_app
    for role in ROLES:
        headers = bearer(world.secrets[role]) if role != "anonymous" else None
        try:
            case.call_and_validate(headers=headers, checks=schemathesis.checks.CHECKS.get_all())
        except BaseException as failure:
            failure.add_note(f"Sent with the token of: {role}")
            raise

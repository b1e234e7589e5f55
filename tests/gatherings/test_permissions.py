"""Every role against every gathering action: the permissions module and the services agree.

One table says who may manage, facilitate, work the desk, read a registered person's private
notes and join a live run; each row is checked against ``gatherings.permissions`` and against
the service each door (page, API, socket) goes through, so no door can answer differently.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from flask_login import AnonymousUserMixin

from facilitation.accounts import services as accounts
from facilitation.accounts.models import Role
from facilitation.attendance import desk
from facilitation.consent import safety
from facilitation.core.clock import utcnow
from facilitation.core.errors import DomainError
from facilitation.exercises import participants
from facilitation.exercises import services as exercises
from facilitation.exercises.models import Run
from facilitation.extensions import db
from facilitation.gatherings import permissions
from facilitation.gatherings.models import Gathering
from facilitation.registration import options
from tests.exercises.live_helpers import admit, eye_gazing
from tests.factories import make_gathering, make_user

ACTIONS = ("manage", "facilitate", "work_desk", "read_private", "join_run")

#: role -> the actions it may do in *this* gathering.
TABLE: dict[str, set[str]] = {
    "anonymous": set(),
    "plain participant": set(),
    "registered participant": {"join_run"},
    "door volunteer": {"work_desk"},
    "this gathering's facilitator": set(ACTIONS),
    "another gathering's facilitator": set(),
    "organiser": set(ACTIONS),
    "demoted facilitator": set(),
    "banned person": set(),
}


@dataclass
class World:
    gathering: Gathering
    run: Run
    subject_id: int
    people: dict[str, object]


def _world() -> World:
    organiser = make_user(Role.ORGANISER)
    gathering = make_gathering(organiser)
    ours, theirs = make_user(Role.FACILITATOR), make_user(Role.FACILITATOR)
    demoted, banned = make_user(Role.FACILITATOR), make_user(Role.FACILITATOR)
    gathering.facilitators.extend([ours, demoted, banned])
    elsewhere = make_gathering(organiser)
    elsewhere.facilitators.append(theirs)
    db.session.flush()
    subject, registered = make_user(), make_user()
    admit(gathering, subject, registered, banned)
    safety.save_sensitive(subject, "Sister: 0123", "Asthma", now=utcnow())
    run = exercises.create_run(organiser, gathering, eye_gazing(), now=utcnow())
    accounts.set_role(organiser, demoted.id, Role.PARTICIPANT)
    safety.ban(organiser, banned, "", now=utcnow())
    db.session.flush()
    people = {
        "anonymous": AnonymousUserMixin(),
        "plain participant": make_user(),
        "registered participant": registered,
        "door volunteer": make_user(Role.DOOR),
        "this gathering's facilitator": ours,
        "another gathering's facilitator": theirs,
        "organiser": make_user(Role.ORGANISER),
        "demoted facilitator": demoted,
        "banned person": banned,
    }
    return World(gathering, run, subject.id, people)


def _service_allows(action: str, user: object, world: World) -> bool:
    """Ask the service behind every door; True when it goes ahead, False when it refuses."""
    gathering, now = world.gathering, utcnow()
    try:
        with db.session.begin_nested():
            if action == "manage":
                options.require_manager(user, gathering)  # type: ignore[arg-type]
            elif action == "facilitate":
                exercises.create_run(user, gathering, eye_gazing(), now=now)  # type: ignore[arg-type]
            elif action == "work_desk":
                desk.require_desk(user, gathering)  # type: ignore[arg-type]
            elif action == "read_private":
                shown = safety.read_sensitive(user, world.subject_id, gathering, now=now)  # type: ignore[arg-type]
                assert shown["health_note"] == "Asthma"
            else:
                participants.join_run(world.run, user, now=now)  # type: ignore[arg-type]
    except DomainError as err:
        assert err.status == 403, (action, err.code)
        return False
    return True


@pytest.mark.parametrize("role", list(TABLE))
def test_every_role_against_every_action(app, role):
    world = _world()
    user = world.people[role]
    about = {"subject_id": world.subject_id, "run": world.run}
    answers = {a: permissions.may(user, a, world.gathering, **about) for a in ACTIONS}
    assert {a for a, yes in answers.items() if yes} == TABLE[role]
    doors = {a: _service_allows(a, user, world) for a in ACTIONS}
    assert doors == answers


def test_the_table_covers_every_action():
    assert {a.value for a in permissions.Action} == set(ACTIONS)

"""Who may be in a live run: only the gathering's people, the console told who was refused.

Also: the facilitator stepping in for an odd count is bound by do-not-pair requests naming
them, and "add someone without a phone" offers and accepts only the gathering's people.
"""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from facilitation.accounts.models import Role
from facilitation.consent import safety
from facilitation.core.clock import utcnow
from facilitation.core.errors import DomainError
from facilitation.exercises import connections, participants, sockets
from facilitation.exercises.models import Run, RunParticipant
from facilitation.extensions import db
from facilitation.gatherings.models import Gathering
from facilitation.registration.models import Registration
from facilitation.registration.states import Status
from tests.attendance.factories import check_in, door_volunteer
from tests.exercises.live_helpers import admit, command, make_run
from tests.exercises.test_live_sockets import NS, connect, events, latest
from tests.factories import PASSWORD, make_user


@pytest.fixture
def refusals(monkeypatch):
    """Record every connection refusal's code and message."""
    seen: list[dict[str, str]] = []
    original = sockets._refuse

    def spy(code: str, message: str):  # type: ignore[no-untyped-def]
        seen.append({"code": code, "message": message})
        return original(code, message)

    monkeypatch.setattr(sockets, "_refuse", spy)
    return seen


def gathering_of(run: Run) -> Gathering:
    return db.session.get(Gathering, run.gathering_id)


def test_an_account_not_registered_is_refused_and_the_console_told_why(app, refusals):
    run, facilitator, _ = make_run(4)
    stranger = make_user(name="Stranger Danger")
    db.session.commit()
    console = connect(app, facilitator, run_id=run.id, **{"as": "facilitator"})
    phone = connect(app, stranger, run_id=run.id)
    assert not phone.is_connected(NS)
    assert refusals[-1]["code"] == "not_registered"
    assert "registered" in refusals[-1]["message"]
    notice = latest(console, "entry_refused")
    assert notice["name"] == stranger.display_name and notice["reason"] == "not_registered"
    with pytest.raises(DomainError) as err:
        participants.join_run(db.session.get(Run, run.id), stranger, now=utcnow())
    assert err.value.code == "not_registered"
    assert (
        db.session.scalar(sa.select(RunParticipant.id).where(RunParticipant.user_id == stranger.id))
        is None
    )


@pytest.mark.parametrize(
    ("status", "approved", "admitted"),
    [
        (Status.CONFIRMED, False, True),
        (Status.OFFERED, True, True),  # approved, paying later
        (Status.APPLIED, False, False),
        (Status.WAITLISTED, False, False),
        (Status.DECLINED, True, False),
        (Status.CANCELLED, False, False),
    ],
)
def test_only_a_confirmed_or_approved_registration_admits(app, status, approved, admitted):
    run, _, _ = make_run(2)
    person = make_user()
    admit(gathering_of(run), person)
    registration = db.session.scalar(
        sa.select(Registration).where(Registration.user_id == person.id)
    )
    registration.status = status
    registration.decided_at = utcnow() if approved else None
    db.session.commit()
    phone = connect(app, person, run_id=run.id)
    assert phone.is_connected(NS) is admitted
    if admitted:
        assert phone.emit("join_run", {}, namespace=NS, callback=True)["ok"]


def test_once_the_door_checks_people_in_only_they_are_admitted(app, refusals):
    run, facilitator, _ = make_run(2)
    gathering = gathering_of(run)
    at_door, not_yet = make_user(), make_user()
    admit(gathering, at_door, not_yet)
    registration = db.session.scalar(
        sa.select(Registration).where(Registration.user_id == at_door.id)
    )
    check_in(door_volunteer(), gathering, registration, now=utcnow())
    db.session.commit()
    console = connect(app, facilitator, run_id=run.id, **{"as": "facilitator"})
    assert connect(app, at_door, run_id=run.id).is_connected(NS)
    assert not connect(app, not_yet, run_id=run.id).is_connected(NS)
    assert refusals[-1]["code"] == "not_registered"
    assert latest(console, "entry_refused")["reason"] == "not_checked_in"


def test_add_someone_without_a_phone_lists_and_accepts_only_the_gatherings_people(
    app, client, auth
):
    run, facilitator, _ = make_run(2)
    registered = make_user(name="Registered Rowan")
    stranger = make_user(name="Stranger Sasha")
    admit(gathering_of(run), registered)
    db.session.commit()
    auth.login(facilitator)
    page = client.get(f"/live/{run.id}/console").get_data(as_text=True)
    assert "Registered Rowan" in page and "Stranger Sasha" not in page
    flask_client = app.test_client()
    flask_client.post("/log-in", data={"email": facilitator.email, "password": PASSWORD})
    console = connect(app, facilitator, run_id=run.id, **{"as": "facilitator"})
    answer = console.emit("add_participant", {"user_id": stranger.id}, namespace=NS, callback=True)
    assert answer["ok"] is False and answer["error"] == "not_registered"
    answer = console.emit(
        "add_participant", {"user_id": registered.id}, namespace=NS, callback=True
    )
    assert answer["ok"] is True
    present = set(
        db.session.scalars(sa.select(RunParticipant.user_id).where(RunParticipant.run_id == run.id))
    )
    assert registered.id in present and stranger.id not in present


def _start(console) -> None:  # type: ignore[no-untyped-def]
    answer = console.emit(
        "control_run", {"action": "start", "command_id": command()}, namespace=NS, callback=True
    )
    assert answer["ok"], answer


@pytest.mark.parametrize("asker", ["participant", "facilitator"])
def test_the_facilitator_stepping_in_honours_do_not_pair_naming_them(app, asker):
    run, facilitator, people = make_run(3, odd_policy="facilitator")
    named = people[0]
    if asker == "participant":
        safety.add_do_not_pair(named, facilitator.email, now=utcnow())
    else:
        safety.add_do_not_pair(facilitator, named.email, now=utcnow())
    db.session.commit()
    console = connect(app, facilitator, run_id=run.id, **{"as": "facilitator"})
    _start(console)
    table = latest(console, "pairing_table")
    for group in table["groups"]:
        members = {m["name"] for m in group["members"]}
        assert not {named.display_name, facilitator.display_name} <= members, members
    assert events(console, "pairing_table")


def test_the_facilitator_stepping_in_is_bound_by_a_partners_boundaries(app):
    run, facilitator, people = make_run(1, odd_policy="facilitator")
    for person, gender in ((people[0], "woman"), (facilitator, "man")):
        data = safety.BoundaryInput(2, 2, "same_gender", gender, None, None)
        safety.save_boundaries(person, data, now=utcnow())
    db.session.commit()
    console = connect(app, facilitator, run_id=run.id, **{"as": "facilitator"})
    _start(console)
    assert latest(console, "pairing_table")["groups"] == []


def test_a_door_volunteer_or_other_facilitator_cannot_add_people(app):
    run, _, _ = make_run(2)
    registered = make_user()
    admit(gathering_of(run), registered)
    for outsider in (door_volunteer(), make_user(Role.FACILITATOR)):
        with pytest.raises(DomainError) as err:
            participants.join_run(run, registered, now=utcnow(), added_by=outsider)
        assert err.value.status == 403


def test_a_phone_retrying_in_a_loop_tells_the_console_once_a_minute(app, monkeypatch):
    clock = [1000.0]
    monkeypatch.setattr(connections, "throttle_clock", lambda: clock[0])
    run, facilitator, _ = make_run(2)
    stranger = make_user()
    db.session.commit()
    console = connect(app, facilitator, run_id=run.id, **{"as": "facilitator"})
    for _ in range(3):
        assert not connect(app, stranger, run_id=run.id).is_connected(NS)
    assert len(events(console, "entry_refused")) == 1
    clock[0] += connections.NOTICE_REPEAT_S
    assert not connect(app, stranger, run_id=run.id).is_connected(NS)
    assert len(events(console, "entry_refused")) == 2


def test_a_demoted_facilitator_no_longer_steps_in(app):
    from facilitation.accounts import services as accounts
    from facilitation.exercises import pairings

    run, facilitator, _ = make_run(3, odd_policy="facilitator")
    assert pairings.build_request(run, 0, 0).facilitator is not None
    accounts.set_role(make_user(Role.ORGANISER), facilitator.id, Role.PARTICIPANT)
    db.session.flush()
    assert pairings.build_request(run, 0, 0).facilitator is None

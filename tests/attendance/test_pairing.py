"""Once the door checks people in, only checked-in people are paired in the live room."""

import sqlalchemy as sa

from facilitation.accounts.models import User
from facilitation.attendance import services as attendance
from facilitation.core.clock import utcnow
from facilitation.exercises import pairings, services
from facilitation.exercises.models import Run
from facilitation.extensions import db
from facilitation.gatherings.models import Gathering
from facilitation.registration.models import Registration
from tests.attendance.factories import at_door, door_volunteer, request_id
from tests.exercises.live_helpers import command, make_run


def registration_of(person: User) -> Registration:
    return db.session.scalar(sa.select(Registration).where(Registration.user_id == person.id))


def test_present_but_not_checked_in_rests_once_the_door_checks_in(app):
    run, facilitator, people = make_run(5)
    gathering = db.session.get(Gathering, run.gathering_id)
    desk = door_volunteer()
    registrations = [registration_of(p) for p in people]  # make_run registered them
    request = pairings.build_request(run, 0, 0)
    assert request.ineligible == {}  # no check-in yet: the door is not in use
    for registration in registrations[:4]:
        attendance.check_in(desk, gathering, registration.id, request_id(), at_door(gathering))
    db.session.commit()
    services.control(run.id, facilitator, "start", command_id=command(), now=utcnow())
    db.session.commit()
    run = db.session.get(Run, run.id)
    stored = pairings.current_round(run)
    paired = {m.user_id for m in stored.members}
    assert paired == {p.id for p in people[:4]}
    assert {r.user_id: r.reason for r in stored.rests} == {people[4].id: "not_checked_in"}


def test_an_undone_check_in_rests_again(app):
    run, _, people = make_run(2)
    gathering = db.session.get(Gathering, run.gathering_id)
    desk = door_volunteer()
    rows = [
        attendance.check_in(
            desk, gathering, registration_of(p).id, request_id(),
            at_door(gathering),
        ).check_in
        for p in people
    ]  # fmt: skip
    assert pairings.build_request(run, 0, 0).ineligible == {}
    attendance.undo_check_in(desk, rows[1].id, at_door(gathering, 5))
    assert dict(pairings.build_request(run, 0, 0).ineligible) == {people[1].id: "not_checked_in"}

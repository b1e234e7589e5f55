"""Runs: facilitator controls, rounds with pairings, the ticker, idempotency, restarts."""

from datetime import timedelta

import pytest
import sqlalchemy as sa

from facilitation.accounts.models import Role
from facilitation.core.clock import utcnow
from facilitation.core.errors import DomainError, Forbidden
from facilitation.exercises import pairings, participants, services
from facilitation.exercises.models import Run, RunCommand, RunRound
from facilitation.extensions import db
from facilitation.gatherings.models import Gathering
from tests.exercises.live_helpers import admit, command, eye_gazing, make_run
from tests.factories import make_gathering, make_user


def start(run, facilitator, now):
    services.control(run.id, facilitator, "start", command_id=command(), now=now)
    db.session.commit()
    return db.session.get(Run, run.id)


def pairs_of(run, round_index=None):
    stored = pairings.current_round(run, round_index)
    spots = {}
    for m in stored.members:
        spots.setdefault(m.spot, set()).add(m.user_id)
    return [frozenset(s) for s in spots.values()], {r.user_id: r.reason for r in stored.rests}


def test_builtin_exercises_exist_once(app):
    now = utcnow()
    first = services.ensure_builtin_exercises(now=now)
    again = services.ensure_builtin_exercises(now=now)
    assert [e.id for e in first] == [e.id for e in again]
    gazing = eye_gazing()
    assert [(p.name, p.duration_s) for p in gazing.phases] == [
        ("Arrive", 30), ("Gaze", 180), ("A shares", 60), ("B shares", 60), ("Thank and move", 30),
    ]  # fmt: skip


def test_only_the_gatherings_facilitators_create_runs(app):
    facilitator, other = make_user(Role.FACILITATOR), make_user(Role.FACILITATOR)
    gathering = make_gathering(facilitator_ids=[facilitator.id])
    with pytest.raises(Forbidden):
        services.create_run(other, gathering, eye_gazing(), now=utcnow())
    with pytest.raises(Forbidden):
        services.create_run(make_user(), gathering, eye_gazing(), now=utcnow())
    assert services.create_run(facilitator, gathering, eye_gazing(), now=utcnow()).join_code


def test_start_pairs_everyone_present_and_sets_the_first_deadline(app):
    run, facilitator, people = make_run(4)
    now = utcnow()
    run = start(run, facilitator, now)
    assert run.status == "running" and run.round_index == 0 and run.phase_index == 0
    assert run.phase_deadline == now + timedelta(seconds=30)
    groups, rests = pairs_of(run)
    assert sorted(len(g) for g in groups) == [2, 2] and rests == {}
    assert set().union(*groups) == {p.id for p in people}


def test_odd_person_rests_with_a_reason(app):
    run, facilitator, _ = make_run(5)
    run = start(run, facilitator, utcnow())
    groups, rests = pairs_of(run)
    assert len(groups) == 2 and list(rests.values()) == ["odd_rest"]


def test_ticker_advances_phases_and_rounds_on_the_timeline(app):
    run, facilitator, _ = make_run(4, rounds=2)
    t0 = utcnow()
    start(run, facilitator, t0)
    # 30 + 180 + 60 + 60 + 30 = 360 s per round; 400 s in, round 2's "Gaze" is on.
    outcome = services.tick_run(run.id, now=t0 + timedelta(seconds=400))
    db.session.commit()
    run = db.session.get(Run, run.id)
    assert (run.round_index, run.phase_index) == (1, 1)
    assert run.phase_deadline == t0 + timedelta(seconds=360 + 30 + 180)
    assert outcome.pairing_changed
    assert db.session.scalar(sa.select(sa.func.count(RunRound.id))) == 2


def test_tick_is_idempotent(app):
    run, facilitator, _ = make_run(4)
    t0 = utcnow()
    start(run, facilitator, t0)
    later = t0 + timedelta(seconds=45)
    first = services.tick_run(run.id, now=later)
    db.session.commit()
    version = db.session.get(Run, run.id).version
    second = services.tick_run(run.id, now=later)
    db.session.commit()
    assert first.state_changed and not second.state_changed
    assert db.session.get(Run, run.id).version == version


def test_a_repeated_command_id_is_applied_once(app):
    run, facilitator, _ = make_run(4)
    start(run, facilitator, utcnow())
    cid = command()
    first = services.control(run.id, facilitator, "next_phase", command_id=cid, now=utcnow())
    db.session.commit()
    again = services.control(run.id, facilitator, "next_phase", command_id=cid, now=utcnow())
    db.session.commit()
    assert again.result == {"version": first.result["version"], "repeated": True}
    assert db.session.get(Run, run.id).phase_index == 1
    assert db.session.scalar(sa.select(sa.func.count(RunCommand.id))) == 2  # start + next


def test_participants_cannot_control_and_bad_actions_are_refused(app):
    run, facilitator, people = make_run(4)
    with pytest.raises(Forbidden):
        services.control(run.id, people[0], "start", command_id=command(), now=utcnow())
    with pytest.raises(DomainError) as bad:
        services.control(run.id, facilitator, "explode", command_id=command(), now=utcnow())
    assert bad.value.code == "unknown_action"
    with pytest.raises(DomainError) as early:
        services.control(run.id, facilitator, "pause", command_id=command(), now=utcnow())
    assert early.value.code == "not_running"
    assert db.session.get(Run, run.id).status == "not_started"


def test_pause_resume_and_adjust_keep_remaining_time(app):
    run, facilitator, _ = make_run(4)
    t0 = utcnow()
    start(run, facilitator, t0)
    services.control(
        run.id, facilitator, "pause", command_id=command(), now=t0 + timedelta(seconds=10)
    )
    services.control(
        run.id,
        facilitator,
        "adjust",
        command_id=command(),
        now=t0 + timedelta(seconds=50),
        delta_s=30,
    )
    db.session.commit()
    run = db.session.get(Run, run.id)
    assert run.status == "paused" and run.remaining_when_paused == pytest.approx(50)
    t1 = t0 + timedelta(seconds=100)
    services.control(run.id, facilitator, "resume", command_id=command(), now=t1)
    db.session.commit()
    assert db.session.get(Run, run.id).phase_deadline == t1 + timedelta(seconds=50)


def test_state_survives_a_restart_at_the_right_second(app):
    run, facilitator, _ = make_run(4)
    t0 = utcnow()
    start(run, facilitator, t0)
    run_id = run.id
    db.session.remove()  # the process "dies": nothing kept in memory
    run = db.session.get(Run, run_id)
    state = services.state_of(run)
    from facilitation.exercises.engine import rounds

    assert rounds.remaining(state, t0 + timedelta(seconds=12)) == pytest.approx(18)
    outcome = services.tick_run(run_id, now=t0 + timedelta(seconds=31))
    db.session.commit()
    assert outcome.state_changed and db.session.get(Run, run_id).phase_index == 1


def test_sitting_out_and_leaving_are_absorbed_next_round(app):
    run, facilitator, people = make_run(4, rounds=3)
    t0 = utcnow()
    start(run, facilitator, t0)
    participants.set_sitting_out(run, people[0], True)
    participants.leave_run(run, people[1], now=t0)
    db.session.commit()
    services.tick_run(run.id, now=t0 + timedelta(seconds=361))
    db.session.commit()
    run = db.session.get(Run, run.id)
    groups, rests = pairs_of(run)
    assert run.round_index == 1
    assert groups == [frozenset({people[2].id, people[3].id})]
    assert rests == {people[0].id: "sitting_out"}


def test_no_repeated_partner_while_a_new_one_exists(app):
    run, facilitator, _ = make_run(6, rounds=5)
    t0 = utcnow()
    start(run, facilitator, t0)
    seen = set(pairs_of(run)[0])
    for r in range(1, 5):
        services.tick_run(run.id, now=t0 + timedelta(seconds=360 * r + 1))
        db.session.commit()
        groups, _ = pairs_of(db.session.get(Run, run.id))
        assert not (set(groups) & seen), f"repeat in round {r}"
        seen |= set(groups)


def test_repair_gives_a_new_pairing_for_the_same_round(app):
    run, facilitator, _ = make_run(4)
    start(run, facilitator, utcnow())
    late = make_user(name="Late Arrival")
    admit(db.session.get(Gathering, run.gathering_id), late)
    participants.join_run(run, late, now=utcnow())
    db.session.commit()
    outcome = services.control(run.id, facilitator, "repair", command_id=command(), now=utcnow())
    db.session.commit()
    assert outcome.pairing_changed
    run = db.session.get(Run, run.id)
    assert pairings.current_round(run).attempt == 1
    placed = {m.user_id for m in pairings.current_round(run).members} | {
        r.user_id for r in pairings.current_round(run).rests
    }
    assert late.id in placed


def test_same_seed_same_pairing(app):
    first, f1, _ = make_run(8, seed=42)
    second, f2, _ = make_run(8, seed=42)
    start(first, f1, utcnow())
    start(second, f2, utcnow())
    shape = lambda run: sorted(  # noqa: E731
        sorted(p.index(uid) for uid in g)
        for g in pairs_of(run)[0]
        for p in [[x.user_id for x in run.participants]]
    )
    assert shape(db.session.get(Run, first.id)) == shape(db.session.get(Run, second.id))


def test_facilitator_steps_in_for_an_odd_count(app):
    run, facilitator, _ = make_run(5, odd_policy="facilitator")
    run = start(run, facilitator, utcnow())
    groups, rests = pairs_of(run)
    assert rests == {} and len(groups) == 3
    assert any(facilitator.id in g for g in groups)


def test_a_later_run_can_avoid_partners_from_earlier_runs(app):
    first, facilitator, people = make_run(6, rounds=1)
    start(first, facilitator, utcnow())
    earlier = set(pairs_of(db.session.get(Run, first.id))[0])
    gathering = db.session.get(Run, first.id).gathering_id
    from facilitation.gatherings.models import Gathering

    second = services.create_run(
        facilitator,
        db.session.get(Gathering, gathering),
        eye_gazing(),
        now=utcnow(),
        avoid_repeats_across_runs=True,
        seed=first.seed,
    )
    for person in people:
        participants.join_run(second, person, now=utcnow())
    db.session.commit()
    start(second, facilitator, utcnow())
    later = set(pairs_of(db.session.get(Run, second.id))[0])
    assert not (later & earlier)

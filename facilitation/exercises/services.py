"""Live runs: create, load, facilitator controls, re-pairing and the phase ticker."""

from __future__ import annotations

import json
import logging
import secrets
from dataclasses import dataclass, field
from datetime import datetime

import sqlalchemy as sa

from facilitation.accounts.models import User
from facilitation.core.errors import DomainError, Forbidden, NotFound
from facilitation.exercises import pairings
from facilitation.exercises.builtin import BUILTINS
from facilitation.exercises.engine import rounds
from facilitation.exercises.engine.errors import RunError
from facilitation.exercises.engine.pairing_types import OddPolicy
from facilitation.exercises.models import (
    Exercise,
    ExercisePhase,
    Run,
    RunCommand,
    RunParticipant,
)
from facilitation.extensions import db
from facilitation.gatherings import permissions
from facilitation.gatherings.models import Gathering

logger = logging.getLogger(__name__)

CONTROL_ACTIONS = (
    "start",
    "pause",
    "resume",
    "next_phase",
    "previous_phase",
    "adjust",
    "repair",
    "end",
)
#: Commands about "the phase on screen": a console sends the phase it meant, so that a command
#: retried after the phase ended (a reconnect, a lost answer) cannot land on the next one.
PHASE_ACTIONS = ("adjust", "next_phase", "previous_phase")
PHASE_CHANGED = "That phase has already ended, so nothing was changed. Try again on this phase."
JOIN_CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"


@dataclass
class Outcome:
    """What a change did, so the caller knows what to broadcast after commit."""

    run_id: int
    state_changed: bool = False
    pairing_changed: bool = False
    support_changed: bool = False
    #: The run moved to another round: the facilitators' presence list follows the round.
    round_changed: bool = False
    #: People whose own pairing snapshot changed (sent to their phones only).
    personal_user_ids: list[int] = field(default_factory=list)
    result: dict[str, object] = field(default_factory=dict)


def ensure_builtin_exercises(*, now: datetime) -> list[Exercise]:
    """Create the built-in exercises if missing and return every exercise."""
    existing = {e.builtin_key: e for e in db.session.scalars(sa.select(Exercise)) if e.builtin_key}
    for spec in BUILTINS:
        if spec.key in existing:
            continue
        exercise = Exercise(
            title=spec.title,
            description=spec.description,
            grouping=spec.grouping.value,
            contact=int(spec.contact),
            eye_contact=int(spec.eye_contact),
            rounds=spec.rounds,
            builtin_key=spec.key,
            created_at=now,
        )
        exercise.phases = [
            ExercisePhase(
                position=i,
                name=p.name,
                duration_s=p.duration_s,
                instruction=p.instruction,
                active=p.active.value,
            )
            for i, p in enumerate(spec.phases)
        ]
        db.session.add(exercise)
    db.session.flush()
    return list(db.session.scalars(sa.select(Exercise).order_by(Exercise.id)))


def _new_join_code() -> str:
    for _ in range(20):
        code = "".join(secrets.choice(JOIN_CODE_ALPHABET) for _ in range(6))
        if db.session.scalar(sa.select(Run.id).where(Run.join_code == code)) is None:
            return code
    raise DomainError("no_join_code", "Could not make a join code; try again.")


def plan_of(run: Run) -> rounds.RunPlan:
    """Return the run's frozen phase plan."""
    data = json.loads(run.plan_json)
    phases = tuple(
        rounds.PhaseSpec(
            p["name"], p["duration_s"], p["instruction"], rounds.ActiveRole(p["active"])
        )
        for p in data["phases"]
    )
    return rounds.RunPlan(phases, data["rounds"], data.get("pause_between_rounds", False))


def state_of(run: Run) -> rounds.RunState:
    """Return the run's stored state as the engine's value."""
    return rounds.RunState(
        status=rounds.RunStatus(run.status),
        round_index=run.round_index,
        phase_index=run.phase_index,
        phase_deadline=run.phase_deadline,
        remaining_when_paused=run.remaining_when_paused,
        version=run.version,
    )


def _store_state(run: Run, state: rounds.RunState) -> None:
    run.status = state.status.value
    run.round_index = state.round_index
    run.phase_index = state.phase_index
    run.phase_deadline = state.phase_deadline
    run.remaining_when_paused = state.remaining_when_paused
    run.version = state.version


def create_run(
    actor: User,
    gathering: Gathering,
    exercise: Exercise,
    *,
    now: datetime,
    odd_policy: str = OddPolicy.REST,
    rounds_override: int | None = None,
    pause_between_rounds: bool = False,
    avoid_repeats_across_runs: bool = False,
    seed: int | None = None,
) -> Run:
    """Prepare a run of an exercise in a gathering, frozen from the exercise as it is now."""
    if not permissions.may_facilitate(actor, gathering):
        raise Forbidden(
            "not_a_facilitator", "Only this gathering's facilitators can run exercises."
        )
    if gathering.is_cancelled:
        raise DomainError("cancelled", "This gathering is cancelled.")
    if odd_policy not in set(OddPolicy):
        raise DomainError("bad_odd_policy", "Choose what happens with an odd number.", "odd_policy")
    total_rounds = rounds_override or exercise.rounds
    if not 1 <= total_rounds <= 100:
        raise DomainError("bad_rounds", "Choose between 1 and 100 rounds.", "rounds")
    if not exercise.phases:
        raise DomainError("no_phases", "This exercise has no phases yet.")
    plan = {
        "phases": [
            {
                "name": p.name,
                "duration_s": p.duration_s,
                "instruction": p.instruction,
                "active": p.active,
            }
            for p in exercise.phases
        ],
        "rounds": total_rounds,
        "pause_between_rounds": pause_between_rounds,
    }
    run = Run(
        gathering_id=gathering.id,
        exercise_id=exercise.id,
        title=exercise.title,
        plan_json=json.dumps(plan),
        grouping=exercise.grouping,
        contact=exercise.contact,
        eye_contact=exercise.eye_contact,
        odd_policy=odd_policy,
        seed=seed if seed is not None else secrets.randbits(62),
        avoid_repeats_across_runs=avoid_repeats_across_runs,
        projector_token=secrets.token_urlsafe(24),
        join_code=_new_join_code(),
        stand_in_id=actor.id,
        status=rounds.RunStatus.NOT_STARTED.value,
        round_index=0,
        phase_index=0,
        version=0,
        created_by_id=actor.id,
        created_at=now,
    )
    db.session.add(run)
    db.session.flush()
    logger.info("run %s of exercise %s created in gathering %s", run.id, exercise.id, gathering.id)
    return run


def load_run(run_id: int, *, lock: bool = False) -> Run:
    """Return a run, locking its row for the rest of the transaction when asked."""
    stmt = sa.select(Run).where(Run.id == run_id)
    if lock:
        stmt = stmt.with_for_update()
    run = db.session.scalar(stmt)
    if run is None:
        raise NotFound("no_such_run", "There is no such run.")
    return run


def _apply(run: Run, transition: rounds.Transition, outcome: Outcome, *, now: datetime) -> None:
    """Store a transition and pair any round it started."""
    if not transition.changed:
        return
    round_before = run.round_index
    _store_state(run, transition.state)
    outcome.state_changed = True
    outcome.round_changed = run.round_index != round_before
    kinds = {e.kind for e in transition.events}
    round_began = bool(kinds & {rounds.EventKind.ROUND_STARTED, rounds.EventKind.RUN_STARTED})
    if round_began and pairings.current_round(run) is None:
        pairings.pair_and_store(run, run.round_index, now=now)
        outcome.pairing_changed = True


def _repair(run: Run, outcome: Outcome, *, now: datetime) -> None:
    if run.status not in (rounds.RunStatus.RUNNING, rounds.RunStatus.PAUSED):
        raise DomainError("no_current_phase", "Re-pair works while a round is on.")
    pairings.pair_and_store(run, run.round_index, now=now)
    run.version += 1
    outcome.state_changed = outcome.pairing_changed = True


def repair_where_present(
    user_id: int, *, now: datetime, gathering_id: int | None = None
) -> list[Outcome]:
    """Re-pair at once every live round a person is in a group of (after a ban or withdrawal).

    Call it once the ban or withdrawal is flushed, so the new pairing leaves them out (resting,
    with the reason). Rounds where they only rest are left as they are.
    """
    stmt = (
        sa.select(Run.id)
        .join(RunParticipant, RunParticipant.run_id == Run.id)
        .where(
            RunParticipant.user_id == user_id,
            RunParticipant.left_at.is_(None),
            Run.status.in_([rounds.RunStatus.RUNNING.value, rounds.RunStatus.PAUSED.value]),
        )
        .order_by(Run.id)
    )
    if gathering_id is not None:
        stmt = stmt.where(Run.gathering_id == gathering_id)
    outcomes = []
    for run_id in db.session.scalars(stmt).all():
        run = load_run(run_id, lock=True)
        current = pairings.current_round(run)
        if current is None or all(m.user_id != user_id for m in current.members):
            continue
        outcome = Outcome(run_id=run.id)
        _repair(run, outcome, now=now)
        outcomes.append(outcome)
    return outcomes


def control(
    run_id: int,
    actor: User,
    action: str,
    *,
    command_id: str,
    now: datetime,
    delta_s: float | None = None,
    phase: tuple[int, int] | None = None,
) -> Outcome:
    """Apply one facilitator command, once, under a lock on the run.

    ``phase`` (round index, phase index) is the phase the command was meant for: an
    ``adjust``, ``next_phase`` or ``previous_phase`` whose phase is no longer the current one
    is refused with ``phase_changed``. A command id already applied answers ``repeated``
    first, whatever the phase is now.
    """
    run = load_run(run_id, lock=True)
    gathering = db.session.get(Gathering, run.gathering_id)
    if gathering is None or not permissions.may_facilitate(actor, gathering):
        raise Forbidden("forbidden", "Only this run's facilitators can control it.")
    if action not in CONTROL_ACTIONS:
        raise DomainError("unknown_action", f"Unknown action {action!r}.")
    outcome = Outcome(run_id=run.id)
    done = db.session.scalar(
        sa.select(RunCommand).where(
            RunCommand.run_id == run.id, RunCommand.command_id == command_id
        )
    )
    if done is not None:
        outcome.result = {"version": done.result_version, "repeated": True}
        return outcome
    state, plan = state_of(run), plan_of(run)
    if phase is not None and action in PHASE_ACTIONS:
        _require_phase(state, plan, now, phase)
    try:
        if action == "repair":
            _apply(run, rounds.tick(state, plan, now), outcome, now=now)
            _repair(run, outcome, now=now)
        elif action == "adjust":
            if delta_s is None:
                raise DomainError("bad_request", "Say how many seconds to add or remove.")
            _apply(run, rounds.adjust(state, plan, now, delta_s), outcome, now=now)
        else:
            step = getattr(rounds, action)
            _apply(run, step(state, plan, now), outcome, now=now)
    except RunError as err:
        raise DomainError(err.code, str(err)) from None
    if run.status == rounds.RunStatus.ENDED and run.ended_at is None:
        run.ended_at = now
    db.session.add(
        RunCommand(
            run_id=run.id,
            command_id=command_id,
            action=action,
            actor_id=actor.id,
            result_version=run.version,
            created_at=now,
        )
    )
    db.session.flush()
    outcome.result = {"version": run.version}
    logger.info("run %s: %s by %s -> version %s", run.id, action, actor.id, run.version)
    return outcome


def _require_phase(
    state: rounds.RunState, plan: rounds.RunPlan, now: datetime, phase: tuple[int, int]
) -> None:
    # The phase playing now, counting deadlines the ticker has not reached yet.
    current = rounds.tick(state, plan, now).state
    in_phase = current.status in (rounds.RunStatus.RUNNING, rounds.RunStatus.PAUSED)
    if not in_phase or (current.round_index, current.phase_index) != phase:
        raise DomainError("phase_changed", PHASE_CHANGED)


def due_run_ids(now: datetime) -> list[int]:
    """Return the runs whose current phase deadline has passed."""
    return list(
        db.session.scalars(
            sa.select(Run.id).where(
                Run.status == rounds.RunStatus.RUNNING.value, Run.phase_deadline <= now
            )
        )
    )


def tick_run(run_id: int, *, now: datetime) -> Outcome:
    """Advance one run past every deadline before ``now``; idempotent under a row lock."""
    run = load_run(run_id, lock=True)
    outcome = Outcome(run_id=run.id)
    if run.status != rounds.RunStatus.RUNNING:
        return outcome
    _apply(run, rounds.tick(state_of(run), plan_of(run), now), outcome, now=now)
    if run.status == rounds.RunStatus.ENDED and run.ended_at is None:
        run.ended_at = now
    db.session.flush()
    return outcome

"""Phase and round state machine of a live exercise run; pure, with ``now`` injected.

Conventions:

- ``round_index`` and ``phase_index`` are 0-based (add 1 for display). In ``not_started`` and
  ``between_rounds`` they name the phase the next ``start`` plays; in ``running`` and
  ``paused`` the current phase; in ``ended`` the last phase played.
- ``phase_deadline`` is set (aware UTC) iff the run is ``running``; ``remaining_when_paused``
  (float seconds, > 0) is set iff it is ``paused``.
- ``version`` grows by one per accepted change. ``tick`` adds one per phase boundary crossed, so
  a late tick lands on exactly the state, version included, that punctual ticks would give.
- Every command first applies ``tick`` at ``now``, so it acts on the phase playing at ``now``.
- Each transition returns a ``Transition``; it changed the state iff it carries events.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

from facilitation.exercises.engine.errors import RunError

#: Pure core: no framework import, here or in what it imports (tests/core/test_pure_core.py).
__pure__ = True

#: A negative adjustment never leaves less than this, nor lengthens a shorter phase.
MIN_REMAINING_S = 5.0
#: Largest single adjustment, either way.
MAX_ADJUST_S = 3600.0


class ActiveRole(StrEnum):
    """Name who acts during a phase."""

    EVERYONE = "everyone"
    A = "a"
    B = "b"


class RunStatus(StrEnum):
    """Name the stage a run is in."""

    NOT_STARTED = "not_started"
    RUNNING = "running"
    PAUSED = "paused"
    BETWEEN_ROUNDS = "between_rounds"
    ENDED = "ended"


class EventKind(StrEnum):
    """Name what a transition did, in the order it happened."""

    RUN_STARTED = "run_started"
    ROUND_STARTED = "round_started"
    PHASE_STARTED = "phase_started"
    ROUND_ENDED = "round_ended"
    RUN_ENDED = "run_ended"
    RUN_PAUSED = "run_paused"
    RUN_RESUMED = "run_resumed"
    PHASE_ADJUSTED = "phase_adjusted"


@dataclass(frozen=True)
class PhaseSpec:
    """Describe one timed phase of an exercise."""

    name: str
    duration_s: int
    instruction: str = ""
    active: ActiveRole = ActiveRole.EVERYONE

    def __post_init__(self) -> None:
        if not isinstance(self.duration_s, int) or isinstance(self.duration_s, bool):
            raise RunError("invalid_plan", "a phase lasts a whole number of seconds")
        if self.duration_s < 1 or not self.name.strip():
            raise RunError("invalid_plan", "a phase needs a name and at least one second")
        if self.active not in tuple(ActiveRole):
            raise RunError("invalid_plan", f"unknown active role {self.active!r}")


@dataclass(frozen=True)
class RunPlan:
    """Describe a run: the phases every round plays, and how many rounds."""

    phases: tuple[PhaseSpec, ...]
    rounds: int
    pause_between_rounds: bool = False

    def __post_init__(self) -> None:
        if not isinstance(self.phases, tuple) or not self.phases:
            raise RunError("invalid_plan", "a plan needs a non-empty tuple of phases")
        if not isinstance(self.rounds, int) or isinstance(self.rounds, bool) or self.rounds < 1:
            raise RunError("invalid_plan", "a plan needs at least one round")

    @property
    def round_duration_s(self) -> int:
        """Return the length of one round without adjustments."""
        return sum(phase.duration_s for phase in self.phases)


#: Built-in example exercise.
EYE_GAZING_ROTATION = RunPlan(
    phases=(
        PhaseSpec("Arrive", 30, "Find your partner and settle in."),
        PhaseSpec("Gaze", 180, "Look into each other's eyes in silence."),
        PhaseSpec("A shares", 60, "A shares what came up; B listens.", ActiveRole.A),
        PhaseSpec("B shares", 60, "B shares what came up; A listens.", ActiveRole.B),
        PhaseSpec("Thank and move", 30, "Thank your partner and move on."),
    ),
    rounds=8,
)


@dataclass(frozen=True)
class RunState:
    """Hold the whole state of a run; every field maps to one database column."""

    status: RunStatus = RunStatus.NOT_STARTED
    round_index: int = 0
    phase_index: int = 0
    phase_deadline: datetime | None = None
    remaining_when_paused: float | None = None
    version: int = 0

    def __post_init__(self) -> None:
        if self.status not in tuple(RunStatus):
            raise RunError("invalid_state", f"unknown status {self.status!r}")
        if (self.status == RunStatus.RUNNING) != (self.phase_deadline is not None):
            raise RunError("invalid_state", "a deadline is set iff the run is running")
        if self.phase_deadline is not None and self.phase_deadline.utcoffset() != timedelta(0):
            raise RunError("invalid_state", "the deadline must be an aware UTC datetime")
        if (self.status == RunStatus.PAUSED) != (self.remaining_when_paused is not None):
            raise RunError("invalid_state", "remaining time is set iff the run is paused")
        left = self.remaining_when_paused
        if left is not None and not (math.isfinite(left) and left > 0):
            raise RunError("invalid_state", "remaining time must be positive")
        if min(self.round_index, self.phase_index, self.version) < 0:
            raise RunError("invalid_state", "indexes and version cannot be negative")


@dataclass(frozen=True)
class RunEvent:
    """Record one thing a transition did; ``at`` is when it happened on the run's timeline."""

    kind: EventKind
    round_index: int
    phase_index: int | None
    at: datetime


@dataclass(frozen=True)
class Transition:
    """Carry the new state and the events that led to it."""

    state: RunState
    events: tuple[RunEvent, ...] = ()

    @property
    def changed(self) -> bool:
        """Return whether the state changed (every change emits an event)."""
        return bool(self.events)


@dataclass(frozen=True)
class PlannedPhase:
    """Describe a phase still to play in the current round, with its absolute times if known."""

    round_index: int
    phase_index: int
    phase: PhaseSpec
    #: None for the current phase (its start moved with pauses and adjustments) or when paused.
    starts_at: datetime | None
    ends_at: datetime | None


_IN_PHASE = (RunStatus.RUNNING, RunStatus.PAUSED)
_WAITING = (RunStatus.NOT_STARTED, RunStatus.BETWEEN_ROUNDS)


def _utc(now: datetime) -> datetime:
    if now.tzinfo is None or now.utcoffset() is None:
        raise RunError("naive_datetime", "now must be timezone-aware")
    return now.astimezone(UTC)


def _seconds(value: float) -> timedelta:
    return timedelta(seconds=value)


def _bump(state: RunState, **changes: Any) -> RunState:
    return replace(state, version=state.version + 1, **changes)


def _check(state: RunState, plan: RunPlan) -> None:
    if state.round_index >= plan.rounds or state.phase_index >= len(plan.phases):
        raise RunError("state_plan_mismatch", "the state points past the end of the plan")


def _require(state: RunState, allowed: tuple[RunStatus, ...], code: str) -> None:
    if state.status == RunStatus.ENDED:
        raise RunError("run_ended", "the run has ended")
    if state.status not in allowed:
        raise RunError(code, f"not allowed while {state.status}")


def _advance(state: RunState, plan: RunPlan, at: datetime) -> tuple[RunState, list[RunEvent]]:
    """End the current phase at ``at`` and move to whatever follows, chaining from ``at``."""
    r, p = state.round_index, state.phase_index
    running = {"status": RunStatus.RUNNING, "remaining_when_paused": None}
    if p + 1 < len(plan.phases):
        deadline = at + _seconds(plan.phases[p + 1].duration_s)
        new = _bump(state, phase_index=p + 1, phase_deadline=deadline, **running)
        return new, [RunEvent(EventKind.PHASE_STARTED, r, p + 1, at)]
    events = [RunEvent(EventKind.ROUND_ENDED, r, None, at)]
    idle = {"phase_deadline": None, "remaining_when_paused": None}
    if r + 1 >= plan.rounds:
        events.append(RunEvent(EventKind.RUN_ENDED, r, None, at))
        return _bump(state, status=RunStatus.ENDED, **idle), events
    if plan.pause_between_rounds:
        waiting = {"status": RunStatus.BETWEEN_ROUNDS, "round_index": r + 1, "phase_index": 0}
        return _bump(state, **waiting, **idle), events
    deadline = at + _seconds(plan.phases[0].duration_s)
    new = _bump(state, round_index=r + 1, phase_index=0, phase_deadline=deadline, **running)
    events += [
        RunEvent(EventKind.ROUND_STARTED, r + 1, None, at),
        RunEvent(EventKind.PHASE_STARTED, r + 1, 0, at),
    ]
    return new, events


def tick(state: RunState, plan: RunPlan, now: datetime) -> Transition:
    """Advance every phase whose deadline is at or before ``now``; idempotent for one ``now``."""
    now = _utc(now)
    _check(state, plan)
    events: list[RunEvent] = []
    while state.phase_deadline is not None and state.phase_deadline <= now:
        state, more = _advance(state, plan, state.phase_deadline)
        events += more
    return Transition(state, tuple(events))


def _catch_up(
    state: RunState, plan: RunPlan, now: datetime, allowed: tuple[RunStatus, ...], code: str
) -> tuple[RunState, list[RunEvent], datetime]:
    """Tick up to ``now``, then refuse unless the run is in an ``allowed`` stage."""
    now = _utc(now)
    caught = tick(state, plan, now)
    _require(caught.state, allowed, code)
    return caught.state, list(caught.events), now


def start(state: RunState, plan: RunPlan, now: datetime) -> Transition:
    """Start the run, or the waiting round when the run pauses between rounds."""
    state, events, now = _catch_up(state, plan, now, _WAITING, "already_started")
    r = state.round_index
    if state.status == RunStatus.NOT_STARTED:
        events.append(RunEvent(EventKind.RUN_STARTED, r, None, now))
    deadline = now + _seconds(plan.phases[0].duration_s)
    state = _bump(state, status=RunStatus.RUNNING, phase_index=0, phase_deadline=deadline)
    events += [
        RunEvent(EventKind.ROUND_STARTED, r, None, now),
        RunEvent(EventKind.PHASE_STARTED, r, 0, now),
    ]
    return Transition(state, tuple(events))


def pause(state: RunState, plan: RunPlan, now: datetime) -> Transition:
    """Freeze the current phase, keeping its remaining time."""
    state, events, now = _catch_up(state, plan, now, (RunStatus.RUNNING,), "not_running")
    assert state.phase_deadline is not None  # a running state has a deadline
    left = (state.phase_deadline - now).total_seconds()
    state = _bump(state, status=RunStatus.PAUSED, phase_deadline=None, remaining_when_paused=left)
    events.append(RunEvent(EventKind.RUN_PAUSED, state.round_index, state.phase_index, now))
    return Transition(state, tuple(events))


def resume(state: RunState, plan: RunPlan, now: datetime) -> Transition:
    """Restart the paused phase's countdown from its remaining time."""
    state, events, now = _catch_up(state, plan, now, (RunStatus.PAUSED,), "not_paused")
    assert state.remaining_when_paused is not None  # a paused state keeps its remaining time
    deadline = now + _seconds(state.remaining_when_paused)
    state = _bump(
        state, status=RunStatus.RUNNING, phase_deadline=deadline, remaining_when_paused=None
    )
    events.append(RunEvent(EventKind.RUN_RESUMED, state.round_index, state.phase_index, now))
    return Transition(state, tuple(events))


def next_phase(state: RunState, plan: RunPlan, now: datetime) -> Transition:
    """End the current phase now, as if its deadline had passed; a paused run stays paused."""
    state, events, now = _catch_up(state, plan, now, _IN_PHASE, "no_current_phase")
    was_paused = state.status == RunStatus.PAUSED
    state, more = _advance(state, plan, now)
    if was_paused and state.status == RunStatus.RUNNING:
        full = float(plan.phases[state.phase_index].duration_s)
        state = replace(
            state, status=RunStatus.PAUSED, phase_deadline=None, remaining_when_paused=full
        )
    return Transition(state, tuple(events + more))


def previous_phase(state: RunState, plan: RunPlan, now: datetime) -> Transition:
    """Go back one phase within the round, or restart the round's first phase, in full."""
    state, events, now = _catch_up(state, plan, now, _IN_PHASE, "no_current_phase")
    target = max(state.phase_index - 1, 0)
    full = plan.phases[target].duration_s
    if state.status == RunStatus.RUNNING:
        state = _bump(state, phase_index=target, phase_deadline=now + _seconds(full))
    else:
        state = _bump(state, phase_index=target, remaining_when_paused=float(full))
    events.append(RunEvent(EventKind.PHASE_STARTED, state.round_index, target, now))
    return Transition(state, tuple(events))


def adjust(state: RunState, plan: RunPlan, now: datetime, delta_s: float) -> Transition:
    """Lengthen or shorten the current phase, running or paused, within the clamp rules."""
    if isinstance(delta_s, bool) or not isinstance(delta_s, int | float):
        raise RunError("invalid_adjustment", "the adjustment must be a number of seconds")
    if not math.isfinite(delta_s) or abs(delta_s) > MAX_ADJUST_S:
        raise RunError("invalid_adjustment", f"adjust by at most {MAX_ADJUST_S:g} s")
    state, events, now = _catch_up(state, plan, now, _IN_PHASE, "no_current_phase")
    current = remaining(state, now)
    target = current + delta_s
    if delta_s < 0:
        target = max(target, min(current, MIN_REMAINING_S))
    if target == current:
        return Transition(state, tuple(events))
    if state.status == RunStatus.RUNNING:
        state = _bump(state, phase_deadline=now + _seconds(target))
    else:
        state = _bump(state, remaining_when_paused=target)
    events.append(RunEvent(EventKind.PHASE_ADJUSTED, state.round_index, state.phase_index, now))
    return Transition(state, tuple(events))


def end(state: RunState, plan: RunPlan, now: datetime) -> Transition:
    """End the run now, from any stage but ``ended``."""
    state, events, now = _catch_up(state, plan, now, tuple(RunStatus), "run_ended")
    r, p = state.round_index, state.phase_index
    if state.status in (RunStatus.RUNNING, RunStatus.PAUSED):
        events.append(RunEvent(EventKind.ROUND_ENDED, r, None, now))
    elif state.status == RunStatus.BETWEEN_ROUNDS:
        r, p = max(r - 1, 0), len(plan.phases) - 1  # the last phase actually played
    events.append(RunEvent(EventKind.RUN_ENDED, r, None, now))
    state = _bump(
        state,
        status=RunStatus.ENDED,
        round_index=r,
        phase_index=p,
        phase_deadline=None,
        remaining_when_paused=None,
    )
    return Transition(state, tuple(events))


def remaining(state: RunState, now: datetime) -> float:
    """Return the seconds left in the current phase (0 when no phase is playing)."""
    if state.phase_deadline is not None:
        return max((state.phase_deadline - _utc(now)).total_seconds(), 0.0)
    return state.remaining_when_paused or 0.0


def phase_plan(state: RunState, plan: RunPlan) -> tuple[PlannedPhase, ...]:
    """Return the current round's phases still to play; absolute times only while running."""
    _check(state, plan)
    if state.status == RunStatus.ENDED:
        return ()
    planned: list[PlannedPhase] = []
    ends_at = state.phase_deadline
    for index in range(state.phase_index, len(plan.phases)):
        spec = plan.phases[index]
        starts_at = None
        if ends_at is not None and index > state.phase_index:
            starts_at, ends_at = ends_at, ends_at + _seconds(spec.duration_s)
        planned.append(PlannedPhase(state.round_index, index, spec, starts_at, ends_at))
    return tuple(planned)


def to_dict(state: RunState) -> dict[str, Any]:
    """Return a JSON-friendly dict of the state (deadline as an ISO 8601 UTC string)."""
    deadline = state.phase_deadline
    return {
        "status": str(state.status),
        "round_index": state.round_index,
        "phase_index": state.phase_index,
        "phase_deadline": None if deadline is None else deadline.isoformat(),
        "remaining_when_paused": state.remaining_when_paused,
        "version": state.version,
    }


def from_dict(data: dict[str, Any]) -> RunState:
    """Rebuild a state from ``to_dict`` output, refusing anything malformed."""
    try:
        raw_deadline = data["phase_deadline"]
        deadline = None if raw_deadline is None else datetime.fromisoformat(raw_deadline)
        if deadline is not None and deadline.tzinfo is not None:
            deadline = deadline.astimezone(UTC)
        left = data["remaining_when_paused"]
        fields = (data["round_index"], data["phase_index"], data["version"])
        if any(isinstance(v, bool) or not isinstance(v, int) for v in fields):
            raise TypeError("indexes and version must be integers")
        return RunState(
            status=RunStatus(data["status"]),
            round_index=data["round_index"],
            phase_index=data["phase_index"],
            phase_deadline=deadline,
            remaining_when_paused=None if left is None else float(left),
            version=data["version"],
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise RunError("invalid_state", f"cannot read run state: {exc}") from exc

"""Tests for the phase and round state machine of a live run."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from facilitation.exercises.engine.errors import RunError
from facilitation.exercises.engine.rounds import (
    EYE_GAZING_ROTATION,
    MIN_REMAINING_S,
    ActiveRole,
    EventKind,
    PhaseSpec,
    RunEvent,
    RunPlan,
    RunState,
    RunStatus,
    Transition,
    adjust,
    end,
    from_dict,
    next_phase,
    pause,
    phase_plan,
    previous_phase,
    remaining,
    resume,
    start,
    tick,
    to_dict,
)

T0 = datetime(2025, 3, 1, 19, 0, tzinfo=UTC)
#: Three phases (10 s, 20 s, 5 s), two rounds: 35 s a round, 70 s in all.
SHORT = RunPlan((PhaseSpec("one", 10), PhaseSpec("two", 20), PhaseSpec("three", 5)), rounds=2)
SHORT_WAITING = RunPlan(SHORT.phases, rounds=2, pause_between_rounds=True)
PLUS_ONE = timezone(timedelta(hours=1))


def at(seconds: float) -> datetime:
    """Return the instant ``seconds`` after T0."""
    return T0 + timedelta(seconds=seconds)


def kinds(transition: Transition) -> list[str]:
    """Return the event kinds of a transition as plain strings."""
    return [str(event.kind) for event in transition.events]


def started(plan: RunPlan = SHORT) -> RunState:
    """Return a run of ``plan`` started at T0."""
    return start(RunState(), plan, T0).state


def code_of(call: Callable[[], object]) -> str:
    """Return the code of the RunError that ``call`` raises."""
    with pytest.raises(RunError) as info:
        call()
    return info.value.code


# --- plan and state values -------------------------------------------------------------------


def test_eye_gazing_rotation_plays_five_phases_for_eight_rounds() -> None:
    plan = EYE_GAZING_ROTATION
    assert [p.duration_s for p in plan.phases] == [30, 180, 60, 60, 30]
    assert [p.active for p in plan.phases][2:4] == [ActiveRole.A, ActiveRole.B]
    assert plan.rounds == 8
    assert plan.round_duration_s == 360


@pytest.mark.parametrize(
    "build",
    [
        lambda: PhaseSpec("gaze", 0),
        lambda: PhaseSpec("gaze", 1.5),  # type: ignore[arg-type]
        lambda: PhaseSpec("gaze", True),
        lambda: PhaseSpec("  ", 10),
        lambda: PhaseSpec("gaze", 10, active="c"),  # type: ignore[arg-type]
        lambda: RunPlan((), rounds=1),
        lambda: RunPlan([PhaseSpec("gaze", 10)], rounds=1),  # type: ignore[arg-type]
        lambda: RunPlan((PhaseSpec("gaze", 10),), rounds=0),
    ],
)
def test_invalid_plan_is_refused(build: Callable[[], object]) -> None:
    assert code_of(build) == "invalid_plan"


@pytest.mark.parametrize(
    "fields",
    [
        {"status": RunStatus.RUNNING},
        {"phase_deadline": T0},
        {"status": RunStatus.RUNNING, "phase_deadline": datetime(2025, 1, 1)},
        {"status": RunStatus.RUNNING, "phase_deadline": T0.astimezone(PLUS_ONE)},
        {"status": RunStatus.PAUSED},
        {"status": RunStatus.PAUSED, "remaining_when_paused": 0.0},
        {"status": RunStatus.PAUSED, "remaining_when_paused": float("nan")},
        {"remaining_when_paused": 3.0},
        {"round_index": -1},
        {"version": -1},
        {"status": "sleeping"},
    ],
)
def test_inconsistent_state_is_refused(fields: dict[str, Any]) -> None:
    assert code_of(lambda: RunState(**fields)) == "invalid_state"


def test_run_error_carries_code_and_message() -> None:
    error = RunError("not_running", "not allowed")
    assert error.code == "not_running"
    assert str(error) == "not allowed"
    assert str(RunError("run_ended")) == "run_ended"


def test_state_past_the_plan_is_refused() -> None:
    state = RunState(round_index=2)
    assert code_of(lambda: tick(state, SHORT, T0)) == "state_plan_mismatch"
    assert code_of(lambda: phase_plan(RunState(phase_index=3), SHORT)) == "state_plan_mismatch"


def test_naive_now_is_refused() -> None:
    assert code_of(lambda: start(RunState(), SHORT, datetime(2025, 1, 1))) == "naive_datetime"


def test_aware_now_in_another_zone_is_normalised_to_utc() -> None:
    plus_two = T0.astimezone(timezone(timedelta(hours=2)))
    state = start(RunState(), SHORT, plus_two).state
    assert state.phase_deadline == at(10)
    assert state.phase_deadline is not None and state.phase_deadline.tzinfo is UTC


# --- start, pause, resume --------------------------------------------------------------------


def test_start_plays_first_phase_of_first_round() -> None:
    transition = start(RunState(), SHORT, T0)
    state = transition.state
    assert (state.status, state.round_index, state.phase_index) == (RunStatus.RUNNING, 0, 0)
    assert state.phase_deadline == at(10)
    assert state.version == 1
    assert kinds(transition) == ["run_started", "round_started", "phase_started"]
    assert all(event.at == T0 for event in transition.events)


def test_start_twice_is_refused() -> None:
    state = started()
    assert code_of(lambda: start(state, SHORT, at(1))) == "already_started"
    paused = pause(state, SHORT, at(1)).state
    assert code_of(lambda: start(paused, SHORT, at(2))) == "already_started"


def test_pause_keeps_the_remaining_time() -> None:
    transition = pause(started(), SHORT, at(4))
    state = transition.state
    assert state.status == RunStatus.PAUSED
    assert state.phase_deadline is None
    assert state.remaining_when_paused == 6.0
    assert state.version == 2
    assert kinds(transition) == ["run_paused"]
    assert remaining(state, at(500)) == 6.0


def test_resume_counts_down_from_the_remaining_time() -> None:
    paused = pause(started(), SHORT, at(4)).state
    transition = resume(paused, SHORT, at(100))
    assert transition.state.status == RunStatus.RUNNING
    assert transition.state.phase_deadline == at(106)
    assert transition.state.remaining_when_paused is None
    assert transition.state.version == 3
    assert kinds(transition) == ["run_resumed"]


def test_pause_and_resume_in_the_wrong_stage_are_refused() -> None:
    assert code_of(lambda: pause(RunState(), SHORT, T0)) == "not_running"
    paused = pause(started(), SHORT, at(1)).state
    assert code_of(lambda: pause(paused, SHORT, at(2))) == "not_running"
    assert code_of(lambda: resume(started(), SHORT, at(1))) == "not_paused"
    assert code_of(lambda: resume(RunState(), SHORT, T0)) == "not_paused"


def test_command_acts_on_the_phase_playing_now_even_if_the_ticker_is_late() -> None:
    transition = pause(started(), SHORT, at(12))
    assert (transition.state.phase_index, transition.state.remaining_when_paused) == (1, 18.0)
    assert kinds(transition) == ["phase_started", "run_paused"]
    assert transition.events[0].at == at(10)
    assert transition.state.version == 3


def test_command_after_the_run_has_run_out_is_refused() -> None:
    assert code_of(lambda: pause(started(), SHORT, at(70))) == "run_ended"


# --- tick ------------------------------------------------------------------------------------


def test_tick_before_the_deadline_changes_nothing() -> None:
    state = started()
    transition = tick(state, SHORT, at(9.999))
    assert transition.state is state
    assert not transition.changed


def test_tick_at_the_deadline_starts_the_next_phase() -> None:
    transition = tick(started(), SHORT, at(10))
    assert transition.state.phase_index == 1
    assert transition.state.phase_deadline == at(30)
    assert kinds(transition) == ["phase_started"]


def test_late_tick_chains_deadlines_from_the_previous_deadline() -> None:
    transition = tick(started(), SHORT, at(40))
    state = transition.state
    assert (state.round_index, state.phase_index) == (1, 0)
    assert state.phase_deadline == at(45)
    assert state.version == 1 + 3
    assert [(str(e.kind), e.round_index, e.phase_index, e.at) for e in transition.events] == [
        ("phase_started", 0, 1, at(10)),
        ("phase_started", 0, 2, at(30)),
        ("round_ended", 0, None, at(35)),
        ("round_started", 1, None, at(35)),
        ("phase_started", 1, 0, at(35)),
    ]


def test_tick_ends_the_run_after_the_last_phase() -> None:
    transition = tick(started(), SHORT, at(10_000))
    state = transition.state
    assert state.status == RunStatus.ENDED
    assert (state.round_index, state.phase_index) == (1, 2)
    assert state.phase_deadline is None
    assert kinds(transition)[-2:] == ["round_ended", "run_ended"]
    assert transition.events[-1].at == at(70)


def test_tick_is_idempotent_for_the_same_now() -> None:
    first = tick(started(), SHORT, at(40))
    second = tick(first.state, SHORT, at(40))
    assert second.state == first.state
    assert second.events == ()


@pytest.mark.parametrize("status", ["not_started", "paused", "ended"])
def test_tick_leaves_a_run_that_is_not_running_alone(status: str) -> None:
    state = {
        "not_started": RunState(),
        "paused": pause(started(), SHORT, at(1)).state,
        "ended": end(started(), SHORT, at(1)).state,
    }[status]
    assert tick(state, SHORT, at(10_000)) == Transition(state, ())


def test_pause_between_rounds_waits_for_the_facilitator() -> None:
    waiting = tick(started(SHORT_WAITING), SHORT_WAITING, at(36))
    state = waiting.state
    assert state.status == RunStatus.BETWEEN_ROUNDS
    assert (state.round_index, state.phase_index) == (1, 0)
    assert state.phase_deadline is None
    assert kinds(waiting)[-1] == "round_ended"
    assert tick(state, SHORT_WAITING, at(500)).events == ()

    resumed = start(state, SHORT_WAITING, at(500))
    assert kinds(resumed) == ["round_started", "phase_started"]
    assert resumed.state.status == RunStatus.RUNNING
    assert resumed.state.round_index == 1
    assert resumed.state.phase_deadline == at(510)


def test_last_round_ends_the_run_even_when_pausing_between_rounds() -> None:
    state = tick(started(SHORT_WAITING), SHORT_WAITING, at(35)).state
    state = start(state, SHORT_WAITING, at(100)).state
    assert tick(state, SHORT_WAITING, at(135)).state.status == RunStatus.ENDED


# --- next and previous phase -----------------------------------------------------------------


def test_next_phase_starts_the_following_phase_now() -> None:
    transition = next_phase(started(), SHORT, at(3))
    assert transition.state.phase_index == 1
    assert transition.state.phase_deadline == at(23)
    assert transition.state.version == 2
    assert kinds(transition) == ["phase_started"]


def test_next_phase_at_the_end_of_a_round_starts_the_next_round() -> None:
    state = tick(started(), SHORT, at(30)).state
    transition = next_phase(state, SHORT, at(31))
    assert (transition.state.round_index, transition.state.phase_index) == (1, 0)
    assert transition.state.phase_deadline == at(41)
    assert kinds(transition) == ["round_ended", "round_started", "phase_started"]


def test_next_phase_at_the_very_end_ends_the_run() -> None:
    state = tick(started(), SHORT, at(66)).state
    transition = next_phase(state, SHORT, at(67))
    assert transition.state.status == RunStatus.ENDED
    assert kinds(transition) == ["round_ended", "run_ended"]
    assert code_of(lambda: next_phase(transition.state, SHORT, at(68))) == "run_ended"


def test_next_phase_while_paused_stays_paused_with_the_full_next_phase() -> None:
    paused = pause(started(), SHORT, at(3)).state
    transition = next_phase(paused, SHORT, at(4))
    assert transition.state.status == RunStatus.PAUSED
    assert transition.state.phase_index == 1
    assert transition.state.remaining_when_paused == 20.0
    assert transition.state.version == paused.version + 1


def test_next_phase_while_paused_at_round_end_waits_between_rounds() -> None:
    state = tick(started(SHORT_WAITING), SHORT_WAITING, at(31)).state
    paused = pause(state, SHORT_WAITING, at(32)).state
    transition = next_phase(paused, SHORT_WAITING, at(40))
    assert transition.state.status == RunStatus.BETWEEN_ROUNDS
    assert transition.state.remaining_when_paused is None


@pytest.mark.parametrize("command", [next_phase, previous_phase])
def test_phase_moves_need_a_current_phase(command: Any) -> None:
    assert code_of(lambda: command(RunState(), SHORT, T0)) == "no_current_phase"
    waiting = tick(started(SHORT_WAITING), SHORT_WAITING, at(35)).state
    assert code_of(lambda: command(waiting, SHORT_WAITING, at(36))) == "no_current_phase"


def test_previous_phase_replays_the_previous_phase_in_full() -> None:
    state = tick(started(), SHORT, at(12)).state
    transition = previous_phase(state, SHORT, at(15))
    assert transition.state.phase_index == 0
    assert transition.state.phase_deadline == at(25)
    assert kinds(transition) == ["phase_started"]
    assert transition.state.version == state.version + 1


def test_previous_phase_at_the_first_phase_restarts_it_within_the_round() -> None:
    state = tick(started(), SHORT, at(36)).state
    assert (state.round_index, state.phase_index) == (1, 0)
    transition = previous_phase(state, SHORT, at(40))
    assert (transition.state.round_index, transition.state.phase_index) == (1, 0)
    assert transition.state.phase_deadline == at(50)


def test_previous_phase_while_paused_stays_paused() -> None:
    state = pause(tick(started(), SHORT, at(12)).state, SHORT, at(13)).state
    transition = previous_phase(state, SHORT, at(20))
    assert transition.state.status == RunStatus.PAUSED
    assert transition.state.remaining_when_paused == 10.0


# --- adjust ----------------------------------------------------------------------------------


def test_adjust_adds_time_to_the_running_phase() -> None:
    transition = adjust(started(), SHORT, at(2), 30)
    assert transition.state.phase_deadline == at(40)
    assert kinds(transition) == ["phase_adjusted"]
    assert transition.state.version == 2


def test_adjust_removes_time_down_to_the_minimum() -> None:
    state = tick(started(), SHORT, at(10)).state  # 20 s left at 10 s
    assert remaining(adjust(state, SHORT, at(10), -10).state, at(10)) == 10.0
    clamped = adjust(state, SHORT, at(10), -30).state
    assert remaining(clamped, at(10)) == MIN_REMAINING_S


def test_adjust_never_lengthens_a_phase_already_under_the_minimum() -> None:
    state = started()
    transition = adjust(state, SHORT, at(7), -30)
    assert not transition.changed
    assert transition.state == state


def test_adjust_while_paused_changes_the_remaining_time() -> None:
    paused = pause(started(), SHORT, at(2)).state
    assert adjust(paused, SHORT, at(3), 30).state.remaining_when_paused == 38.0
    assert adjust(paused, SHORT, at(3), -30).state.remaining_when_paused == MIN_REMAINING_S


def test_adjust_by_zero_changes_nothing() -> None:
    state = started()
    assert adjust(state, SHORT, at(1), 0) == Transition(state, ())


@pytest.mark.parametrize("delta", [float("nan"), float("inf"), 3601, -3601, True, "30"])
def test_invalid_adjustment_is_refused(delta: Any) -> None:
    assert code_of(lambda: adjust(started(), SHORT, at(1), delta)) == "invalid_adjustment"


def test_adjust_needs_a_current_phase() -> None:
    assert code_of(lambda: adjust(RunState(), SHORT, T0, 30)) == "no_current_phase"


# --- end -------------------------------------------------------------------------------------


def test_end_while_running_ends_the_round_and_the_run() -> None:
    transition = end(started(), SHORT, at(3))
    assert transition.state.status == RunStatus.ENDED
    assert transition.state.phase_deadline is None
    assert kinds(transition) == ["round_ended", "run_ended"]
    assert code_of(lambda: end(transition.state, SHORT, at(4))) == "run_ended"


def test_end_before_start_cancels_the_run() -> None:
    transition = end(RunState(), SHORT, T0)
    assert kinds(transition) == ["run_ended"]
    assert code_of(lambda: start(transition.state, SHORT, T0)) == "run_ended"


def test_end_between_rounds_points_at_the_last_round_played() -> None:
    waiting = tick(started(SHORT_WAITING), SHORT_WAITING, at(35)).state
    state = end(waiting, SHORT_WAITING, at(40)).state
    assert (state.round_index, state.phase_index) == (0, 2)


# --- remaining and phase plan ----------------------------------------------------------------


def test_remaining_is_zero_when_no_phase_plays_or_the_deadline_passed() -> None:
    assert remaining(RunState(), T0) == 0.0
    assert remaining(started(), at(2.5)) == 7.5
    assert remaining(started(), at(15)) == 0.0


def test_phase_plan_while_running_gives_absolute_times() -> None:
    state = tick(started(), SHORT, at(12)).state
    planned = phase_plan(state, SHORT)
    assert [(p.phase_index, p.starts_at, p.ends_at) for p in planned] == [
        (1, None, at(30)),
        (2, at(30), at(35)),
    ]
    assert planned[0].phase.name == "two"
    assert planned[0].round_index == 0


def test_phase_plan_while_paused_gives_durations_only() -> None:
    state = pause(started(), SHORT, at(1)).state
    planned = phase_plan(state, SHORT)
    assert [p.phase.duration_s for p in planned] == [10, 20, 5]
    assert all(p.starts_at is None and p.ends_at is None for p in planned)


def test_phase_plan_before_a_round_lists_the_round_and_is_empty_once_ended() -> None:
    assert [p.phase_index for p in phase_plan(RunState(), SHORT)] == [0, 1, 2]
    waiting = tick(started(SHORT_WAITING), SHORT_WAITING, at(35)).state
    assert {p.round_index for p in phase_plan(waiting, SHORT_WAITING)} == {1}
    assert phase_plan(end(started(), SHORT, at(1)).state, SHORT) == ()


# --- serialisation ---------------------------------------------------------------------------


def test_state_round_trips_through_json() -> None:
    for state in (RunState(), started(), pause(started(), SHORT, at(1.25)).state):
        data = json.loads(json.dumps(to_dict(state)))
        assert from_dict(data) == state
    assert to_dict(started())["phase_deadline"] == "2025-03-01T19:00:10+00:00"


def test_from_dict_normalises_an_offset_deadline_to_utc() -> None:
    data = to_dict(started()) | {"phase_deadline": "2025-03-01T21:00:10+02:00"}
    assert from_dict(data).phase_deadline == at(10)
    assert from_dict(data).phase_deadline.tzinfo is UTC  # type: ignore[union-attr]


@pytest.mark.parametrize(
    "change",
    [
        {"status": "asleep"},
        {"phase_deadline": "2025-03-01T19:00:10"},
        {"phase_deadline": "not a time"},
        {"phase_deadline": 12},
        {"version": True},
        {"round_index": "1"},
        {"remaining_when_paused": "soon"},
    ],
)
def test_from_dict_refuses_malformed_data(change: dict[str, Any]) -> None:
    data = to_dict(started()) | change
    assert code_of(lambda: from_dict(data)) == "invalid_state"


def test_from_dict_refuses_missing_fields() -> None:
    data = to_dict(started())
    del data["version"]
    assert code_of(lambda: from_dict(data)) == "invalid_state"


# --- properties ------------------------------------------------------------------------------

COMMANDS: dict[str, Callable[[RunState, RunPlan, datetime, float], Transition]] = {
    "start": lambda s, p, n, d: start(s, p, n),
    "pause": lambda s, p, n, d: pause(s, p, n),
    "resume": lambda s, p, n, d: resume(s, p, n),
    "next": lambda s, p, n, d: next_phase(s, p, n),
    "previous": lambda s, p, n, d: previous_phase(s, p, n),
    "adjust": lambda s, p, n, d: adjust(s, p, n, d),
    "end": lambda s, p, n, d: end(s, p, n),
    "tick": lambda s, p, n, d: tick(s, p, n),
}
KNOWN_CODES = {"already_started", "not_running", "not_paused", "no_current_phase", "run_ended"}

plans = st.builds(
    RunPlan,
    phases=st.lists(st.integers(1, 20), min_size=1, max_size=4).map(
        lambda ds: tuple(PhaseSpec(f"p{i}", d) for i, d in enumerate(ds))
    ),
    rounds=st.integers(1, 4),
    pause_between_rounds=st.booleans(),
)
steps = st.lists(
    st.tuples(
        st.sampled_from(sorted(COMMANDS)),
        st.integers(0, 30_000),  # milliseconds since the previous step
        st.sampled_from([30.0, -30.0, -7.0, 12.5, 0.0]),
    ),
    max_size=30,
)


def check_invariants(state: RunState, plan: RunPlan, now: datetime) -> None:
    """Assert what must hold of every reachable state just after a transition at ``now``."""
    running = state.status == RunStatus.RUNNING
    assert (state.phase_deadline is None) == (not running)
    assert (state.remaining_when_paused is None) == (state.status != RunStatus.PAUSED)
    assert 0 <= state.round_index < plan.rounds
    assert 0 <= state.phase_index < len(plan.phases)
    if state.phase_deadline is not None:
        assert state.phase_deadline > now
        assert state.phase_deadline.utcoffset() == timedelta(0)


def replay(plan: RunPlan, script: list[tuple[str, int, float]]) -> tuple[RunState, datetime]:
    """Apply a script of commands from T0, skipping refused ones; return the state and time."""
    state, now = RunState(), T0
    for name, step_ms, delta in script:
        now += timedelta(milliseconds=step_ms)
        with contextlib.suppress(RunError):
            state = COMMANDS[name](state, plan, now, delta).state
    return state, now


@settings(max_examples=200, deadline=None)
@given(plan=plans, script=steps)
def test_any_command_sequence_keeps_the_invariants(
    plan: RunPlan, script: list[tuple[str, int, float]]
) -> None:
    state, now = RunState(), T0
    for name, step_ms, delta in script:
        now += timedelta(milliseconds=step_ms)
        try:
            transition = COMMANDS[name](state, plan, now, delta)
        except RunError as error:
            assert error.code in KNOWN_CODES
            continue
        new = transition.state
        if transition.changed:
            assert new.version > state.version
        else:
            assert new == state
        assert all(event.at <= now for event in transition.events)
        assert [e.at for e in transition.events] == sorted(e.at for e in transition.events)
        check_invariants(new, plan, now)
        again = tick(new, plan, now)
        assert again.state == new and not again.changed
        assert from_dict(json.loads(json.dumps(to_dict(new)))) == new
        state = new


@settings(max_examples=150, deadline=None)
@given(plan=plans, script=steps, downtime_ms=st.integers(0, 300_000))
def test_tick_after_downtime_matches_ticking_every_second(
    plan: RunPlan, script: list[tuple[str, int, float]], downtime_ms: int
) -> None:
    state, now = replay(plan, script)
    late = tick(state, plan, now + timedelta(milliseconds=downtime_ms))

    stepped, events = state, list[RunEvent]()
    for second in range(1, downtime_ms // 1000 + 1):
        transition = tick(stepped, plan, now + timedelta(seconds=second))
        stepped, events = transition.state, events + list(transition.events)
    transition = tick(stepped, plan, now + timedelta(milliseconds=downtime_ms))
    stepped, events = transition.state, events + list(transition.events)

    assert stepped == late.state
    assert tuple(events) == late.events


@settings(max_examples=150, deadline=None)
@given(plan=plans, tick_ms=st.lists(st.integers(0, 400_000), max_size=20))
def test_unadjusted_run_lasts_the_sum_of_its_phases(plan: RunPlan, tick_ms: list[int]) -> None:
    state = start(RunState(), plan, T0).state
    waited = timedelta(0)
    for ms in [*sorted(tick_ms), 10**9]:
        now = T0 + waited + timedelta(milliseconds=ms)
        transition = tick(state, plan, now)
        state = transition.state
        while state.status == RunStatus.BETWEEN_ROUNDS:
            # The facilitator starts each waiting round the moment it ends.
            boundary = transition.events[-1].at
            transition = tick(start(state, plan, boundary).state, plan, now)
            state = transition.state
        if state.status == RunStatus.ENDED:
            ended_at = transition.events[-1].at
            break
    assert state.status == RunStatus.ENDED
    assert ended_at == T0 + timedelta(seconds=plan.round_duration_s * plan.rounds)


@settings(max_examples=150, deadline=None)
@given(
    plan=plans.filter(lambda p: not p.pause_between_rounds),
    pause_ms=st.integers(0, 60_000),
    wait_ms=st.integers(0, 600_000),
)
def test_a_pause_delays_the_end_by_exactly_its_length(
    plan: RunPlan, pause_ms: int, wait_ms: int
) -> None:
    total = timedelta(seconds=plan.round_duration_s * plan.rounds)
    paused_at = T0 + min(timedelta(milliseconds=pause_ms), total - timedelta(milliseconds=1))
    state = pause(start(RunState(), plan, T0).state, plan, paused_at).state
    state = resume(state, plan, paused_at + timedelta(milliseconds=wait_ms)).state
    transition = tick(state, plan, T0 + total + timedelta(days=1))
    assert transition.events[-1].kind == EventKind.RUN_ENDED
    assert transition.events[-1].at == T0 + total + timedelta(milliseconds=wait_ms)

"""Pairings are computed in worker processes, once per request, and never on the event loop."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from dataclasses import replace
from pathlib import Path

import pytest

from facilitation.core.clock import utcnow
from facilitation.exercises import pairing_worker, pairings, participants, services
from facilitation.exercises.engine.pairing import pair_round
from facilitation.exercises.engine.pairing_types import (
    ExerciseNeeds,
    PairingError,
    PairingRequest,
    Participant,
)
from facilitation.extensions import db
from tests.exercises.engine.test_native_matching import lead_follow_room
from tests.exercises.live_helpers import command, make_run

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def worker_runs(monkeypatch):
    """Count the requests that reach a worker process (cache misses)."""
    pairing_worker.clear_cache()
    calls: list[int] = []
    real = pairing_worker._Pool.run

    def counting(pool, request):  # type: ignore[no-untyped-def]
        calls.append(request.round_number)
        return real(pool, request)

    monkeypatch.setattr(pairing_worker._Pool, "run", counting)
    yield calls
    pairing_worker.clear_cache()


def test_a_worker_answers_as_the_engine_does(worker_runs) -> None:
    request = PairingRequest(lead_follow_room(40), ExerciseNeeds(), seed=5, round_number=3)

    assert pairing_worker.pair(request, workers=1) == pair_round(request)
    assert worker_runs == [3]


def test_a_refused_request_comes_back_as_the_engines_error(worker_runs) -> None:
    twice = PairingRequest((Participant(1), Participant(1)), ExerciseNeeds(), 1, 1)

    with pytest.raises(PairingError) as refused:
        pairing_worker.pair(twice, workers=1)

    assert refused.value.code == "duplicate_participant"


def test_the_same_request_in_another_order_is_computed_once(worker_runs) -> None:
    people = lead_follow_room(12)
    first = PairingRequest(people, ExerciseNeeds(), 5, 1, history={(1, 8): 1}, do_not_pair=[(2, 9)])
    again = replace(first, participants=people[::-1], history={(1, 8): 1}, do_not_pair=((2, 9),))

    assert pairing_worker.pair(first) == pairing_worker.pair(again)
    assert worker_runs == [1]


def test_the_preview_and_the_round_it_previews_are_one_computation(app, worker_runs) -> None:
    run, facilitator, _ = make_run(6)
    preview = pairings.preview(run, 0)

    services.control(run.id, facilitator, "start", command_id=command(), now=utcnow())
    db.session.commit()

    stored = pairings.current_round(run)
    assert {m.user_id for m in stored.members} == {
        m.person_id for g in preview.groups for m in g.members
    }
    assert len(worker_runs) == 1


def test_a_change_in_the_room_is_a_new_computation(app, worker_runs) -> None:
    run, facilitator, people = make_run(6)
    pairings.preview(run, 0)
    participants.set_sitting_out(run, people[0], True)
    db.session.commit()

    services.control(run.id, facilitator, "start", command_id=command(), now=utcnow())
    db.session.commit()

    assert len(worker_runs) == 2


# Under gevent, a greenlet that waits on a worker lets the others run: "tick" comes before
# "paired". With the engine in the caller (0 workers) the loop is stuck until it is done.
LOOP_PROBE = textwrap.dedent(
    """
    from gevent import monkey
    monkey.patch_all()
    import sys
    import gevent
    from facilitation.exercises import pairing_worker
    from facilitation.exercises.engine.pairing_types import ExerciseNeeds, PairingRequest
    from tests.exercises.engine.test_native_matching import lead_follow_room

    workers = int(sys.argv[1])
    order = []
    warm = PairingRequest(lead_follow_room(10), ExerciseNeeds(), 1, 1)
    pairing_worker.pair(warm, workers)  # the worker is started before the probe
    request = PairingRequest(lead_follow_room(300), ExerciseNeeds(), 1, 2)

    def pairing():
        order.append("asked")
        pairing_worker.pair(request, workers)
        order.append("paired")

    def other_room():
        order.append("tick")

    first = gevent.spawn(pairing)
    gevent.sleep(0)  # the pairing greenlet starts and asks
    second = gevent.spawn(other_room)
    gevent.joinall([first, second])
    print(",".join(order))
    """
)


@pytest.mark.parametrize(("workers", "order"), [(1, "asked,tick,paired"), (0, "asked,paired,tick")])
def test_under_gevent_other_greenlets_run_while_a_worker_pairs(workers: int, order: str) -> None:
    probe = subprocess.run(
        [sys.executable, "-c", LOOP_PROBE, str(workers)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )

    assert probe.stdout.strip() == order

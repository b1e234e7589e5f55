"""Console commands: a retry is applied once, and an adjustment cannot land on the next phase."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from facilitation.core.clock import utcnow
from facilitation.exercises.models import Run, RunCommand
from facilitation.extensions import db, socketio
from tests.exercises.live_helpers import command, make_run
from tests.factories import PASSWORD

NS = "/live"


@pytest.fixture
def console(app):
    run, facilitator, _ = make_run(4)
    flask_client = app.test_client()
    flask_client.post("/log-in", data={"email": facilitator.email, "password": PASSWORD})
    client = socketio.test_client(
        app, namespace=NS, auth={"run_id": run.id, "as": "facilitator"},
        flask_test_client=flask_client,
    )  # fmt: skip
    assert client.is_connected(NS)
    send(client, {"action": "start", "command_id": command()})
    return client, run.id


def send(client, payload):
    return client.emit("control_run", payload, namespace=NS, callback=True)


def stored(run_id: int) -> Run:
    db.session.expire_all()
    return db.session.get(Run, run_id)


def adjust(phase, command_id=None, delta=30):
    payload = {"action": "adjust", "delta_s": delta, "command_id": command_id or command()}
    if phase is not None:
        payload["phase"] = {"round_index": phase[0], "phase_index": phase[1]}
    return payload


def test_an_adjustment_for_the_phase_on_screen_applies(console):
    client, run_id = console
    before = stored(run_id).phase_deadline
    answer = send(client, adjust((0, 0)))
    assert answer["ok"], answer
    assert stored(run_id).phase_deadline == before + timedelta(seconds=30)


def test_an_adjustment_for_a_phase_that_ended_is_refused_and_changes_nothing(console):
    client, run_id = console
    assert send(client, {"action": "next_phase", "command_id": command()})["ok"]
    before = stored(run_id)
    deadline, version = before.phase_deadline, before.version
    late = adjust((0, 0))
    answer = send(client, late)
    assert answer["ok"] is False and answer["error"] == "phase_changed", answer
    assert "nothing was changed" in answer["message"]
    after = stored(run_id)
    assert (after.phase_deadline, after.version) == (deadline, version)
    recorded = sa.select(RunCommand).where(RunCommand.command_id == late["command_id"])
    assert db.session.scalar(recorded) is None  # refused, so not remembered as done
    assert send(client, adjust((0, 1)))["ok"]  # meant for the phase now on: applied


def test_a_phase_past_its_deadline_counts_as_ended_before_the_ticker_sees_it(console):
    client, run_id = console
    run = stored(run_id)
    run.phase_deadline = utcnow() - timedelta(seconds=1)  # due; the ticker has not run
    db.session.commit()
    answer = send(client, adjust((0, 0)))
    assert answer["error"] == "phase_changed", answer
    next_phase = {"action": "next_phase", "command_id": command(), "phase": {
        "round_index": 0, "phase_index": 0}}  # fmt: skip
    assert send(client, next_phase)["error"] == "phase_changed"  # would skip a whole phase


def test_a_retried_command_is_applied_once_even_after_its_phase_ended(console):
    client, run_id = console
    first = adjust((0, 0))
    applied = send(client, first)
    assert applied["ok"] and "repeated" not in applied
    deadline = stored(run_id).phase_deadline
    assert send(client, {"action": "next_phase", "command_id": command()})["ok"]
    version = stored(run_id).version
    again = send(client, first)  # the console resends after a reconnect: same id, same phase
    assert again == {"ok": True, "version": applied["version"], "repeated": True}
    assert stored(run_id).version == version
    assert stored(run_id).phase_deadline != deadline + timedelta(seconds=30)  # not re-applied
    count = sa.select(sa.func.count()).where(RunCommand.command_id == first["command_id"])
    assert db.session.scalar(count) == 1


@pytest.mark.parametrize(
    "phase",
    [
        "0:0",
        {"round_index": 0},
        {"round_index": -1, "phase_index": 0},
        {"round_index": 0, "phase_index": True},
        {"round_index": 2**31, "phase_index": 0},
        [0, 0],
    ],
)
def test_a_malformed_phase_is_a_bad_request(console, phase):
    client, run_id = console
    version = stored(run_id).version
    answer = send(client, {**adjust(None), "phase": phase})
    assert answer["error"] == "bad_request", answer
    assert stored(run_id).version == version

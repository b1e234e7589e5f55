"""The live layer across real server processes: Redis fan-out, crash and restart, origins."""

from __future__ import annotations

import contextlib
from datetime import datetime

import pytest
import requests

from facilitation.core.clock import utcnow
from facilitation.exercises.models import Run
from facilitation.extensions import db
from tests.exercises.live_helpers import command, make_run
from tests.live_server import PATIENCE_S, LiveClient, ServerProcess
from tests.services import redis_or_skip, redis_url


def cookie(app, user) -> str:
    """Return a signed session cookie that logs ``user`` in, as the browser would hold."""
    serializer = app.session_interface.get_signing_serializer(app)
    return serializer.dumps({"_user_id": str(user.id), "_fresh": False})


def server_env(app, uri: str, tmp_path, redis: bool) -> dict[str, str]:
    env = {
        "DATABASE_URL": uri,
        "SECRET_KEY": app.config["SECRET_KEY"],
        "ENCRYPTION_KEY": app.config["ENCRYPTION_KEY"],
        "FACILITATION_INSTANCE_PATH": str(tmp_path),
        "FACILITATION_SOCKETIO_CHANNEL": f"gatherwell-test-{tmp_path.name}",
        "REDIS_URL": redis_url() if redis else "",
    }
    return env


@pytest.fixture
def servers():
    started: list[ServerProcess] = []
    clients: list[LiveClient] = []
    yield started, clients
    for client in clients:
        with contextlib.suppress(Exception):  # a client of a killed server may already be gone
            client.close()
    for server in started:
        server.stop()


def test_two_processes_serve_one_run_through_redis(pg_app, postgres_uri, tmp_path, servers):
    redis_or_skip()
    started, clients = servers
    run, facilitator, people = make_run(4)
    env = server_env(pg_app, postgres_uri, tmp_path, redis=True)
    a, b = (
        ServerProcess(env, log_dir=tmp_path).start(),
        ServerProcess(env, log_dir=tmp_path).start(),
    )
    started += [a, b]
    console = LiveClient(a.url, run.id, cookie(pg_app, facilitator), **{"as": "facilitator"})
    phones = [LiveClient(b.url, run.id, cookie(pg_app, p)) for p in people]
    clients += [console, *phones]
    for phone in phones:
        phone.wait_for("your_pairing")

    assert console.call("control_run", {"action": "start", "command_id": command()})["ok"]
    for phone in phones:
        phone.wait_for("run_state", lambda s: s["status"] == "running")
        mine = phone.wait_for("your_pairing", lambda p: p["state"] == "paired")
        assert len(mine["partners"]) == 1

    assert phones[0].call("signal_support")["ok"]
    signal = console.wait_for("support_signal")
    assert signal["name"] == people[0].display_name

    assert phones[1].call("sit_out")["ok"]
    console.wait_for(
        "facilitator_view",
        lambda v: (
            {"user_id": people[1].id, "name": people[1].display_name, "state": "sitting_out"}
            in v["present"]
        ),
    )

    assert console.call("control_run", {"action": "next_phase", "command_id": command()})["ok"]
    for phone in phones:
        phone.wait_for("run_state", lambda s: s["phase_index"] == 1)


def test_server_killed_mid_phase_resumes_at_the_right_second(
    pg_app, postgres_uri, tmp_path, servers
):
    started, clients = servers
    run, facilitator, people = make_run(4)
    env = server_env(pg_app, postgres_uri, tmp_path, redis=False)
    server = ServerProcess(env, log_dir=tmp_path).start()
    started.append(server)
    console = LiveClient(server.url, run.id, cookie(pg_app, facilitator), **{"as": "facilitator"})
    phone = LiveClient(server.url, run.id, cookie(pg_app, people[0]))
    clients += [console, phone]
    assert console.call("control_run", {"action": "start", "command_id": command()})["ok"]
    before = phone.wait_for("run_state", lambda s: s["status"] == "running")
    pairing = phone.wait_for("your_pairing", lambda p: p["state"] == "paired")

    server.kill()
    seen = len(phone.received("run_state"))
    seen_console = len(console.received("run_state"))
    seen_pairings = len(phone.received("your_pairing"))
    restarted = ServerProcess(env, port=server.port, log_dir=tmp_path).start()
    started.append(restarted)

    after = phone.wait_for("run_state", lambda s: len(phone.received("run_state")) > seen)
    assert after["deadline"] == before["deadline"]
    assert (after["round_index"], after["phase_index"]) == (0, 0)
    expected = (datetime.fromisoformat(before["deadline"]) - utcnow()).total_seconds()
    assert after["remaining_s"] == pytest.approx(expected, abs=1.0)
    again = phone.wait_for(
        "your_pairing", lambda p: len(phone.received("your_pairing")) > seen_pairings
    )
    assert again["pairing_id"] == pairing["pairing_id"] and again["spot"] == pairing["spot"]
    # The console, too, is back once its fresh snapshot has arrived.
    console.wait_for("run_state", lambda s: len(console.received("run_state")) > seen_console)
    assert console.call("control_run", {"action": "next_phase", "command_id": command()})["ok"]
    phone.wait_for("run_state", lambda s: s["phase_index"] == 1)
    db.session.expire_all()
    assert db.session.get(Run, run.id).phase_index == 1


def test_foreign_origins_are_refused(pg_app, postgres_uri, tmp_path, servers):
    started, _ = servers
    server = ServerProcess(
        server_env(pg_app, postgres_uri, tmp_path, redis=False), log_dir=tmp_path
    )
    started.append(server.start())
    handshake = server.url + "/socket.io/?EIO=4&transport=polling"
    assert (
        requests.get(
            handshake, headers={"Origin": "http://evil.example"}, timeout=PATIENCE_S
        ).status_code
        == 400
    )
    assert (
        requests.get(handshake, headers={"Origin": server.url}, timeout=PATIENCE_S).status_code
        == 200
    )

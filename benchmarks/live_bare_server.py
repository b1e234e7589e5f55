"""The bare baseline: a Flask-SocketIO server that only broadcasts.

Clients connect to namespace ``/live`` and join one room (``run:1``), as phones join the
app's ``run:<id>``.  A control connection (auth ``{"as": "control"}``, not in the room) emits
``trigger``; the server stamps ``sent_at`` (ms since the epoch, float) into a payload shaped
like the app's ``run_state`` (same JSON size, see ``--payload-bytes``) and emits it once to the
room as ``run_state``, then acknowledges.

    python benchmarks/live_bare_server.py --mode gevent --port 5055
    # two processes, one room, through Redis (as the app runs with REDIS_URL)
    python benchmarks/live_bare_server.py --mode gevent --port 5055 \
        --message-queue redis://127.0.0.1:6379/0 --channel bare-bench

Modes (see ``live_modes.py``): ``threading``, ``gevent`` (simple-websocket) and
``gevent-websocket``; under the gevent ones the standard library is monkey-patched first, as a
gevent deployment of the app would be.  The server says on start-up which websocket
implementation engine.io uses.
"""

from __future__ import annotations

import argparse
import sys

from live_modes import MODES, install_gc_monitor, prepare, websocket_flavour


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description="bare Flask-SocketIO broadcast server")
    p.add_argument("--mode", choices=MODES, default="threading")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--payload-bytes", type=int, default=1024, help="JSON size of the payload")
    p.add_argument("--message-queue", help="e.g. redis://127.0.0.1:6379/0 (several processes)")
    p.add_argument("--channel", default="flask-socketio", help="message queue channel")
    return p.parse_args(argv)


ARGS = parse_args() if __name__ == "__main__" else None
ASYNC_MODE = prepare(ARGS.mode) if ARGS is not None else "threading"

import json  # noqa: E402
import resource  # noqa: E402
import time  # noqa: E402
from datetime import UTC, datetime, timedelta  # noqa: E402
from typing import Any  # noqa: E402

from flask import Flask  # noqa: E402
from flask_socketio import SocketIO, join_room  # noqa: E402

ROOM = "run:1"
NAMESPACE = "/live"


def _size(payload: dict[str, Any]) -> int:
    # python-socketio encodes with compact separators
    return len(json.dumps(payload, separators=(",", ":")))


def run_state_like(size: int) -> dict[str, Any]:
    """A payload with the shape of the app's ``run_state`` whose JSON is ``size`` bytes."""
    start = datetime(2025, 1, 1, 19, 0, tzinfo=UTC)
    base: dict[str, Any] = {
        "run_id": 1,
        "version": 0,
        "status": "running",
        "title": "Eye-gazing rotation",
        "round_index": 0,
        "rounds": 8,
        "phase_index": 0,
        "phase": {
            "name": "Gaze",
            "instruction": "Rest your gaze softly in your partner's eyes. No words.",
            "active": "everyone",
            "duration_s": 180,
        },
        "deadline": start.isoformat(),
        "remaining_s": 180.0,
        "plan": [],
        "server_time": 0,
        "join_code": "ABCD1234",
        "sent_at": 0.0,
        "pad": "",
    }
    # measure with realistic stamps in place (their width is part of the size)
    now_ms = time.time() * 1000.0
    base["server_time"] = int(now_ms)
    base["sent_at"] = now_ms
    i = 0
    while True:
        entry = {
            "round_index": i // 5,
            "phase_index": i % 5,
            "name": "Gaze",
            "instruction": "Rest your gaze softly in your partner's eyes.",
            "active": "everyone",
            "duration_s": 180,
            "starts_at": (start + timedelta(seconds=60 * i)).isoformat(),
            "ends_at": (start + timedelta(seconds=60 * i + 60)).isoformat(),
        }
        trial = dict(base, plan=[*base["plan"], entry])
        if _size(trial) > size:
            break
        base = trial
        i += 1
    missing = size - _size(base)
    base["pad"] = "x" * max(0, missing)
    return base


def create_server(
    mode: str,
    payload_bytes: int,
    message_queue: str | None = None,
    channel: str = "flask-socketio",
) -> tuple[Flask, SocketIO]:
    """The bare app; with ``message_queue`` (Redis) emits reach every process's clients."""
    app = Flask(__name__)
    app.config["SECRET_KEY"] = "bare-benchmark-secret-key"
    socketio = SocketIO(
        app,
        async_mode=mode,
        cors_allowed_origins=None,
        message_queue=message_queue,
        channel=channel,
    )
    template = run_state_like(payload_bytes)
    counter = {"version": 0}

    @socketio.on("connect", namespace=NAMESPACE)
    def on_connect(auth: dict[str, Any] | None = None) -> None:
        if isinstance(auth, dict) and auth.get("as") == "control":
            return
        join_room(ROOM)

    @socketio.on("trigger", namespace=NAMESPACE)
    def on_trigger(data: dict[str, Any] | None = None) -> dict[str, Any]:
        counter["version"] += 1
        payload = dict(template)
        payload["version"] = counter["version"]
        now_ms = time.time() * 1000.0
        payload["server_time"] = int(now_ms)
        payload["sent_at"] = now_ms
        socketio.emit("run_state", payload, to=ROOM, namespace=NAMESPACE)
        return {"ok": True, "version": counter["version"]}

    return app, socketio


def main() -> int:
    assert ARGS is not None
    if ARGS.host not in ("127.0.0.1", "localhost"):
        print("refusing: loopback only", file=sys.stderr)
        return 2
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard if hard > 0 else soft, hard))
    install_gc_monitor()
    app, socketio = create_server(ASYNC_MODE, ARGS.payload_bytes, ARGS.message_queue, ARGS.channel)
    print(
        f"bare server: mode={socketio.async_mode} websocket={websocket_flavour(ASYNC_MODE)} "
        f"payload={ARGS.payload_bytes}B on {ARGS.host}:{ARGS.port}",
        file=sys.stderr,
        flush=True,
    )
    socketio.run(app, host=ARGS.host, port=ARGS.port, allow_unsafe_werkzeug=True, log_output=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())

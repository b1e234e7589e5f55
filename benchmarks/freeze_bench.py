"""Does a re-pair in one room freeze another room? A second room's phase change, timed.

Room A: 1,000 people present, 55% leads who accept only follows and the rest the reverse (the
pairing engine's hardest room before it had a certificate for it). Room B: 100 phones. Both
runs are started, then, on the app served under gevent (``live_app_server.py``, PostgreSQL):

* **alone**: B's console sends ``next_phase``; the time from sending to the last of B's phones
  receiving ``run_state`` is B's latency;
* **during a re-pair**: A's console sends ``repair`` (a new pairing attempt for 1,000 people,
  never cached), and B's console sends ``next_phase`` 0, 10, 25, 50, 100 or 200 ms later.

Each is measured twice in the same run: with the engine in worker processes (the app's
default, ``PAIRING_WORKERS=2``) and with it on the event loop (``PAIRING_WORKERS=0``, as before
issue 16). Latency is taken on the client from command to receipt, so a frozen server counts
(the payload's server stamp would be taken after the freeze). The light websocket client of
``live_client.py`` runs in this process, on another CPU than the server when it can pin.

    .venv/bin/python benchmarks/freeze_bench.py            # --repeat 5 (each offset 5 times)
    .venv/bin/python benchmarks/freeze_bench.py --repeat 2 --heavy 500

It re-creates the PostgreSQL database ``gatherwell_freeze``. Target (issue 16): B's phones get
the phase change within 50 ms while A re-pairs. Reported, not asserted (exit 0 either way).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from live_client import Conn, Swarm, open_conn, raise_nofile  # noqa: E402

PY = sys.executable
OFFSETS_MS = (0, 10, 25, 50, 100, 200)


def rooms(setup_path: str, heavy: int, phones: int) -> dict[str, Any]:
    """Give room A lead/follow boundaries, create and start both runs; return their ids."""
    sys.path.insert(0, str(HERE.parent))
    import sqlalchemy as sa
    from live_setup import app_overrides

    from facilitation import create_app
    from facilitation.accounts.models import User
    from facilitation.consent.models import BoundaryProfile
    from facilitation.exercises import pairings, participants, services
    from facilitation.extensions import db
    from facilitation.gatherings.models import Gathering

    setup = json.loads(Path(setup_path).read_text())
    os.environ.setdefault("FACILITATION_INSTANCE_PATH", str(Path(setup_path).parent / "instance"))
    app = create_app(app_overrides(setup))
    with app.app_context():
        now = datetime.now(UTC)
        organiser = db.session.get(User, setup["organiser_id"])
        gathering = db.session.get(Gathering, setup["gathering_id"])
        ids = setup["user_ids"]
        a_ids, b_ids = ids[:heavy], ids[heavy : heavy + phones]
        for i, uid in enumerate(a_ids):
            lead = i < round(heavy * 0.55)
            db.session.add(
                BoundaryProfile(
                    user_id=uid,
                    touch=2,
                    eye_contact=2,
                    partner_preference="role:follow" if lead else "role:lead",
                    pairing_role="lead" if lead else "follow",
                    gender=("f", "m", "nb", None)[i % 4],
                    updated_at=now,
                )
            )
        exercise = next(
            e
            for e in services.ensure_builtin_exercises(now=now)
            if e.builtin_key == "eye-gazing-rotation"
        )
        runs = []
        for members in (a_ids, b_ids):
            # Enough rounds that B's phase changes never end its run during the measurement.
            run = services.create_run(
                organiser, gathering, exercise, now=now, seed=7, rounds_override=60
            )
            people = db.session.scalars(sa.select(User).where(User.id.in_(members))).all()
            for person in people:
                participants.join_run(run, person, now=now)
            db.session.commit()
            services.control(run.id, organiser, "start", command_id=uuid.uuid4().hex, now=now)
            db.session.commit()
            runs.append(run.id)
            stored = pairings.current_round(run)
            placed = len(stored.members) if stored else 0
            print(f"run {run.id}: {len(members)} present, {placed} placed", file=sys.stderr)
    cookies = setup["cookies"]
    return {
        "run_a": runs[0],
        "run_b": runs[1],
        "facilitator": cookies["facilitator"],
        "phones_b": cookies["users"][heavy : heavy + phones],
    }


def free_port() -> int:
    """Return a free loopback port."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(setup: dict[str, Any], workers: int, tmp: Path) -> tuple[subprocess.Popen, int]:  # type: ignore[type-arg]
    """Start the app under gevent with ``PAIRING_WORKERS=workers``; wait until it listens."""
    path = tmp / f"setup-{workers}.json"
    path.write_text(json.dumps({**setup, "overrides": {"PAIRING_WORKERS": workers}}))
    port = free_port()
    cmd = [PY, str(HERE / "live_app_server.py"), "--mode", "gevent", "--port", str(port)]
    cmd += ["--setup", str(path)]
    if hasattr(os, "sched_setaffinity") and (os.cpu_count() or 1) > 1:
        cmd = ["taskset", "-c", "0", *cmd]
    server = subprocess.Popen(cmd, cwd=HERE.parent)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return server, port
        time.sleep(0.1)
    server.kill()
    raise SystemExit("the app server did not start listening within 60 s")


async def measure(port: int, room: dict[str, Any], repeat: int) -> dict[str, Any]:
    """Time B's phase change alone and at each offset after A's re-pair."""
    swarm = Swarm()
    host = "127.0.0.1"
    console_a = await open_conn(
        swarm,
        host,
        port,
        {"run_id": room["run_a"], "as": "facilitator"},
        room["facilitator"],
        False,
    )
    console_b = await open_conn(
        swarm,
        host,
        port,
        {"run_id": room["run_b"], "as": "facilitator"},
        room["facilitator"],
        False,
    )
    phones = [
        await open_conn(swarm, host, port, {"run_id": room["run_b"]}, cookie, True)
        for cookie in room["phones_b"]
    ]

    def command(console: Conn, action: str) -> asyncio.Future[Any]:
        return console.emit("control_run", {"action": action, "command_id": uuid.uuid4().hex})

    async def phase_change_b() -> float:
        swarm.watch(b"run_state", phones)
        sent = time.time()
        ack = command(console_b, "next_phase")
        await asyncio.wait_for(swarm.done[b"run_state"].wait(), 30)
        await asyncio.wait_for(ack, 30)
        last = max(p.events[b"run_state"][-1][0] for p in phones)
        return (last - sent) * 1000

    alone: list[float] = []
    during: dict[int, list[float]] = {offset: [] for offset in OFFSETS_MS}
    repair_ms: list[float] = []
    await phase_change_b()  # warm-up
    for _ in range(repeat):
        for offset in OFFSETS_MS:
            await asyncio.sleep(0.3)
            alone.append(await phase_change_b())
            await asyncio.sleep(0.3)
            sent = time.time()
            repair = command(console_a, "repair")
            await asyncio.sleep(offset / 1000)
            during[offset].append(await phase_change_b())
            t_ack, args = await asyncio.wait_for(repair, 60)
            if not args or not args[0].get("ok", True):
                raise SystemExit(f"repair refused: {args}")
            repair_ms.append((t_ack - sent) * 1000)
    for conn in [console_a, console_b, *phones]:
        conn.close()
    return {"alone": alone, "during": during, "repair_ms": repair_ms}


def row(label: str, values: list[float]) -> str:
    """Format one line of figures."""
    values = sorted(values)
    return (
        f"  {label:30s} median {statistics.median(values):7.1f} ms   max {values[-1]:7.1f} ms"
        f"   ({len(values)} broadcasts)"
    )


def main() -> int:
    """Run the benchmark; print the figures."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--heavy", type=int, default=1000, help="people in room A")
    p.add_argument("--phones", type=int, default=100, help="phones in room B")
    p.add_argument("--repeat", type=int, default=5)
    args = p.parse_args()
    raise_nofile(4096)
    tmp = Path(tempfile.mkdtemp(prefix="freeze-bench-"))
    setup_path = tmp / "setup.json"
    users = args.heavy + args.phones
    prepare = [PY, str(HERE / "live_setup.py"), "prepare", "--db", "postgres"]
    prepare += ["--users", str(users), "--database", "gatherwell_freeze", "--out", str(setup_path)]
    subprocess.run(
        prepare,
        check=True,
        cwd=HERE.parent,
    )
    setup = json.loads(setup_path.read_text())
    out = subprocess.run(
        [PY, __file__, "--rooms", str(setup_path), str(args.heavy), str(args.phones)],
        check=True,
        cwd=HERE.parent,
        capture_output=True,
        text=True,
    )
    room = json.loads(out.stdout.strip().splitlines()[-1])
    if hasattr(os, "sched_setaffinity") and (os.cpu_count() or 1) > 1:
        os.sched_setaffinity(0, {1})  # the client off the server's CPU
    print(
        f"freeze: room A {args.heavy} people (lead/follow 55/45), room B {args.phones} phones; "
        f"gevent, PostgreSQL; {os.cpu_count()} CPUs; load average {os.getloadavg()[0]:.2f}"
    )
    results = {}
    for workers in (2, 0):
        server, port = start_server(setup, workers, tmp)
        try:
            results[workers] = asyncio.run(measure(port, room, args.repeat))
        finally:
            server.terminate()
            server.wait(timeout=30)
    for workers, label in ((2, "engine in 2 worker processes"), (0, "engine on the event loop")):
        r = results[workers]
        print(f"{label} (PAIRING_WORKERS={workers}); A's re-pair as its console saw it:")
        print(row("A: repair command to ack", r["repair_ms"]))
        print(row("B alone: command to last phone", r["alone"]))
        for offset, values in r["during"].items():
            print(row(f"B {offset:3d} ms after A's repair", values))
        worst = max(v for values in r["during"].values() for v in values)
        print(f"  worst B during a re-pair: {worst:.1f} ms (target: within 50 ms)")
    print(f"load average at the end {os.getloadavg()[0]:.2f}")
    return 0


if __name__ == "__main__":
    if len(sys.argv) == 5 and sys.argv[1] == "--rooms":
        print(json.dumps(rooms(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))))
        sys.exit(0)
    sys.exit(main())

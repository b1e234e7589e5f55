"""The production shape, measured: two server processes behind HAProxy, Redis between them.

One run, one configuration after the other (never two at once), on PostgreSQL, with the same
phones (``load_phones.py``: the light Engine.IO/Socket.IO client of ``live_client.py``) and
the same facilitator's console sending ``next_phase`` every ``--interval`` seconds:

* ``single``: one ``wsgi.py`` process, no Redis, the phones straight to it;
* ``two + proxy``: two ``wsgi.py`` processes sharing ``REDIS_URL`` (Flask-SocketIO's message
  queue), behind HAProxy with ``deploy/haproxy.cfg`` (its three loopback addresses moved to
  free ports); phones and console all connect through the proxy, which spreads the
  websockets round robin, so one room is split over the two processes.

Figures: phase-change fan-out (the receive time minus the server's stamp in ``run_state``:
p50, p99, the median over broadcasts of the last phone, missed broadcasts), the time for all
phones to connect and join (each gets the run's snapshot: what a room does after a restart),
how many websockets each process holds, and a stickiness check: Engine.IO long-polling
sessions opened through the proxy, then polled again with and without its cookie.

    .venv/bin/python benchmarks/scaleout_bench.py --phones 300 --duration 30
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

from load_bench import HOST, PY, free_port, pct, start, wait_http  # noqa: E402

DATABASE = "gatherwell_scaleout"


def established(port: int) -> int:
    """Count established TCP connections whose local port is ``port``."""
    out = subprocess.run(
        ["ss", "-Htn", "state", "established", f"( sport = :{port} )"],
        capture_output=True, text=True, timeout=10,
    )  # fmt: skip
    return len([ln for ln in out.stdout.splitlines() if ln.strip()])


def wait_port(port: int, timeout: float = 20.0) -> None:
    """Wait until something listens on ``port``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex((HOST, port)) == 0:
                return
        time.sleep(0.1)
    raise RuntimeError(f"nothing listens on {port}")


def app_env(setup: dict[str, Any], work: Path, redis_url: str | None) -> dict[str, str]:
    """The environment of an app process."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("FACILITATION_")}
    env.pop("REDIS_URL", None)
    env.update(
        DATABASE_URL=setup["db_uri"],
        SECRET_KEY=setup["secret_key"],
        FACILITATION_INSTANCE_PATH=str(work / "instance"),
        FACILITATION_SOCKETIO_CHANNEL=f"gatherwell-scaleout-{os.getpid()}",
        FACILITATION_RATELIMIT_ENABLED="0",
        FACILITATION_ASYNC_MODE="gevent",
    )
    if redis_url:
        env["REDIS_URL"] = redis_url
    return env


def proxy_config(proxy_port: int, ports: list[int]) -> str:
    """deploy/haproxy.cfg with its loopback addresses moved to the given ports."""
    text = (ROOT / "deploy" / "haproxy.cfg").read_text()
    text = text.replace("127.0.0.1:8080", f"127.0.0.1:{proxy_port}")
    text = text.replace("127.0.0.1:5001", f"127.0.0.1:{ports[0]}")
    return text.replace("127.0.0.1:5002", f"127.0.0.1:{ports[1]}")


def stickiness(port: int, sessions: int = 20) -> dict[str, int]:
    """Open polling sessions through the proxy; use each again with and without the cookie."""
    import requests

    ok = {"with_cookie": 0, "without_cookie": 0, "sessions": sessions}
    url = f"http://{HOST}:{port}/socket.io/?EIO=4&transport=polling"
    for _ in range(sessions):
        with requests.Session() as browser:
            first = browser.get(url, timeout=10)
            sid = json.loads(first.text[first.text.index("{") :])["sid"]
            # Connect to the default namespace: "ok" from the process holding the session,
            # 400 "Invalid session" from the other.
            again = browser.post(f"{url}&sid={sid}", data="40", timeout=10)
            ok["with_cookie"] += again.status_code == 200
            # The same from a client that dropped the cookie: either process may get it.
            bare = requests.post(f"{url}&sid={sid}", data="40", timeout=10)
            ok["without_cookie"] += bare.status_code == 200
    return ok


def phones(
    args: argparse.Namespace, work: Path, name: str, ports: list[int], run: dict[str, Any],
    backends: list[int],
) -> dict[str, Any]:  # fmt: skip
    """Run the phones and the console; return their figures and the websockets per process."""
    out, ready = work / f"phones-{name}.json", work / f"ready-{name}"
    proc = subprocess.Popen(
        [PY, str(HERE / "load_phones.py"), "--ports", ",".join(map(str, ports)),
         "--target", "app", "--phones", str(args.phones), "--run-id", str(run["run_id"]),
         "--cookies-file", run["cookies_file"], "--duration", str(args.duration),
         "--interval", str(args.interval), "--out", str(out), "--ready-file", str(ready)],
        cwd=ROOT, stdout=subprocess.DEVNULL, stderr=(work / f"phones-{name}.log").open("wb"),
    )  # fmt: skip
    held: list[int] = []
    deadline = time.monotonic() + 300
    while not ready.exists() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.2)
    if ready.exists():
        held = [established(p) for p in backends]
    proc.wait(timeout=args.duration + 400)
    result: dict[str, Any] = json.loads(out.read_text())
    result["websockets_per_process"] = held
    return result


def summarise(ph: dict[str, Any]) -> dict[str, Any]:
    """Fan-out figures of one configuration."""
    if "error" in ph:
        return {"error": ph["error"]}
    measured = [b for b in ph["broadcasts"] if b.get("version") is not None]
    every, lasts = [], []
    for b in measured:
        lat = [x for xs in b["lat_ms"].values() for x in xs]
        every += lat
        if lat:
            lasts.append(max(lat))
    return {
        "broadcasts": len(measured),
        "p50": pct(every, 0.5),
        "p99": pct(every, 0.99),
        "last": statistics.median(lasts) if lasts else float("nan"),
        "last_max": max(lasts) if lasts else float("nan"),
        "missed": sum(b["missed"] for b in measured),
        "deliveries": len(every),
        "connect_s": ph.get("connect_s"),
        "websockets_per_process": ph.get("websockets_per_process"),
    }


def stop(procs: list[subprocess.Popen[bytes]]) -> None:
    """Stop the processes this benchmark started."""
    for p in procs:
        p.terminate()
    for p in procs:
        try:
            p.wait(timeout=15)
        except subprocess.TimeoutExpired:
            p.kill()


def main() -> int:
    """Prepare, measure single then two-behind-the-proxy, print."""
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--phones", type=int, default=300)
    p.add_argument("--duration", type=float, default=30.0)
    p.add_argument("--interval", type=float, default=2.0)
    p.add_argument("--redis-url", default="redis://127.0.0.1:6379/0")
    p.add_argument("--json")
    p.add_argument("--keep", action="store_true")
    args = p.parse_args()
    if shutil.which("haproxy") is None:
        raise SystemExit("haproxy is missing: apt-get install -y haproxy")
    work = Path(tempfile.mkdtemp(prefix="scaleout-"))
    started = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime())
    env = {**os.environ, "FACILITATION_INSTANCE_PATH": str(work / "instance")}
    subprocess.run(
        [PY, str(HERE / "live_setup.py"), "prepare", "--db", "postgres", "--users",
         str(args.phones), "--database", DATABASE, "--out", str(work / "setup.json")],
        cwd=ROOT, check=True, timeout=900, env=env, capture_output=True,
    )  # fmt: skip
    setup = json.loads((work / "setup.json").read_text())
    rounds = int(args.duration / args.interval / 5) + 3
    results: dict[str, Any] = {}
    for name in ("single", "two + proxy"):
        run_out = work / f"run-{len(results)}.json"
        subprocess.run(
            [PY, str(HERE / "live_setup.py"), "new-run", "--setup", str(work / "setup.json"),
             "--phones", str(args.phones), "--rounds", str(rounds), "--out", str(run_out)],
            cwd=ROOT, check=True, timeout=600, env=env, capture_output=True,
        )  # fmt: skip
        run = json.loads(run_out.read_text())
        procs: list[subprocess.Popen[bytes]] = []
        try:
            two = name != "single"
            ports = [free_port() for _ in range(2 if two else 1)]
            for i, port in enumerate(ports):
                cmd = [PY, "wsgi.py", "--host", HOST, "--port", str(port)]
                e = app_env(setup, work, args.redis_url if two else None)
                procs.append(start(cmd, work / f"app-{name[0]}{i}.log", e))
            for port, proc in zip(ports, procs, strict=True):
                wait_http(port, proc, "/log-in", 60)
            entry = ports
            extra: dict[str, Any] = {}
            if two:
                proxy_port = free_port()
                cfg = work / "haproxy.cfg"
                cfg.write_text(proxy_config(proxy_port, ports))
                procs.append(start(["haproxy", "-db", "-f", str(cfg)], work / "haproxy.log"))
                wait_port(proxy_port)
                entry = [proxy_port]
                extra["stickiness"] = stickiness(proxy_port)
            load0 = os.getloadavg()[0]
            ph = phones(args, work, re.sub(r"\W", "", name), entry, run, ports)
            results[name] = {**summarise(ph), **extra, "load_avg": [load0, os.getloadavg()[0]]}
        finally:
            stop(procs)
    print(f"Scale-out benchmark, {started}, {args.phones} phones, one run of "
          f"{args.duration:.0f} s each, a phase change every {args.interval} s")  # fmt: skip
    print("| configuration | broadcasts | p50 / p99 / last / worst last (ms) | missed | "
          "all phones connect and join (s) | websockets per process | load avg |")  # fmt: skip
    print("|---|---|---|---|---|---|---|")
    for name, r in results.items():
        if "error" in r:
            print(f"| {name} | error: {r['error']} |")
            continue
        print(
            f"| {name} | {r['broadcasts']} | {r['p50']:.1f} / {r['p99']:.1f} / {r['last']:.1f} / "
            f"{r['last_max']:.1f} | {r['missed']} of {r['missed'] + r['deliveries']} | "
            f"{r['connect_s']} | {r['websockets_per_process']} | "
            f"{r['load_avg'][0]:.1f}–{r['load_avg'][1]:.1f} |"
        )
    sticky = results.get("two + proxy", {}).get("stickiness")
    if sticky:
        found, lost = sticky["with_cookie"], sticky["without_cookie"]
        print(f"stickiness: {found} of {sticky['sessions']} polling sessions found again with "
              f"the proxy's cookie, {lost} without it")  # fmt: skip
    if args.json:
        Path(args.json).write_text(json.dumps({"started": started, "results": results}, indent=1))
    if args.keep:
        print(f"work directory: {work}")
    else:
        shutil.rmtree(work, ignore_errors=True)
    return 0 if all("error" not in r for r in results.values()) else 1


if __name__ == "__main__":
    sys.exit(main())

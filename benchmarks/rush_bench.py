"""The rush benchmark: public pages and registrations under wrk, beside a bare baseline.

When a popular workshop opens, hundreds of people arrive at once.  One run, on PostgreSQL,
one server process each, one measurement at a time (never two at once), every figure beside
the bare baseline measured in the same run:

* ``bare hello (stock)`` — bare Flask on gevent's own WSGI handler (Nagle's algorithm on);
* ``bare hello`` — the same behind ``facilitation.core.serving``'s handler (TCP_NODELAY);
* ``list`` and ``gathering`` — the app's ``/`` and ``/gatherings/<id>`` (anonymous visitors);
* ``bare register`` — ``rush_bare_server.py``'s capacity-checked insert;
* ``register`` — the app's registration POST, each request a different logged-in person
  (session cookie and CSRF token made by ``rush_setup.py``), for a free ticket.

Afterwards the registrations in each database are counted: one per answered request, none
doubled, and never more confirmed than the capacity.  wrk (Debian's ``wrk``) drives the load
with ``rush_wrk.lua``.  Rate limits are off (every request comes from 127.0.0.1).

    .venv/bin/python benchmarks/rush_bench.py                    # 200 connections, 10 s each
    .venv/bin/python benchmarks/rush_bench.py --duration 5 --users 1500 --json /tmp/rush.json

Exit code 0 unless the run is broken (socket errors, unexpected statuses, overbooking).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

from load_bench import HOST, PY, free_port, start, wait_http  # noqa: E402

BARE_DB = "gatherwell_rush_bare"
CLK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User + system CPU of one process so far."""
    with open(f"/proc/{pid}/stat") as fh:
        fields = fh.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK


def machine_busy() -> tuple[float, float]:
    """(busy, total) jiffies of all CPUs so far."""
    with open("/proc/stat") as fh:
        values = [int(v) for v in fh.readline().split()[1:]]
    idle = values[3] + values[4]
    return sum(values) - idle, sum(values)


def wrk(
    args: argparse.Namespace,
    url: str,
    server_pid: int,
    users: Path | None = None,
    connections: int | None = None,
) -> dict[str, Any]:
    """Run wrk against ``url``; return its figures, the server's CPU and the machine's."""
    env = {**os.environ, "RUSH_THREADS": str(args.threads)}
    if users is not None:
        env["RUSH_USERS"] = str(users)
    threads = args.threads if connections is None else 1
    env["RUSH_THREADS"] = str(threads)
    cmd = [
        "wrk", f"-t{threads}", f"-c{connections or args.connections}", f"-d{args.duration}s",
        "--timeout", "10s", "-s", str(HERE / "rush_wrk.lua"), url,
    ]  # fmt: skip
    cpu0, (busy0, total0) = cpu_seconds(server_pid), machine_busy()
    out = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=args.duration + 120)
    cpu1, (busy1, total1) = cpu_seconds(server_pid), machine_busy()
    line = next((ln for ln in out.stdout.splitlines() if ln.startswith("RUSHJSON ")), None)
    if line is None:
        raise RuntimeError(f"wrk gave no figures: {out.stdout}\n{out.stderr}")
    result: dict[str, Any] = json.loads(line.removeprefix("RUSHJSON "))
    seconds = result["duration_us"] / 1e6
    result["rps"] = result["requests"] / seconds
    result["server_cpu_pct"] = 100.0 * (cpu1 - cpu0) / seconds
    result["machine_busy_pct"] = 100.0 * (busy1 - busy0) / max(total1 - total0, 1)
    result["load_avg"] = os.getloadavg()[0]
    return result


def prepare(args: argparse.Namespace, work: Path) -> dict[str, Any]:
    """Fresh app database (people, gatherings, cookies) and a fresh bare database."""
    subprocess.run(
        [PY, str(HERE / "rush_setup.py"), "--dir", str(work), "--users", str(args.users),
         "--capacity", str(args.capacity)],
        cwd=ROOT, check=True, timeout=900, stdout=subprocess.DEVNULL,
        stderr=(work / "setup.log").open("wb"),
        env={**os.environ, "FACILITATION_INSTANCE_PATH": str(work / "instance")},
    )  # fmt: skip
    from live_setup import _fresh_postgres

    bare_url = _fresh_postgres(BARE_DB)
    subprocess.run(
        [PY, str(HERE / "rush_bare_server.py"), "--init-db", bare_url,
         "--capacity", str(args.capacity)],
        cwd=ROOT, check=True, timeout=120, capture_output=True,
    )  # fmt: skip
    (work / "bare-users.tsv").write_text("".join(f"-\tuser={i + 1}\n" for i in range(args.users)))
    setup = json.loads((work / "setup.json").read_text())
    return {"setup": setup, "rush": json.loads((work / "rush.json").read_text()), "bare": bare_url}


def start_servers(args: argparse.Namespace, work: Path, data: dict[str, Any]) -> dict[str, Any]:
    """Start the app (``wsgi.py``) and the two bare servers; wait until each answers."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("FACILITATION_")}
    env.update(
        DATABASE_URL=data["setup"]["db_uri"],
        SECRET_KEY=data["setup"]["secret_key"],
        FACILITATION_INSTANCE_PATH=str(work / "instance"),
        FACILITATION_RATELIMIT_ENABLED="0",
        FACILITATION_ASYNC_MODE="gevent",
    )
    env.pop("REDIS_URL", None)
    for pair in args.app_env:
        key, _, value = pair.partition("=")
        env[key] = value
    servers: dict[str, Any] = {}
    port = free_port()
    servers["app"] = (port, start([PY, "wsgi.py", "--host", HOST, "--port", str(port)],
                                  work / "app.log", env))  # fmt: skip
    for name, extra in (("bare", []), ("bare_stock", ["--stock"])):
        port = free_port()
        cmd = [PY, str(HERE / "rush_bare_server.py"), "--port", str(port),
               "--database-url", data["bare"], *extra]  # fmt: skip
        servers[name] = (port, start(cmd, work / f"{name}.log"))
    wait_http(servers["app"][0], servers["app"][1], "/", 60)
    for name in ("bare", "bare_stock"):
        wait_http(servers[name][0], servers[name][1], "/hello", 60)
    return servers


def count(args: argparse.Namespace, data: dict[str, Any], answered: int) -> dict[str, Any]:
    """Count the registrations of the rush gathering in both databases."""
    import psycopg

    found: dict[str, Any] = {}
    gid = data["rush"]["rush_gathering_id"]
    queries = {
        "app": (data["setup"]["db_uri"].rsplit("/", 1)[1],
                "SELECT status, count(*), count(DISTINCT user_id) FROM registrations "
                f"WHERE gathering_id = {int(gid)} GROUP BY status"),
        "bare": (BARE_DB, "SELECT status, count(*), count(DISTINCT user_id) "
                 "FROM bare_registrations GROUP BY status"),
    }  # fmt: skip
    for name, (dbname, sql) in queries.items():
        dsn = f"host=127.0.0.1 port=5432 user=postgres dbname={dbname}"
        with psycopg.connect(dsn) as conn:
            rows = conn.execute(sql).fetchall()
        found[name] = {
            "by_status": {status: n for status, n, _ in rows},
            "rows": sum(n for _, n, _ in rows),
            "distinct_people": sum(d for _, _, d in rows),
            "confirmed": sum(n for status, n, _ in rows if status == "confirmed"),
        }
    return found


def problems(results: dict[str, Any], counts: dict[str, Any], capacity: int) -> list[str]:
    """What makes the run broken."""
    found = []
    for name, r in results.items():
        e = r["errors"]
        if e["connect"] or e["read"] or e["write"] or e["timeout"]:
            found.append(f"{name}: socket errors {e}")
        expected = "302" if "register" in name else "200"
        other = {k: v for k, v in r["statuses"].items() if k != expected}
        if other:
            found.append(f"{name}: statuses other than {expected}: {other}")
    for name in ("app", "bare"):
        c = counts.get(name)
        if c is None:
            continue
        key = "register" if name == "app" else "bare register"
        answered = results.get(key, {}).get("statuses", {}).get("302", 0)
        if c["confirmed"] > capacity:
            found.append(f"{name}: OVERBOOKED, {c['confirmed']} confirmed for {capacity} seats")
        if c["rows"] != c["distinct_people"]:
            found.append(f"{name}: someone registered twice")
        if c["rows"] < answered:
            found.append(f"{name}: {answered} answered but {c['rows']} rows")
    return found


def table(results: dict[str, Any], baseline: dict[str, Any], reg_base: dict[str, Any]) -> str:
    """The figures as a Markdown table."""
    lines = [
        "| measured | req/s | × bare | p50 / p90 / p99 / max (ms) | server CPU | machine busy |",
        "|---|---|---|---|---|---|",
    ]
    for name, r in results.items():
        base = reg_base if "register" in name else baseline
        if name.startswith("keep-alive"):
            base = results["keep-alive, 1 connection: bare hello"]
        ratio = r["rps"] / base["rps"] if base else float("nan")
        lat = " / ".join(f"{r[k] / 1000:.1f}" for k in ("p50_us", "p90_us", "p99_us", "max_us"))
        lines.append(
            f"| {name} | {r['rps']:.1f} | {ratio:.3f} | {lat} | {r['server_cpu_pct']:.0f}% "
            f"| {r['machine_busy_pct']:.0f}% (load {r['load_avg']:.1f}) |"
        )
    return "\n".join(lines)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--connections", type=int, default=200)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--duration", type=int, default=10, help="seconds per measurement")
    p.add_argument("--users", type=int, default=3000, help="people ready to register")
    p.add_argument("--capacity", type=int, default=1000)
    p.add_argument("--app-env", action="append", default=[], metavar="KEY=VALUE")
    p.add_argument("--json", help="write the figures here")
    p.add_argument("--keep", action="store_true", help="keep the work directory (logs)")
    return p.parse_args(argv)


def main() -> int:
    """Prepare, serve, measure one after the other, count, print."""
    args = parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is missing: apt-get install -y wrk")
    work = Path(tempfile.mkdtemp(prefix="rush-"))
    started = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime())
    data = prepare(args, work)
    servers = start_servers(args, work, data)
    gid = data["rush"]["rush_gathering_id"]
    try:
        import requests

        for name, path in (("app", "/"), ("app", f"/gatherings/{gid}"), ("bare", "/hello"),
                           ("bare_stock", "/hello")) * 5:  # fmt: skip
            requests.get(f"http://{HOST}:{servers[name][0]}{path}", timeout=30)
        plan = [
            ("bare hello (stock)", "bare_stock", "/hello", None),
            ("bare hello", "bare", "/hello", None),
            ("list", "app", "/", None),
            ("gathering", "app", f"/gatherings/{gid}", None),
            ("bare register", "bare", "/register", work / "bare-users.tsv"),
            ("register", "app", f"/gatherings/{gid}/register", work / "users.tsv"),
        ]
        results: dict[str, Any] = {}
        # The keep-alive stall shows best on one connection: each response waits for the last.
        for label, name, path in (
            ("keep-alive, 1 connection: bare hello (stock)", "bare_stock", "/hello"),
            ("keep-alive, 1 connection: bare hello", "bare", "/hello"),
            ("keep-alive, 1 connection: list", "app", "/"),
        ):
            port, proc = servers[name]
            results[label] = wrk(args, f"http://{HOST}:{port}{path}", proc.pid, connections=1)
        for label, name, path, users in plan:
            port, proc = servers[name]
            results[label] = wrk(args, f"http://{HOST}:{port}{path}", proc.pid, users)
            print(f"{label}: {results[label]['rps']:.1f}/s", file=sys.stderr, flush=True)
    finally:
        for _, proc in servers.values():
            proc.terminate()
        for _, proc in servers.values():
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
    counts = count(args, data, 0)
    broken = problems(results, counts, args.capacity)
    print(f"Rush benchmark, {started}, {args.connections} connections, {args.duration} s each")
    print(table(results, results["bare hello"], results["bare register"]))
    for name, c in counts.items():
        print(f"{name}: {c['rows']} registrations ({c['by_status']}), "
              f"{c['distinct_people']} people, capacity {args.capacity}")  # fmt: skip
    for line in broken:
        print("BROKEN:", line)
    if args.json:
        Path(args.json).write_text(
            json.dumps(
                {
                    "started": started,
                    "results": results,
                    "counts": counts,
                    "problems": broken,
                    "args": vars(args),
                },
                indent=1,
            )
        )
    if args.keep:
        print(f"work directory: {work}")
    else:
        shutil.rmtree(work, ignore_errors=True)
    return 1 if broken else 0


if __name__ == "__main__":
    sys.exit(main())

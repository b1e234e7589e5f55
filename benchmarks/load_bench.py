"""A realistic evening (issue #8): sign-ups and registrations while a live run is on.

For the app and then for a bare baseline, each fresh, one after the other (never together):

* **app**: a new PostgreSQL database (``load_setup.py``: migrations, an organiser, N phones'
  people and a run of "Eye-gazing rotation" they joined, and a published gathering with a
  free and a pay-at-the-door ticket option); TWO ``python wsgi.py`` processes (gevent, the
  production shape) on two ports with the same DATABASE_URL and REDIS_URL (a Socket.IO channel
  of the benchmark's own) and rate limits off (``FACILITATION_RATELIMIT_ENABLED=0``: every
  visitor here comes from 127.0.0.1, where a venue's come from many addresses);
* **bare**: two ``load_bare_server.py`` processes (Flask + Flask-SocketIO under gevent, Redis
  message queue): the same request shapes with minimal work (a small template; one INSERT per
  post with SQLAlchemy Core) and the bare broadcast of ``live_bare_server.py``, with a payload
  as large as the app's ``run_state``.

Against each, two client processes run at once (``load_phones.py``, ``load_visitors.py``):
N phones split over both processes while the facilitator's console on the first process sends
a phase change every ``--interval`` seconds (every fifth one is a new round, re-paired), and
``--visitors`` new people arriving over ``--duration`` seconds (Poisson, the same schedule for
both targets), each signing up and registering as a browser does, requests spread over both
processes.  Reported: per request type p50/p95/p99/max and errors; fan-out latency to every
phone (p50, p99, "last" = median over broadcasts of the slowest phone), separately for phones
on the console's process and on the other one (through Redis), and missed broadcasts; whether
the database ends with exactly one registration per visitor; CPU of servers, PostgreSQL,
Redis, the clients and everything else (the machine may be shared); app/bare ratios.

    python benchmarks/load_bench.py                  # 200 phones, 300 visitors over 180 s
    python benchmarks/load_bench.py --quick          # 100 phones, 30 visitors over 30 s
    python benchmarks/load_bench.py --json /tmp/load.json

This is a measurement: the exit code is 0 however high the ratios.  It is 1 only when the run
is broken (more than 1% of requests or of phone deliveries failed, registrations lost or
doubled, a client crashed), and it says why.  Only 127.0.0.1 is used; servers are stopped by
their own pid.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from fanout_bench import stop  # noqa: E402
from live_client import cpu_seconds, db_backends_cpu, read_rss_kb, system_busy_seconds  # noqa: E402

ROOT = HERE.parent
PY = sys.executable
HOST = "127.0.0.1"
APP_DB = "gatherwell_load"
BARE_DB = "gatherwell_load_bare"
PG = "postgresql+psycopg://postgres@127.0.0.1:5432"
FRAME_OVERHEAD = len('42/live,["run_state",]')
BROKEN_PCT = 1.0
STEPS = ("gathering", "sign_up_form", "sign_up", "gathering_form", "register", "registration")


# -- processes ---------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


def wait_http(port: int, proc: subprocess.Popen[bytes], path: str, timeout: float) -> None:
    """Wait until the server answers ``path`` (any status below 500)."""
    import requests

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server on {port} exited with {proc.returncode}")
        try:
            if requests.get(f"http://{HOST}:{port}{path}", timeout=2).status_code < 500:
                return
        except requests.RequestException:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"server on {port} did not answer within {timeout}s")


def start(cmd: list[str], log: Path, env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
    with log.open("ab") as fh:
        return subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=fh, stderr=subprocess.STDOUT)


def redis_pids() -> list[int]:
    """The redis-server processes (their CPU is counted apart from other people's)."""
    found = []
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                with open(f"/proc/{entry.name}/comm") as fh:
                    if fh.read().strip() == "redis-server":
                        found.append(int(entry.name))
            except OSError:
                continue
    return found


class PgActivity:
    """Samples pg_stat_activity of one database every second: who holds connections, how."""

    def __init__(self, dbname: str) -> None:
        import collections
        import threading

        self.dbname = dbname
        self.stop = threading.Event()
        self.samples = 0
        self.max_total = 0
        self.max_idle_in_transaction = 0
        self.max_waiting_on_lock = 0
        self.seen: collections.Counter[str] = collections.Counter()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        import psycopg

        dsn = "host=127.0.0.1 port=5432 user=postgres dbname=postgres"
        try:
            with psycopg.connect(dsn, autocommit=True) as conn:
                while not self.stop.wait(1.0):
                    rows = conn.execute(
                        "SELECT state, coalesce(wait_event_type, ''), "
                        "regexp_replace(left(query, 70), '\\s+', ' ', 'g'), count(*) "
                        "FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid() "
                        "GROUP BY 1, 2, 3",
                        (self.dbname,),
                    ).fetchall()
                    self.samples += 1
                    self.max_total = max(self.max_total, sum(r[3] for r in rows))
                    idle_tx = sum(r[3] for r in rows if r[0] == "idle in transaction")
                    locks = sum(r[3] for r in rows if r[1] == "Lock")
                    self.max_idle_in_transaction = max(self.max_idle_in_transaction, idle_tx)
                    self.max_waiting_on_lock = max(self.max_waiting_on_lock, locks)
                    for state, wait, query, n in rows:
                        if state != "idle":
                            self.seen[f"{state} | {wait or '-'} | {query}"] += n
        except Exception as exc:  # a sampler failing must not fail the measurement
            self.seen[f"sampler failed: {exc!r}"] += 1

    def result(self) -> dict[str, Any]:
        """Maxima over the samples, and the busiest (state, wait, query) connection-seconds."""
        self.stop.set()
        self.thread.join(timeout=5)
        return {
            "samples": self.samples,
            "max_connections": self.max_total,
            "max_idle_in_transaction": self.max_idle_in_transaction,
            "max_waiting_on_lock": self.max_waiting_on_lock,
            "top": self.seen.most_common(8),
        }


def log_problems(log: Path) -> dict[str, int]:
    """Count what a server logged as failing: tracebacks, 500s, failed live events, pool waits."""
    text = log.read_text(errors="replace") if log.exists() else ""
    return {
        "tracebacks": text.count("Traceback (most recent call last)"),
        "http_500": text.count("ERROR in app: Exception on"),
        "live_event_failed": text.count("ERROR in sockets: live event"),
        "pool_timeouts": text.count("QueuePool limit"),
    }


def tail(path: Path, lines: int = 12) -> str:
    try:
        text = path.read_text(errors="replace").splitlines()
    except OSError:
        return ""
    return "\n".join(ln[:240] for ln in text[-lines:])


# -- one target --------------------------------------------------------------------------
def prepare_app(args: argparse.Namespace, work: Path) -> dict[str, Any]:
    """Fresh database with the run and the gathering; return what the clients need."""
    commands = math.ceil(args.duration / args.interval) + 1
    rounds = math.ceil(commands / 5) + 2
    subprocess.run(
        [PY, str(HERE / "load_setup.py"), "--dir", str(work), "--phones", str(args.phones),
         "--rounds", str(rounds), "--capacity", str(args.visitors + 100),
         "--database", APP_DB],
        cwd=ROOT, check=True, timeout=600, stdout=subprocess.DEVNULL,
        stderr=(work / "setup.log").open("wb"),
        env={**os.environ, "FACILITATION_INSTANCE_PATH": str(work / "instance")},
    )  # fmt: skip
    setup = json.loads((work / "setup.json").read_text())
    run = json.loads((work / "run.json").read_text())
    gathering = json.loads((work / "gathering.json").read_text())
    return {"setup": setup, "run": run, "gathering": gathering}


def start_app(args: argparse.Namespace, work: Path, data: dict[str, Any]) -> list[Any]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FACILITATION_")}
    env.update(
        DATABASE_URL=data["setup"]["db_uri"],
        SECRET_KEY=data["setup"]["secret_key"],
        REDIS_URL=args.redis_url,
        FACILITATION_INSTANCE_PATH=str(work / "instance"),
        FACILITATION_SOCKETIO_CHANNEL=f"gatherwell-load-{os.getpid()}",
        FACILITATION_RATELIMIT_ENABLED="0",
        FACILITATION_ASYNC_MODE="gevent",
        FACILITATION_SITE_URL=f"http://{HOST}",  # required outside tests; links in emails
    )
    servers = []
    for n in range(2):
        port = free_port()
        log = work / f"app-{n}.log"
        cmd = [PY, "wsgi.py", "--host", HOST, "--port", str(port)]
        if args.experiment == "hash-in-threadpool":
            cmd = [PY, str(HERE / "load_app_server.py"), *cmd[2:], "--hash-in-threadpool"]
        proc = start(cmd, log, env)
        servers.append((port, proc, log))
    for port, proc, _ in servers:
        wait_http(port, proc, "/log-in", 60)
    return servers


def start_bare(args: argparse.Namespace, work: Path, payload_bytes: int) -> list[Any]:
    sys.path.insert(0, str(HERE))
    from live_setup import _fresh_postgres

    url = _fresh_postgres(BARE_DB)
    subprocess.run(
        [PY, str(HERE / "load_bare_server.py"), "--init-db", url],
        cwd=ROOT, check=True, timeout=120, capture_output=True,
    )  # fmt: skip
    servers = []
    for n in range(2):
        port = free_port()
        log = work / f"bare-{n}.log"
        proc = start(
            [PY, str(HERE / "load_bare_server.py"), "--port", str(port), "--database-url", url,
             "--payload-bytes", str(payload_bytes), "--message-queue", args.redis_url,
             "--channel", f"bare-load-{os.getpid()}"],
            log,
        )  # fmt: skip
        servers.append((port, proc, log))
    for port, proc, _ in servers:
        wait_http(port, proc, "/sign-up", 60)
    return servers


def warm_up(ports: list[int], gathering_id: int) -> None:
    """A few page views per process, so templates are compiled before the evening starts."""
    import requests

    for port in ports:
        for path in (f"/gatherings/{gathering_id}", "/sign-up", "/log-in") * 3:
            requests.get(f"http://{HOST}:{port}{path}", timeout=30)


def count_registrations(target: str, gathering_id: int, tag: str) -> dict[str, Any]:
    """What the database holds at the end: registrations of the visitors, and duplicates."""
    import psycopg

    dbname = APP_DB if target == "app" else BARE_DB
    with psycopg.connect(f"host=127.0.0.1 port=5432 user=postgres dbname={dbname}") as conn:
        if target == "app":
            rows, people, ids = conn.execute(
                "SELECT count(*), count(DISTINCT r.user_id), array_agg(r.id) "
                "FROM registrations r JOIN users u ON u.id = r.user_id "
                "WHERE r.gathering_id = %s AND u.email LIKE %s",
                (gathering_id, f"visitor%.{tag}@load.example.org"),
            ).fetchone()
            accounts = conn.execute(
                "SELECT count(*) FROM users WHERE email LIKE %s",
                (f"visitor%.{tag}@load.example.org",),
            ).fetchone()[0]
            statuses = dict(
                conn.execute(
                    "SELECT status, count(*) FROM registrations WHERE gathering_id = %s "
                    "GROUP BY status",
                    (gathering_id,),
                ).fetchall()
            )
        else:
            rows, people, ids = conn.execute(
                "SELECT count(*), count(DISTINCT user_id), array_agg(id) FROM bare_registrations "
                "WHERE gathering_id = %s",
                (gathering_id,),
            ).fetchone()
            accounts = conn.execute("SELECT count(*) FROM bare_users").fetchone()[0]
            statuses = {}
    return {
        "rows": rows,
        "people": people,
        "accounts": accounts,
        "ids": sorted(ids or []),
        "statuses": statuses,
    }


def measure(args: argparse.Namespace, work: Path, target: str, payload: int) -> dict[str, Any]:
    """One fresh target: servers, phones and visitors together, then the database's count."""
    work.mkdir(parents=True, exist_ok=True)
    servers: list[Any] = []
    tag = f"{target}{os.getpid()}"
    try:
        if target == "app":
            data = prepare_app(args, work)
            gathering = data["gathering"]
            run_id = data["run"]["run_id"]
            cookies: str | None = data["run"]["cookies_file"]
            servers = start_app(args, work, data)
        else:
            gathering = {"gathering_id": 2, "options": {"free": 1, "door": 2}}
            run_id, cookies = 1, None
            servers = start_bare(args, work, payload)
        ports = [s[0] for s in servers]
        port_list = ",".join(str(p) for p in ports)
        warm_up(ports, gathering["gathering_id"])
        ready = work / "phones.ready"
        phones_out, visitors_out = work / "phones.json", work / "visitors.json"
        cmd = [PY, str(HERE / "load_phones.py"), "--ports", port_list, "--target", target,
               "--phones", str(args.phones), "--run-id", str(run_id),
               "--duration", str(args.duration), "--interval", str(args.interval),
               "--ready-file", str(ready), "--out", str(phones_out)]  # fmt: skip
        if cookies:
            cmd += ["--cookies-file", cookies]
        phones = start(cmd, work / "phones.log")
        deadline = time.monotonic() + 120
        while not ready.exists():
            if phones.poll() is not None or time.monotonic() > deadline:
                stop(phones)
                raise RuntimeError(f"phones did not connect: {tail(work / 'phones.log')}")
            time.sleep(0.1)
        # the CPU meter starts with the evening
        pids = [s[1].pid for s in servers]
        cpu0 = {pid: cpu_seconds(pid) for pid in pids}
        rss0 = [read_rss_kb(pid)[0] for pid in pids]
        db0 = db_backends_cpu(APP_DB if target == "app" else BARE_DB)
        redis = redis_pids()
        redis0 = sum(cpu_seconds(p) for p in redis)
        busy0, wall0 = system_busy_seconds(), time.time()
        activity = PgActivity(APP_DB if target == "app" else BARE_DB)
        activity.thread.start()
        visitors = start(
            [PY, str(HERE / "load_visitors.py"), "--ports", port_list,
             "--visitors", str(args.visitors), "--duration", str(args.duration),
             "--seed", str(args.seed), "--gathering-id", str(gathering["gathering_id"]),
             "--free-option", str(gathering["options"]["free"]),
             "--door-option", str(gathering["options"]["door"]), "--tag", tag,
             "--threads", str(args.threads), "--out", str(visitors_out)],
            work / "visitors.log",
        )  # fmt: skip
        limit = args.duration + 300
        for proc in (visitors, phones):
            try:
                proc.wait(timeout=max(1.0, limit - (time.time() - wall0)))
            except subprocess.TimeoutExpired:
                stop(proc)
        wall = time.time() - wall0
        busy = system_busy_seconds() - busy0
        pg_activity = activity.result()
        cpu_srv = [round(cpu_seconds(pid) - cpu0[pid], 3) for pid in pids]
        rss = [read_rss_kb(pid)[0] for pid in pids]
        cpu_db = sum(
            t - db0.get(pid, 0.0)
            for pid, t in db_backends_cpu(APP_DB if target == "app" else BARE_DB).items()
        )
        cpu_redis = sum(cpu_seconds(p) for p in redis if os.path.exists(f"/proc/{p}")) - redis0
        result: dict[str, Any] = {"target": target, "ports": ports}
        for name, path, log in (
            ("phones", phones_out, "phones.log"),
            ("visitors", visitors_out, "visitors.log"),
        ):
            if not path.exists():
                raise RuntimeError(f"{name} wrote nothing: {tail(work / log)}")
            result[name] = json.loads(path.read_text())
            if "error" in result[name]:
                raise RuntimeError(f"{name}: {result[name]['error']}")
        clients = result["phones"]["client_cpu_s"] + result["visitors"]["client_cpu_s"]
        others = max(0.0, busy - sum(cpu_srv) - cpu_db - cpu_redis - clients)
        ncpu = os.cpu_count() or 1
        result["cpu"] = {
            "wall_s": round(wall, 1),
            "servers_s": cpu_srv,
            "db_s": round(cpu_db, 2),
            "redis_s": round(cpu_redis, 2),
            "phones_client_s": result["phones"]["client_cpu_s"],
            "visitors_client_s": result["visitors"]["client_cpu_s"],
            "other_pct": round(100.0 * others / (wall * ncpu), 1),
            "busy_pct": round(100.0 * busy / (wall * ncpu), 1),
        }
        result["rss_kb"] = {"start": rss0, "end": rss}
        result["db"] = count_registrations(target, gathering["gathering_id"], tag)
        result["pg_activity"] = pg_activity
        result["server_logs"] = {str(s[0]): log_problems(s[2]) for s in servers}
        return result
    finally:
        for _, proc, _ in servers:
            stop(proc)


# -- figures -----------------------------------------------------------------------------
def pct(xs: list[float], q: float) -> float:
    """Nearest-rank percentile."""
    s = sorted(xs)
    if not s:
        return float("nan")
    return s[min(len(s) - 1, max(0, math.ceil(q * len(s)) - 1))]


def summarise(result: dict[str, Any]) -> dict[str, Any]:
    """The figures of one target: requests, fan-out, registrations, problems."""
    v, ph = result["visitors"], result["phones"]
    requests_: dict[str, Any] = {}
    everything: list[float] = []
    for step in STEPS:
        xs = v["latency_ms"][step]
        everything += xs
        requests_[step] = {
            "n": len(xs),
            "p50": pct(xs, 0.5),
            "p95": pct(xs, 0.95),
            "p99": pct(xs, 0.99),
            "max": max(xs) if xs else float("nan"),
            "errors": v["errors"][step],
        }
    requests_["all"] = {
        "n": len(everything),
        "p50": pct(everything, 0.5),
        "p95": pct(everything, 0.95),
        "p99": pct(everything, 0.99),
        "max": max(everything) if everything else float("nan"),
        "errors": sum(v["errors"].values()),
        "attempted": len(everything) + v.get("no_answer", 0),
    }
    ports = [str(p) for p in ph["ports"]]
    measured = [b for b in ph["broadcasts"] if b.get("version") is not None]
    by_port: dict[str, list[float]] = {p: [] for p in ports}
    lasts, rounds, pairing_last = [], 0, []
    for b in measured:
        lat = [x for p in ports for x in b["lat_ms"].get(p, [])]
        for p in ports:
            by_port[p] += b["lat_ms"].get(p, [])
        if lat:
            lasts.append(max(lat))
        if b["kind"] == "round":
            rounds += 1
            if b.get("cmd_to_last_pairing_ms") is not None:
                pairing_last.append(b["cmd_to_last_pairing_ms"])
    every = [x for p in ports for x in by_port[p]]
    console, other = by_port[ports[0]], by_port[ports[-1]]
    missed = sum(b["missed"] for b in measured)
    acks = ph.get("ack_ms", [])
    fanout = {
        "commands": ph.get("commands"),
        "broadcasts": len(measured),
        "ack_p50": pct(acks, 0.5),
        "ack_max": max(acks) if acks else float("nan"),
        "rounds": rounds,
        "p50": pct(every, 0.5),
        "p99": pct(every, 0.99),
        "last": statistics.median(lasts) if lasts else float("nan"),
        "last_max": max(lasts) if lasts else float("nan"),
        "console_process": {"p50": pct(console, 0.5), "p99": pct(console, 0.99)},
        "other_process": {"p50": pct(other, 0.5), "p99": pct(other, 0.99)},
        "pairing_last_ms": statistics.median(pairing_last) if pairing_last else None,
        "missed": missed,
        "deliveries": ph["phones"] * len(measured),
        "command_errors": ph.get("command_errors", []),
        "closed_early": ph.get("closed_early", 0),
    }
    db = result["db"]
    returned = v["registration_ids"]
    registrations = {
        "visitors": v["visitors"],
        "completed": v["completed"],
        "in_db": db["rows"],
        "people": db["people"],
        "accounts": db["accounts"],
        "doubled": db["rows"] - db["people"],
        "lost": len(set(returned) - set(db["ids"])),
        # registered, but the visitor never saw the answer (timed out or failed afterwards)
        "unanswered": db["rows"] - len(set(returned) & set(db["ids"])),
        "statuses": db["statuses"],
    }
    return {
        "requests": requests_,
        "fanout": fanout,
        "registrations": registrations,
        "cpu": result["cpu"],
        "start_late_ms": v["start_late_ms"],
        "server_logs": result["server_logs"],
        "rss_kb": result["rss_kb"],
        "pg_activity": result.get("pg_activity"),
    }


def problems(name: str, s: dict[str, Any]) -> list[str]:
    """Why a target's run is broken (empty: it is a measurement)."""
    why = []
    req, fan, reg = s["requests"]["all"], s["fanout"], s["registrations"]
    attempted = req.get("attempted", req["n"] + req["errors"])
    if req["errors"] > BROKEN_PCT / 100.0 * max(1, attempted):
        why.append(f"{name}: {req['errors']} of {attempted} requests failed")
    if fan["missed"] > BROKEN_PCT / 100.0 * max(1, fan["deliveries"]):
        why.append(f"{name}: {fan['missed']} of {fan['deliveries']} phone deliveries missed")
    refused = [e for e in fan["command_errors"] if e.startswith("refused")]
    if refused:
        why.append(f"{name}: the server refused {len(refused)} commands; first: {refused[0]}")
    if reg["lost"] or reg["doubled"]:
        why.append(f"{name}: registrations lost {reg['lost']}, doubled {reg['doubled']}")
    if reg["completed"] < reg["visitors"] * (1 - BROKEN_PCT / 100.0):
        why.append(f"{name}: only {reg['completed']} of {reg['visitors']} visitors registered")
    return why


def fmt(x: Any) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "-"
    return f"{x:.1f}" if isinstance(x, float) else str(x)


def ratio(a: Any, b: Any) -> str:
    try:
        return f"{a / b:.2f}"
    except (TypeError, ZeroDivisionError):
        return "-"


def table(summaries: dict[str, dict[str, Any]]) -> str:
    """The figures as Markdown tables (the docs take them as they are)."""
    app, bare = summaries.get("app"), summaries.get("bare")
    out = ["Requests (ms):", ""]
    head = "| request | target | n | p50 | p95 | p99 | max | errors |"
    if app and bare:
        head += " app/bare p50 | p95 | p99 |"
    out += [head, "|" + "---|" * (head.count("|") - 1)]
    for step in (*STEPS, "all"):
        for name, s in summaries.items():
            r = s["requests"][step]
            row = f"| {step} | {name} | {r['n']} | {fmt(r['p50'])} | {fmt(r['p95'])} | "
            row += f"{fmt(r['p99'])} | {fmt(r['max'])} | {r['errors']} |"
            if app and bare:
                if name == "app":
                    b = bare["requests"][step]
                    row += f" {ratio(r['p50'], b['p50'])} | {ratio(r['p95'], b['p95'])} | "
                    row += f"{ratio(r['p99'], b['p99'])} |"
                else:
                    row += " | | |"
            out.append(row)
    out += ["", "Fan-out to the phones (ms; server send time to receipt):", ""]
    head = "| target | broadcasts (rounds) | p50 | p99 | last | worst last | "
    head += "console's process p50/p99 | other process p50/p99 | pairing last | missed | "
    head += "ack p50/max | no ack |"
    out += [head, "|" + "---|" * (head.count("|") - 1)]
    for name, s in summaries.items():
        f = s["fanout"]
        c, o = f["console_process"], f["other_process"]
        out.append(
            f"| {name} | {f['broadcasts']} ({f['rounds']}) | {fmt(f['p50'])} | {fmt(f['p99'])} | "
            f"{fmt(f['last'])} | {fmt(f['last_max'])} | {fmt(c['p50'])} / {fmt(c['p99'])} | "
            f"{fmt(o['p50'])} / {fmt(o['p99'])} | {fmt(f['pairing_last_ms'])} | "
            f"{f['missed']} of {f['deliveries']} | {fmt(f['ack_p50'])} / {fmt(f['ack_max'])} | "
            f"{len(f['command_errors'])} of {f['commands']} |"
        )
    if app and bare:
        fa, fb = app["fanout"], bare["fanout"]
        out.append(
            f"| app/bare | | {ratio(fa['p50'], fb['p50'])} | {ratio(fa['p99'], fb['p99'])} | "
            f"{ratio(fa['last'], fb['last'])} | {ratio(fa['last_max'], fb['last_max'])} |"
            + " |"
            * 6
        )
    out += ["", "Registrations, CPU (s over the evening) and the rest of the machine:", ""]
    head = "| target | visitors | completed | in database (unanswered) | doubled | lost | "
    head += "servers CPU | "
    head += "PostgreSQL | Redis | clients (phones + visitors) | others | start late max |"
    out += [head, "|" + "---|" * (head.count("|") - 1)]
    for name, s in summaries.items():
        r, c = s["registrations"], s["cpu"]
        out.append(
            f"| {name} | {r['visitors']} | {r['completed']} | {r['in_db']} ({r['unanswered']}) | "
            f"{r['doubled']} | "
            f"{r['lost']} | {' + '.join(fmt(x) for x in c['servers_s'])} | {fmt(c['db_s'])} | "
            f"{fmt(c['redis_s'])} | {fmt(c['phones_client_s'])} + {fmt(c['visitors_client_s'])} | "
            f"{fmt(c['other_pct'])}% of {os.cpu_count()} CPUs | "
            f"{fmt(s['start_late_ms']['max'])} ms |"
        )
    out.append("")
    for name, s in summaries.items():
        logs = "; ".join(
            f"{port}: " + ", ".join(f"{k} {v}" for k, v in found.items())
            for port, found in s["server_logs"].items()
        )
        out.append(f"Server logs of {name}: {logs}")
        act = s.get("pg_activity")
        if act:
            out.append(
                f"PostgreSQL connections of {name} (sampled every second): at most "
                f"{act['max_connections']}, {act['max_idle_in_transaction']} idle in a "
                f"transaction, {act['max_waiting_on_lock']} waiting on a lock; busiest:"
            )
            out += [f"  {n:5d} x {what}" for what, n in act["top"][:5]]
    return "\n".join(out)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--phones", type=int, default=None, help="default 200 (--quick: 100)")
    p.add_argument("--visitors", type=int, default=None, help="default 300 (--quick: 30)")
    p.add_argument("--duration", type=float, default=None, help="s; default 180 (--quick: 30)")
    p.add_argument("--interval", type=float, default=3.0, help="s between phase changes")
    p.add_argument("--quick", action="store_true", help="a smoke run of about 30 s per target")
    p.add_argument("--targets", default="app,bare", help="app, bare or both (in this order)")
    p.add_argument("--redis-url", default="redis://127.0.0.1:6379/0")
    p.add_argument(
        "--threads",
        type=int,
        default=None,
        help="visitors' threads (default: one per visitor, so arrivals keep their schedule)",
    )
    p.add_argument("--seed", type=int, default=8, help="of the arrival schedule")
    p.add_argument("--payload-bytes", type=int, default=None, help="bare run_state size")
    p.add_argument(
        "--experiment",
        choices=("hash-in-threadpool",),
        help="serve the app through load_app_server.py with this run-time change",
    )
    p.add_argument("--json", help="write every figure here")
    p.add_argument("--keep", action="store_true", help="keep the work directory (logs)")
    args = p.parse_args(argv)
    quick = {"phones": 100, "visitors": 30, "duration": 30.0}
    full = {"phones": 200, "visitors": 300, "duration": 180.0}
    if args.threads is None:
        args.threads = args.visitors or (quick if args.quick else full)["visitors"]
    for key, value in (quick if args.quick else full).items():
        if getattr(args, key) is None:
            setattr(args, key, value)
    return args


def main() -> int:
    args = parse_args()
    targets = [t for t in ("app", "bare") if t in args.targets.split(",")]
    work = Path(tempfile.mkdtemp(prefix="gatherwell-load-"))
    started = datetime.now(UTC)
    print(
        f"load benchmark {started:%Y-%m-%d %H:%M} UTC: {args.phones} phones, {args.visitors} "
        f"visitors over {args.duration:.0f} s, a phase change every {args.interval:g} s; "
        f"targets {', '.join(targets)}; work in {work}"
        + (f"; EXPERIMENT {args.experiment}" if args.experiment else ""),
        flush=True,
    )
    summaries: dict[str, dict[str, Any]] = {}
    raw: dict[str, Any] = {}
    broken: list[str] = []
    payload = args.payload_bytes or 1024
    for target in targets:
        t0 = time.monotonic()
        try:
            result = measure(args, work / target, target, payload)
        except Exception as exc:
            broken.append(f"{target}: {type(exc).__name__}: {exc}")
            print(f"{target}: FAILED {exc}", flush=True)
            for log in sorted((work / target).glob("*.log")):
                print(f"--- {log.name}\n{tail(log)}", flush=True)
            continue
        raw[target] = result
        summaries[target] = summarise(result)
        broken += problems(target, summaries[target])
        if target == "app" and not args.payload_bytes and result["phones"].get("frame_bytes"):
            payload = max(200, result["phones"]["frame_bytes"] - FRAME_OVERHEAD)
        print(
            f"{target}: done in {time.monotonic() - t0:.0f} s; other processes used "
            f"{summaries[target]['cpu']['other_pct']}% of the CPUs meanwhile",
            flush=True,
        )
    if summaries:
        print()
        print(table(summaries))
    if args.json:
        Path(args.json).write_text(
            json.dumps(
                {
                    "started": started.isoformat(),
                    "args": vars(args),
                    "cpus": os.cpu_count(),
                    "bare_payload_bytes": payload,
                    "summaries": summaries,
                    "raw": raw,
                    "broken": broken,
                },
                default=str,
            )
        )
    if args.keep or broken:
        print(f"logs kept in {work}")
    else:
        shutil.rmtree(work, ignore_errors=True)
    if broken:
        print("BROKEN RUN:\n  " + "\n  ".join(broken), flush=True)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

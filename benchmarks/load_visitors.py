"""The visitors of the load benchmark: new people signing up and registering, as browsers do.

Visitor ``i`` arrives at a time drawn from a Poisson process (``--visitors`` over
``--duration`` seconds, seeded: the app and the bare baseline get the same schedule) and,
in its own ``requests.Session`` (a new browser: its own cookies and connections), does:

1. ``GET /gatherings/<id>``                        (gathering page, logged out)
2. ``GET /sign-up?next=/gatherings/<id>``           (the form; its CSRF token is read)
3. ``POST /sign-up?next=...``                       (name, email, password, token) -> 302
4. ``GET /gatherings/<id>``                         (the redirect: the page with the form)
5. ``POST /gatherings/<id>/register``               (a ticket option, token) -> 302
6. ``GET /registrations/<rid>``                     (the redirect: the registration's page)

Redirects are followed by hand so each request is timed on its own.  Request ``k`` of
visitor ``i`` goes to ``--ports[(i + k) % 2]``: the processes share nothing but PostgreSQL and
Redis, so any process may serve any request.  A request errs when it times out, fails to
connect, or answers other than expected (200 for pages, 302 for the two posts); a visitor
stops at its first error.  Threads run the visitors (``--threads``); how late a visitor
started against its schedule is reported.  Writes one JSON document to ``--out``.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import resource
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import requests

TOKEN = re.compile(rb'name="csrf_token" type="hidden" value="([^"]+)"')
PASSWORD = "correct horse battery staple"
STEPS = ("gathering", "sign_up_form", "sign_up", "gathering_form", "register", "registration")


def schedule(visitors: int, duration: float, seed: int) -> list[float]:
    """Arrival offsets (s) of a Poisson process, scaled so the last comes at 95% of duration."""
    rng = random.Random(seed)
    times: list[float] = []
    t = 0.0
    for _ in range(visitors):
        t += rng.expovariate(1.0)
        times.append(t)
    scale = 0.95 * duration / times[-1] if times else 1.0
    return [round(x * scale, 4) for x in times]


class Visitors:
    """Runs the visitors; collects every request's latency and every error."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.ports = [int(x) for x in args.ports.split(",")]
        self.lock = threading.Lock()
        self.latencies: dict[str, list[float]] = {s: [] for s in STEPS}
        self.errors: dict[str, int] = {s: 0 for s in STEPS}
        self.examples: list[str] = []
        self.no_answer = 0  # requests that timed out or failed to connect (no latency)
        self.lateness: list[float] = []
        self.completed = 0
        self.registrations: list[int] = []

    def _url(self, i: int, k: int, path: str) -> str:
        return f"http://{self.args.host}:{self.ports[(i + k) % len(self.ports)]}{path}"

    def _fail(self, step: str, why: str) -> None:
        with self.lock:
            self.errors[step] += 1
            if len(self.examples) < 20:
                self.examples.append(f"{step}: {why}")

    def _request(
        self, s: requests.Session, step: str, i: int, k: int, path: str, data: Any = None
    ) -> requests.Response | None:
        url = self._url(i, k, path)
        t0 = time.perf_counter()
        try:
            if data is None:
                r = s.get(url, allow_redirects=False, timeout=self.args.timeout)
            else:
                r = s.post(url, data=data, allow_redirects=False, timeout=self.args.timeout)
        except requests.RequestException as exc:
            with self.lock:
                self.no_answer += 1
            self._fail(step, f"{type(exc).__name__}: {str(exc)[:160]}")
            return None
        ms = (time.perf_counter() - t0) * 1000.0
        with self.lock:
            self.latencies[step].append(round(ms, 3))
        expected = 302 if data is not None else 200
        if r.status_code != expected:
            self._fail(step, f"HTTP {r.status_code} (expected {expected}) {path}")
            return None
        return r

    def _token(self, step: str, r: requests.Response) -> str | None:
        found = TOKEN.search(r.content)
        if not found:
            self._fail(step, "no CSRF token on the page")
            return None
        return found.group(1).decode()

    def visit(self, i: int, due: float) -> None:
        """One visitor's whole evening; stops at the first error."""
        a = self.args
        with self.lock:
            self.lateness.append(time.monotonic() - due)
        page = f"/gatherings/{a.gathering_id}"
        option = a.door_option if i % 3 == 0 else a.free_option
        with requests.Session() as s:
            s.headers["User-Agent"] = "gatherwell-load-bench"
            if self._request(s, "gathering", i, 0, page) is None:
                return
            sign_up = f"/sign-up?next={page}"
            r = self._request(s, "sign_up_form", i, 1, sign_up)
            token = self._token("sign_up_form", r) if r is not None else None
            if not token:
                return
            form = {
                "csrf_token": token,
                "name": f"Visitor {i} {a.tag}",
                "display_name": "",
                "email": f"visitor{i}.{a.tag}@load.example.org",
                "password": PASSWORD,
            }
            r = self._request(s, "sign_up", i, 2, sign_up, form)
            if r is None:
                return
            r = self._request(s, "gathering_form", i, 3, urlsplit(r.headers["Location"]).path)
            token = self._token("gathering_form", r) if r is not None else None
            if not token:
                return
            form = {"csrf_token": token, "option_id": str(option), "code": ""}
            r = self._request(s, "register", i, 4, f"{page}/register", form)
            if r is None:
                return
            where = urlsplit(r.headers["Location"]).path
            if self._request(s, "registration", i, 5, where) is None:
                return
            with self.lock:
                self.completed += 1
                self.registrations.append(int(where.rstrip("/").rsplit("/", 1)[1]))

    def run(self) -> dict[str, Any]:
        """Start each visitor at its time; wait for all of them."""
        a = self.args
        offsets = schedule(a.visitors, a.duration, a.seed)
        cpu0 = resource.getrusage(resource.RUSAGE_SELF)
        t0 = time.monotonic()
        wall0 = time.time()
        with ThreadPoolExecutor(max_workers=a.threads) as pool:
            for i, offset in enumerate(offsets):
                due = t0 + offset
                time.sleep(max(0.0, due - time.monotonic()))
                pool.submit(self.visit, i, due)
        cpu1 = resource.getrusage(resource.RUSAGE_SELF)
        late = sorted(self.lateness)
        return {
            "visitors": a.visitors,
            "duration_s": a.duration,
            "window": [wall0, time.time()],
            "wall_s": round(time.monotonic() - t0, 3),
            "completed": self.completed,
            "registration_ids": sorted(self.registrations),
            "latency_ms": self.latencies,
            "errors": self.errors,
            "no_answer": self.no_answer,
            "error_examples": self.examples,
            "start_late_ms": {
                "p50": round(late[len(late) // 2] * 1000.0, 1) if late else None,
                "max": round(late[-1] * 1000.0, 1) if late else None,
            },
            "client_cpu_s": round(cpu1.ru_utime + cpu1.ru_stime - cpu0.ru_utime - cpu0.ru_stime, 3),
        }


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--ports", required=True, help="comma-separated: the processes' ports")
    p.add_argument("--visitors", type=int, default=300)
    p.add_argument("--duration", type=float, default=180.0)
    p.add_argument("--seed", type=int, default=8)
    p.add_argument("--gathering-id", type=int, required=True)
    p.add_argument("--free-option", type=int, required=True)
    p.add_argument("--door-option", type=int, required=True)
    p.add_argument("--tag", default="load", help="makes the e-mail addresses unique")
    p.add_argument("--threads", type=int, default=64)
    p.add_argument("--timeout", type=float, default=30.0, help="seconds per request")
    p.add_argument("--out", required=True)
    return p.parse_args(argv)


def main() -> int:
    """Run the visitors; write the JSON document to ``--out``."""
    args = parse_args()
    if args.host not in ("127.0.0.1", "localhost"):
        print("refusing: loopback only", file=sys.stderr)
        return 2
    result = Visitors(args).run()
    Path(args.out).write_text(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())

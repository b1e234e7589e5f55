"""How long one password hash freezes a gevent process: on the loop, and in the thread pool.

    python benchmarks/load_hash_pause.py [--repeat 3]

A greenlet wakes every 5 ms and records the gaps between its wake-ups; meanwhile the app's
production argon2id cost (``ARGON2_TIME_COST``/``ARGON2_MEMORY_COST`` defaults) hashes a
password, first straight from a greenlet (as a sign-up does under ``wsgi.py``), then through
gevent's native thread pool.  Prints the hash's wall time and the longest gap: the time every
other request and websocket of the process would have waited.
"""

from __future__ import annotations

from gevent import monkey

monkey.patch_all()

import argparse  # noqa: E402
import resource  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import argon2  # noqa: E402
import gevent  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from facilitation.config import DEFAULTS  # noqa: E402


def main() -> int:
    """Measure; print one line per hash."""
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--repeat", type=int, default=3)
    args = p.parse_args()
    gaps: list[float] = []

    def ticker() -> None:
        last = time.perf_counter()
        while True:
            gevent.sleep(0.005)
            now = time.perf_counter()
            gaps.append(now - last)
            last = now

    gevent.spawn(ticker)
    gevent.sleep(0.2)
    ph = argon2.PasswordHasher(
        time_cost=DEFAULTS["ARGON2_TIME_COST"], memory_cost=DEFAULTS["ARGON2_MEMORY_COST"]
    )
    print(f"argon2id t={ph.time_cost} m={ph.memory_cost} KiB p={ph.parallelism}")
    pool = gevent.get_hub().threadpool
    for where, run in (
        ("on the event loop", lambda: ph.hash("correct horse battery staple")),
        ("in the thread pool", lambda: pool.apply(ph.hash, ("correct horse battery staple",))),
    ):
        for _ in range(args.repeat):
            gaps.clear()
            cpu0 = resource.getrusage(resource.RUSAGE_SELF)
            t0 = time.perf_counter()
            run()
            wall = time.perf_counter() - t0
            cpu1 = resource.getrusage(resource.RUSAGE_SELF)
            gevent.sleep(0.05)
            cpu = cpu1.ru_utime + cpu1.ru_stime - cpu0.ru_utime - cpu0.ru_stime
            print(
                f"hash {where}: {wall * 1000:.0f} ms wall, {cpu * 1000:.0f} ms CPU; "
                f"longest pause of the other greenlet {max(gaps) * 1000:.0f} ms"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())

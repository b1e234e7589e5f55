"""Serve the app exactly as ``python wsgi.py`` does, with an optional run-time EXPERIMENT.

    python benchmarks/load_app_server.py --port 5058 --hash-in-threadpool

``--hash-in-threadpool`` (changes the app at run time, not its code): argon2's ``hash`` and
``verify`` run in gevent's native thread pool instead of on the event loop.  argon2 is C that
releases the GIL, but called from a greenlet it holds the whole process (every request and
every websocket of it) for as long as a hash takes.  ``load_bench.py --experiment
hash-in-threadpool`` measures the evening with it.  Without the flag this is ``wsgi.py``.
"""

from __future__ import annotations

from gevent import monkey

monkey.patch_all()

import argparse  # noqa: E402
import runpy  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


def hash_in_threadpool() -> None:
    """Run argon2's hash and verify on gevent's native threads."""
    import argon2
    import gevent

    hash_, verify = argon2.PasswordHasher.hash, argon2.PasswordHasher.verify

    def off_loop_hash(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        return gevent.get_hub().threadpool.apply(hash_, (self, *args), kwargs)

    def off_loop_verify(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        return gevent.get_hub().threadpool.apply(verify, (self, *args), kwargs)

    argon2.PasswordHasher.hash = off_loop_hash  # type: ignore[method-assign]
    argon2.PasswordHasher.verify = off_loop_verify  # type: ignore[method-assign]
    print("EXPERIMENT: argon2 hash/verify in gevent's thread pool", file=sys.stderr, flush=True)


def main() -> int:
    """Apply the experiment (if asked), then run wsgi.py as its own main."""
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--hash-in-threadpool", action="store_true")
    args = p.parse_args()
    if args.hash_in_threadpool:
        hash_in_threadpool()
    sys.argv = ["wsgi.py", "--host", args.host, "--port", str(args.port)]
    sys.path.insert(0, str(ROOT))
    runpy.run_path(str(ROOT / "wsgi.py"), run_name="__main__")
    return 0


if __name__ == "__main__":
    sys.exit(main())

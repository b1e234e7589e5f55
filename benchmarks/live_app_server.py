"""Serve the real app (``create_app`` + ``socketio.run``) for the fan-out benchmark.

    python benchmarks/live_app_server.py --mode gevent --port 5056 --setup /tmp/b/setup.json

Same serving path as ``wsgi.py`` (ticker started, ``socketio.run``), with the benchmark's
database, secret key and async mode.  Modes as in ``live_modes.py``: under the gevent ones the
standard library is monkey-patched before anything else is imported (psycopg then waits
cooperatively).
"""

from __future__ import annotations

import argparse
import sys

from live_modes import MODES, install_gc_monitor, prepare, websocket_flavour


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description="serve the app for the fan-out benchmark")
    p.add_argument("--mode", choices=MODES, default="threading")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--setup", required=True, help="setup.json written by live_setup.py prepare")
    p.add_argument(
        "--yield-after-run-state",
        action="store_true",
        help="EXPERIMENT (changes the app at run time, not its code): socketio.sleep(0) right "
        "after run_state is emitted, so the writers run before the handler's remaining work",
    )
    return p.parse_args(argv)


ARGS = parse_args() if __name__ == "__main__" else None
ASYNC_MODE = prepare(ARGS.mode) if ARGS is not None else "threading"

import json  # noqa: E402
import os  # noqa: E402
import resource  # noqa: E402
from pathlib import Path  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from live_setup import app_overrides  # noqa: E402


def main() -> int:
    assert ARGS is not None
    if ARGS.host not in ("127.0.0.1", "localhost"):
        print("refusing: loopback only", file=sys.stderr)
        return 2
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard if hard > 0 else soft, hard))
    setup = json.loads(Path(ARGS.setup).read_text())
    os.environ.setdefault("FACILITATION_INSTANCE_PATH", str(Path(ARGS.setup).parent / "instance"))

    from facilitation import create_app
    from facilitation.extensions import socketio

    install_gc_monitor()
    app = create_app(app_overrides(setup, ASYNC_MODE))
    try:
        from facilitation.exercises.sockets import ensure_ticker
    except ImportError as exc:  # the live layer is not there (yet)
        print(f"app has no live layer: {exc}", file=sys.stderr, flush=True)
        return 3
    print(
        f"app server: mode={socketio.async_mode} websocket={websocket_flavour(ASYNC_MODE)} "
        f"db={setup['db_uri'].split('@')[-1]} on {ARGS.host}:{ARGS.port}",
        file=sys.stderr,
        flush=True,
    )
    if ARGS.yield_after_run_state:
        from facilitation.exercises import broadcast

        emit_run_state = broadcast.emit_run_state

        def emit_then_yield(run, to):  # type: ignore[no-untyped-def]
            emit_run_state(run, to)
            socketio.sleep(0)

        broadcast.emit_run_state = emit_then_yield  # type: ignore[assignment]
        print("EXPERIMENT: yielding right after each run_state emit", file=sys.stderr)
    ensure_ticker(app)
    import gc

    gc.freeze()  # as wsgi.py does before serving
    socketio.run(app, host=ARGS.host, port=ARGS.port, allow_unsafe_werkzeug=True, log_output=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())

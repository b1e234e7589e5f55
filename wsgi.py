"""Entry point: ``app`` for WSGI servers; ``python wsgi.py`` runs the Socket.IO server.

``python wsgi.py`` serves under gevent (chosen by measurement, see docs/benchmarks.md), so the
standard library is monkey-patched first, before anything else is imported.
``FACILITATION_ASYNC_MODE=threading`` serves with threads instead.
"""

from __future__ import annotations

import os

ASYNC_MODE = os.environ.get("FACILITATION_ASYNC_MODE", "gevent")
if __name__ == "__main__" and ASYNC_MODE == "gevent":
    from gevent import monkey

    monkey.patch_all()

import argparse  # noqa: E402
import errno  # noqa: E402
import gc  # noqa: E402
import logging  # noqa: E402
import sys  # noqa: E402

from facilitation import create_app  # noqa: E402
from facilitation.core import serving  # noqa: E402
from facilitation.core.ports import port_problem  # noqa: E402
from facilitation.exercises.sockets import ensure_ticker  # noqa: E402

LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"

app = create_app({"SOCKETIO_ASYNC_MODE": ASYNC_MODE} if __name__ == "__main__" else None)


def main() -> None:
    """Serve the app (HTTP and Socket.IO) on one port."""
    parser = argparse.ArgumentParser(description="Serve Gatherwell")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=5000)
    args = parser.parse_args()
    problem = port_problem(args.host, args.port)
    if problem:
        sys.exit(problem)  # one line on stderr and status 1, not a traceback
    # Our own INFO lines (one per request, emails kept in the outbox, domain actions) and
    # everyone's warnings, to stderr. The servers' own access logs would repeat each request
    # in another format, so they stay off.
    logging.basicConfig(format=LOG_FORMAT, datefmt="%H:%M:%S", level=logging.WARNING)
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    print(f"Serving on http://{args.host}:{args.port} ({ASYNC_MODE})  (Ctrl+C to stop)", flush=True)
    ensure_ticker(app)
    # Everything loaded so far lives as long as the process: keep it out of the collector's
    # full passes, which would otherwise pause pairing and broadcasts.
    gc.freeze()
    try:
        serving.run(app, args.host, args.port, ASYNC_MODE)
    except OSError as exc:  # taken between the check and now
        if exc.errno != errno.EADDRINUSE:
            raise
        sys.exit(port_problem(args.host, args.port) or f"Port {args.port} is already in use")


if __name__ == "__main__":
    main()

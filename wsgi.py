"""Entry point: ``app`` for WSGI servers; ``python wsgi.py`` runs the Socket.IO server."""

from __future__ import annotations

import argparse
import gc

from facilitation import create_app
from facilitation.exercises.sockets import ensure_ticker
from facilitation.extensions import socketio

app = create_app()


def main() -> None:
    """Serve the app (HTTP and Socket.IO) on one port."""
    parser = argparse.ArgumentParser(description="Serve Gatherwell")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=5000)
    args = parser.parse_args()
    print(f"Serving on http://{args.host}:{args.port}  (Ctrl+C to stop)", flush=True)
    ensure_ticker(app)
    # Everything loaded so far lives as long as the process: keep it out of the collector's
    # full passes, which would otherwise pause pairing and broadcasts.
    gc.freeze()
    socketio.run(app, host=args.host, port=args.port, allow_unsafe_werkzeug=True)


if __name__ == "__main__":
    main()

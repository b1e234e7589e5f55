"""Say in one line why the server cannot listen where it was asked to."""

from __future__ import annotations

import errno
import socket


def port_problem(host: str, port: int) -> str | None:
    """Return one line saying why ``host:port`` cannot be served on, or None if it can."""
    try:
        with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            probe.bind((host, port))
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            return (
                f"Port {port} on {host} is already in use (another Gatherwell, or another "
                f"program): stop it, or serve on another port, e.g. make run PORT={port + 1}"
            )
        return f"Cannot serve on {host}:{port}: {exc.strerror or exc}"
    return None

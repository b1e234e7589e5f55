"""Serve the app with Flask-SocketIO's server, with Nagle's algorithm off on every connection.

gevent's WSGI server writes a response's headers and its body in two ``send`` calls. With
Nagle's algorithm on (the kernel's default) the body waits until the client acknowledges
the headers, and a client that delays its acknowledgements (Linux does, by up to 40 ms)
makes every keep-alive response wait about 40 ms, however small. Setting ``TCP_NODELAY``
on each accepted connection sends the body at once (measured in docs/benchmarks.md).
"""

from __future__ import annotations

import socket
from typing import Any

from flask import Flask


def no_delay(sock: Any) -> None:
    """Turn Nagle's algorithm off on a TCP socket (leave other sockets alone)."""
    if getattr(sock, "family", None) in (socket.AF_INET, socket.AF_INET6):
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


def gevent_handler_class() -> type:
    """Return gevent's WSGI handler with TCP_NODELAY set on each connection it serves."""
    from gevent import pywsgi

    class NoDelayHandler(pywsgi.WSGIHandler):  # type: ignore[misc]
        def __init__(self, sock: Any, address: Any, server: Any, rfile: Any = None) -> None:
            no_delay(sock)
            super().__init__(sock, address, server, rfile)

    return NoDelayHandler


def werkzeug_handler_class() -> type:
    """Return Werkzeug's request handler with TCP_NODELAY set (the threading mode)."""
    from werkzeug.serving import WSGIRequestHandler

    # A socketserver.StreamRequestHandler sets TCP_NODELAY itself when this is true.
    return type("NoDelayRequestHandler", (WSGIRequestHandler,), {"disable_nagle_algorithm": True})


def run(app: Flask, host: str, port: int, async_mode: str) -> None:
    """Serve ``app`` (HTTP and Socket.IO) on ``host``:``port`` until stopped."""
    from facilitation.extensions import socketio

    if async_mode != "gevent":
        socketio.run(
            app,
            host=host,
            port=port,
            allow_unsafe_werkzeug=True,
            log_output=False,  # core/request_log.py writes one line per request
            request_handler=werkzeug_handler_class(),
        )
        return
    # What ``socketio.run`` does under gevent, with our handler (websockets come from
    # simple-websocket, as there; gevent-websocket is not a dependency).
    from gevent import pywsgi

    server = pywsgi.WSGIServer(
        (host, port),
        app,
        handler_class=gevent_handler_class(),
        log="default" if app.debug else None,
    )
    socketio.wsgi_server = server
    server.serve_forever()

"""One readable log line per request: method, path, status and milliseconds."""

from __future__ import annotations

import logging
import time

from flask import Flask, Response, g, request

logger = logging.getLogger("facilitation.requests")

#: URL parts that carry a secret (a reset token, a ticket code) are not written to the log.
SECRET_WORDS = ("token", "code", "secret", "key")


def shown_path() -> str:
    """Return the request's path with secret URL parts replaced by '…'."""
    path = request.path
    for name, value in (request.view_args or {}).items():
        if any(word in name for word in SECRET_WORDS) and str(value):
            path = path.replace(str(value), "…")
    return path


def install(app: Flask) -> None:
    """Log every request the app answers as 'GET /gatherings 200 12 ms'."""

    @app.before_request
    def _start_clock() -> None:
        g.request_started = time.perf_counter()

    @app.after_request
    def _log_request(response: Response) -> Response:
        started = g.get("request_started")
        took = f"{(time.perf_counter() - started) * 1000:.0f} ms" if started else "- ms"
        logger.info("%s %s %s %s", request.method, shown_path(), response.status_code, took)
        return response

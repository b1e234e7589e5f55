"""The Host guard in front of Socket.IO adds no C stack to a socket waiting inside it.

Each open socket's greenlet waits inside the WSGI call for as long as the socket lives, and
greenlet keeps a copy of the C stack under every waiting greenlet. An object's ``__call__``
recurses in C; a function or bound method called from Python does not. Measured per phone in
docs/benchmarks.md; here greenlet's own count of saved stack bytes compares the two.
"""

from __future__ import annotations

from typing import Any

import greenlet
from flask import Flask

from facilitation.core.security import socket_host_guard


class Middleware:
    """Stands in for Flask-SocketIO's middleware object: the socket waits inside it."""

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        return greenlet.getcurrent().parent.switch("waiting")


def saved_stack_of_a_waiting_socket(wsgi_app: Any) -> int:
    waiting = greenlet.greenlet(
        lambda: wsgi_app(
            {"PATH_INFO": "/socket.io/", "HTTP_HOST": "gatherwell.test", "wsgi.url_scheme": "http"},
            None,
        )
    )
    assert waiting.switch() == "waiting"
    # Another greenlet running where the waiting one's stack was makes greenlet save it.
    greenlet.greenlet(lambda: None).switch()
    saved = waiting._stack_saved
    waiting.throw(greenlet.GreenletExit)
    return int(saved)


def test_a_socket_waiting_behind_the_guard_keeps_no_more_stack_than_without_it():
    app = Flask(__name__)
    app.config["TRUSTED_HOSTS"] = ["gatherwell.test"]
    bare = saved_stack_of_a_waiting_socket(Middleware())
    guarded = saved_stack_of_a_waiting_socket(socket_host_guard(app, Middleware()))
    assert bare > 0
    assert guarded <= bare


def test_a_guard_that_calls_the_object_directly_would_keep_more():
    # The control: one more object layer (what the guard was) costs saved stack.
    class ObjectGuard:
        def __init__(self, inner: Any) -> None:
            self.inner = inner

        def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
            return self.inner(environ, start_response)

    bare = saved_stack_of_a_waiting_socket(Middleware())
    assert saved_stack_of_a_waiting_socket(ObjectGuard(Middleware())) > bare

"""The server sends each response at once: Nagle's algorithm is off on every connection."""

from __future__ import annotations

import socket
from typing import Any

import pytest

from facilitation.core import serving


@pytest.fixture
def tcp_pair():  # type: ignore[no-untyped-def]
    """A connected pair of loopback TCP sockets: (the server's side, the client's side)."""
    with socket.create_server(("127.0.0.1", 0)) as listener:
        client = socket.create_connection(listener.getsockname())
        accepted, _ = listener.accept()
    yield accepted, client
    accepted.close()
    client.close()


def _nodelay(sock: socket.socket) -> int:
    return sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)


def test_gevent_handler_turns_nagle_off_on_each_connection(tcp_pair):
    accepted, _ = tcp_pair
    assert _nodelay(accepted) == 0  # the kernel's default: Nagle on
    serving.gevent_handler_class()(accepted, ("127.0.0.1", 1), server=None)
    assert _nodelay(accepted) != 0


def test_no_delay_leaves_non_tcp_sockets_alone():
    left, right = socket.socketpair()
    with left, right:
        serving.no_delay(left)  # a Unix socket has no TCP_NODELAY: no error


def test_werkzeug_handler_turns_nagle_off():
    assert serving.werkzeug_handler_class().disable_nagle_algorithm is True


def test_served_under_gevent_with_the_no_delay_handler(app, monkeypatch, tcp_pair):
    from gevent import pywsgi

    made: dict[str, Any] = {}

    class FakeServer:
        def __init__(self, address: Any, application: Any, **kwargs: Any) -> None:
            made.update(address=address, application=application, **kwargs)

        def serve_forever(self) -> None:
            made["served"] = True

    monkeypatch.setattr(pywsgi, "WSGIServer", FakeServer)
    serving.run(app, "127.0.0.1", 5999, "gevent")
    assert made["served"] and made["address"] == ("127.0.0.1", 5999)
    accepted, _ = tcp_pair
    made["handler_class"](accepted, ("127.0.0.1", 1), server=None)
    assert _nodelay(accepted) != 0


def test_wsgi_py_serves_through_serving_run():
    from pathlib import Path

    source = (Path(__file__).resolve().parents[2] / "wsgi.py").read_text()
    assert "serving.run(app" in source and "socketio.run(" not in source

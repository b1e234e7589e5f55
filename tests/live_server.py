"""Run the real server (``python wsgi.py``) in child processes for end-to-end live tests."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    """Return a free TCP port on loopback."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class ServerProcess:
    """One server process on loopback, started and stopped by a test."""

    def __init__(self, env: dict[str, str], port: int | None = None, log_dir: Path | None = None):
        self.port = port or free_port()
        self.env = {**os.environ, **env}
        self.log_path = (log_dir or Path("/tmp")) / f"gatherwell-server-{self.port}.log"
        self.process: subprocess.Popen[bytes] | None = None
        self._log: object | None = None

    @property
    def url(self) -> str:
        """Return the base URL."""
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 20.0) -> ServerProcess:
        """Start the server and wait until it answers."""
        log = self.log_path.open("ab")
        self._log = log
        self.process = subprocess.Popen(
            [sys.executable, "wsgi.py", "--port", str(self.port)],
            cwd=ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited early; see {self.log_path}")
            try:
                requests.get(self.url + "/log-in", timeout=1)
                return self
            except requests.RequestException:
                time.sleep(0.1)
        raise RuntimeError(f"server did not answer within {timeout}s; see {self.log_path}")

    def kill(self) -> None:
        """Kill the server at once, as a crash would (no clean shutdown)."""
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=10)
        self._close_log()

    def _close_log(self) -> None:
        if self._log is not None:
            self._log.close()  # type: ignore[attr-defined]
            self._log = None

    def stop(self) -> None:
        """Stop the server."""
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill()
        self._close_log()

    def log(self) -> str:
        """Return what the server printed."""
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


class LiveClient:
    """A real Socket.IO client on the /live namespace that records every event it receives."""

    def __init__(self, url: str, run_id: int, cookie: str | None = None, **auth: object) -> None:
        import threading

        import socketio

        self.events: list[tuple[str, dict]] = []
        self._lock = threading.Lock()
        self.client = socketio.Client(
            reconnection=True, reconnection_delay=0.2, reconnection_delay_max=1.0
        )

        @self.client.on("*", namespace="/live")
        def _any(event: str, data: dict | None = None) -> None:
            with self._lock:
                self.events.append((event, data or {}))

        headers = {"Cookie": f"session={cookie}"} if cookie else {}
        self.client.connect(
            url,
            namespaces=["/live"],
            auth={"run_id": run_id, **auth},
            headers=headers,
            transports=["websocket"],
            wait_timeout=10,
        )

    def call(self, event: str, payload: dict | None = None, timeout: float = 10) -> dict:
        """Emit an event once the namespace is connected; return the acknowledgement.

        The server sends snapshots from its connect handler, just before the namespace's
        CONNECT ack; the browser client buffers until the ack, and so does this helper.
        """
        deadline = time.monotonic() + timeout
        while "/live" not in self.client.namespaces and time.monotonic() < deadline:
            time.sleep(0.02)
        return self.client.call(event, payload or {}, namespace="/live", timeout=timeout)

    def received(self, name: str) -> list[dict]:
        """Return the payloads of ``name`` received so far."""
        with self._lock:
            return [data for event, data in self.events if event == name]

    def wait_for(self, name: str, predicate=lambda data: True, timeout: float = 10.0) -> dict:
        """Wait until an event ``name`` whose payload satisfies ``predicate`` arrives."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for data in reversed(self.received(name)):
                if predicate(data):
                    return data
            time.sleep(0.02)
        raise AssertionError(
            f"no matching {name!r} within {timeout}s; got {self.received(name)[-3:]}"
        )

    def close(self) -> None:
        """Disconnect."""
        self.client.disconnect()

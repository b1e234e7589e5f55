"""Run the real server (``python wsgi.py``) in child processes for end-to-end live tests."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import struct
import subprocess
import sys
import time
from pathlib import Path

import requests

from tests import children

ROOT = Path(__file__).resolve().parents[1]
#: How long to wait for something that must happen (a server answering, a screen healing)
#: before calling it lost. Each wait returns as soon as it happens, so a passing test never
#: waits this long; it is this long because the suite runs on a 2-core machine shared with
#: other work, where at a load of about 9 a gevent server took over 20 s to start answering.
PATIENCE_S = float(os.environ.get("GATHERWELL_TEST_PATIENCE_S", "120"))


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

    def start(self, timeout: float = PATIENCE_S) -> ServerProcess:
        """Start the server and wait until it answers (stopped again if it never does)."""
        log = self.log_path.open("ab")
        self._log = log
        self.process = children.spawn(
            "server",
            [sys.executable, "wsgi.py", "--port", str(self.port)],
            cwd=ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                self._close_log()
                raise RuntimeError(f"server exited early; see {self.log_path}")
            try:
                requests.get(self.url + "/log-in", timeout=5)
                return self
            except requests.RequestException:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"server did not answer within {timeout}s; see {self.log_path}")

    def freeze(self) -> None:
        """Stop the process (SIGSTOP): connections stay open but nothing is read or answered."""
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGSTOP)

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
        """Stop the server (a frozen one too)."""
        if self.process:
            children.stop_process(self.process)
        self._close_log()

    def log(self) -> str:
        """Return what the server printed."""
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


class LiveClient:
    """A real Socket.IO client on the /live namespace that records every event it receives."""

    def __init__(
        self,
        url: str,
        run_id: int,
        cookie: str | None = None,
        *,
        reconnection_delay: float = 0.2,
        reconnection_delay_max: float = 1.0,
        **auth: object,
    ) -> None:
        import threading

        import socketio

        self.events: list[tuple[str, dict]] = []
        self._syncing = False
        self.disconnects = 0
        self.facilitator = auth.get("as") == "facilitator"
        self._lock = threading.Lock()
        self.client = socketio.Client(
            reconnection=True,
            reconnection_delay=reconnection_delay,
            reconnection_delay_max=reconnection_delay_max,
        )
        # Stopped after the test whatever its outcome: a client left reconnecting to a stopped
        # server keeps a thread that draws on the global ``random`` (its back-off jitter), which
        # broke later hypothesis tests in the same worker.
        children.track(f"Socket.IO client of run {run_id}", self._running, self.close)

        @self.client.on("*", namespace="/live")
        def _any(event: str, data: dict | None = None) -> None:
            with self._lock:
                self.events.append((event, data or {}))

        @self.client.on("disconnect", namespace="/live")
        def _gone(reason: object = None) -> None:
            if reason == self.client.reason.CLIENT_DISCONNECT:
                return
            self.disconnects += 1
            # A dead transport's socket is otherwise left for the collector, which warns.
            ws = getattr(self.client.eio, "ws", None)
            if ws is not None:
                with contextlib.suppress(Exception):
                    ws.shutdown()

        headers = {"Cookie": f"session={cookie}"} if cookie else {}
        self.client.connect(
            url,
            namespaces=["/live"],
            auth={"run_id": run_id, **auth},
            headers=headers,
            transports=["websocket"],
            wait_timeout=PATIENCE_S,
        )

    def call(self, event: str, payload: dict | None = None, timeout: float = PATIENCE_S) -> dict:
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

    def wait_for(self, name: str, predicate=lambda data: True, timeout: float = PATIENCE_S) -> dict:
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

    def latest(self, name: str) -> dict | None:
        """Return the last ``name`` payload received, if any."""
        got = self.received(name)
        return got[-1] if got else None

    def send(self, event: str, payload: dict, answers: list[dict]) -> None:
        """Emit without waiting; the acknowledgement, if it ever comes, is appended to answers."""
        self.client.emit(event, payload, namespace="/live", callback=answers.append)

    def clock_offset_ms(self, samples: int = 5) -> float:
        """Estimate server time minus local time as the browser does (lowest round trip wins)."""
        best: tuple[float, float] | None = None
        for _ in range(samples):
            t0 = time.time() * 1000
            answer = self.call("sync_clock", {"t0": t0})
            rtt = time.time() * 1000 - t0
            if answer.get("ok") and (best is None or rtt < best[0]):
                best = (rtt, answer["server_time"] - (t0 + rtt / 2))
        assert best is not None, "no sync_clock answer"
        return best[1]

    def keep_in_sync(self, every_s: float = 10.0, late_s: float = 2.0) -> None:
        """Check snapshots as the browser client does (static/js/exercises/live-common.js).

        Every ``every_s`` ask ``request_snapshot`` with the version held, and ask again when
        the deadline has passed by ``late_s`` with no newer state. Stops when closed.
        """
        import threading

        self._syncing = True

        def loop() -> None:
            last_check, asked_for = time.monotonic(), None
            while self._syncing:
                time.sleep(0.25)
                if not self.client.connected or "/live" not in self.client.namespaces:
                    continue
                state = self.latest("run_state")
                late = (
                    state is not None
                    and state["status"] == "running"
                    and state["deadline"] is not None
                    and _epoch_s(state["deadline"]) + late_s < time.time()
                    and asked_for != state["version"]
                )
                if late or time.monotonic() - last_check >= every_s:
                    last_check = time.monotonic()
                    if late and state is not None:
                        asked_for = state["version"]
                    # The console's view changes without a new version: it always asks.
                    current = state and not self.facilitator
                    payload = {"known_version": state["version"]} if current else {}
                    with contextlib.suppress(Exception):  # a dead connection is retried later
                        self.client.call("request_snapshot", payload, namespace="/live", timeout=8)

        threading.Thread(target=loop, daemon=True).start()

    def _running(self) -> bool:
        task = self.client._reconnect_task  # python-socketio keeps no public "reconnecting"
        return bool(self.client.connected or (task is not None and task.is_alive()))

    def close(self) -> None:
        """Disconnect, and stop reconnecting if it is trying to."""
        self._syncing = False
        self.client.shutdown()


def _epoch_s(iso: str) -> float:
    from datetime import datetime

    return datetime.fromisoformat(iso).timestamp()


class RedisServer:
    """A throwaway ``redis-server`` on its own port, to stop and start without touching others."""

    def __init__(self, port: int | None = None, log_dir: Path | None = None) -> None:
        self.port = port or free_port()
        self.log_path = (log_dir or Path("/tmp")) / f"gatherwell-redis-{self.port}.log"
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """Return the redis:// URL."""
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self, timeout: float = PATIENCE_S) -> RedisServer:
        """Start (again, on the same port) and wait until it answers PING."""
        import redis

        command = ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1"]
        command += ["--save", "", "--appendonly", "no", "--daemonize", "no"]
        with self.log_path.open("ab") as log:
            self.process = children.spawn(
                "redis-server",
                command,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                redis.Redis.from_url(self.url, socket_connect_timeout=1).ping()
                return self
            except redis.RedisError:
                time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"redis-server did not answer within {timeout}s; see {self.log_path}")

    def stop(self) -> None:
        """Kill it (SIGKILL, like a crash): every connection to it drops at once."""
        if self.process and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)


class PostgresCluster:
    """A throwaway PostgreSQL cluster in a temporary folder, to restart without touching others.

    The machine runs as root and ``initdb`` refuses root, so the cluster belongs to the
    ``postgres`` user.
    """

    def __init__(self, directory: Path, port: int | None = None) -> None:
        self.directory = directory
        self.data = directory / "data"
        self.port = port or free_port()

    @staticmethod
    def binaries() -> Path | None:
        """Return the newest installed PostgreSQL's bin folder, if any."""
        versions = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
        return versions[-1].parent if versions else None

    def _as_postgres(self, *args: str, timeout: float = 60) -> None:
        bindir = self.binaries()
        assert bindir is not None
        prefix = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        subprocess.run(
            [*prefix, str(bindir / args[0]), *args[1:]],
            check=True,
            capture_output=True,
            timeout=timeout,
        )

    def _pg_ctl(self, *args: str) -> None:
        options = f"-p {self.port} -k {self.directory} -c listen_addresses=127.0.0.1"
        self._as_postgres(
            "pg_ctl", "-D", str(self.data), "-l", str(self.directory / "log"), "-w",
            "-o", options, *args,
        )  # fmt: skip

    def init(self) -> PostgresCluster:
        """Create the cluster (trust authentication on loopback) and start it."""
        if os.geteuid() == 0:
            shutil.chown(self.directory, "postgres", "postgres")
        self._as_postgres("initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres")
        # pg_ctl leaves the server running as a daemon, not as our child: track it by hand.
        children.track(
            f"PostgreSQL cluster in {self.directory} (port {self.port})",
            alive=lambda: (self.data / "postmaster.pid").exists(),
            stop=self.destroy,
        )
        self.start()
        return self

    @property
    def url(self) -> str:
        """Return the SQLAlchemy URL of the cluster's ``postgres`` database."""
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def start(self) -> None:
        """Start the server and wait until it accepts connections."""
        self._pg_ctl("start")

    def stop(self) -> None:
        """Stop at once, ending every connection (``-m fast``)."""
        self._pg_ctl("stop", "-m", "fast")

    def restart(self) -> None:
        """Restart at once (``-m fast``): every open connection is cut."""
        self._pg_ctl("restart", "-m", "fast")

    def destroy(self) -> None:
        """Stop (if running) and remove the cluster."""
        with contextlib.suppress(Exception):
            self._pg_ctl("stop", "-m", "immediate")
        shutil.rmtree(self.directory, ignore_errors=True)


class BlackholeProxy:
    """A TCP proxy on loopback that can stop forwarding without closing, like a Wi-Fi drop.

    ``blackhole()`` stops moving bytes both ways; connections stay open and whatever the
    peers send waits in the kernel. ``restore()`` moves bytes again (TCP survived the drop:
    what was buffered is delivered, and a close the server made meanwhile reaches the client).
    ``restore(reset=True)`` instead cuts every connection made before, as a phone that
    changed network finds its old connections dead.
    """

    def __init__(self, target_port: int) -> None:
        import threading

        self.target_port = target_port
        self.port = 0
        self._open = threading.Event()
        self._open.set()
        self._lock = threading.Lock()
        self._pairs: list[tuple[socket.socket, socket.socket]] = []
        self._listener = socket.socket()
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(64)
        self.port = int(self._listener.getsockname()[1])
        self._closed = False
        self._refusing = False
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def url(self) -> str:
        """Return the base URL through the proxy."""
        return f"http://127.0.0.1:{self.port}"

    def _accept(self) -> None:
        import threading

        while not self._closed:
            try:
                downstream, _ = self._listener.accept()
            except OSError:
                return
            self._open.wait()  # a connection made in the blackhole waits, as a SYN would
            if self._refusing:  # the service behind is down: hang up at once
                downstream.close()
                continue
            try:
                upstream = socket.create_connection(("127.0.0.1", self.target_port), timeout=5)
                upstream.settimeout(None)
            except OSError:
                downstream.close()
                continue
            with self._lock:
                self._pairs.append((downstream, upstream))
            for source, sink in ((downstream, upstream), (upstream, downstream)):
                threading.Thread(target=self._pump, args=(source, sink), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket) -> None:
        while True:
            self._open.wait()
            try:
                data = source.recv(65536)
                self._open.wait()  # bytes read just as the network dropped wait for it
                if not data:
                    break
                sink.sendall(data)
            except OSError:
                break
        for s in (source, sink):
            with contextlib.suppress(OSError):
                s.shutdown(socket.SHUT_RDWR)

    def blackhole(self) -> None:
        """Stop forwarding bytes in both directions, closing nothing."""
        self._open.clear()

    def refuse(self) -> None:
        """Cut every connection and hang up on new ones, as a stopped service would."""
        self._refusing = True
        self._cut()

    def restore(self, *, reset: bool = False) -> None:
        """Forward again; with ``reset``, first cut every connection made before."""
        self._refusing = False
        if reset:
            self._cut()
        self._open.set()

    def _cut(self) -> None:
        with self._lock:
            pairs, self._pairs = self._pairs, []
        for pair in pairs:
            for s in pair:
                with contextlib.suppress(OSError):
                    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                    s.close()

    def close(self) -> None:
        """Stop accepting and cut every connection."""
        self._closed = True
        self._listener.close()
        self.restore(reset=True)

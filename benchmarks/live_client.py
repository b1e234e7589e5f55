"""A light Engine.IO v4 / Socket.IO v5 websocket swarm that measures fan-out latency.

One asyncio process holds every connection.  Each connection is a bare ``asyncio.Protocol``
that speaks just enough of RFC 6455, Engine.IO v4 and Socket.IO v5 to be a phone:

* open ``ws://HOST:PORT/socket.io/?EIO=4&transport=websocket`` (optional session cookie),
* read the ``0{...}`` open packet and answer with ``40/live,{auth}``,
* answer ``2`` pings with ``3``,
* record ``42/live,["event",{...}]`` frames with the time they arrived, untouched: the JSON is
  parsed only after a broadcast has reached every phone, so the receive path stays cheap.

The receive time is taken at the top of ``data_received`` (before any parsing).  Latency of a
phone = receive time - the send time the server put in the payload (``sent_at`` for the bare
server, ``server_time`` for the app's ``run_state``).  Both clocks are this machine's
``time.time()``.

Run by ``fanout_bench.py`` as a separate process; prints one JSON document on stdout.  It
can also be run by hand against a running server, e.g.::

    python benchmarks/live_client.py --port 5055 --target bare --phones 100
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import resource
import statistics
import sys
import time
import uuid
from pathlib import Path
from typing import Any

NAMESPACE = "/live"
CONNECT_TIMEOUT_S = 30.0
MAX_HEADER_BYTES = 16 * 1024
MAX_MESSAGE_BYTES = 4 * 1024 * 1024


def raise_nofile(wanted: int) -> int:
    """Raise the soft open-file limit towards ``wanted`` (bounded by the hard limit)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    if soft != resource.RLIM_INFINITY and soft < target:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def _mask(payload: bytes, key: bytes) -> bytes:
    n = len(payload)
    if not n:
        return payload
    k = (key * (n // 4 + 1))[:n]
    return (int.from_bytes(payload, "big") ^ int.from_bytes(k, "big")).to_bytes(n, "big")


def ws_frame(payload: bytes, opcode: int = 1) -> bytes:
    """A single, final, masked client frame (clients must mask, RFC 6455 5.3)."""
    n = len(payload)
    if n < 126:
        header = bytes((0x80 | opcode, 0x80 | n))
    elif n < 65536:
        header = bytes((0x80 | opcode, 0x80 | 126)) + n.to_bytes(2, "big")
    else:
        header = bytes((0x80 | opcode, 0x80 | 127)) + n.to_bytes(8, "big")
    key = os.urandom(4)
    return header + key + _mask(payload, key)


class Swarm:
    """State shared by every connection: what we are waiting for and how many are left."""

    def __init__(self) -> None:
        self.pending: dict[bytes, int] = {}
        self.done: dict[bytes, asyncio.Event] = {}

    def watch(self, name: bytes, phones: list[Conn]) -> None:
        """Wait for one more ``name`` event on every phone (counted on arrival, cheaply)."""
        self.pending[name] = len(phones)
        self.done[name] = asyncio.Event()
        for p in phones:
            p.targets[name] = len(p.events.get(name, ())) + 1
        if not phones:
            self.done[name].set()

    def _arrived(self, name: bytes) -> None:
        left = self.pending.get(name)
        if left is None:
            return
        left -= 1
        self.pending[name] = left
        if left <= 0:
            self.done[name].set()


class Conn(asyncio.Protocol):
    """One websocket connection that is one Socket.IO client of namespace ``/live``."""

    def __init__(
        self,
        swarm: Swarm,
        host: str,
        port: int,
        auth: dict[str, Any],
        cookie: str | None = None,
        is_phone: bool = True,
    ) -> None:
        loop = asyncio.get_running_loop()
        self.swarm = swarm
        self.host = host
        self.port = port
        self.auth = auth
        self.cookie = cookie
        self.is_phone = is_phone
        self.transport: asyncio.Transport | None = None
        self.buf = bytearray()
        self.upgraded = False
        self.fragments: bytearray | None = None
        self.connected: asyncio.Future[Any] = loop.create_future()
        self.closed: asyncio.Future[None] = loop.create_future()
        self.events: dict[bytes, list[tuple[float, bytes]]] = {}
        self.targets: dict[bytes, int] = {}
        self.acks: dict[int, asyncio.Future[Any]] = {}
        self.next_ack = 0
        self.pings = 0
        ns = NAMESPACE.encode()
        self.p_event = b"42" + ns + b","
        self.p_ack = b"43" + ns + b","
        self.p_connect = b"40" + ns + b","
        self.p_error = b"44" + ns + b","
        self.p_disconnect = b"41" + ns + b","

    # -- transport ----------------------------------------------------------------------
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        key = base64.b64encode(os.urandom(16)).decode()
        lines = [
            "GET /socket.io/?EIO=4&transport=websocket HTTP/1.1",
            f"Host: {self.host}:{self.port}",
            "Upgrade: websocket",
            "Connection: Upgrade",
            f"Sec-WebSocket-Key: {key}",
            "Sec-WebSocket-Version: 13",
            f"Origin: http://{self.host}:{self.port}",
            "User-Agent: gatherwell-fanout-bench",
        ]
        if self.cookie:
            lines.append(f"Cookie: session={self.cookie}")
        transport.write(("\r\n".join(lines) + "\r\n\r\n").encode())

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.connected.done():
            self.connected.set_exception(ConnectionError(f"connection lost: {exc}"))
        if not self.closed.done():
            self.closed.set_result(None)
        for fut in self.acks.values():
            if not fut.done():
                fut.set_exception(ConnectionError("connection lost"))

    def data_received(self, data: bytes) -> None:
        t = time.time()
        buf = self.buf
        buf += data
        if not self.upgraded:
            end = buf.find(b"\r\n\r\n")
            if end < 0:
                if len(buf) > MAX_HEADER_BYTES:
                    self._fail("handshake response too large")
                return
            head = bytes(buf[:end])
            del buf[: end + 4]
            if not head.startswith(b"HTTP/1.1 101"):
                self._fail("handshake refused: " + head.split(b"\r\n", 1)[0].decode("latin-1"))
                return
            self.upgraded = True
        pos = 0
        n = len(buf)
        while n - pos >= 2:
            b0 = buf[pos]
            b1 = buf[pos + 1]
            ln = b1 & 0x7F
            hdr = 2
            if ln == 126:
                if n - pos < 4:
                    break
                ln = int.from_bytes(buf[pos + 2 : pos + 4], "big")
                hdr = 4
            elif ln == 127:
                if n - pos < 10:
                    break
                ln = int.from_bytes(buf[pos + 2 : pos + 10], "big")
                hdr = 10
            masked = b1 & 0x80
            if masked:
                hdr += 4
            if ln > MAX_MESSAGE_BYTES:
                self._fail("frame too large")
                return
            if n - pos < hdr + ln:
                break
            payload = bytes(buf[pos + hdr : pos + hdr + ln])
            if masked:
                payload = _mask(payload, bytes(buf[pos + hdr - 4 : pos + hdr]))
            pos += hdr + ln
            opcode = b0 & 0x0F
            fin = b0 & 0x80
            if opcode == 0:  # continuation
                if self.fragments is None:
                    continue
                self.fragments += payload
                if fin:
                    msg = bytes(self.fragments)
                    self.fragments = None
                    self._on_message(msg, t)
            elif opcode in (1, 2):
                if fin:
                    self._on_message(payload, t)
                else:
                    self.fragments = bytearray(payload)
            elif opcode == 8:  # close
                self._write(ws_frame(payload[:2], 8))
                if self.transport:
                    self.transport.close()
                break
            elif opcode == 9:  # ping
                self._write(ws_frame(payload, 10))
        if pos:
            del buf[:pos]

    def _fail(self, why: str) -> None:
        if not self.connected.done():
            self.connected.set_exception(ConnectionError(why))
        if self.transport:
            self.transport.close()

    def _write(self, frame: bytes) -> None:
        if self.transport and not self.transport.is_closing():
            self.transport.write(frame)

    # -- Engine.IO / Socket.IO ----------------------------------------------------------
    def _on_message(self, msg: bytes, t: float) -> None:
        head = msg[:1]
        if head == b"4":
            if msg.startswith(self.p_event):
                start = len(self.p_event) + 2  # after '["'
                name = msg[start : msg.index(b'"', start)]
                got = self.events.setdefault(name, [])
                got.append((t, msg))
                if self.is_phone and self.targets.get(name) == len(got):
                    self.swarm._arrived(name)
            elif msg.startswith(self.p_ack):
                rest = msg[len(self.p_ack) :]
                i = rest.index(b"[")
                fut = self.acks.pop(int(rest[:i]), None)
                if fut is not None and not fut.done():
                    fut.set_result((t, json.loads(rest[i:])))
            elif msg.startswith(self.p_connect):
                if not self.connected.done():
                    self.connected.set_result(json.loads(msg[len(self.p_connect) :] or b"{}"))
            elif msg.startswith(self.p_error):
                if not self.connected.done():
                    detail = msg[len(self.p_error) :].decode("utf-8", "replace")
                    self.connected.set_exception(ConnectionRefusedError(detail))
            elif msg.startswith(self.p_disconnect) and self.transport:
                self.transport.close()
        elif head == b"2":  # Engine.IO ping
            self.pings += 1
            self._write(ws_frame(b"3" + msg[1:]))
        elif head == b"0":  # Engine.IO open: connect to the namespace
            body = json.dumps(self.auth, separators=(",", ":")).encode()
            self._write(ws_frame(b"40" + NAMESPACE.encode() + b"," + body))
        elif head == b"1" and self.transport:
            self.transport.close()

    def emit(self, event: str, data: Any) -> asyncio.Future[Any]:
        """Send an event that asks for an acknowledgement; the future gets (time, args)."""
        self.next_ack += 1
        ack = self.next_ack
        fut: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self.acks[ack] = fut
        body = json.dumps([event, data], separators=(",", ":")).encode()
        self._write(ws_frame(self.p_event + str(ack).encode() + body))
        return fut

    def close(self) -> None:
        if self.transport and not self.transport.is_closing():
            self._write(ws_frame(b"41" + NAMESPACE.encode() + b","))
            self._write(ws_frame(b"1"))
            self._write(ws_frame(b"\x03\xe8", 8))
            self.transport.close()


async def open_conn(
    swarm: Swarm,
    host: str,
    port: int,
    auth: dict[str, Any],
    cookie: str | None,
    is_phone: bool,
    timeout: float = CONNECT_TIMEOUT_S,
) -> Conn:
    """Open one websocket and connect it to the namespace; raise on refusal or timeout."""
    loop = asyncio.get_running_loop()
    _, conn = await asyncio.wait_for(
        loop.create_connection(lambda: Conn(swarm, host, port, auth, cookie, is_phone), host, port),
        timeout,
    )
    try:
        await asyncio.wait_for(asyncio.shield(conn.connected), timeout)
    except BaseException:
        conn.close()
        raise
    return conn


def read_rss_kb(pid: int) -> tuple[int, int]:
    """VmRSS (KB) and thread count of a process, from /proc."""
    rss = threads = 0
    with open(f"/proc/{pid}/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                rss = int(line.split()[1])
            elif line.startswith("Threads:"):
                threads = int(line.split()[1])
    return rss, threads


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process (from /proc/PID/stat)."""
    with open(f"/proc/{pid}/stat") as fh:
        fields = fh.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def preemptions(pid: int) -> int:
    """Times the process's threads were switched out while runnable (nonvoluntary switches).

    Summed over /proc/PID/task/*/status: /proc/PID/status alone counts only the main thread.
    A thread that ends between the readings takes its count with it.
    """
    total = 0
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            text = (task / "status").read_text()
        except OSError:  # the thread ended meanwhile
            continue
        for line in text.splitlines():
            if line.startswith("nonvoluntary_ctxt_switches:"):
                total += int(line.split()[1])
    return total


def system_busy_seconds() -> float:
    """All CPUs' busy seconds (everything but idle and iowait) from /proc/stat."""
    with open("/proc/stat") as fh:
        parts = fh.readline().split()[1:]
    vals = [int(x) for x in parts] + [0] * 10
    # user nice system idle iowait irq softirq steal guest guest_nice: guest time is already
    # counted in user/nice, and interrupts (loopback traffic) are left out on purpose
    busy = vals[0] + vals[1] + vals[2] + vals[7]
    return busy / os.sysconf("SC_CLK_TCK")


def db_backends_cpu(dbname: str | None) -> dict[int, float]:
    """CPU seconds of each PostgreSQL backend serving ``dbname`` (the app's database work)."""
    found: dict[int, float] = {}
    if not dbname:
        return found
    needle = f" {dbname} ".encode()
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/cmdline", "rb") as fh:
                cmdline = fh.read()
            if cmdline.startswith(b"postgres:") and needle in cmdline.replace(b"\0", b" "):
                found[int(entry.name)] = cpu_seconds(int(entry.name))
        except (OSError, ValueError, IndexError):
            continue
    return found


def _decode_event(msg: bytes, prefix_len: int) -> Any:
    return json.loads(msg[prefix_len:])[1]


def _send_time_ms(data: dict[str, Any]) -> tuple[float, bool]:
    """The server's send time in ms and whether it came as whole milliseconds."""
    value = data["sent_at"] if "sent_at" in data else data["server_time"]
    return float(value), isinstance(value, int)


class Bench:
    """Drives one measurement: control connection, N phones, memory, broadcasts."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.swarm = Swarm()
        self.control: Conn | None = None
        self.phones: list[Conn] = []
        self.notes: list[str] = []
        self.cookies: dict[str, Any] = {}
        if args.cookies_file:
            with open(args.cookies_file) as fh:
                self.cookies = json.load(fh)

    # -- connections --------------------------------------------------------------------
    def _control_auth(self) -> tuple[dict[str, Any], str | None]:
        if self.args.target == "bare":
            return {"as": "control"}, None
        return {"run_id": self.args.run_id, "as": "facilitator"}, self.cookies["facilitator"]

    def _phone_auth(self, i: int) -> tuple[dict[str, Any], str | None]:
        if self.args.target == "bare":
            return {"run_id": self.args.run_id}, None
        return {"run_id": self.args.run_id}, self.cookies["phones"][i]

    async def connect_phones(self, start: int, stop: int) -> float:
        """Connect phones ``start`` to ``stop - 1`` (bounded concurrency); add them."""
        sem = asyncio.Semaphore(self.args.concurrency)
        a = self.args
        t0 = time.time()

        async def one(i: int) -> Conn:
            auth, cookie = self._phone_auth(i)
            async with sem:
                return await open_conn(self.swarm, a.host, a.port, auth, cookie, True)

        results = await asyncio.gather(
            *(one(i) for i in range(start, stop)), return_exceptions=True
        )
        errors = [r for r in results if isinstance(r, BaseException)]
        self.phones += [r for r in results if isinstance(r, Conn)]
        if errors:
            first = errors[0]
            raise RuntimeError(
                f"{len(errors)} of {stop - start} phones failed to connect; first: "
                f"{type(first).__name__}: {first}"
            )
        return time.time() - t0

    # -- one broadcast ------------------------------------------------------------------
    def _command(self, seq: int, action: str) -> asyncio.Future[Any]:
        assert self.control is not None
        if self.args.target == "bare":
            return self.control.emit("trigger", {"seq": seq})
        return self.control.emit("control_run", {"action": action, "command_id": str(uuid.uuid4())})

    async def broadcast(self, seq: int, action: str = "next_phase") -> dict[str, Any]:
        """Send one command; wait for ``run_state`` on every phone; return the figures."""
        a = self.args
        rs, yp = b"run_state", b"your_pairing"
        self.swarm.watch(rs, self.phones)
        self.swarm.watch(yp, self.phones)
        before = {id(p): {k: len(v) for k, v in p.events.items()} for p in self.phones}
        t_cmd = time.time()
        ack = self._command(seq, action)
        timed_out = False
        try:
            await asyncio.wait_for(self.swarm.done[rs].wait(), a.broadcast_timeout)
        except TimeoutError:
            timed_out = True
        try:
            t_ack, ack_args = await asyncio.wait_for(ack, a.broadcast_timeout)
        except TimeoutError:
            t_ack, ack_args = None, None
        if timed_out:
            missing = self.swarm.pending[rs]
            raise RuntimeError(
                f"broadcast {seq} ({action}): {missing} of {len(self.phones)} phones did not "
                f"get run_state within {a.broadcast_timeout}s; ack={ack_args!r}"
            )
        ack_body = ack_args[0] if isinstance(ack_args, list) and ack_args else ack_args
        if isinstance(ack_body, dict) and ack_body.get("ok") is False:
            raise RuntimeError(f"command {action} refused: {ack_body}")
        prefix_len = len(self.phones[0].p_event) if self.phones else 0
        lat: list[float] = []
        recv_times: list[float] = []
        versions: set[Any] = set()
        rounds: set[Any] = set()
        int_ms = False
        size = 0
        for p in self.phones:
            t, msg = p.events[rs][p.targets[rs] - 1]
            data = _decode_event(msg, prefix_len)
            sent, whole = _send_time_ms(data)
            int_ms = int_ms or whole
            if whole:
                sent += 0.5  # unbiased estimate of a floored millisecond stamp
            lat.append(t * 1000.0 - sent)
            recv_times.append(t)
            versions.add(data.get("version", data.get("seq")))
            rounds.add(data.get("round_index"))
            size = len(msg)
        round_index = next(iter(rounds)) if len(rounds) == 1 else None
        info: dict[str, Any] = {
            "seq": seq,
            "action": action,
            "lat_ms": [round(x, 3) for x in lat],
            "cmd_to_last_ms": round((max(recv_times) - t_cmd) * 1000.0, 3),
            "ack_ms": None if t_ack is None else round((t_ack - t_cmd) * 1000.0, 3),
            "consistent": len(versions) == 1 and len(rounds) == 1,
            "round_index": round_index,
            "int_ms": int_ms,
            "frame_bytes": size,
            "sample": _decode_event(self.phones[0].events[rs][-1][1], prefix_len)
            if self.phones and seq == 0
            else None,
        }
        # A new round also sends each phone its own pairing: wait for those too, so the next
        # broadcast starts from a quiet server, and report when the last one arrived.
        if a.target == "app" and round_index is not None and round_index != self._last_round:
            try:
                await asyncio.wait_for(self.swarm.done[yp].wait(), a.broadcast_timeout)
                last_pairing = max(p.events[yp][p.targets[yp] - 1][0] for p in self.phones)
                info["cmd_to_last_pairing_ms"] = round((last_pairing - t_cmd) * 1000.0, 3)
            except TimeoutError:
                info["cmd_to_last_pairing_ms"] = None
                self.notes.append(f"broadcast {seq}: not every phone got your_pairing")
            info["kind"] = "round"
        else:
            info["kind"] = "phase" if a.target == "app" else "broadcast"
        self._last_round = round_index
        await asyncio.sleep(a.gap)
        extra: dict[str, int] = {}
        for p in self.phones:
            b = before[id(p)]
            for k, v in p.events.items():
                grown = len(v) - b.get(k, 0)
                expected = 1 if k == rs else (1 if k == yp and info["kind"] == "round" else 0)
                if grown > expected:
                    key = k.decode()
                    extra[key] = extra.get(key, 0) + grown - expected
        info["extra_events"] = extra
        return info

    # -- the whole measurement ----------------------------------------------------------
    async def run(self) -> dict[str, Any]:
        a = self.args
        self._last_round: Any = None
        out: dict[str, Any] = {
            "target": a.target,
            "phones": a.phones,
            "loop": a.loop,
            "notes": self.notes,
        }
        auth, cookie = self._control_auth()
        self.control = await open_conn(self.swarm, a.host, a.port, auth, cookie, False)
        # Warm the server with the control connection only, then take the 0-phone RSS.
        for i in range(a.warmup):
            if a.target == "bare":
                await self.control.emit("trigger", {"seq": -1 - i})
            else:
                await self.control.emit("request_snapshot", {})
            await asyncio.sleep(0.05)
        await asyncio.sleep(a.settle)
        out["rss0_kb"], out["threads0"] = read_rss_kb(a.server_pid)

        # Connect in two halves: RSS after each gives the marginal cost of a phone, free of
        # one-off costs the first connections bring (pools, caches).
        half = a.phones // 2
        connect_s = await self.connect_phones(0, half)
        await asyncio.sleep(a.settle)
        out["rss_half_kb"], _ = read_rss_kb(a.server_pid)
        connect_s += await self.connect_phones(half, a.phones)
        out["connect_s"] = round(connect_s, 3)
        await asyncio.sleep(a.settle)  # let the connect snapshots drain
        out["rssN_pre_kb"], _ = read_rss_kb(a.server_pid)
        out["snapshots_on_connect"] = {
            k.decode(): sum(len(p.events.get(k, ())) for p in self.phones)
            for k in {k for p in self.phones for k in p.events}
        }
        warm: list[dict[str, Any]] = []
        if a.target == "app":
            first = await self.broadcast(0, "start")
            out["start"] = {k: first[k] for k in ("cmd_to_last_ms", "kind", "round_index")}
            out["run_state_sample"] = first["sample"]
            out["run_state_frame_bytes"] = first["frame_bytes"]
        for i in range(a.warmup):
            warm.append(await self.broadcast(1 + i))
        if a.target == "bare" and warm:
            out["run_state_sample"] = None
            out["run_state_frame_bytes"] = warm[0]["frame_bytes"]
        await asyncio.sleep(a.settle)
        out["rssN_kb"], out["threadsN"] = read_rss_kb(a.server_pid)

        cpu_srv0 = cpu_seconds(a.server_pid)
        preempted0 = preemptions(a.server_pid)
        cpu_cli0 = cpu_seconds(os.getpid())
        db0 = db_backends_cpu(a.db_name)
        busy0 = system_busy_seconds()
        wall0 = time.time()
        measured: list[dict[str, Any]] = []
        seq = 1 + a.warmup
        phase_changes = 0
        while phase_changes < a.broadcasts and seq < 1 + a.warmup + a.max_commands:
            info = await self.broadcast(seq)
            info.pop("sample", None)
            measured.append(info)
            if info["kind"] != "round":
                phase_changes += 1
            seq += 1
        if phase_changes < a.broadcasts:
            self.notes.append(
                f"only {phase_changes} phase changes fitted in the run (asked {a.broadcasts})"
            )
        out["window"] = [wall0, time.time()]
        wall = time.time() - wall0
        busy = system_busy_seconds() - busy0
        cpu_srv = cpu_seconds(a.server_pid) - cpu_srv0
        preempted = preemptions(a.server_pid) - preempted0
        cpu_cli = cpu_seconds(os.getpid()) - cpu_cli0
        cpu_db = sum(t - db0.get(pid, 0.0) for pid, t in db_backends_cpu(a.db_name).items())
        ncpu = os.cpu_count() or 1
        others = max(0.0, busy - cpu_srv - cpu_cli - cpu_db)
        out["cpu"] = {
            "wall_s": round(wall, 3),
            "server_s": round(cpu_srv, 3),
            "client_s": round(cpu_cli, 3),
            "db_s": round(cpu_db, 3),
            # everything else (other people's processes): high means a disturbed measurement
            "other_pct": round(100.0 * others / (wall * ncpu), 1),
            # the server switched out while it had work (by the client, the database, ...)
            "server_preempted": preempted,
        }
        out["broadcasts"] = measured
        out["pings_answered"] = sum(p.pings for p in self.phones)
        if a.target == "app" and a.end_run:
            try:
                await asyncio.wait_for(
                    self.control.emit(
                        "control_run", {"action": "end", "command_id": str(uuid.uuid4())}
                    ),
                    10,
                )
            except Exception as exc:  # report, do not fail the measurement
                self.notes.append(f"ending the run failed: {exc!r}")
        return out

    def close(self) -> None:
        for p in self.phones:
            p.close()
        if self.control:
            self.control.close()


def summarise(latencies: list[float]) -> dict[str, float]:
    """p50 and p99 (nearest rank) and max of a list of latencies in ms."""
    xs = sorted(latencies)
    if not xs:
        return {"p50": float("nan"), "p99": float("nan"), "max": float("nan")}

    def rank(q: float) -> float:
        return xs[min(len(xs) - 1, max(0, round(q * len(xs) + 0.5) - 1))]

    return {"p50": statistics.median(xs), "p99": rank(0.99), "max": xs[-1]}


async def amain(args: argparse.Namespace) -> dict[str, Any]:
    bench = Bench(args)
    try:
        return await asyncio.wait_for(bench.run(), args.total_timeout)
    finally:
        bench.close()
        await asyncio.sleep(0.2)


def _default_loop() -> str:
    try:
        import uvloop  # noqa: F401
    except ImportError:
        return "asyncio"
    return "uvloop"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--target", choices=("bare", "app"), default="bare")
    p.add_argument("--phones", type=int, default=100)
    p.add_argument("--run-id", type=int, default=1)
    p.add_argument("--cookies-file", help="JSON {facilitator: cookie, phones: [cookie, ...]}")
    p.add_argument("--server-pid", type=int, required=True, help="for RSS readings")
    p.add_argument("--broadcasts", type=int, default=20)
    p.add_argument("--warmup", type=int, default=3)
    p.add_argument("--max-commands", type=int, default=34, help="bound on measured commands")
    p.add_argument("--gap", type=float, default=0.3, help="seconds of quiet between broadcasts")
    p.add_argument("--settle", type=float, default=1.0, help="seconds before RSS readings")
    p.add_argument("--concurrency", type=int, default=50, help="handshakes in flight")
    p.add_argument("--broadcast-timeout", type=float, default=30.0)
    p.add_argument("--total-timeout", type=float, default=900.0)
    p.add_argument("--no-end-run", dest="end_run", action="store_false")
    p.add_argument("--out", help="write the JSON result here instead of stdout")
    p.add_argument("--db-name", help="PostgreSQL database of the app, to count its CPU apart")
    p.add_argument(
        "--loop",
        choices=("uvloop", "asyncio"),
        default=_default_loop(),
        help="event loop of the swarm (uvloop keeps the client lighter; default if installed)",
    )
    return p.parse_args(argv)


def main() -> int:
    args = parse_args()
    raise_nofile(args.phones + 256)
    if args.host not in ("127.0.0.1", "localhost", "::1"):
        print("refusing: this benchmark only talks to the loopback interface", file=sys.stderr)
        return 2
    try:
        if args.loop == "uvloop":
            import uvloop

            result = uvloop.run(amain(args))
        else:
            result = asyncio.run(amain(args))
    except Exception as exc:
        result, code = {"error": f"{type(exc).__name__}: {exc}"}, 1
    else:
        code = 0
    text = json.dumps(result)
    if args.out:
        # a file, not stdout: the event loop may leave stdout non-blocking, which would cut a
        # large document short at the pipe's buffer size
        with open(args.out, "w") as fh:
            fh.write(text)
    else:
        os.set_blocking(sys.stdout.fileno(), True)
        print(text, flush=True)
    if code == 0 and sys.stderr.isatty():
        lat = [x for b in result["broadcasts"] for x in b["lat_ms"]]
        print(summarise(lat), file=sys.stderr)
    return code


if __name__ == "__main__":
    sys.exit(main())

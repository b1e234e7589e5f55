"""The phones of the load benchmark: N phones over two processes and a facilitator's console.

One asyncio process (the light client of ``live_client.py``: raw Engine.IO/Socket.IO over
websockets, receive time taken before any parsing) holds every connection:

* phone ``i`` connects to ``--ports[i % 2]``, as sticky sessions would spread them;
* the facilitator's console connects to the first port and, every ``--interval`` seconds for
  ``--duration`` seconds, sends ``control_run`` ``next_phase`` (app; ``start`` first) or
  ``trigger`` (bare), on a fixed schedule, as a facilitator would, without waiting for the
  phones.  Every fifth phase change of "Eye-gazing rotation" is a new round: re-pairing, and
  each phone also gets its own ``your_pairing``.

After the last command (and ``--grace`` seconds), every phone's ``run_state`` frames are
parsed: for each acknowledged version, a phone's latency is its receive time minus the send
time the server stamped in the payload; a phone that never got that version is a missed
broadcast.  Writes one JSON document to ``--out``; once every phone is connected it creates
``--ready-file``, so the caller can start the visitors.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time
import uuid
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from live_client import (
    Conn,
    Swarm,
    _decode_event,
    _send_time_ms,
    cpu_seconds,
    open_conn,
    raise_nofile,
)

RS, YP = b"run_state", b"your_pairing"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--ports", required=True, help="comma-separated: the processes' ports")
    p.add_argument("--target", choices=("app", "bare"), required=True)
    p.add_argument("--phones", type=int, default=200)
    p.add_argument("--run-id", type=int, default=1)
    p.add_argument("--cookies-file", help="JSON {facilitator: cookie, phones: [...]} (app)")
    p.add_argument("--duration", type=float, default=180.0, help="seconds of commands")
    p.add_argument("--interval", type=float, default=3.0, help="seconds between commands")
    p.add_argument("--grace", type=float, default=5.0, help="seconds to wait after the last")
    p.add_argument("--concurrency", type=int, default=50, help="handshakes in flight")
    p.add_argument("--ack-timeout", type=float, default=60.0)
    p.add_argument("--ready-file", help="created once every phone is connected")
    p.add_argument("--out", required=True)
    return p.parse_args(argv)


class Phones:
    """The swarm, the console and the schedule of commands."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.ports = [int(x) for x in args.ports.split(",")]
        self.swarm = Swarm()
        self.phones: list[Conn] = []
        self.phone_port: list[int] = []
        self.control: Conn | None = None
        self.cookies: dict[str, Any] = {}
        if args.cookies_file:
            self.cookies = json.loads(Path(args.cookies_file).read_text())
        self.commands: list[dict[str, Any]] = []
        self.notes: list[str] = []

    def _auth(self, i: int | None) -> tuple[dict[str, Any], str | None]:
        a = self.args
        if a.target == "bare":
            return ({"as": "control"} if i is None else {"run_id": a.run_id}), None
        if i is None:
            return {"run_id": a.run_id, "as": "facilitator"}, self.cookies["facilitator"]
        return {"run_id": a.run_id}, self.cookies["phones"][i]

    async def connect(self) -> float:
        """Connect the console, then every phone (bounded concurrency); raise if any fails."""
        a = self.args
        t0 = time.time()
        auth, cookie = self._auth(None)
        self.control = await open_conn(self.swarm, a.host, self.ports[0], auth, cookie, False)
        sem = asyncio.Semaphore(a.concurrency)

        async def one(i: int) -> Conn:
            auth, cookie = self._auth(i)
            async with sem:
                return await open_conn(
                    self.swarm, a.host, self.ports[i % len(self.ports)], auth, cookie, True
                )

        results = await asyncio.gather(*(one(i) for i in range(a.phones)), return_exceptions=True)
        errors = [r for r in results if isinstance(r, BaseException)]
        if errors:
            raise RuntimeError(
                f"{len(errors)} of {a.phones} phones failed to connect; first: {errors[0]!r}"
            )
        self.phones = [r for r in results if isinstance(r, Conn)]
        self.phone_port = [self.ports[i % len(self.ports)] for i in range(a.phones)]
        return time.time() - t0

    async def command(self, action: str) -> None:
        """Send one command; record when it left and what the server acknowledged."""
        assert self.control is not None
        a = self.args
        record: dict[str, Any] = {"action": action, "t_cmd": time.time()}
        self.commands.append(record)
        if a.target == "bare":
            fut = self.control.emit("trigger", {"seq": len(self.commands)})
        else:
            fut = self.control.emit(
                "control_run", {"action": action, "command_id": str(uuid.uuid4())}
            )
        try:
            t_ack, ack = await asyncio.wait_for(fut, a.ack_timeout)
        except (TimeoutError, ConnectionError) as exc:
            record["error"] = f"no acknowledgement: {exc!r}"
            return
        body = ack[0] if isinstance(ack, list) and ack else ack
        record["ack_ms"] = round((t_ack - record["t_cmd"]) * 1000.0, 3)
        if not isinstance(body, dict) or body.get("ok") is False:
            record["error"] = f"refused: {body!r}"
            return
        record["version"] = body.get("version")

    async def drive(self) -> float:
        """Commands on a fixed schedule for ``--duration`` seconds; return the wall time."""
        a = self.args
        t0 = time.monotonic()
        tasks: list[asyncio.Task[None]] = []
        if a.target == "app":
            await self.command("start")
        k = 1
        while True:
            due = t0 + k * a.interval
            if due - t0 > a.duration:
                break
            await asyncio.sleep(max(0.0, due - time.monotonic()))
            # do not wait for the acknowledgement: a slow server must not slow the schedule
            tasks.append(asyncio.create_task(self.command("next_phase")))
            k += 1
        await asyncio.gather(*tasks)
        await asyncio.sleep(a.grace)
        return time.monotonic() - t0

    def analyse(self) -> dict[str, Any]:
        """Per broadcast version: each phone's latency, or a miss.

        The versions measured are those the console's commands were acknowledged with, and
        any other a phone received after the first command (an unacknowledged command's, say).
        """
        prefix = len(self.phones[0].p_event) if self.phones else 0
        got: list[dict[Any, tuple[float, float, Any]]] = []
        for p in self.phones:
            seen: dict[Any, tuple[float, float, Any]] = {}
            for t, msg in p.events.get(RS, ()):
                data = _decode_event(msg, prefix)
                version = data.get("version")
                if version in seen:
                    continue
                sent, whole = _send_time_ms(data)
                seen[version] = (t, sent + (0.5 if whole else 0.0), data.get("round_index"))
            got.append(seen)
        if not self.commands:
            return {"broadcasts": [], "frame_bytes": None}
        t_first = self.commands[0]["t_cmd"]
        by_version = {c["version"]: n for n, c in enumerate(self.commands) if "version" in c}
        versions = set(by_version)
        for seen in got:
            versions.update(v for v, (t, _, _) in seen.items() if t >= t_first)
        broadcasts: list[dict[str, Any]] = []
        last_round: Any = None
        for version in sorted(versions):
            first = min((seen[version][0] for seen in got if version in seen), default=None)
            n = by_version.get(version)
            if n is None:  # the command whose acknowledgement never came
                sent_before = [
                    k for k, c in enumerate(self.commands) if first and c["t_cmd"] <= first
                ]
                n = sent_before[-1] if sent_before else 0
            cmd = self.commands[n]
            lat_by_port: dict[int, list[float]] = {port: [] for port in self.ports}
            recv: list[float] = []
            missed = 0
            rounds = set()
            for i, seen in enumerate(got):
                if version not in seen:
                    missed += 1
                    continue
                t, sent_ms, round_index = seen[version]
                lat_by_port[self.phone_port[i]].append(round(t * 1000.0 - sent_ms, 3))
                recv.append(t)
                rounds.add(round_index)
            round_index = next(iter(rounds)) if len(rounds) == 1 else None
            kind = "broadcast"
            if self.args.target == "app":
                kind = "round" if round_index != last_round and n > 0 else "phase"
            info: dict[str, Any] = {
                "action": cmd["action"],
                "version": version,
                "kind": kind,
                "acknowledged": version in by_version,
                "ack_ms": cmd.get("ack_ms") if version in by_version else None,
                "missed": missed,
                "lat_ms": {str(port): xs for port, xs in lat_by_port.items()},
                "cmd_to_last_ms": round((max(recv) - cmd["t_cmd"]) * 1000.0, 3) if recv else None,
            }
            if kind == "round":
                info.update(self._pairings(n))
            broadcasts.append(info)
            last_round = round_index
        sizes = [len(m) for p in self.phones[:1] for _, m in p.events.get(RS, ())]
        return {
            "broadcasts": broadcasts,
            "commands": len(self.commands),
            "command_errors": [c["error"] for c in self.commands if "error" in c],
            "ack_ms": [c["ack_ms"] for c in self.commands if "ack_ms" in c],
            "frame_bytes": max(sizes) if sizes else None,
        }

    def _pairings(self, n: int) -> dict[str, Any]:
        """When each phone got its own pairing after command ``n`` (before the next one)."""
        t_cmd = self.commands[n]["t_cmd"]
        until = self.commands[n + 1]["t_cmd"] if n + 1 < len(self.commands) else float("inf")
        last = 0.0
        missing = 0
        for p in self.phones:
            times = [t for t, _ in p.events.get(YP, ()) if t_cmd <= t < until]
            if times:
                last = max(last, times[0])
            else:
                missing += 1
        return {
            "cmd_to_last_pairing_ms": round((last - t_cmd) * 1000.0, 3) if last else None,
            "pairing_missed": missing,
        }

    def close(self) -> None:
        for p in self.phones:
            p.close()
        if self.control:
            self.control.close()


async def amain(args: argparse.Namespace) -> dict[str, Any]:
    phones = Phones(args)
    out: dict[str, Any] = {"target": args.target, "phones": args.phones, "ports": phones.ports}
    try:
        out["connect_s"] = round(await phones.connect(), 3)
        await asyncio.sleep(1.0)  # let the connect snapshots drain
        if args.ready_file:
            Path(args.ready_file).write_text(str(time.time()))
        cpu0 = cpu_seconds(os.getpid())
        out["window"] = [time.time()]
        out["drive_s"] = round(await phones.drive(), 3)
        out["window"].append(time.time())
        out["client_cpu_s"] = round(cpu_seconds(os.getpid()) - cpu0, 3)
        out["pings_answered"] = sum(p.pings for p in phones.phones)
        out["closed_early"] = sum(1 for p in phones.phones if p.closed.done())
        out.update(phones.analyse())
        out["notes"] = phones.notes
        if args.target == "app" and phones.control is not None:
            try:
                fut = phones.control.emit(
                    "control_run", {"action": "end", "command_id": str(uuid.uuid4())}
                )
                await asyncio.wait_for(fut, 10)
            except Exception as exc:  # report, do not fail the measurement
                phones.notes.append(f"ending the run failed: {exc!r}")
        return out
    finally:
        phones.close()
        await asyncio.sleep(0.2)


def main() -> int:
    """Run; write the JSON document (or an error) to ``--out``."""
    args = parse_args()
    if args.host not in ("127.0.0.1", "localhost"):
        print("refusing: loopback only", file=sys.stderr)
        return 2
    raise_nofile(args.phones + 256)
    code = 0
    try:
        import uvloop
    except ImportError:
        uvloop = None  # type: ignore[assignment]
    try:
        result = uvloop.run(amain(args)) if uvloop else asyncio.run(amain(args))
    except Exception as exc:
        result, code = {"error": f"{type(exc).__name__}: {exc}"}, 1
    Path(args.out).write_text(json.dumps(result))
    return code


if __name__ == "__main__":
    sys.exit(main())

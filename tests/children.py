"""Every process the tests start, so that none outlives the test, or the run, that started it.

Servers, redis-server, localstripe and PostgreSQL clusters are started through ``spawn`` (or
registered with ``track``). ``tests/conftest.py`` stops whatever a test body started once the
test is over, pass or fail, and at the end of the run fails loudly, naming them, if any
process the suite started (or any other child of the test process) is still running.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

#: How long a stopping process may take to exit after SIGTERM before it is killed.
STOP_GRACE_S = 15.0


@dataclass
class Child:
    """One thing the suite started: how to tell it still runs, and how to stop it."""

    what: str
    alive: Callable[[], bool]
    stop: Callable[[], None]


_started: list[Child] = []


def stop_process(process: subprocess.Popen[Any], grace_s: float = STOP_GRACE_S) -> None:
    """Ask a process to end (SIGTERM, and SIGCONT in case it is frozen), then kill it."""
    if process.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        process.terminate()
        process.send_signal(signal.SIGCONT)  # a SIGSTOPped process acts on SIGTERM only then
    try:
        process.wait(timeout=grace_s)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=grace_s)


def spawn(what: str, command: Sequence[str], **popen: Any) -> subprocess.Popen[bytes]:
    """Start ``command`` as a child and remember it under the name ``what``."""
    process: subprocess.Popen[bytes] = subprocess.Popen(list(command), **popen)
    _started.append(
        Child(
            f"{what} (pid {process.pid}: {' '.join(command)})",
            alive=lambda: process.poll() is None,
            stop=lambda: stop_process(process),
        )
    )
    return process


def track(what: str, alive: Callable[[], bool], stop: Callable[[], None]) -> None:
    """Remember something started another way (a daemon such as ``pg_ctl start``)."""
    _started.append(Child(what, alive, stop))


def mark() -> int:
    """Return a mark to pass to ``stop_started_since`` later."""
    return len(_started)


def stop_started_since(position: int) -> list[str]:
    """Stop everything started after ``position`` that still runs; return what was stopped."""
    stopped = []
    for child in _started[position:]:
        if child.alive():
            child.stop()
            stopped.append(child.what)
    return stopped


def untracked_children(parent: int | None = None) -> list[str]:
    """Return the living direct children of ``parent`` (this process) that are not known."""
    parent = os.getpid() if parent is None else parent
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, ValueError, IndexError):
            text = stat.read_text()
            fields = text[text.rindex(")") + 2 :].split()
            state, ppid = fields[0], int(fields[1])
            if ppid == parent and state != "Z":
                pid = int(stat.parent.name)
                command = (stat.parent / "cmdline").read_bytes().replace(b"\0", b" ").decode()
                found.append(f"pid {pid}: {command.strip()[:200]}")
    return found


def leftovers() -> list[str]:
    """Return everything the suite started that still runs."""
    known = [child.what for child in _started if child.alive()]
    tracked_pids = {what.split("pid ")[1].split(":")[0] for what in known if "pid " in what}
    others = [
        line for line in untracked_children() if line.split()[1].rstrip(":") not in tracked_pids
    ]
    return known + [f"untracked child {line}" for line in others]


def stop_all() -> None:
    """Stop everything the suite started that still runs, and kill any other child left."""
    stop_started_since(0)
    for line in untracked_children():
        with contextlib.suppress(ProcessLookupError, ValueError):
            os.kill(int(line.split()[1].rstrip(":")), signal.SIGKILL)

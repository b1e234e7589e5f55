"""Run the pairing engine in worker processes, never on the server's event loop.

Under gevent one greenlet computing for 0.3 s stops every room of the process for 0.3 s:
broadcasts, support acknowledgements, clock syncs and pages. So each pairing is computed by a
child process (this module's `serve`, which imports only the pure engine) and the caller waits
on a pipe. gevent's ``subprocess`` (patched in by
``wsgi.py``) makes that wait cooperative; under threads it blocks only the calling thread, with
the GIL released. A native thread would not do: rustworkx and the engine's Python both hold the
GIL. ``benchmarks/freeze_bench.py`` measures another room's broadcasts meanwhile.

Results are cached by request: the facilitators' preview of the next round and the pairing
stored when that round starts are the same request when nothing changed in between, and are
computed once.

Frames on the pipes are a 4-byte big-endian length and a pickle. Only this module's own child
reads them, so pickle is safe here.
"""

from __future__ import annotations

import atexit
import itertools
import logging
import pickle
import queue
import struct
import subprocess
import sys
import threading
from collections import OrderedDict
from dataclasses import replace
from operator import attrgetter
from pathlib import Path
from typing import IO, Any

from facilitation.exercises.engine.pairing import pair_round
from facilitation.exercises.engine.pairing_types import Pairing, PairingError, PairingRequest

logger = logging.getLogger(__name__)

#: Worker processes per server process (``PAIRING_WORKERS``); 0 pairs in the caller.
DEFAULT_WORKERS = 2
#: Results kept by request; a live run needs two at a time (this round's, the next preview).
CACHE_SIZE = 32

_HEADER = struct.Struct(">I")
_cache: OrderedDict[int, tuple[PairingRequest, Pairing]] = OrderedDict()
_entries = itertools.count()
_cache_lock = threading.Lock()
_pool: _Pool | None = None
_pool_lock = threading.Lock()


def normal_form(request: PairingRequest) -> PairingRequest:
    """Return the request with its people in id order and its do-not-pair pairs as a set.

    Two requests whose normal forms are equal get the same pairing (the engine reads them as
    sets and mappings). Equality compares the history and counts as dicts, in C; hashing
    20,000 past partnerships instead took tens of ms on the event loop.
    """
    return replace(
        request,
        participants=tuple(sorted(request.participants, key=attrgetter("id"))),
        do_not_pair=frozenset(request.do_not_pair),
    )


def pair(request: PairingRequest, workers: int = DEFAULT_WORKERS) -> Pairing:
    """Return the engine's pairing for `request`, from the cache or from a worker process."""
    normal = normal_form(request)
    with _cache_lock:
        for key, (cached, result) in _cache.items():
            if (
                cached.round_number == normal.round_number
                and cached.seed == normal.seed
                and cached == normal
            ):
                _cache.move_to_end(key)
                return result
    result = _pool_of(workers).run(request) if workers > 0 else pair_round(request)
    with _cache_lock:
        _cache[next(_entries)] = (normal, result)
        while len(_cache) > CACHE_SIZE:
            _cache.popitem(last=False)
    return result


def clear_cache() -> None:
    """Forget every cached pairing."""
    with _cache_lock:
        _cache.clear()


def shutdown() -> None:
    """Stop the worker processes (the next pairing starts them again)."""
    global _pool
    with _pool_lock:
        if _pool is not None:
            _pool.close()
            _pool = None


def _pool_of(size: int) -> _Pool:
    """Return the process-wide pool, created on first use (after any monkey-patching)."""
    global _pool
    with _pool_lock:
        if _pool is None or _pool.size != size:
            if _pool is not None:
                _pool.close()
            _pool = _Pool(size)
            atexit.register(_pool.close)
        return _pool


class _Worker:
    """One child process that answers pairing requests one at a time."""

    def __init__(self) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-c", _CHILD, _PACKAGE_DIR],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            close_fds=True,
        )

    def call(self, request: PairingRequest) -> Pairing:
        """Send one request and wait (cooperatively under gevent) for its answer."""
        assert self.proc.stdin is not None and self.proc.stdout is not None
        _write(self.proc.stdin, pickle.dumps(request, protocol=pickle.HIGHEST_PROTOCOL))
        status, value = pickle.loads(_read(self.proc.stdout))
        if status == "refused":
            raise PairingError(*value)
        if status == "failed":
            raise RuntimeError(f"the pairing worker failed: {value}")
        return value  # type: ignore[no-any-return]

    def close(self) -> None:
        """Ask the child to stop (end of input) and reap it."""
        try:
            if self.proc.stdin is not None:
                self.proc.stdin.close()
            self.proc.wait(timeout=5)
        except Exception:  # a child that will not stop is killed
            self.proc.kill()
            self.proc.wait()
        finally:
            if self.proc.stdout is not None:
                self.proc.stdout.close()


class _Pool:
    """Up to `size` workers, started on demand; a caller waits for an idle one."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.started: list[_Worker] = []
        self.idle: queue.Queue[_Worker] = queue.Queue()
        self.lock = threading.Lock()

    def run(self, request: PairingRequest) -> Pairing:
        """Compute one pairing in a worker; pair here if no worker can be had."""
        worker = self._take()
        try:
            result = worker.call(request)
        except (OSError, EOFError, pickle.UnpicklingError, struct.error) as err:
            logger.warning(
                "pairing worker %s failed (%s); pairing in-process", worker.proc.pid, err
            )
            self._drop(worker)
            return pair_round(request)
        except BaseException:
            self.idle.put(worker)  # the engine refused the request: the worker is fine
            raise
        self.idle.put(worker)
        return result

    def _take(self) -> _Worker:
        try:
            return self.idle.get_nowait()
        except queue.Empty:
            pass
        with self.lock:
            if len(self.started) < self.size:
                worker = _Worker()
                self.started.append(worker)
                return worker
        return self.idle.get()

    def _drop(self, worker: _Worker) -> None:
        with self.lock:
            if worker in self.started:
                self.started.remove(worker)
        worker.proc.kill()
        worker.close()

    def close(self) -> None:
        """Stop every worker."""
        with self.lock:
            workers, self.started = self.started, []
        for worker in workers:
            worker.close()


def _write(stream: IO[bytes], payload: bytes) -> None:
    stream.write(_HEADER.pack(len(payload)) + payload)
    stream.flush()


def _read(stream: IO[bytes]) -> bytes:
    (size,) = _HEADER.unpack(_read_exactly(stream, _HEADER.size))
    return _read_exactly(stream, size)


def _read_exactly(stream: IO[bytes], size: int) -> bytes:
    chunks: list[bytes] = []
    while size:
        chunk = stream.read(size)
        if not chunk:
            raise EOFError("pairing worker closed its pipe")
        chunks.append(chunk)
        size -= len(chunk)
    return b"".join(chunks)


def serve(reader: IO[bytes], writer: IO[bytes]) -> None:
    """Answer framed pairing requests until the input ends (the child's main loop)."""
    while True:
        try:
            request = pickle.loads(_read(reader))
        except EOFError:
            return
        answer: tuple[str, Any]
        try:
            answer = ("ok", pair_round(request))
        except PairingError as err:  # a refused request goes back to the caller as such
            answer = ("refused", (err.code, str(err)))
        except Exception as err:
            answer = ("failed", repr(err))
        _write(writer, pickle.dumps(answer, protocol=pickle.HIGHEST_PROTOCOL))


#: Where the ``facilitation`` package lives, for the child's imports.
_PACKAGE_DIR = str(Path(__file__).resolve().parents[1])
#: The child's program. It stands in an empty ``facilitation`` package so that importing the
#: engine does not run ``facilitation/__init__.py`` (Flask, SQLAlchemy, every domain): the
#: child loads only the pure engine and rustworkx, and starts in a fraction of the time.
_CHILD = """
import sys, types
package = types.ModuleType("facilitation")
package.__path__ = [sys.argv[1]]
sys.modules["facilitation"] = package
from facilitation.exercises.pairing_worker import serve
serve(sys.stdin.buffer, sys.stdout.buffer)
"""

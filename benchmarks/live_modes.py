"""Async modes the fan-out benchmark serves under, prepared the same way for both servers.

* ``threading``: Werkzeug's threaded server, websockets from simple-websocket (one thread per
  connection plus engine.io's writer thread).
* ``gevent``: the standard library monkey-patched, gevent's WSGI server, websockets from
  simple-websocket; gevent-websocket is hidden even when installed, so the mode means one thing.
* ``gevent-websocket``: as ``gevent`` but websockets from gevent-websocket (its handler class),
  which must be importable (installed, or on PYTHONPATH).

Call :func:`prepare` first thing in a server process, before Flask or engineio are imported.
"""

from __future__ import annotations

import sys

MODES = ("threading", "gevent", "gevent-websocket")


def prepare(mode: str) -> str:
    """Monkey-patch as the mode needs; return the async_mode to give Flask-SocketIO."""
    if mode not in MODES:
        raise SystemExit(f"unknown mode {mode!r}; choose from {', '.join(MODES)}")
    if mode == "threading":
        return "threading"
    from gevent import monkey

    monkey.patch_all()
    if mode == "gevent":
        sys.modules["geventwebsocket"] = None  # type: ignore[assignment]  (import fails)
    else:
        import geventwebsocket  # noqa: F401  (fail loudly if it is missing)
    return "gevent"


def websocket_flavour(async_mode: str) -> str:
    """Which websocket implementation engine.io actually uses in this process."""
    if async_mode == "threading":
        return "simple-websocket (threads)"
    import engineio.async_drivers.gevent as driver

    if getattr(driver, "SimpleWebSocketWSGI", None) is None:
        return "gevent-websocket"
    return "simple-websocket (gevent)"


def install_gc_monitor(threshold_ms: float = 10.0) -> None:
    """Print each garbage-collector pause of at least ``threshold_ms`` to stderr.

    Lines read ``GCPAUSE gen=<n> ms=<pause> at=<epoch s>``; ``fanout_bench.py`` counts those
    that fall inside the measured broadcasts, to explain outliers.
    """
    import gc
    import time

    started: list[float] = [0.0]

    def callback(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            started[0] = time.perf_counter()
            return
        pause = (time.perf_counter() - started[0]) * 1000.0
        if pause >= threshold_ms:
            print(
                f"GCPAUSE gen={info.get('generation')} ms={pause:.1f} at={time.time():.3f}",
                file=sys.stderr,
                flush=True,
            )

    gc.callbacks.append(callback)

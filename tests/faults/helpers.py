"""Shared pieces of the fault tests: server settings, phones, and "in sync" checks."""

from __future__ import annotations

import contextlib
import os
import shutil
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path

import pytest
from flask import Flask

from facilitation.exercises.models import Run
from facilitation.extensions import db
from tests.exercises.live_helpers import session_cookie
from tests.live_server import PATIENCE_S, LiveClient
from tests.services import in_ci

#: The browser client's reconnection settings (static/js/exercises/live-common.js).
#: socket.io-client caps the jittered delay at 3 s; python-socketio jitters after capping
#: (±50 %), so a 2 s cap gives the same longest wait.
RECONNECT = {"reconnection_delay": 0.5, "reconnection_delay_max": 2.0}
#: How far a phone's shown remaining time may be from the server's (issue #8).
REMAINING_TOLERANCE_MS = 250
#: Set to 1 on a quiet machine to hold the fault tests to issue #8's timing targets.
CHECK_TIMING = os.environ.get("GATHERWELL_CHECK_TIMING") == "1"


def meets_target(figure: float, target: float, what: str) -> None:
    """Hold ``figure`` to ``target`` when timing is checked; otherwise only report it.

    The fault tests always prove that every screen heals and nothing is lost or doubled,
    waiting up to ``PATIENCE_S`` for it. How *fast* it heals (issue #8's 10 s, 15 s and
    250 ms) is a figure of the machine as much as of the code: on two cores shared with other
    work, the same run takes several times longer. So the figures are printed on every run
    and asserted only with ``GATHERWELL_CHECK_TIMING=1`` (docs/faults.md).
    """
    print(f"\n{what}: {figure:.2f} (target {target:g})")
    if CHECK_TIMING:
        assert figure <= target, f"{what}: {figure:.2f} over the target of {target:g}"


def binary_or_skip(name: str) -> None:
    """Skip (or fail, in CI) when a program the test starts is not installed."""
    if shutil.which(name) is None:
        message = f"{name} is not installed"
        if in_ci():
            pytest.fail(f"{message}; CI requires it", pytrace=False)
        pytest.skip(message)


def server_env(app: Flask, uri: str, tmp_path: Path, redis_url: str = "") -> dict[str, str]:
    """Return the environment of a server process sharing ``uri`` (and Redis, if given)."""
    return {
        "DATABASE_URL": uri,
        "SECRET_KEY": app.config["SECRET_KEY"],
        "ENCRYPTION_KEY": app.config["ENCRYPTION_KEY"],
        "FACILITATION_INSTANCE_PATH": str(tmp_path),
        "FACILITATION_SOCKETIO_CHANNEL": f"gatherwell-faults-{tmp_path.name}",
        "REDIS_URL": redis_url,
    }


def connect_phones(app: Flask, urls: list[str], run_id: int, people: list) -> list[LiveClient]:  # type: ignore[type-arg]
    """Connect one phone per person (to ``urls[i % len(urls)]``), a few at a time."""

    cookies = [session_cookie(app, person) for person in people]  # here: threads have no app

    def one(i: int) -> LiveClient:
        return LiveClient(urls[i % len(urls)], run_id, cookies[i], **RECONNECT)  # type: ignore[arg-type]

    with ThreadPoolExecutor(4) as pool:
        return list(pool.map(one, range(len(people))))


def console_for(app: Flask, url: str, run_id: int, facilitator) -> LiveClient:  # type: ignore[no-untyped-def]
    """Connect a facilitator console."""
    return LiveClient(
        url, run_id, session_cookie(app, facilitator), **RECONNECT, **{"as": "facilitator"}
    )  # type: ignore[arg-type]


def stored_run(run_id: int) -> Run:
    """Return the run as the database has it now."""
    db.session.expire_all()
    run = db.session.get(Run, run_id)
    assert run is not None
    return run


def deadline_ms(iso: str | None) -> float | None:
    """Return an ISO deadline as milliseconds since the epoch."""
    return datetime.fromisoformat(iso).timestamp() * 1000 if iso else None


def out_of_sync(client: LiveClient, run: Run) -> str | None:
    """Say how a client's latest run_state differs from the stored run (None: it agrees)."""
    state = client.latest("run_state")
    if state is None:
        return "no run_state"
    expected = {
        "version": run.version,
        "status": run.status,
        "round_index": run.round_index,
        "phase_index": run.phase_index,
        "deadline": deadline_ms(run.phase_deadline.isoformat()) if run.phase_deadline else None,
    }
    got = {k: state[k] for k in expected if k != "deadline"}
    got["deadline"] = deadline_ms(state["deadline"])
    return None if got == expected else f"has {got}, database has {expected}"


def wait_in_sync(clients: list[LiveClient], run_id: int, timeout: float = PATIENCE_S) -> float:
    """Wait until every client agrees with the database; return the seconds it took."""
    start = time.monotonic()
    while True:
        run = stored_run(run_id)
        problems = {i: p for i, c in enumerate(clients) if (p := out_of_sync(c, run))}
        if not problems:
            return time.monotonic() - start
        if time.monotonic() - start > timeout:
            raise AssertionError(
                f"{len(problems)} screens out of sync after {timeout}s: {problems}"
            )
        time.sleep(0.05)


def remaining_errors_ms(clients: list[LiveClient], run: Run) -> list[float]:
    """Return, per client, how far its shown remaining time is from the server's.

    A client shows ``deadline - (local now + estimated offset)``; the server's is
    ``deadline - now``. Same machine, same clock: the error is the offset's error.
    """

    def one(client: LiveClient) -> float:
        offset = client.clock_offset_ms()
        state = client.latest("run_state")
        assert state is not None
        now = time.time() * 1000
        shown = deadline_ms(state["deadline"]) - (now + offset)  # type: ignore[operator]
        actual = deadline_ms(state["deadline"]) - now  # type: ignore[operator]
        return abs(shown - actual)

    with ThreadPoolExecutor(4) as pool:
        return list(pool.map(one, clients))


def close_all(clients: list[LiveClient]) -> None:
    """Disconnect every client, ignoring those whose server is gone."""

    def one(client: LiveClient) -> None:
        with contextlib.suppress(Exception):  # a client of a killed server may be gone already
            client.close()

    # Each disconnect waits a moment for its reader threads: close them all at once.
    with ThreadPoolExecutor(max(1, len(clients))) as pool:
        list(pool.map(one, clients))


def open_browser_phone(browser, url: str, app: Flask, user, run_id: int):  # type: ignore[no-untyped-def]
    """Open the real phone page in ``browser``, logged in as ``user``; return the page."""
    from tests.browser import Offline

    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    Offline(url).attach(context)
    context.add_cookies([{"name": "session", "value": session_cookie(app, user), "url": url}])
    page = context.new_page()
    page.goto(f"{url}/live/{run_id}")
    page.wait_for_selector("#partner-card[data-state]")
    return page


def wait_browser_in_sync(page, run: Run, timeout: float) -> float:  # type: ignore[no-untyped-def]
    """Wait until the page counts down to the stored deadline in the stored phase.

    ``window.liveDebug`` (live-common.js) holds the page's phase key and where its countdown
    ends in local milliseconds; the browser shares this machine's clock. Return the
    remaining-time error in milliseconds.
    """
    end = deadline_ms(run.phase_deadline.isoformat()) if run.phase_deadline else None
    key = f"{run.round_index}:{run.phase_index}"
    page.wait_for_function(
        "([key, end]) => window.liveDebug && window.liveDebug.key === key"
        " && Math.abs(window.liveDebug.endMs - end) < 1000",
        arg=[key, end],
        timeout=timeout * 1000,
    )
    return abs(page.evaluate("window.liveDebug.endMs") - end)

"""Fault: the server is killed mid-phase with 20 phones connected (issue #8).

All phones come back by themselves and agree with the database within 10 s of the server
answering again, each showing the remaining time within 250 ms, and facilitator commands
sent around the crash are applied exactly once when retried with the same command id.
"""

from __future__ import annotations

import time
from datetime import timedelta

import sqlalchemy as sa

from facilitation.exercises.models import RunCommand
from facilitation.extensions import db
from tests.browser import chromium_or_skip, launched
from tests.exercises.live_helpers import command, make_run
from tests.faults.helpers import (
    PATIENCE_S,
    REMAINING_TOLERANCE_MS,
    close_all,
    connect_phones,
    console_for,
    meets_target,
    open_browser_phone,
    remaining_errors_ms,
    server_env,
    stored_run,
    wait_browser_in_sync,
    wait_in_sync,
)
from tests.live_server import ServerProcess

PHONES = 20


def wait_until(predicate, timeout: float = PATIENCE_S) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def command_stored(run_id: int, command_id: str) -> bool:
    db.session.expire_all()
    return (
        db.session.scalar(
            sa.select(RunCommand.id).where(
                RunCommand.run_id == run_id, RunCommand.command_id == command_id
            )
        )
        is not None
    )


def test_server_killed_with_twenty_phones(pg_app, postgres_uri, tmp_path):
    chromium_or_skip()
    run, facilitator, people = make_run(PHONES)
    env = server_env(pg_app, postgres_uri, tmp_path)
    server = ServerProcess(env, log_dir=tmp_path).start()
    servers, clients = [server], []
    try:
        with launched() as browser:
            # One phone is the real browser client: it must reconnect by itself.
            page = open_browser_phone(browser, server.url, pg_app, people[0], run.id)
            phones = connect_phones(pg_app, [server.url], run.id, people[1:])
            console = console_for(pg_app, server.url, run.id, facilitator)
            clients += [console, *phones]

            assert console.call("control_run", {"action": "start", "command_id": command()})["ok"]
            wait_in_sync([console, *phones], run.id, timeout=PATIENCE_S)
            started = stored_run(run.id)
            first_deadline, first_version = started.phase_deadline, started.version

            # Command A is applied, then the server dies at once: its ack may be lost.
            a, b, answers = command(), command(), []
            console.send(
                "control_run", {"action": "adjust", "delta_s": 30, "command_id": a}, answers
            )
            wait_until(lambda: command_stored(run.id, a))
            server.freeze()
            # Command B goes to a server that reads nothing any more: it is lost on the wire.
            console.send(
                "control_run", {"action": "adjust", "delta_s": 20, "command_id": b}, answers
            )
            time.sleep(0.3)
            killed_at = time.monotonic()
            server.kill()
            assert not command_stored(run.id, b)

            restarted = ServerProcess(env, port=server.port, log_dir=tmp_path).start()
            servers.append(restarted)
            back_at = time.monotonic()

            # The console, back by itself, retries both: the one the server had is repeated.
            wait_until(lambda: console.client.connected and "/live" in console.client.namespaces)
            retry_a = console.call(
                "control_run", {"action": "adjust", "delta_s": 30, "command_id": a}
            )
            retry_b = console.call(
                "control_run", {"action": "adjust", "delta_s": 20, "command_id": b}
            )
            assert retry_a["ok"] and retry_a.get("repeated") is True, retry_a
            assert retry_b["ok"] and not retry_b.get("repeated"), retry_b

            took = wait_in_sync([console, *phones], run.id, timeout=PATIENCE_S)
            final = stored_run(run.id)
            assert final.phase_deadline == first_deadline + timedelta(seconds=50)
            assert final.version == first_version + 2
            assert (final.round_index, final.phase_index) == (0, 0)

            # The browser phone shows the new deadline (its local countdown's end).
            page_error = wait_browser_in_sync(page, final, PATIENCE_S)
            in_sync_after = time.monotonic() - back_at

            errors = remaining_errors_ms(phones, final)
            print(
                f"\nserver back {back_at - killed_at:.1f}s after the kill; all {PHONES} phones in "
                f"sync {in_sync_after:.1f}s after that (python phones {took:.1f}s after the "
                f"retries); remaining-time error max {max(errors):.0f} ms, browser "
                f"{page_error:.0f} ms"
            )
            meets_target(in_sync_after, 10, "seconds until every phone was in sync")
            meets_target(max(errors), REMAINING_TOLERANCE_MS, "python phones' time error (ms)")
            meets_target(page_error, REMAINING_TOLERANCE_MS, "browser phone's time error (ms)")
            page.context.close()
    finally:
        close_all(clients)
        for process in servers:
            process.stop()

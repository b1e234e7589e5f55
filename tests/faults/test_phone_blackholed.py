"""Fault: a phone's network goes silent for 30 s (a Wi-Fi drop), then comes back (issue #8).

Two phones reach the server through a proxy that stops moving bytes without closing
anything while the facilitator moves the run on. One network comes back with its TCP
connection intact (what was buffered flows; a close the server made meanwhile arrives);
the other comes back with its old connections dead, as after a change of network. Each
phone agrees with the database, showing the right remaining time, within 6 s of the
network's return.
"""

from __future__ import annotations

import time

from tests.exercises.live_helpers import command, make_run, session_cookie
from tests.faults.helpers import (
    PATIENCE_S,
    RECONNECT,
    REMAINING_TOLERANCE_MS,
    close_all,
    connect_phones,
    console_for,
    meets_target,
    remaining_errors_ms,
    server_env,
    stored_run,
    wait_in_sync,
)
from tests.live_server import BlackholeProxy, LiveClient, ServerProcess

BLACKHOLE_S = 30
RESYNC_WITHIN_S = 6


def test_phone_blackholed_for_thirty_seconds(pg_app, postgres_uri, tmp_path):
    run, facilitator, people = make_run(6)
    server = ServerProcess(server_env(pg_app, postgres_uri, tmp_path), log_dir=tmp_path).start()
    proxies = [BlackholeProxy(server.port), BlackholeProxy(server.port)]
    clients: list[LiveClient] = []
    try:
        console = console_for(pg_app, server.url, run.id, facilitator)
        others = connect_phones(pg_app, [server.url], run.id, people[2:])
        dropped = [
            LiveClient(proxy.url, run.id, session_cookie(pg_app, person), **RECONNECT)  # type: ignore[arg-type]
            for proxy, person in zip(proxies, people[:2], strict=True)
        ]
        clients += [console, *others, *dropped]
        for client in clients:
            client.keep_in_sync()  # as the browser client does
        assert console.call("control_run", {"action": "start", "command_id": command()})["ok"]
        wait_in_sync(clients, run.id, timeout=PATIENCE_S)

        for proxy in proxies:
            proxy.blackhole()
        dropped_at = time.monotonic()
        # The room moves on: two phase changes and more time, seen by everyone else.
        for action in ({"action": "next_phase"}, {"action": "next_phase"}):
            assert console.call("control_run", {**action, "command_id": command()})["ok"]
            time.sleep(5)
        answer = console.call(
            "control_run", {"action": "adjust", "delta_s": 45, "command_id": command()}
        )
        assert answer["ok"], answer
        wait_in_sync([console, *others], run.id, timeout=PATIENCE_S)
        stale = stored_run(run.id)
        assert stale.phase_index == 2
        for phone in dropped:
            assert phone.latest("run_state")["phase_index"] == 0  # type: ignore[index]

        time.sleep(max(0.0, BLACKHOLE_S - (time.monotonic() - dropped_at)))
        proxies[0].restore()
        proxies[1].restore(reset=True)
        back_at = time.monotonic()
        took = wait_in_sync(dropped, run.id, timeout=PATIENCE_S)
        errors = remaining_errors_ms(dropped, stored_run(run.id))
        # Whether each connection survived depends on where the server's ping fell.
        dropped_connections = [phone.disconnects for phone in dropped]
        print(
            f"\nnetwork back after {back_at - dropped_at:.1f}s; both phones in sync {took:.1f}s "
            f"later; remaining-time error {max(errors):.0f} ms; "
            f"connections dropped {dropped_connections}"
        )
        meets_target(took, RESYNC_WITHIN_S, "seconds until both phones were in sync")
        meets_target(max(errors), REMAINING_TOLERANCE_MS, "remaining-time error (ms)")
    finally:
        close_all(clients)
        for proxy in proxies:
            proxy.close()
        server.stop()

"""Flood throttling of live sockets, support-signal dedupe, and oversized frames."""

from __future__ import annotations

import contextlib
import json
import threading
import time

import pytest

from facilitation.exercises import connections, throttle
from facilitation.exercises.models import SupportSignal
from facilitation.extensions import db, socketio
from tests.exercises.live_helpers import make_run
from tests.exercises.test_live_processes import cookie, server_env
from tests.factories import PASSWORD
from tests.faults.helpers import meets_target
from tests.live_server import PATIENCE_S, LiveClient, ServerProcess

NS = "/live"

# --- the pure throttle ---------------------------------------------------------------------


def test_the_throttle_is_pure():
    from tests.core.test_pure_core import PURE  # each is checked there, imports followed

    assert "facilitation.exercises.throttle" in PURE


def test_a_bucket_allows_its_burst_then_its_rate():
    rate = throttle.Rate(burst=3, per_second=2.0)
    bucket = throttle.Bucket(rate, now=0.0)
    assert [bucket.take(rate, 0.0) for _ in range(4)] == [True, True, True, False]
    assert bucket.take(rate, 0.4) is False  # 0.8 of a token
    assert bucket.take(rate, 0.5) is True  # one token after half a second
    assert bucket.take(rate, 100.0) and bucket.tokens == 2.0  # never more than the burst


def test_sustained_flooding_asks_for_a_disconnect_and_calm_forgives():
    limits = throttle.Throttle(events=throttle.Rate(2, 1.0), disconnect_after=3)
    verdicts = [limits.check("s", 0.0) for _ in range(5)]
    assert [v.allowed for v in verdicts] == [True, True, False, False, False]
    assert [v.disconnect for v in verdicts] == [False, False, False, False, True]
    limits.check("t", 0.0)
    limits.check("t", 0.0)
    assert limits.check("t", 0.0) == throttle.Verdict(False)
    assert limits.check("t", 2.0).allowed  # a full refill: the refusals are forgiven
    limits.check("t", 2.0)
    assert limits.check("t", 2.0) == throttle.Verdict(False)  # counting from one again


def test_an_accounts_sockets_share_one_bucket():
    limits = throttle.Throttle(
        events=throttle.Rate(20, 10.0), account_events=throttle.Rate(40, 15.0)
    )
    verdicts = [limits.check(f"s{n}", 0.0, user_id=7) for n in range(20) for _ in range(3)]
    assert sum(v.allowed for v in verdicts) == 40  # 20 sockets x 3 would be 60 per socket
    assert limits.check("other", 0.0, user_id=8).allowed  # someone else is not held back
    assert limits.check("projector", 0.0).allowed  # nor a screen without an account
    assert limits.check("s0", 1.0, user_id=7).allowed  # 15 a second come back


def test_an_accounts_flood_disconnects_each_of_its_sockets():
    limits = throttle.Throttle(
        events=throttle.Rate(5, 1.0), account_events=throttle.Rate(6, 1.0), disconnect_after=4
    )
    verdicts = [limits.check(f"s{n}", 0.0, user_id=7) for n in range(3) for _ in range(4)]
    assert [v.allowed for v in verdicts].count(True) == 6
    assert verdicts[-1].disconnect  # six refusals of the account, each under its socket's rate


def test_reconnecting_does_not_refill_an_accounts_buckets():
    limits = throttle.Throttle(account_events=throttle.Rate(4, 1.0))
    for _ in range(4):
        assert limits.check("a", 0.0, user_id=7).allowed
    assert limits.support_allowed(7, 0.0)
    limits.forget("a", user_id=7, now=0.0)
    assert limits.sizes() == (0, 1)  # the account is remembered while it has not calmed down
    assert not limits.check("b", 0.0, user_id=7).allowed  # a new socket, the same empty bucket
    limits.forget("b", user_id=7, now=100.0)  # rested: nothing left to remember
    assert limits.sizes() == (0, 0)


def test_support_presses_reach_the_database_three_at_once_then_one_per_five_seconds():
    limits = throttle.Throttle()
    assert [limits.support_allowed(7, 0.0) for _ in range(4)] == [True, True, True, False]
    assert limits.support_allowed(7, 5.0)
    assert limits.support_allowed(8, 5.0)


def test_forgetting_drops_the_state():
    limits = throttle.Throttle()
    limits.check("a", 0.0, user_id=7)
    limits.check("b", 0.0)
    limits.forget("a", user_id=7, now=1.0)
    assert limits.sizes() == (1, 0)  # its account's bucket has refilled: nothing kept
    limits.forget("b", now=0.0)
    assert limits.sizes() == (0, 0)


def test_accounts_gone_quiet_are_swept():
    limits = throttle.Throttle(account_events=throttle.Rate(2, 1.0))
    for user_id in (1, 2):
        limits.check(f"s{user_id}", 0.0, user_id=user_id)
        limits.check(f"s{user_id}", 0.0, user_id=user_id)
        limits.forget(f"s{user_id}", user_id=user_id, now=0.0)
    assert limits.sizes() == (0, 2)
    limits.check("s3", throttle.SWEEP_S + 1, user_id=3)
    assert limits.sizes() == (1, 1)


# --- through the socket handlers (test client, a hand-stepped clock) -------------------------


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch):
    found = Clock()
    monkeypatch.setattr(connections, "throttle_clock", found)
    return found


def connect(app, user=None, **auth):
    flask_client = app.test_client()
    if user is not None:
        response = flask_client.post("/log-in", data={"email": user.email, "password": PASSWORD})
        assert response.status_code == 302
    client = socketio.test_client(app, namespace=NS, auth=auth, flask_test_client=flask_client)
    assert client.is_connected(NS)
    return client


def call(client, event, payload=None):
    return client.emit(event, payload or {}, namespace=NS, callback=True)


def received(client, name, log):
    log.extend(client.get_received(NS))
    return [e["args"][0] for e in log if e["name"] == name]


def test_a_flooding_socket_is_slowed_while_others_are_answered(app, clock):
    run, _, people = make_run(2)
    flooder = connect(app, people[0], run_id=run.id)
    other = connect(app, people[1], run_id=run.id)
    answers = [call(flooder, "sync_clock", {"t0": n}) for n in range(25)]
    assert all(a["ok"] for a in answers[:20])  # EVENTS: a burst of 20
    assert answers[20] == {
        "ok": False,
        "error": "slow_down",
        "message": "Too many messages at once; wait a moment and try again.",
    }
    assert call(other, "sync_clock", {"t0": 1})["ok"]
    assert call(other, "request_snapshot")["ok"]
    clock.now += 1.0  # ten more tokens a second
    later = [call(flooder, "sync_clock") for _ in range(11)]
    assert [a["ok"] for a in later] == [True] * 10 + [False]


def test_sustained_flooding_disconnects_and_forgets_the_socket(app, clock):
    run, _, people = make_run(2)
    app.extensions["live_throttle"] = limits = throttle.Throttle(disconnect_after=30)
    flooder = connect(app, people[0], run_id=run.id)
    other = connect(app, people[1], run_id=run.id)
    for _ in range(20 + 30):
        call(flooder, "sync_clock")
    assert not flooder.is_connected(NS)
    # The flooder's socket is forgotten; its account is remembered until it has calmed down,
    # so that reconnecting does not bring fresh buckets.
    assert limits.sizes() == (0, 1)
    assert call(other, "sync_clock")["ok"]
    assert limits.sizes() == (1, 2)


def test_repeated_support_presses_reach_the_facilitator_once(app, clock):
    run, facilitator, people = make_run(2)
    console = connect(app, facilitator, run_id=run.id, **{"as": "facilitator"})
    phone = connect(app, people[0], run_id=run.id)
    log: list = []
    received(console, "support_signal", log)  # drop the connect snapshots
    log.clear()
    answers = [call(phone, "signal_support") for _ in range(8)]
    assert all(a["ok"] for a in answers), answers  # the kind answer: heard, never an error
    assert {a["signal_id"] for a in answers} == {answers[0]["signal_id"]}
    assert [a["already_sent"] for a in answers] == [False] + [True] * 7
    assert len(received(console, "support_signal", log)) == 1
    assert db.session.query(SupportSignal).count() == 1

    clock.now += 600  # still open ten minutes later: still one alert (the console chimes)
    assert call(phone, "signal_support")["already_sent"] is True
    assert len(received(console, "support_signal", log)) == 1

    signal_id = answers[0]["signal_id"]
    assert call(console, "acknowledge_support", {"signal_id": signal_id})["ok"]
    again = call(phone, "signal_support")  # seen to, then needed again: a new signal
    assert again["signal_id"] != signal_id and again["already_sent"] is False
    assert [s["signal_id"] for s in received(console, "support_signal", log)] == [
        signal_id,
        again["signal_id"],
    ]


def test_support_is_deduplicated_per_person_across_their_sockets(app, clock):
    run, facilitator, people = make_run(2)
    console = connect(app, facilitator, run_id=run.id, **{"as": "facilitator"})
    phone, tablet = (connect(app, people[0], run_id=run.id) for _ in range(2))
    log: list = []
    received(console, "support_signal", log)
    log.clear()
    first, second = call(phone, "signal_support"), call(tablet, "signal_support")
    assert first["signal_id"] == second["signal_id"] and second["already_sent"] is True
    assert len(received(console, "support_signal", log)) == 1


def test_one_open_signal_is_one_alert_however_often_the_phone_reconnects(app, clock):
    run, facilitator, people = make_run(2)
    console = connect(app, facilitator, run_id=run.id, **{"as": "facilitator"})
    log: list = []
    received(console, "support_signal", log)
    log.clear()
    answers = []
    for _ in range(12):  # a phone on a bad network: connect, press, drop, again and again
        phone = connect(app, people[0], run_id=run.id)
        answers.append(call(phone, "signal_support"))
        phone.disconnect(NS)
        clock.now += 0.8
    assert all(a["ok"] for a in answers), answers
    assert [a["already_sent"] for a in answers] == [False] + [True] * 11
    assert len(received(console, "support_signal", log)) == 1
    assert db.session.query(SupportSignal).count() == 1


def test_an_accounts_sockets_together_are_slowed_and_others_are_not(app, clock):
    run, _, people = make_run(2)
    mine = [connect(app, people[0], run_id=run.id) for _ in range(throttle.MAX_SOCKETS_PER_ACCOUNT)]
    other = connect(app, people[1], run_id=run.id)
    answers = [call(socket, "sync_clock") for socket in mine for _ in range(20)]
    allowed = sum(a["ok"] for a in answers)
    assert allowed == throttle.ACCOUNT_EVENTS.burst, allowed  # not 20 per socket
    assert {a["error"] for a in answers if not a["ok"]} == {"slow_down"}
    assert call(other, "sync_clock")["ok"]


def test_a_newer_socket_of_an_account_replaces_its_oldest(app, clock):
    run, facilitator, people = make_run(2)
    console = connect(app, facilitator, run_id=run.id, **{"as": "facilitator"})
    other = connect(app, people[1], run_id=run.id)
    tabs = [connect(app, people[0], run_id=run.id) for _ in range(throttle.MAX_SOCKETS_PER_ACCOUNT)]
    newest = connect(app, people[0], run_id=run.id)
    oldest, *kept = tabs
    assert not oldest.is_connected(NS)
    told = [e["args"][0] for e in oldest.queue if e["name"] == "replaced"]  # before it went
    assert told and told[0]["code"] == "replaced" and "another screen" in told[0]["message"]
    for client in (*kept, newest, other, console):
        assert client.is_connected(NS)
        assert call(client, "sync_clock")["ok"]
    mine = [c for c in connections._connections.values() if c.user_id == people[0].id]
    assert len(mine) == throttle.MAX_SOCKETS_PER_ACCOUNT


# --- a real server process ---------------------------------------------------------------


@pytest.fixture
def live(pg_app, postgres_uri, tmp_path):
    started: list = []
    yield started
    for item in reversed(started):
        with contextlib.suppress(Exception):  # a client the server dropped may already be gone
            item.close() if isinstance(item, LiveClient) else item.stop()


def _flood(url, run_id, session_cookie, count, answers, hang_ups):
    """Send ``count`` events as fast as possible, reconnecting whenever the server hangs up."""
    import socketio as socketio_client

    sent = 0
    while sent < count:
        gone = threading.Event()
        client = socketio_client.Client(reconnection=False)
        client.on("disconnect", lambda *a, gone=gone: gone.set(), namespace=NS)
        client.connect(
            url,
            namespaces=[NS],
            auth={"run_id": run_id},
            headers={"Cookie": f"session={session_cookie}"},
            transports=["websocket"],
            wait_timeout=PATIENCE_S,
        )
        in_flight_base = sent - len(answers)  # events lost with an earlier connection
        with contextlib.suppress(Exception):  # the server may hang up mid-emit
            while sent < count and not gone.is_set():
                if sent - len(answers) - in_flight_base > 100:  # as fast as it answers
                    time.sleep(0.001)
                    continue
                client.emit("sync_clock", {"t0": sent}, namespace=NS, callback=answers.append)
                sent += 1
        if gone.wait(10):
            hang_ups.append(sent)
        client.disconnect()


def test_one_flooding_phone_does_not_slow_the_others(pg_app, postgres_uri, tmp_path, live):
    run, _, people = make_run(2)
    env = server_env(pg_app, postgres_uri, tmp_path, redis=False)
    server = ServerProcess(env, log_dir=tmp_path).start()
    live.append(server)
    other = LiveClient(server.url, run.id, cookie(pg_app, people[1]))
    live.append(other)
    other.wait_for("your_pairing")

    answers: list = []
    hang_ups: list = []
    flooder = threading.Thread(
        target=_flood,
        args=(server.url, run.id, cookie(pg_app, people[0]), 3000, answers, hang_ups),
    )
    flooder.start()
    round_trips, during_flood, slowest = 0, 0, 0.0
    while flooder.is_alive() or round_trips < 10:
        # The other phone is served *while* the flood goes on, not after it: an event, not a
        # clock. How long each round trip took is reported (2 s on a quiet machine).
        asked = time.monotonic()
        assert other.call("sync_clock", {"t0": round_trips})["ok"]
        assert other.call("request_snapshot")["ok"]
        slowest = max(slowest, time.monotonic() - asked)
        during_flood += flooder.is_alive()
        round_trips += 1
        time.sleep(0.25)  # a phone's pace (faster than any real one), well under its own limit
    flooder.join()
    assert during_flood >= 1, "the other phone was answered only once the flood was over"
    meets_target(slowest, 2, "slowest round trip of the other phone during the flood (s)")
    slow_downs = [a for a in answers if a.get("error") == "slow_down"]
    assert len(answers) >= 2000, len(answers)  # thousands of events reached the server
    assert len(slow_downs) >= 1000 and slow_downs[0]["ok"] is False
    assert len(hang_ups) >= 2  # sustained abuse: hung up on, again after reconnecting
    assert "disconnected for flooding" in server.log()
    assert other.call("sync_clock")["ok"]


def _raw_socket(url: str, run):
    """Open an Engine.IO websocket by hand and connect to /live as the run's projector."""
    import websocket

    ws = websocket.create_connection(
        url.replace("http", "ws") + "/socket.io/?EIO=4&transport=websocket", timeout=10
    )
    assert ws.recv().startswith("0")  # Engine.IO open
    ws.send(f"40{NS}," + json.dumps({"run_id": run.id, "projector_token": run.projector_token}))
    while not (frame := ws.recv()).startswith(f"40{NS}"):
        assert not frame.startswith(f"44{NS}"), frame  # connect refused
    return ws


def _ack(ws, ack_id: int):
    while True:
        frame = ws.recv()
        if frame == "2":
            ws.send("3")
        elif frame.startswith(f"43{NS},{ack_id}"):
            return json.loads(frame[len(f"43{NS},{ack_id}") :])[0]


def test_oversized_frames_are_dropped_by_the_transport_and_others_stay_fine(
    pg_app, postgres_uri, tmp_path, live
):
    import websocket

    run, _, people = make_run(1)
    env = server_env(pg_app, postgres_uri, tmp_path, redis=False)
    server = ServerProcess(env, log_dir=tmp_path).start()
    live.append(server)
    other = LiveClient(server.url, run.id, cookie(pg_app, people[0]))
    live.append(other)

    ws = _raw_socket(server.url, run)
    # Over the 2 KB an event may carry, under the frame limit: refused by the handler.
    ws.send(f"42{NS},1" + json.dumps(["sync_clock", {"t0": 1, "pad": "x" * 5000}]))
    assert _ack(ws, 1)["error"] == "bad_request"
    # Over the frame limit: the transport closes the connection before any handler runs.
    ws.send(f"42{NS},2" + json.dumps(["sync_clock", {"pad": "x" * 200_000}]))
    with pytest.raises((websocket.WebSocketConnectionClosedException, ConnectionError)):
        for _ in range(20):
            frame = ws.recv()
            assert not frame.startswith(f"43{NS},2"), "the oversized event was handled"
            if frame == "":
                raise websocket.WebSocketConnectionClosedException("closed")
    ws.shutdown()  # the server closed it; release the socket itself
    assert server.process is not None and server.process.poll() is None
    assert other.call("sync_clock")["ok"]
    again = _raw_socket(server.url, run)  # and new connections are served
    again.send(f"42{NS},3" + json.dumps(["sync_clock", {"t0": 3}]))
    assert _ack(again, 3)["ok"]
    again.close()

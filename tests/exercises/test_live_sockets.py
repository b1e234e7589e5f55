"""The live socket protocol: who may connect and do what, snapshots, privacy of pairings."""

from datetime import timedelta

import pytest

from facilitation.accounts.models import Role
from facilitation.core.clock import utcnow
from facilitation.exercises import pairings, sockets
from facilitation.exercises.models import Run, SupportSignal
from facilitation.extensions import db, socketio
from facilitation.gatherings.models import Gathering
from tests.exercises.live_helpers import admit, command, make_run
from tests.factories import PASSWORD, make_user

NS = "/live"


def connect(app, user=None, **auth):
    flask_client = app.test_client()
    if user is not None:
        response = flask_client.post("/log-in", data={"email": user.email, "password": PASSWORD})
        assert response.status_code == 302
    return socketio.test_client(app, namespace=NS, auth=auth, flask_test_client=flask_client)


_logs = {}


def events(client, name):
    """Return every payload of ``name`` the client has received so far (kept across calls)."""
    log = _logs.setdefault(id(client), [])
    log.extend(client.get_received(NS))
    return [e["args"][0] for e in log if e["name"] == name]


def latest(client, name):
    found = events(client, name)
    return found[-1] if found else None


def clear(client):
    _logs[id(client)] = []
    client.get_received(NS)


def control(client, action):
    answer = client.emit(
        "control_run", {"action": action, "command_id": command()}, namespace=NS, callback=True
    )
    assert answer["ok"], answer


@pytest.fixture
def room(app):
    run, facilitator, people = make_run(5)
    return run, facilitator, people


def test_anonymous_cannot_connect(app, room):
    run, _, _ = room
    client = connect(app, run_id=run.id)
    assert not client.is_connected(NS)


def test_unknown_run_and_bad_auth_are_refused(app, room):
    _, facilitator, _ = room
    assert not connect(app, facilitator, run_id=999_999).is_connected(NS)
    assert not connect(app, facilitator, run_id="1").is_connected(NS)


def test_projector_needs_the_right_token(app, room):
    run, _, _ = room
    assert not connect(app, run_id=run.id, projector_token="wrong").is_connected(NS)
    projector = connect(app, run_id=run.id, projector_token=run.projector_token)
    assert projector.is_connected(NS)
    assert latest(projector, "run_state")["status"] == "not_started"
    assert latest(projector, "pairing_table")["groups"] == []


def test_a_participant_cannot_connect_as_facilitator(app, room):
    run, _, people = room
    assert not connect(app, people[0], run_id=run.id, **{"as": "facilitator"}).is_connected(NS)
    other = make_user(Role.FACILITATOR)
    db.session.commit()
    assert not connect(app, other, run_id=run.id, **{"as": "facilitator"}).is_connected(NS)


def test_participants_and_projector_cannot_control(app, room):
    run, _, people = room
    phone = connect(app, people[0], run_id=run.id)
    answer = phone.emit(
        "control_run", {"action": "start", "command_id": "x"}, namespace=NS, callback=True
    )
    assert answer["ok"] is False and answer["error"] == "forbidden"
    projector = connect(app, run_id=run.id, projector_token=run.projector_token)
    answer = projector.emit("sit_out", {}, namespace=NS, callback=True)
    assert answer["error"] == "forbidden"
    assert db.session.get(Run, run.id).status == "not_started"


def test_start_sends_each_phone_only_its_own_partner(app, room):
    run, facilitator, people = room
    console = connect(app, facilitator, run_id=run.id, **{"as": "facilitator"})
    phones = {p.id: connect(app, p, run_id=run.id) for p in people}
    for phone in phones.values():
        clear(phone)
    answer = console.emit(
        "control_run", {"action": "start", "command_id": command()}, namespace=NS, callback=True
    )
    assert answer["ok"] is True
    table = latest(console, "pairing_table")
    assert len(table["groups"]) == 2 and table["resting_count"] == 1
    names_by_spot = {g["spot"]: {m["name"] for m in g["members"]} for g in table["groups"]}
    states = []
    for person in people:
        mine = latest(phones[person.id], "your_pairing")
        states.append(mine["state"])
        assert "groups" not in mine
        if mine["state"] == "paired":
            assert len(mine["partners"]) == 1
            partner = mine["partners"][0]["name"]
            assert names_by_spot[mine["spot"]] == {person.display_name, partner}
            assert mine["role"] in {"A", "B"}
        state = latest(phones[person.id], "run_state")
        assert state["status"] == "running" and state["phase"]["name"] == "Arrive"
    assert sorted(states) == ["paired"] * 4 + ["resting"]
    view = latest(console, "facilitator_view")
    assert [r["reason"] for r in view["resting"]] == ["odd_rest"]


def test_phones_never_receive_the_table_or_rest_reasons(app, room):
    run, facilitator, people = room
    console = connect(app, facilitator, run_id=run.id, **{"as": "facilitator"})
    phone = connect(app, people[0], run_id=run.id)
    console.emit("control_run", {"action": "start", "command_id": command()}, namespace=NS)
    names = {e["name"] for e in phone.get_received(NS)}
    assert names <= {"run_state", "your_pairing"}


def test_sit_out_and_support_reach_the_console(app, room):
    run, facilitator, people = room
    console = connect(app, facilitator, run_id=run.id, **{"as": "facilitator"})
    phone = connect(app, people[2], run_id=run.id)
    clear(console)
    assert phone.emit("sit_out", {}, namespace=NS, callback=True)["ok"]
    view = latest(console, "facilitator_view")
    assert {
        "user_id": people[2].id,
        "name": people[2].display_name,
        "state": "sitting_out",
    } in view["present"]
    answer = phone.emit("signal_support", {}, namespace=NS, callback=True)
    assert answer["ok"] and answer["signal_id"]
    signal = latest(console, "support_signal")
    assert signal["name"] == people[2].display_name
    ack = console.emit(
        "acknowledge_support", {"signal_id": signal["signal_id"]}, namespace=NS, callback=True
    )
    assert ack["ok"]
    assert db.session.get(SupportSignal, signal["signal_id"]).acknowledged_at is not None
    assert latest(console, "facilitator_view")["support"] == []


def test_malformed_and_oversized_payloads_change_nothing(app, room):
    run, facilitator, _ = room
    console = connect(app, facilitator, run_id=run.id, **{"as": "facilitator"})
    for payload in (["start"], "start", {"action": "start"}, {"action": 5, "command_id": "a"},
                    {"action": "adjust", "command_id": "b", "delta_s": "lots"},
                    {"action": "start", "command_id": "c" * 100},
                    {"action": "start", "command_id": "d", "pad": "x" * 5000}):  # fmt: skip
        answer = console.emit("control_run", payload, namespace=NS, callback=True)
        assert answer["ok"] is False and answer["error"] == "bad_request", payload
    assert db.session.get(Run, run.id).status == "not_started"


def test_domain_errors_come_back_as_codes(app, room):
    run, facilitator, _ = room
    console = connect(app, facilitator, run_id=run.id, **{"as": "facilitator"})
    answer = console.emit(
        "control_run", {"action": "pause", "command_id": command()}, namespace=NS, callback=True
    )
    assert answer == {"ok": False, "error": "not_running", "message": answer["message"]}


def test_sync_clock_answers_with_server_time(app, room):
    run, _, people = room
    phone = connect(app, people[0], run_id=run.id)
    answer = phone.emit("sync_clock", {"t0": 123}, namespace=NS, callback=True)
    assert answer["t0"] == 123
    assert abs(answer["server_time"] - utcnow().timestamp() * 1000) < 5_000


def test_reconnecting_phone_gets_a_whole_snapshot(app, room):
    run, facilitator, people = room
    console = connect(app, facilitator, run_id=run.id, **{"as": "facilitator"})
    console.emit("control_run", {"action": "start", "command_id": command()}, namespace=NS)
    phone = connect(app, people[0], run_id=run.id)
    received = {e["name"]: e["args"][0] for e in phone.get_received(NS)}
    assert received["run_state"]["status"] == "running"
    assert received["run_state"]["deadline"] is not None
    assert received["your_pairing"]["state"] in {"paired", "resting"}


def test_ticker_broadcasts_the_next_phase(app, room):
    run, facilitator, people = room
    console = connect(app, facilitator, run_id=run.id, **{"as": "facilitator"})
    phone = connect(app, people[0], run_id=run.id)
    console.emit("control_run", {"action": "start", "command_id": command()}, namespace=NS)
    clear(phone)
    sockets.tick_once(utcnow() + timedelta(seconds=31))
    state = latest(phone, "run_state")
    assert state["phase"]["name"] == "Gaze" and state["phase_index"] == 1
    assert sockets.tick_once(utcnow() + timedelta(seconds=31)) == []


def test_join_and_leave_from_a_phone(app, room):
    run, _, _ = room
    newcomer = make_user(name="New Comer")
    admit(db.session.get(Gathering, run.gathering_id), newcomer)
    db.session.commit()
    phone = connect(app, newcomer, run_id=run.id)
    assert latest(phone, "your_pairing")["state"] == "not_joined"
    assert phone.emit("sit_out", {}, namespace=NS, callback=True)["error"] == "not_joined"
    assert phone.emit("join_run", {}, namespace=NS, callback=True)["ok"]
    assert latest(phone, "your_pairing")["state"] == "waiting"
    assert phone.emit("leave_run", {}, namespace=NS, callback=True)["ok"]
    assert latest(phone, "your_pairing")["state"] == "not_joined"


def test_actions_on_an_ended_run_answer_run_ended(app, room):
    run, facilitator, people = room
    console = connect(app, facilitator, run_id=run.id, **{"as": "facilitator"})
    phone = connect(app, people[0], run_id=run.id)
    console.emit("control_run", {"action": "start", "command_id": command()}, namespace=NS)
    console.emit("control_run", {"action": "end", "command_id": command()}, namespace=NS)
    for event in ("sit_out", "signal_support", "leave_run", "join_run"):
        assert phone.emit(event, {}, namespace=NS, callback=True)["error"] == "run_ended", event
    answer = console.emit(
        "control_run",
        {"action": "next_phase", "command_id": command()},
        namespace=NS,
        callback=True,
    )
    assert answer["error"] == "run_ended"


def test_a_banned_person_is_refused_neutrally(app, room):
    from facilitation.consent import safety

    run, _, people = room
    organiser = make_user(Role.ORGANISER)
    safety.ban(organiser, people[0], "reason nobody else sees", now=utcnow())
    db.session.commit()
    assert not connect(app, people[0], run_id=run.id).is_connected(NS)
    from facilitation.core.errors import DomainError
    from facilitation.exercises import participants

    with pytest.raises(DomainError) as err:
        participants.join_run(db.session.get(Run, run.id), people[0], now=utcnow())
    assert err.value.code == "banned" and "reason" not in err.value.message


def test_a_new_round_already_paired_still_sends_its_presence(app, room):
    run, facilitator, people = room
    console = connect(app, facilitator, run_id=run.id, **{"as": "facilitator"})
    for person in people:
        connect(app, person, run_id=run.id)
    control(console, "start")
    round_one = latest(console, "facilitator_view")
    pairings.pair_and_store(db.session.get(Run, run.id), 1, now=utcnow())  # round 2, ahead
    db.session.commit()
    for _ in range(10):  # through round 1's phases into round 2
        clear(console)
        control(console, "next_phase")
        if latest(console, "run_state")["round_index"] == 1:
            break
    # No pairing was made now, but the round changed: the console gets round 2's presence.
    view = latest(console, "facilitator_view")
    assert view is not None and "preview" not in view
    assert view["resting"] != round_one["resting"]  # five people: someone else rests
    stored = pairings.current_round(db.session.get(Run, run.id))
    assert {r["user_id"] for r in view["resting"]} == {r.user_id for r in stored.rests}


def test_the_costly_preview_is_sent_only_when_people_change(app, room):
    run, facilitator, people = room
    console = connect(app, facilitator, run_id=run.id, **{"as": "facilitator"})
    phone = connect(app, people[0], run_id=run.id)
    console.emit("control_run", {"action": "start", "command_id": command()}, namespace=NS)
    clear(console)
    sockets.tick_once(utcnow() + timedelta(seconds=31))  # a phase change only
    assert latest(console, "run_state")["phase_index"] == 1
    assert latest(console, "facilitator_view") is None  # nothing in it changed
    clear(console)
    phone.emit("sit_out", {}, namespace=NS, callback=True)  # who can be paired changed
    view = latest(console, "facilitator_view")
    assert view["preview"] is not None
    assert all(
        people[0].display_name not in m["name"]
        for g in view["preview"]["groups"]
        for m in g["members"]
    )

"""What the healing protocol promises, without real processes: version checks and outages.

``request_snapshot`` with ``known_version`` resends only when the client is behind; a
database that does not answer gives pages a 503 and live events ``database_unavailable``.
"""

from __future__ import annotations

import pytest
from sqlalchemy.exc import OperationalError

from facilitation.core.clock import utcnow
from facilitation.exercises import services
from facilitation.extensions import socketio
from tests.exercises.live_helpers import command, make_run
from tests.factories import PASSWORD

NS = "/live"


def connect(app, user, **auth):  # type: ignore[no-untyped-def]
    flask_client = app.test_client()
    response = flask_client.post("/log-in", data={"email": user.email, "password": PASSWORD})
    assert response.status_code == 302
    client = socketio.test_client(app, namespace=NS, auth=auth, flask_test_client=flask_client)
    client.get_received(NS)  # the snapshots sent on connect
    return client


def names(client) -> list[str]:  # type: ignore[no-untyped-def]
    return [e["name"] for e in client.get_received(NS)]


def test_a_current_version_gets_no_snapshot(app):
    run, _, people = make_run(2)
    phone = connect(app, people[0], run_id=run.id)
    known = {"known_version": run.version}
    answer = phone.emit("request_snapshot", known, namespace=NS, callback=True)
    assert answer == {"ok": True, "version": run.version, "sent": False}
    assert names(phone) == []


def test_a_stale_version_gets_the_snapshots_again(app):
    run, facilitator, people = make_run(2)
    phone = connect(app, people[0], run_id=run.id)
    known = run.version
    services.control(run.id, facilitator, "start", command_id=command(), now=utcnow())
    answer = phone.emit("request_snapshot", {"known_version": known}, namespace=NS, callback=True)
    assert answer["ok"] and answer["sent"] and answer["version"] == known + 1
    assert {"run_state", "your_pairing"} <= set(names(phone))


@pytest.mark.parametrize("known", ["3", 1.5, True])
def test_known_version_must_be_a_whole_number(app, known):
    run, _, people = make_run(2)
    phone = connect(app, people[0], run_id=run.id)
    answer = phone.emit("request_snapshot", {"known_version": known}, namespace=NS, callback=True)
    assert answer["error"] == "bad_request"


def database_down(*args, **kwargs):  # type: ignore[no-untyped-def]
    raise OperationalError("SELECT 1", {}, Exception("connection refused"))


def test_a_live_event_says_the_database_is_not_answering(app, monkeypatch):
    run, _, people = make_run(2)
    phone = connect(app, people[0], run_id=run.id)
    monkeypatch.setattr("facilitation.exercises.sockets.send_snapshots", database_down)
    answer = phone.emit("request_snapshot", {}, namespace=NS, callback=True)
    assert answer["ok"] is False and answer["error"] == "database_unavailable"
    assert "database is not answering" in answer["message"]


def test_a_connection_is_refused_clearly_while_the_database_is_away(app, monkeypatch, caplog):
    from facilitation.exercises import connections

    run, _, people = make_run(2)
    before = dict(connections._connections)
    monkeypatch.setattr("facilitation.exercises.sockets.send_snapshots", database_down)
    flask_client = app.test_client()
    flask_client.post("/log-in", data={"email": people[0].email, "password": PASSWORD})
    with caplog.at_level("WARNING", logger="facilitation.exercises.sockets"):
        phone = socketio.test_client(
            app, namespace=NS, auth={"run_id": run.id}, flask_test_client=flask_client
        )
    # Refused at once (the client retries database_unavailable), nothing left behind.
    assert not phone.is_connected(NS)
    assert connections._connections == before
    assert "live connect refused, database not answering" in caplog.text
    monkeypatch.undo()
    assert connect(app, people[0], run_id=run.id).is_connected(NS)


def test_a_page_says_the_database_is_not_answering(app, client, monkeypatch):
    monkeypatch.setattr("facilitation.gatherings.views.services.upcoming_published", database_down)
    page = client.get("/")
    assert page.status_code == 503 and page.headers["Retry-After"] == "60"
    assert "The database is not answering" in page.get_data(as_text=True)
    as_json = client.get("/", headers={"Accept": "application/json"})
    assert as_json.status_code == 503
    assert as_json.get_json()["error"]["code"] == "database_unavailable"

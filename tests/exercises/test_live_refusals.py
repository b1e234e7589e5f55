"""Connection refusals carry their code to the page, and every code has a message there."""

from __future__ import annotations

import re
from pathlib import Path

from flask import g
from socketio import packet
from sqlalchemy.exc import OperationalError

from facilitation.accounts.models import Role
from facilitation.consent import safety
from facilitation.core.clock import utcnow
from facilitation.exercises import sockets
from facilitation.extensions import db, socketio
from tests.exercises.live_helpers import make_run
from tests.factories import PASSWORD, make_user

NS = "/live"
LIVE_COMMON = Path(__file__).resolve().parents[2] / "static" / "js" / "exercises" / "live-common.js"


def refusal(app, user=None, **auth):
    """Connect and return the ``connect_error`` data the server sent (None: connected)."""
    flask_client = app.test_client()
    if user is not None:
        response = flask_client.post("/log-in", data={"email": user.email, "password": PASSWORD})
        assert response.status_code == 302
    # The test holds one app context, so Flask-Login's user cached in ``g`` would carry over
    # from the previous connection (a real server has a context per event).
    g.pop("_login_user", None)
    client = socketio.test_client(app, flask_test_client=flask_client)  # "/" only, for now
    sent: list = []
    mock = socketio.server._send_packet

    def record(eio_sid, pkt):  # type: ignore[no-untyped-def]
        if pkt.packet_type == packet.CONNECT_ERROR and pkt.namespace == NS:
            # As the browser reads it: the packet encoded and decoded again.
            sent.append(packet.Packet(encoded_packet=pkt.encode()).data)
        return mock(eio_sid, pkt)

    socketio.server._send_packet = record
    try:
        client.connect(namespace=NS, auth=auth)
    finally:
        socketio.server._send_packet = mock
    if client.is_connected(NS):
        return None
    assert len(sent) == 1, sent
    return sent[0]


def test_each_refusal_reaches_the_client_with_its_code_and_message(app):
    run, _, people = make_run(2)
    organiser = make_user(Role.ORGANISER)
    safety.ban(organiser, people[1], "not shown", now=utcnow())
    outsider = make_user(Role.FACILITATOR)
    db.session.commit()
    cases = {
        "bad_request": refusal(app, people[0], run_id="7"),
        "no_such_run": refusal(app, people[0], run_id=999_999),
        "bad_projector_token": refusal(app, run_id=run.id, projector_token="wrong"),
        "not_logged_in": refusal(app, run_id=run.id),
        "not_a_facilitator": refusal(app, outsider, run_id=run.id, **{"as": "facilitator"}),
        "banned": refusal(app, people[1], run_id=run.id),
    }
    for code, data in cases.items():
        assert data is not None, code
        assert data["data"]["code"] == code, data
        assert data["data"]["message"] == data["message"] and data["message"], data
    assert "not shown" not in cases["banned"]["message"]
    assert refusal(app, people[0], run_id=run.id) is None


def test_a_database_outage_is_refused_as_database_unavailable(app, monkeypatch):
    run, _, people = make_run(2)

    def down(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise OperationalError("SELECT 1", {}, Exception("connection refused"))

    monkeypatch.setattr(sockets, "send_snapshots", down)
    data = refusal(app, people[0], run_id=run.id)
    assert data["data"]["code"] == "database_unavailable"


def test_every_refusal_code_has_a_human_message_on_the_pages():
    source = LIVE_COMMON.read_text()
    block = re.search(r"Live\.REFUSALS = \{(.*?)\};", source, re.S)
    assert block, "live-common.js defines Live.REFUSALS"
    shown = set(re.findall(r"^\s*(\w+):", block.group(1), re.M))
    server = set(re.findall(r'_refuse\(\s*"(\w+)"', Path(sockets.__file__).read_text()))
    assert server <= shown, server - shown
    # Codes other parts of the server send or the page makes up: a removal, a replaced
    # socket, a server that cannot be reached.
    assert {"not_registered", "database_unavailable", "offline"} <= shown

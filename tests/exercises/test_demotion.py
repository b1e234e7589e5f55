"""A facilitator demoted, or taken off the gathering, loses an open console at once."""

from __future__ import annotations

import sqlalchemy as sa

from facilitation.accounts.models import Role, User
from facilitation.exercises import connections
from facilitation.extensions import db, socketio
from facilitation.gatherings.models import Gathering, gathering_facilitators
from tests.exercises.live_helpers import command, make_run
from tests.exercises.test_live_sockets import NS, connect
from tests.factories import make_user


def _names(client) -> list[str]:  # type: ignore[no-untyped-def]
    return [e["name"] for e in client.queue if e["namespace"] == NS]


def _console(app, run, facilitator):  # type: ignore[no-untyped-def]
    console = connect(app, facilitator, run_id=run.id, **{"as": "facilitator"})
    assert console.is_connected(NS)
    console.get_received(NS)
    return console


def test_a_demoted_facilitators_open_console_is_closed_at_once(app, client, auth):
    run, facilitator, _ = make_run(2)
    console = _console(app, run, facilitator)
    sid = socketio.server.manager.sid_from_eio_sid(console.eio_sid, NS)
    auth.login(make_user(Role.ORGANISER))
    db.session.commit()
    response = client.post(f"/manage/people/{facilitator.id}/role", data={"role": "participant"})
    assert response.status_code == 302
    assert not console.is_connected(NS)
    assert "removed" in _names(console)
    assert sid not in connections._connections
    assert not connect(app, facilitator, run_id=run.id, **{"as": "facilitator"}).is_connected(NS)


def test_taken_off_the_gathering_closes_the_console(app, client, auth):
    run, facilitator, _ = make_run(2)
    console = _console(app, run, facilitator)
    gathering = db.session.get(Gathering, run.gathering_id)
    organiser = db.session.get(User, gathering.created_by_id)
    db.session.commit()
    auth.login(organiser)
    page = client.get(f"/manage/gatherings/{gathering.id}/edit")
    assert page.status_code == 200
    form = {
        "title": gathering.title,
        "kind": gathering.kind,
        "timezone": gathering.timezone,
        "capacity": str(gathering.capacity),
        "starts_local": "2030-01-10T19:00",
        "ends_local": "2030-01-10T21:00",
        "description_md": "",
        "venue_name": "",
        "venue_address": "",
        "online_url": "",
        "accessibility_notes": "",
    }
    response = client.post(f"/manage/gatherings/{gathering.id}/edit", data=form)
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    db.session.expire_all()
    assert not db.session.get(Gathering, gathering.id).facilitators
    assert not console.is_connected(NS)
    assert "removed" in _names(console)


def test_a_console_left_open_elsewhere_gets_no_private_view_or_support_alert(app):
    # As a console on another process would be: still connected, nobody closed it here.
    run, facilitator, people = make_run(2)
    console = _console(app, run, facilitator)
    phone = connect(app, people[0], run_id=run.id)
    assert phone.emit("join_run", {}, namespace=NS, callback=True)["ok"]
    db.session.execute(
        sa.delete(gathering_facilitators).where(gathering_facilitators.c.user_id == facilitator.id)
    )
    db.session.commit()
    console.get_received(NS)
    assert phone.emit("signal_support", {}, namespace=NS, callback=True)["ok"]
    received = _names(console)
    assert "support_signal" not in received and "facilitator_view" not in received
    # Its next event drops it.
    answer = console.emit(
        "control_run", {"action": "start", "command_id": command()}, namespace=NS, callback=True
    )
    assert answer["ok"] is False and answer["error"] == "not_a_facilitator"
    assert not console.is_connected(NS)


def test_the_remaining_facilitators_still_get_the_alerts(app):
    run, facilitator, people = make_run(2)
    console = _console(app, run, facilitator)
    phone = connect(app, people[0], run_id=run.id)
    assert phone.emit("join_run", {}, namespace=NS, callback=True)["ok"]
    console.get_received(NS)
    assert phone.emit("signal_support", {}, namespace=NS, callback=True)["ok"]
    assert "support_signal" in _names(console)


def test_taken_off_through_the_api_closes_the_console(app, client):
    from tests.api.helpers import bearer, token_for

    run, facilitator, _ = make_run(2)
    console = _console(app, run, facilitator)
    gathering = db.session.get(Gathering, run.gathering_id)
    secret = token_for(db.session.get(User, gathering.created_by_id))
    db.session.commit()
    response = client.patch(
        f"/api/v1/gatherings/{gathering.id}", json={"facilitator_ids": []}, headers=bearer(secret)
    )
    assert response.status_code == 200, response.get_json()
    assert not console.is_connected(NS)
    assert "removed" in _names(console)

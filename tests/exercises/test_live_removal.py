"""Withdrawn consent keeps the phone (unpaired, support at hand); a ban removes it."""

from __future__ import annotations

from flask import g

from facilitation.accounts.models import Role
from facilitation.consent import services as consent
from facilitation.core.clock import utcnow
from facilitation.exercises import services
from facilitation.extensions import db, socketio
from facilitation.gatherings.models import Gathering
from tests.consent.factories import make_agreement, sign
from tests.exercises.live_helpers import command, make_run
from tests.factories import PASSWORD, make_user

NS = "/live"


def as_nobody() -> None:
    """Forget the user Flask-Login cached in ``g``: the test holds one app context for all."""
    g.pop("_login_user", None)


def logged_in(app, user):
    as_nobody()
    flask_client = app.test_client()
    response = flask_client.post("/log-in", data={"email": user.email, "password": PASSWORD})
    assert response.status_code == 302
    return flask_client


def live(app, flask_client, **auth):
    as_nobody()
    client = socketio.test_client(app, namespace=NS, auth=auth, flask_test_client=flask_client)
    assert client.is_connected(NS)
    return client


def received(client, name):
    return [e["args"][0] for e in client.get_received(NS) if e["name"] == name]


def running_room(app):
    """Return a started run whose gathering requires an agreement everyone signed."""
    run, facilitator, people = make_run(4)
    organiser = make_user(Role.ORGANISER)
    agreement = make_agreement(organiser)
    consent.set_required(organiser, db.session.get(Gathering, run.gathering_id), [agreement.id])
    for person in people:
        sign(person, agreement)
    services.control(run.id, facilitator, "start", command_id=command(), now=utcnow())
    db.session.commit()
    return run, facilitator, people, agreement, organiser


def test_withdrawing_consent_unpairs_the_phone_but_keeps_it_connected(app):
    run, facilitator, people, agreement, _ = running_room(app)
    person = logged_in(app, people[0])
    phone = live(app, person, run_id=run.id)
    console = live(app, logged_in(app, facilitator), run_id=run.id, **{"as": "facilitator"})
    phone.get_received(NS)
    console.get_received(NS)

    as_nobody()
    assert person.post(f"/account/agreements/{agreement.id}/withdraw").status_code == 302

    events = phone.get_received(NS)
    assert "removed" not in [e["name"] for e in events]
    assert phone.is_connected(NS)
    mine = [e["args"][0] for e in events if e["name"] == "your_pairing"]
    # Told it is not paired, and why (its own doing); nobody else's reasons.
    assert mine[-1]["state"] == "consent_withdrawn" and mine[-1]["partners"] == []
    view = received(console, "facilitator_view")[-1]
    assert {r["user_id"]: r["reason"] for r in view["resting"]}[people[0].id] == "consent_withdrawn"
    # Still able to ask for support, and still heard.
    answer = phone.emit("signal_support", {}, namespace=NS, callback=True)
    assert answer["ok"] and answer["already_sent"] is False
    assert received(console, "support_signal")[-1]["user_id"] == people[0].id


def test_a_ban_removes_the_phone_and_says_so(app):
    run, _, people, _, organiser = running_room(app)
    phone = live(app, logged_in(app, people[0]), run_id=run.id)
    phone.get_received(NS)
    admin = logged_in(app, organiser)
    as_nobody()
    response = admin.post(
        f"/manage/people/{people[0].id}/ban", data={"reason": "kept private", "confirm": "y"}
    )
    assert response.status_code == 302
    assert not phone.is_connected(NS)
    told = [e["args"][0] for e in phone.queue if e["name"] == "removed"]
    assert told == [{"reason": "banned"}]

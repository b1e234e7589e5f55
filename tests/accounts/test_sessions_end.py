"""Log-out, a password reset, a ban and a role change end every session of the account.

Every session means the cookies of every browser the person is logged in on, and their open
live sockets.
"""

from __future__ import annotations

import pytest

from facilitation.accounts import services
from facilitation.accounts.models import Role
from facilitation.extensions import db, socketio
from tests.accounts.test_password_reset import reset_link
from tests.exercises.live_helpers import make_run
from tests.factories import PASSWORD, make_user

NS = "/live"


def logged_in(app, user):
    client = app.test_client()
    response = client.post("/log-in", data={"email": user.email, "password": PASSWORD})
    assert response.status_code == 302
    return client


def still_logged_in(client) -> bool:
    # A fresh app context, as every real request has: the suite's shared one would keep the
    # person Flask-Login cached on ``g`` by an earlier request.
    with client.application.app_context():
        return client.get("/account").status_code == 200


def organiser_client(app):
    organiser = make_user(Role.ORGANISER)
    db.session.commit()
    return logged_in(app, organiser)


def log_out(app, person):
    client = logged_in(app, person)
    client.post("/log-out")


def reset_password(app, person):
    client = app.test_client()
    link = reset_link(client, person.email)
    new = "a brand new passphrase"
    assert client.post(link, data={"password": new, "confirm": new}).status_code == 302


def ban(app, person):
    response = organiser_client(app).post(
        f"/manage/people/{person.id}/ban", data={"reason": "", "confirm": "y"}
    )
    assert response.status_code == 302


def change_role(app, person):
    response = organiser_client(app).post(
        f"/manage/people/{person.id}/role", data={"role": "facilitator"}
    )
    assert response.status_code == 302


ENDINGS = [log_out, reset_password, ban, change_role]


@pytest.mark.parametrize("end", ENDINGS, ids=lambda f: f.__name__)
def test_every_cookie_of_the_account_stops_working(app, end):
    person = make_user()
    db.session.commit()
    laptop, phone = logged_in(app, person), logged_in(app, person)
    assert still_logged_in(laptop) and still_logged_in(phone)
    end(app, person)
    assert not still_logged_in(laptop)
    assert not still_logged_in(phone)


@pytest.mark.parametrize("end", ENDINGS, ids=lambda f: f.__name__)
def test_every_open_socket_of_the_account_is_closed(app, end):
    run, _, people = make_run(3)
    person = people[0]
    phone = socketio.test_client(
        app, namespace=NS, auth={"run_id": run.id}, flask_test_client=logged_in(app, person)
    )
    assert phone.is_connected(NS)
    end(app, person)
    assert not phone.is_connected(NS)


def test_a_socket_another_process_kept_is_refused_at_its_next_change(app):
    run, _, people = make_run(3)
    person = people[0]
    phone = socketio.test_client(
        app, namespace=NS, auth={"run_id": run.id}, flask_test_client=logged_in(app, person)
    )
    # As if the log-out happened on another process: the sessions end, this socket stays open.
    services.end_sessions(person)
    db.session.commit()
    answer = phone.emit("sit_out", {}, namespace=NS, callback=True)
    assert answer["ok"] is False and answer["error"] == "session_ended"
    assert not phone.is_connected(NS)


def test_a_role_change_to_the_same_role_leaves_sessions_alone(app):
    person = make_user(Role.FACILITATOR)
    db.session.commit()
    laptop = logged_in(app, person)
    change_role(app, person)
    assert still_logged_in(laptop)


def test_a_cookie_from_before_generations_still_works_until_the_first_ending(app):
    person = make_user()
    db.session.commit()
    assert services.load_session_user(str(person.id)) == person
    services.end_sessions(person)
    assert services.load_session_user(str(person.id)) is None
    assert services.load_session_user(f"{person.id}.1") == person
    for junk in ("", "x", "1.x", f"{person.id}.1.1", "9" * 40, f"{person.id}."):
        assert services.load_session_user(junk) is None

"""Forgotten passwords: a signed, expiring, single-use link sent by email."""

import re

import sqlalchemy as sa
from itsdangerous import URLSafeTimedSerializer

from facilitation.accounts import services
from facilitation.extensions import db
from facilitation.messaging.models import OutboxMessage
from tests.factories import PASSWORD, make_user


def reset_link(client, email):
    client.post("/forgot-password", data={"email": email})
    message = db.session.scalars(sa.select(OutboxMessage).order_by(OutboxMessage.id.desc())).first()
    assert message is not None and message.kind == "password_reset"
    return re.search(r"http://gatherwell\.test(/reset-password/\S+)", message.body_text).group(1)


def test_reset_sets_a_new_password_and_the_link_works_once(client, app):
    user = make_user()
    db.session.commit()
    link = reset_link(client, user.email)
    new = "a brand new passphrase"
    response = client.post(link, data={"password": new, "confirm": new})
    assert response.status_code == 302
    client.post("/log-out")
    assert client.post("/log-in", data={"email": user.email, "password": new}).status_code == 302
    client.post("/log-out")
    assert (
        client.post("/log-in", data={"email": user.email, "password": PASSWORD}).status_code == 400
    )
    again = client.post(
        link, data={"password": "yet another phrase", "confirm": "yet another phrase"}
    )
    assert again.status_code == 400
    assert "already been used" in again.get_data(as_text=True)


def test_unknown_address_gets_the_same_answer_and_no_email(client):
    response = client.post("/forgot-password", data={"email": "nobody@example.org"})
    assert response.status_code == 302
    assert db.session.scalar(sa.select(sa.func.count(OutboxMessage.id))) == 0


def test_expired_token_is_refused(client, app, monkeypatch):
    user = make_user()
    db.session.commit()
    token = services.make_reset_token(user)
    app.config["PASSWORD_RESET_MAX_AGE"] = -1
    response = client.get(f"/reset-password/{token}")
    assert response.status_code == 400
    assert "expired" in response.get_data(as_text=True)


def test_forged_token_is_refused_and_changes_nothing(client, app):
    user = make_user()
    db.session.commit()
    before = user.password_hash
    forged = URLSafeTimedSerializer("not-our-secret-key", salt=services.RESET_SALT).dumps(
        {"uid": user.id, "pw": "x"}
    )
    for token in (forged, "garbage"):
        response = client.post(
            f"/reset-password/{token}",
            data={"password": "hijacked password", "confirm": "hijacked password"},
        )
        assert response.status_code == 400
        assert "not valid" in response.get_data(as_text=True)
    db.session.refresh(user)
    assert user.password_hash == before


def test_mismatched_confirmation_is_explained(client):
    user = make_user()
    db.session.commit()
    link = reset_link(client, user.email)
    response = client.post(
        link, data={"password": "a brand new passphrase", "confirm": "different"}
    )
    assert response.status_code == 400
    assert "The two differ." in response.get_data(as_text=True)

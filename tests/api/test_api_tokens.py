"""Personal tokens: made on the account page, shown once, hashed, revoked, expired, refused."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from facilitation.accounts.models import Role
from facilitation.api import tokens
from facilitation.api.models import ApiToken
from facilitation.consent import safety
from facilitation.core.clock import utcnow
from facilitation.extensions import db
from tests.api.helpers import bearer, call, token_for
from tests.factories import make_user


def test_the_page_shows_a_new_secret_once_and_stores_only_its_hash(client, auth):
    person = make_user()
    db.session.commit()
    auth.login(person)
    made = client.post("/account/api-tokens", data={"name": "My sheet", "write": "y"})
    assert made.status_code == 201
    assert made.headers["Cache-Control"] == "no-store"
    page = made.get_data(as_text=True)
    row = db.session.scalar(sa.select(ApiToken))
    secret = page.split("data-token>")[1].split("<")[0]
    assert secret.startswith("gw_") and len(secret) > 40
    assert row.token_hash == tokens.hash_token(secret) and secret not in row.token_hash
    assert row.prefix == secret[:10] and row.scopes == "read write"
    again = client.get("/account/api-tokens").get_data(as_text=True)
    assert secret not in again and row.prefix in again
    assert call(client, "GET", "/api/v1/me", secret).get_json()["id"] == person.id


def test_a_revoked_token_stops_working_at_once(client, auth):
    person = make_user()
    secret = token_for(person)
    db.session.commit()
    assert call(client, "GET", "/api/v1/me", secret).status_code == 200
    auth.login(person)
    row = db.session.scalar(sa.select(ApiToken))
    assert client.post(f"/account/api-tokens/{row.id}/revoke").status_code == 302
    refused = call(client, "GET", "/api/v1/me", secret)
    assert refused.status_code == 401
    assert refused.headers["WWW-Authenticate"].startswith("Bearer")
    assert refused.get_json()["error"]["code"] == "invalid_token"


def test_nobody_revokes_another_persons_token(client, auth):
    owner, other = make_user(), make_user()
    secret = token_for(owner)
    db.session.commit()
    auth.login(other)
    row = db.session.scalar(sa.select(ApiToken))
    assert client.post(f"/account/api-tokens/{row.id}/revoke").status_code == 404
    assert call(client, "GET", "/api/v1/me", secret).status_code == 200


def test_expired_tokens_are_refused(client):
    person = make_user()
    issued = tokens.issue(person, "short", {"read"}, now=utcnow() - timedelta(days=3),
                          expires_in_days=2)  # fmt: skip
    db.session.commit()
    assert call(client, "GET", "/api/v1/me", issued.secret).status_code == 401


def test_banned_and_deactivated_accounts_tokens_stop_working(client):
    organiser, banned, gone = make_user(Role.ORGANISER), make_user(), make_user()
    banned_secret, gone_secret = token_for(banned), token_for(gone)
    db.session.commit()
    assert call(client, "GET", "/api/v1/me", banned_secret).status_code == 200
    safety.ban(organiser, banned, "harm", now=utcnow())
    gone.is_active_account = False
    db.session.commit()
    for secret in (banned_secret, gone_secret):
        refused = call(client, "GET", "/api/v1/me", secret)
        assert refused.status_code == 401
        assert refused.get_json()["error"]["code"] == "account_unavailable"


def test_bad_headers_get_401_with_the_bearer_challenge(client):
    for header in (None, "Basic abc", "Bearer", "Bearer not-ours", "Bearer gw_" + "x" * 43):
        headers = {"Authorization": header} if header else {}
        response = client.get("/api/v1/gatherings", headers=headers)
        assert response.status_code == 401, header
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
        assert set(response.get_json()["error"]) == {"code", "message", "field"}


def test_last_used_is_written_at_most_once_a_minute(app):
    person = make_user()
    secret = token_for(person)
    db.session.commit()
    start = utcnow()
    token = tokens.authenticate(f"Bearer {secret}", now=start)
    assert token.last_used_at == start
    tokens.authenticate(f"Bearer {secret}", now=start + timedelta(seconds=30))
    assert token.last_used_at == start
    later = start + timedelta(seconds=61)
    tokens.authenticate(f"Bearer {secret}", now=later)
    assert token.last_used_at == later


def test_the_api_ignores_session_cookies_and_needs_no_csrf_token(app, client, auth):
    organiser = make_user(Role.ORGANISER)
    secret = token_for(organiser)
    db.session.commit()
    auth.login(organiser)
    assert client.get("/api/v1/me").status_code == 401  # a logged-in browser is not enough
    app.config["WTF_CSRF_ENABLED"] = True
    body = {
        "title": "Made by a script",
        "timezone": "Europe/Berlin",
        "capacity": 12,
        "starts_at": "2030-03-01T18:00:00+01:00",
        "ends_at": "2030-03-01T20:00:00+01:00",
    }
    made = client.post("/api/v1/gatherings", json=body, headers=bearer(secret))
    assert made.status_code == 201, made.get_json()
    assert made.get_json()["status"] == "draft"
    assert made.get_json()["starts_at"] == "2030-03-01T17:00:00+00:00"


def test_door_volunteers_reach_their_token_page_and_check_in_with_it(client, auth):
    door = make_user(Role.DOOR)
    db.session.commit()
    auth.login(door)
    made = client.post("/account/api-tokens", data={"name": "Desk tablet", "write": "y"})
    assert made.status_code == 201
    secret = made.get_data(as_text=True).split("data-token>")[1].split("<")[0]
    assert call(client, "GET", "/api/v1/me", secret).get_json()["role"] == "door"
    assert client.get("/account").status_code == 403  # the rest of the account stays closed


def test_the_token_form_says_what_is_wrong(client, auth):
    person = make_user()
    db.session.commit()
    auth.login(person)
    refused = client.post("/account/api-tokens", data={"name": "", "expires_in_days": "999"})
    assert refused.status_code == 400
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ApiToken)) == 0
    assert "Give the token a name." in refused.get_data(as_text=True)


def test_the_account_page_links_to_the_tokens(client, auth):
    auth.login(make_user())
    assert "/account/api-tokens" in client.get("/account").get_data(as_text=True)

"""Rate limits on log-in, sign-up, password reset and registration (docs/rate-limits.md)."""

from __future__ import annotations

import contextlib
import re
import uuid

import pytest
import requests
import sqlalchemy as sa

from facilitation import create_app
from facilitation.accounts import services as accounts
from facilitation.core import limits
from facilitation.extensions import db, limiter
from facilitation.messaging.models import OutboxMessage
from tests.conftest import _test_config
from tests.factories import PASSWORD, make_gathering, make_user
from tests.live_server import PATIENCE_S, ServerProcess
from tests.services import redis_or_skip, redis_url

ROOM = "203.0.113.7"  # one venue's Wi-Fi: everyone in the room shares this address


@pytest.fixture
def limited(app, database_uri, instance_dir):
    """Give a factory of apps on the test database with rate limits on (elsewhere they are off).

    Flask-Limiter is one object per process: the app made last decides whether limits are on.
    """
    with contextlib.ExitStack() as stack:

        def make(**overrides):
            config = {**_test_config(database_uri, instance_dir), "RATELIMIT_ENABLED": True}
            made = create_app({**config, **overrides})
            stack.enter_context(made.app_context())
            stack.callback(db.engine.dispose)
            stack.callback(db.session.remove)
            return made

        yield make


def post(client, path, data, address=ROOM, **headers):
    return client.post(path, data=data, environ_base={"REMOTE_ADDR": address}, headers=headers)


def log_in(client, email, password=PASSWORD, address=ROOM, **headers):
    return post(client, "/log-in", {"email": email, "password": password}, address, **headers)


def assert_friendly_429(response, words):
    assert response.status_code == 429
    page = response.get_data(as_text=True)
    assert "Please wait a moment" in page and words in page
    assert re.search(r"(about \d+ minutes?|about a minute|under a minute|a few seconds)", page)
    assert int(response.headers["Retry-After"]) > 0


# --- the pure parts ----------------------------------------------------------------------


def test_storage_is_memory_without_redis_and_redis_with_its_own_prefix():
    assert limits.storage_settings({"SOCKETIO_CHANNEL": "gw"})["RATELIMIT_STORAGE_URI"] == (
        "memory://"
    )
    found = limits.storage_settings({"REDIS_URL": "redis://r:6379/0", "SOCKETIO_CHANNEL": "gw"})
    assert found["RATELIMIT_STORAGE_URI"] == "redis://r:6379/0"
    assert found["RATELIMIT_STORAGE_OPTIONS"] == {"key_prefix": "gw:limits"}
    assert found["RATELIMIT_IN_MEMORY_FALLBACK_ENABLED"] is True  # Redis down: count locally
    mine = limits.storage_settings(
        {"REDIS_URL": "redis://r:6379/0", "SOCKETIO_CHANNEL": "gw", "RATELIMIT_KEY_PREFIX": "x"}
    )
    assert mine["RATELIMIT_STORAGE_OPTIONS"] == {"key_prefix": "x"}


@pytest.mark.parametrize(
    ("seconds", "words"),
    [
        (3, "a few seconds"),
        (30, "under a minute"),
        (70, "about a minute"),
        (900, "about 15 minutes"),
        (7200, "about 2 hours"),
    ],
)
def test_waits_are_said_in_words(seconds, words):
    assert limits.wait_text(seconds) == words


# --- log-in ------------------------------------------------------------------------------


def test_failed_log_ins_lock_the_account_from_every_address_and_say_when_to_retry(limited):
    limited_app = limited()
    client = limited_app.test_client()
    user, other = make_user(), make_user()
    db.session.commit()
    for _ in range(10):  # LOG_IN_PER_ACCOUNT: 10 failures per 15 minutes
        assert log_in(client, user.email, "wrong password").status_code == 400
    refused = log_in(client, user.email, "wrong password")
    assert_friendly_429(refused, "too many log-in attempts")
    assert int(refused.headers["Retry-After"]) <= 15 * 60
    # Even the right password, and from another address: the limit is the account's.
    assert log_in(client, user.email, address="198.51.100.9").status_code == 429
    assert log_in(client, user.email.upper(), address="198.51.100.10").status_code == 429
    # Someone else in the same room is not affected.
    assert log_in(client, other.email).status_code == 302


def test_successful_log_ins_cost_nothing(limited):
    client = limited().test_client()
    user = make_user()
    db.session.commit()
    for _ in range(15):
        assert log_in(client, user.email).status_code == 302


def test_successful_log_ins_from_one_address_are_capped_too(limited):
    client = limited(RATELIMIT_LOG_IN_ALL_PER_ADDRESS="5 per minute").test_client()
    user = make_user()
    db.session.commit()
    for _ in range(5):  # each costs a password hash, so even successes count here
        assert log_in(client, user.email).status_code == 302
    assert log_in(client, user.email).status_code == 429
    assert log_in(client, user.email, address="192.0.2.5").status_code == 302


def test_a_room_of_a_hundred_behind_one_address_can_all_log_in(limited):
    client = limited().test_client()
    people = [make_user() for _ in range(100)]
    db.session.commit()
    for i, person in enumerate(people):
        if i % 2:  # half the room mistypes once first
            assert log_in(client, person.email, "typo").status_code == 400
        assert log_in(client, person.email).status_code == 302, i


def test_one_address_spraying_many_accounts_is_stopped(limited):
    client = limited(RATELIMIT_LOG_IN_PER_ADDRESS="20 per minute").test_client()
    for n in range(20):
        assert log_in(client, f"guess{n}@example.org", "guess").status_code == 400
    assert log_in(client, "guess99@example.org", "guess").status_code == 429
    assert log_in(client, "guess99@example.org", "guess", address="192.0.2.1").status_code == 400


def test_behind_a_proxy_the_client_address_counts(limited):
    client = limited(PROXY_COUNT=1, RATELIMIT_LOG_IN_PER_ADDRESS="5 per minute").test_client()

    def attempt(n, forwarded_for):
        return log_in(client, f"g{n}@example.org", "x", **{"X-Forwarded-For": forwarded_for})

    for n in range(5):
        assert attempt(n, "192.0.2.50").status_code == 400
    assert attempt(6, "192.0.2.50").status_code == 429
    # Same proxy (same REMOTE_ADDR), another client behind it: its own count.
    assert attempt(7, "192.0.2.51").status_code == 400


def test_json_clients_get_json(limited):
    client = limited(RATELIMIT_LOG_IN_PER_ACCOUNT="1 per minute").test_client()
    log_in(client, "a@example.org", "x")
    response = log_in(client, "a@example.org", "x", Accept="application/json")
    assert response.status_code == 429
    body = response.get_json()
    assert body["error"]["code"] == "rate_limited"
    assert "log-in attempts" in body["error"]["message"]
    assert body["retry_after_s"] == int(response.headers["Retry-After"]) > 0


def test_api_paths_get_json_and_limits_off_means_off(limited):
    limited_app = limited()

    @limited_app.route("/api/limited-probe")
    @limiter.limit("1 per minute")
    def limited_probe():  # type: ignore[no-untyped-def]
        return {"ok": True}

    client = limited_app.test_client()
    assert client.get("/api/limited-probe").status_code == 200
    refused = client.get("/api/limited-probe")
    assert refused.status_code == 429 and refused.get_json()["error"]["code"] == "rate_limited"

    off = limited(RATELIMIT_ENABLED=False).test_client()
    user = make_user()
    db.session.commit()
    for _ in range(12):
        assert log_in(off, user.email, "wrong").status_code == 400


def test_showing_the_forms_is_never_limited(limited):
    client = limited(RATELIMIT_LOG_IN_PER_ADDRESS="1 per minute").test_client()
    log_in(client, "a@example.org", "x")
    assert log_in(client, "b@example.org", "x").status_code == 429
    for _ in range(5):
        assert client.get("/log-in", environ_base={"REMOTE_ADDR": ROOM}).status_code == 200


# --- sign-up, password reset, registration -----------------------------------------------


def sign_up(client, email, address=ROOM):
    data = {"email": email, "name": "New Person", "password": PASSWORD, "confirm": PASSWORD}
    return post(client, "/sign-up", data, address)


def test_sign_up_is_limited_per_address_and_per_email(limited):
    client = limited(RATELIMIT_SIGN_UP_PER_ADDRESS="3 per minute").test_client()
    for n in range(3):
        assert sign_up(client, f"new{n}@example.org").status_code in {302, 400}
        client.post("/log-out")
    assert_friendly_429(sign_up(client, "new9@example.org"), "too many sign-ups")
    for n in range(10):  # SIGN_UP_PER_ACCOUNT: 10 per hour, whatever the address
        sign_up(client, "same@example.org", address=f"192.0.2.{n}")
        client.post("/log-out")
    assert sign_up(client, "same@example.org", address="192.0.2.99").status_code == 429


def test_reset_links_are_limited_per_email_so_an_inbox_cannot_be_flooded(limited):
    client = limited().test_client()
    user = make_user()
    db.session.commit()
    for n in range(3):  # RESET_REQUEST_PER_ACCOUNT: 3 per hour
        response = post(client, "/forgot-password", {"email": user.email}, f"192.0.2.{n}")
        assert response.status_code == 302
    refused = post(client, "/forgot-password", {"email": user.email}, "192.0.2.77")
    assert_friendly_429(refused, "enough reset links")
    sent = db.session.scalar(
        sa.select(sa.func.count(OutboxMessage.id)).where(OutboxMessage.kind == "password_reset")
    )
    assert sent == 3


def test_the_reset_form_is_limited_per_link(limited):
    client = limited().test_client()
    user = make_user()
    db.session.commit()
    token = accounts.make_reset_token(user)
    bad = {"password": "short", "confirm": "other"}
    for _ in range(10):  # RESET_FORM_PER_LINK: 10 per 10 minutes
        assert post(client, f"/reset-password/{token}", bad).status_code == 400
    assert_friendly_429(post(client, f"/reset-password/{token}", bad), "this reset link")
    assert client.get(f"/reset-password/{token}").status_code == 200  # the page still shows


def test_registration_is_limited_per_person_not_per_room(limited):
    limited_app = limited(RATELIMIT_REGISTER_PER_PERSON="3 per minute")
    gathering = make_gathering()
    eager, other = make_user(), make_user()
    db.session.commit()
    path = f"/gatherings/{gathering.id}/register"
    client = limited_app.test_client()
    log_in(client, eager.email)
    for _ in range(3):
        assert post(client, path, {}).status_code == 400  # an incomplete form, counted
    assert_friendly_429(post(client, path, {}), "too many registration attempts")
    neighbour = limited_app.test_client()
    log_in(neighbour, other.email)
    assert post(neighbour, path, {}).status_code == 400


# --- several processes share counts through Redis ------------------------------------------


def _csrf_post(session: requests.Session, url: str, path: str, data: dict[str, str]) -> int:
    page = session.get(url + path, timeout=PATIENCE_S).text
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)
    assert token, f"no CSRF token on {path}"
    data = {**data, "csrf_token": token.group(1)}
    return session.post(
        url + path, data=data, timeout=PATIENCE_S, allow_redirects=False
    ).status_code


def _csrf_log_in(session: requests.Session, url: str, email: str, password: str) -> int:
    return _csrf_post(session, url, "/log-in", {"email": email, "password": password})


def _two_servers(pg_app, postgres_uri, tmp_path, redis):
    env = {
        "DATABASE_URL": postgres_uri,
        "SECRET_KEY": pg_app.config["SECRET_KEY"],
        "ENCRYPTION_KEY": pg_app.config["ENCRYPTION_KEY"],
        "FACILITATION_INSTANCE_PATH": str(tmp_path),
        # Its own channel, so its own key prefix: counts of other runs never leak in.
        "FACILITATION_SOCKETIO_CHANNEL": f"gatherwell-limits-{uuid.uuid4().hex}",
        "REDIS_URL": redis_url() if redis else "",
    }
    return [ServerProcess(env, log_dir=tmp_path).start() for _ in range(2)]


@pytest.fixture
def stopping():
    servers: list[ServerProcess] = []
    yield servers
    for server in servers:
        server.stop()


@pytest.mark.parametrize("shared", [True, False], ids=["redis", "memory-control"])
def test_two_processes_share_counts_through_redis(pg_app, postgres_uri, tmp_path, stopping, shared):
    if shared:
        redis_or_skip()
    user = make_user()
    db.session.commit()
    a, b = _two_servers(pg_app, postgres_uri, tmp_path, redis=shared)
    stopping += [a, b]
    ask = {"email": user.email}
    with requests.Session() as session:
        for _ in range(3):  # RESET_REQUEST_PER_ACCOUNT: 3 an hour
            assert _csrf_post(session, a.url, "/forgot-password", ask) == 302
        # With Redis, process B knows about A's three requests; each in its own memory does not
        # (the control: this test would pass without sharing only if the limit were broken).
        assert _csrf_post(session, b.url, "/forgot-password", ask) == (429 if shared else 302)


def test_log_in_checks_per_account_are_counted_across_processes_without_redis(
    pg_app, postgres_uri, tmp_path, stopping
):
    user = make_user()
    db.session.commit()
    a, b = _two_servers(pg_app, postgres_uri, tmp_path, redis=False)
    stopping += [a, b]
    with requests.Session() as session:
        for _ in range(10):
            assert _csrf_log_in(session, a.url, user.email, "wrong") == 400
        # Counted in the database (accounts.attempts), so process B refuses the eleventh.
        assert _csrf_log_in(session, b.url, user.email, "wrong") == 429


def test_bodies_up_to_the_largest_form_are_read_and_bigger_ones_get_413(limited):
    client = limited().test_client()
    signature_sized = {"email": "a@example.org", "password": "x", "pad": "x" * 400_000}
    assert post(client, "/log-in", signature_sized).status_code == 400  # read, then refused
    huge = post(client, "/log-in", {"email": "a@example.org", "pad": "x" * 3_000_000})
    assert huge.status_code == 413
    assert "That upload is too large." in huge.get_data(as_text=True)

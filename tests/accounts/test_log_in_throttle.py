"""Log-in checks per account are counted before the password is checked, so they hold at once.

The concurrency test sends a hundred wrong passwords for one account at the same moment, from
a hundred threads with their own requests, sessions and PostgreSQL connections, and counts the
password checks actually made.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime

import pytest

from facilitation import create_app
from facilitation.accounts import attempts, passwords
from facilitation.accounts import services as accounts
from facilitation.accounts import views as account_views
from facilitation.extensions import db
from tests.conftest import _test_config
from tests.factories import PASSWORD, make_user

GUESSES = 100
LIMIT = 10  # LOG_IN_PER_ACCOUNT: 10 per 15 minutes
NOW = datetime(2026, 12, 3, 20, 0, tzinfo=UTC)


@pytest.fixture
def checks(monkeypatch):
    """Count the password checks made (argon2 verifications), from any thread."""
    made = []
    lock = threading.Lock()
    real = passwords._verify

    def counting(*args):
        with lock:
            made.append(1)
        return real(*args)

    monkeypatch.setattr(passwords, "_verify", counting)
    return made


@pytest.fixture
def limits_on(app, monkeypatch):
    # Only the account's count (accounts.attempts) is switched on; Flask-Limiter stays off.
    app.config["RATELIMIT_ENABLED"] = True
    monkeypatch.setattr(account_views, "utcnow", lambda: NOW)  # one window for the whole test


@pytest.fixture
def pg_limited(pg_app, postgres_uri, instance_dir, monkeypatch):
    """Give an app on PostgreSQL with every rate limit on; per address, room for the test."""
    monkeypatch.setattr(account_views, "utcnow", lambda: NOW)
    generous = "10000 per minute"
    config = {
        **_test_config(postgres_uri, instance_dir),
        "RATELIMIT_ENABLED": True,
        "RATELIMIT_LOG_IN_PER_ADDRESS": generous,
        "RATELIMIT_LOG_IN_ALL_PER_ADDRESS": generous,
    }
    made = create_app(config)
    with made.app_context():
        yield made
        db.session.remove()
        db.engine.dispose()


@pytest.mark.postgres_only
def test_a_hundred_simultaneous_guesses_get_ten_checks_and_ninety_429s(pg_limited, checks):
    user = make_user()
    db.session.commit()
    email = user.email
    barrier = threading.Barrier(GUESSES)
    statuses: list[int] = []
    lock = threading.Lock()

    def guess(i: int) -> None:
        client = pg_limited.test_client()
        barrier.wait(timeout=60)
        response = client.post("/log-in", data={"email": email, "password": f"wrong guess {i}"})
        with lock:
            statuses.append(response.status_code)

    threads = [threading.Thread(target=guess, args=(i,)) for i in range(GUESSES)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    assert not any(t.is_alive() for t in threads), "a request hung"
    assert sorted(statuses) == [400] * LIMIT + [429] * (GUESSES - LIMIT)
    assert len(checks) == LIMIT


def test_the_eleventh_check_is_refused_even_with_the_right_password(client, limits_on, checks):
    user = make_user()
    db.session.commit()
    for _ in range(LIMIT):
        wrong = client.post("/log-in", data={"email": user.email, "password": "wrong guess"})
        assert wrong.status_code == 400
    refused = client.post("/log-in", data={"email": user.email, "password": PASSWORD})
    assert refused.status_code == 429
    assert int(refused.headers["Retry-After"]) == 15 * 60
    assert len(checks) == LIMIT


def test_an_unknown_address_is_refused_the_same_way(client, limits_on, checks):
    for _ in range(LIMIT):
        response = client.post("/log-in", data={"email": "nobody@example.org", "password": "x1"})
        assert response.status_code == 400
    assert (
        client.post("/log-in", data={"email": "Nobody@Example.org", "password": "x"}).status_code
        == 429
    )


def test_successful_log_ins_give_their_count_back(client, limits_on):
    user = make_user()
    db.session.commit()
    for _ in range(LIMIT + 5):
        assert (
            client.post("/log-in", data={"email": user.email, "password": PASSWORD}).status_code
            == 302
        )
        client.post("/log-out")
    for _ in range(LIMIT):
        assert (
            client.post("/log-in", data={"email": user.email, "password": "nope"}).status_code
            == 400
        )


def test_the_count_starts_again_when_the_window_ends(app):
    app.config["RATELIMIT_ENABLED"] = True
    spec = "2 per minute"
    for _ in range(2):
        attempts.count("log_in", "a@example.org", spec, now=NOW, message="no")
    with pytest.raises(attempts.TooManyAttempts) as refused:
        attempts.count("log_in", "a@example.org", spec, now=NOW.replace(second=59), message="no")
    assert refused.value.retry_after_s == 1
    later = NOW.replace(minute=1)
    assert attempts.count("log_in", "a@example.org", spec, now=later, message="no").windows


def test_every_door_must_count_before_it_checks(app):
    with pytest.raises(TypeError):
        accounts.authenticate("a@example.org", "x", now=NOW)  # type: ignore[call-arg]


def test_the_erasure_password_check_is_limited_too(client, auth, limits_on, checks, monkeypatch):
    from facilitation.accounts import privacy_views

    monkeypatch.setattr(privacy_views, "utcnow", lambda: NOW)
    user = make_user()
    db.session.commit()
    auth.login(user)
    before = len(checks)
    for _ in range(5):  # ERASE_PER_ACCOUNT: 5 per 15 minutes
        wrong = client.post("/account/erase", data={"password": "a guess", "confirm": "ERASE"})
        assert wrong.status_code == 400
    refused = client.post("/account/erase", data={"password": PASSWORD, "confirm": "ERASE"})
    assert refused.status_code == 429
    assert "too many attempts to confirm with your password" in refused.get_data(as_text=True)
    assert len(checks) - before == 5
    db.session.refresh(user)
    assert user.is_active_account

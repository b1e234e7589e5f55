"""The security header rules one by one, the card page's CSP, error pages, TRUSTED_HOSTS."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask, abort
from werkzeug.wrappers import Response

from facilitation import config as config_module
from facilitation import create_app
from facilitation.accounts.models import Role
from facilitation.core import security
from facilitation.extensions import db
from facilitation.registration.models import Registration
from tests.factories import make_gathering, make_user
from tests.registration.factories import make_option

#: Settings of the test app that a second app on the same database needs too.
SHARED_KEYS = (
    "TESTING",
    "SECRET_KEY",
    "ENCRYPTION_KEY",
    "SQLALCHEMY_DATABASE_URI",
    "WTF_CSRF_ENABLED",
    "ARGON2_TIME_COST",
    "ARGON2_MEMORY_COST",
    "SERVER_NAME",
    "MAIL_URL",
    "STRIPE_SECRET_KEY",
    "STRIPE_PUBLISHABLE_KEY",
    "STRIPE_WEBHOOK_SECRET",
)
STRIPE_LIKE = {
    "STRIPE_JS_URL": "https://js.payments.example/v3/",
    "STRIPE_API_BASE": "https://api.payments.example",
}


def directives(response: Any) -> dict[str, set[str]]:
    """Parse a response's Content-Security-Policy into directive -> sources."""
    parsed = {}
    for part in response.headers["Content-Security-Policy"].split(";"):
        name, *sources = part.split()
        parsed[name] = set(sources)
    return parsed


def assert_hardened(response: Any, *, secure: bool = False) -> None:
    """Check the headers every page must carry."""
    policy = directives(response)
    assert policy["frame-ancestors"] == {"'none'"}
    assert policy["script-src"] == {"'self'"}
    assert policy["default-src"] == {"'self'"}
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert ("Strict-Transport-Security" in response.headers) is secure


@pytest.fixture
def other_app(app) -> Iterator[Any]:
    """Give a factory of apps on the test database with some settings changed."""
    made: list[Flask] = []

    def make(**overrides: Any) -> Flask:
        settings = {key: app.config[key] for key in SHARED_KEYS}
        settings.update(overrides)
        made.append(create_app(settings))
        return made[-1]

    yield make
    for each in made:
        with each.app_context():
            db.engine.dispose()


# --- the policy itself ---------------------------------------------------------------------


def test_the_policy_has_no_inline_code_and_no_framing():
    policy = security.content_security_policy()
    assert "'unsafe-inline'" not in policy and "'unsafe-eval'" not in policy
    assert "frame-ancestors 'none'" in policy
    assert "object-src 'none'" in policy and "base-uri 'none'" in policy
    assert "img-src 'self' data:" in policy  # drawn signatures are shown as data: PNGs
    assert "report-uri" not in policy and "report-to" not in policy


def test_stripe_sources_come_from_the_settings_only():
    extra = security.stripe_sources(STRIPE_LIKE)
    assert extra == {
        "script-src": ("https://js.payments.example",),
        "frame-src": ("https://js.payments.example",),
        "connect-src": ("https://api.payments.example",),
    }
    policy = security.content_security_policy(extra)
    assert "frame-src https://js.payments.example;" in policy  # 'none' is replaced, not kept
    assert "script-src 'self' https://js.payments.example;" in policy


def test_real_stripe_also_gets_its_3d_secure_frames():
    extra = security.stripe_sources(config_module.DEFAULTS)
    assert extra["frame-src"] == ("https://js.stripe.com", "https://hooks.stripe.com")
    assert extra["script-src"] == ("https://js.stripe.com",)
    assert extra["connect-src"] == ("https://api.stripe.com",)


@pytest.mark.parametrize("url", ["", None, "js.stripe.com/v3", "javascript:alert(1)", "*"])
def test_a_missing_or_odd_stripe_url_adds_nothing(url):
    assert security.stripe_sources({"STRIPE_JS_URL": url, "STRIPE_API_BASE": url}) == {}


# --- HSTS ----------------------------------------------------------------------------------


def test_no_hsts_over_plain_http(client):
    response = client.get("/log-in")
    assert_hardened(response, secure=False)


def test_hsts_over_tls_with_the_configured_age(app, client):
    app.config["HSTS_SECONDS"] = 1234
    response = client.get("/log-in", base_url="https://gatherwell.test")
    assert_hardened(response, secure=True)
    assert response.headers["Strict-Transport-Security"] == "max-age=1234"


def test_hsts_can_be_switched_off(app, client):
    app.config["HSTS_SECONDS"] = 0
    response = client.get("/log-in", base_url="https://gatherwell.test")
    assert "Strict-Transport-Security" not in response.headers


def test_a_forwarded_proto_counts_only_behind_a_trusted_proxy(app, other_app):
    forwarded = {"X-Forwarded-Proto": "https"}
    direct = app.test_client().get("/log-in", headers=forwarded)
    assert "Strict-Transport-Security" not in direct.headers
    proxied = other_app(PROXY_COUNT=1).test_client().get("/log-in", headers=forwarded)
    assert proxied.headers["Strict-Transport-Security"].startswith("max-age=")


# --- caching -------------------------------------------------------------------------------


def test_public_pages_may_be_cached_for_guests_only(client, auth):
    gathering = make_gathering()
    user = make_user()
    db.session.commit()
    for url in ("/", f"/gatherings/{gathering.id}", "/calendar.ics"):
        assert "no-store" not in client.get(url).headers.get("Cache-Control", ""), url
    auth.login(user)
    for url in ("/", f"/gatherings/{gathering.id}", "/calendar.ics"):
        assert client.get(url).headers["Cache-Control"] == "no-store", url


def test_personal_pages_are_never_stored_even_for_guests(client):
    for url in ("/log-in", "/sign-up", "/t/not-a-ticket", "/join", "/report-a-concern"):
        assert client.get(url).headers["Cache-Control"] == "no-store", url


# --- the card page -------------------------------------------------------------------------


def test_only_the_card_page_gets_the_stripe_origins(app):
    app.config.update(STRIPE_LIKE)
    with app.test_request_context("/registrations/1/pay"):
        card = directives(security.add_headers(Response("")))
    with app.test_request_context("/registrations/1"):
        other = directives(security.add_headers(Response("")))
    assert card["script-src"] == {"'self'", "https://js.payments.example"}
    assert card["frame-src"] == {"https://js.payments.example"}
    assert card["connect-src"] == {"'self'", "https://api.payments.example"}
    assert card["img-src"] == other["img-src"] == {"'self'", "data:"}
    assert "payments.example" not in str(other)
    assert other["frame-src"] == {"'none'"}


def test_the_real_card_page_allows_localstripe_and_nothing_else(app, client, auth, localstripe):
    localstripe.flush()
    app.config.update(localstripe.app_config())
    organiser = make_user(Role.ORGANISER)
    gathering = make_gathering(organiser, capacity=5)
    option = make_option(gathering, "fixed")
    person = make_user()
    db.session.commit()
    auth.login(person)
    registered = client.post(f"/gatherings/{gathering.id}/register", data={"option_id": option.id})
    registration = db.session.scalar(
        sa.select(Registration).where(Registration.user_id == person.id)
    )
    assert registered.location == f"/registrations/{registration.id}/pay"

    page = client.get(registered.location)
    assert page.status_code == 200
    assert f'<script src="{localstripe.js_url}"></script>' in page.get_data(as_text=True)
    stripe_origin = localstripe.api_base  # localstripe serves Stripe.js and the API
    policy = directives(page)
    assert policy["script-src"] == {"'self'", stripe_origin}
    assert policy["frame-src"] == {stripe_origin}
    assert policy["connect-src"] == {"'self'", stripe_origin}
    assert policy["default-src"] == {"'self'"} and policy["frame-ancestors"] == {"'none'"}
    assert page.headers["Cache-Control"] == "no-store"

    elsewhere = directives(client.get(f"/registrations/{registration.id}"))
    assert stripe_origin not in str(elsewhere)


# --- error pages ---------------------------------------------------------------------------


@pytest.fixture
def failing_routes(app) -> Flask:
    """Add routes that fail with 400 and with an unexpected exception."""

    def bad_request():  # type: ignore[no-untyped-def]
        abort(400)

    def crash():  # type: ignore[no-untyped-def]
        raise RuntimeError("boom")

    app.add_url_rule("/test-bad-request", "test_bad_request", bad_request)
    app.add_url_rule("/test-crash", "test_crash", crash)
    return app


def test_error_pages_carry_the_headers(failing_routes, client, auth):
    app = failing_routes
    app.config["PROPAGATE_EXCEPTIONS"] = False  # let the 500 page answer, as in production
    user = make_user()
    db.session.commit()
    expected = {
        "/no-such-page": 404,
        "/test-bad-request": 400,
        "/test-crash": 500,
    }
    for url, status in expected.items():
        response = client.get(url)
        assert response.status_code == status, url
        assert_hardened(response)
        assert response.headers["Cache-Control"] == "no-store"
    assert client.post("/").status_code == 405
    assert_hardened(client.post("/"))
    auth.login(user)
    forbidden = client.get("/manage/people")
    assert forbidden.status_code == 403
    assert_hardened(forbidden)
    assert forbidden.headers["Cache-Control"] == "no-store"


# --- TRUSTED_HOSTS -------------------------------------------------------------------------


@pytest.mark.parametrize("propagate", [True, False])
def test_a_foreign_host_gets_a_plain_400_page(app, client, propagate):
    app.config["TRUSTED_HOSTS"] = ["gatherwell.test"]
    app.config["PROPAGATE_EXCEPTIONS"] = propagate
    refused = client.get("/", headers={"Host": "evil.example"})
    assert refused.status_code == 400
    html = refused.get_data(as_text=True)
    assert "Unknown site address" in html and "evil.example" not in html
    assert_hardened(refused)
    assert client.get("/", headers={"Host": "gatherwell.test"}).status_code == 200


def test_every_door_checks_the_host(app, client):
    app.config["TRUSTED_HOSTS"] = ["gatherwell.test"]
    foreign = {"Host": "evil.example"}
    for method, url in [
        ("GET", "/log-in"),
        ("POST", "/log-in"),
        ("GET", "/static/css/app.css"),
        ("GET", "/no-such-page"),
        ("POST", "/payments/stripe/webhook"),
        ("GET", "/api/v1/me"),
    ]:
        assert client.open(url, method=method, headers=foreign).status_code == 400, url


def test_trusted_hosts_ignore_the_port_and_allow_subdomains_with_a_dot(app, client):
    app.config["TRUSTED_HOSTS"] = ["gatherwell.test", ".example.org"]
    assert client.get("/", headers={"Host": "gatherwell.test:8443"}).status_code == 200
    assert client.get("/", headers={"Host": "events.example.org"}).status_code == 200
    assert client.get("/", headers={"Host": "example.org"}).status_code == 200
    assert client.get("/", headers={"Host": "example.org.evil.example"}).status_code == 400
    assert client.get("/", headers={"Host": "notexample.org"}).status_code == 400


def test_no_trusted_hosts_accepts_any_host(client):
    assert client.get("/", headers={"Host": "anything.example"}).status_code == 200


def test_a_forwarded_host_is_checked_behind_a_proxy(other_app):
    proxied = other_app(PROXY_COUNT=1, TRUSTED_HOSTS=["gatherwell.test"]).test_client()
    good = proxied.get("/", headers={"X-Forwarded-Host": "gatherwell.test"})
    assert good.status_code == 200
    bad = proxied.get("/", headers={"X-Forwarded-Host": "evil.example"})
    assert bad.status_code == 400


def test_trusted_hosts_come_from_the_environment(other_app, monkeypatch):
    monkeypatch.setenv("FACILITATION_TRUSTED_HOSTS", " gatherwell.test , .example.org ,")
    made = other_app()
    assert made.config["TRUSTED_HOSTS"] == ["gatherwell.test", ".example.org"]
    client = made.test_client()
    assert client.get("/", headers={"Host": "evil.example"}).status_code == 400
    assert client.get("/", headers={"Host": "www.example.org"}).status_code == 200


SOCKET_HANDSHAKE = "/socket.io/?EIO=4&transport=polling"


def test_socket_io_refuses_a_foreign_host_too(app, client):
    """Socket.IO requests reach Engine.IO before Flask; the guard checks their host."""
    assert client.get(SOCKET_HANDSHAKE, headers={"Host": "evil.example"}).status_code == 200
    app.config["TRUSTED_HOSTS"] = ["gatherwell.test"]
    refused = client.get(SOCKET_HANDSHAKE, headers={"Host": "evil.example"})
    assert refused.status_code == 400
    assert b"Unknown site address" in refused.data
    assert refused.headers["X-Content-Type-Options"] == "nosniff"
    handshake = client.get(SOCKET_HANDSHAKE, headers={"Host": "gatherwell.test"})
    assert handshake.status_code == 200 and b'"sid"' in handshake.data


def test_socket_io_checks_the_forwarded_host_behind_a_proxy(other_app):
    proxied = other_app(PROXY_COUNT=1, TRUSTED_HOSTS=["gatherwell.test"]).test_client()
    good = proxied.get(
        SOCKET_HANDSHAKE, headers={"Host": "10.0.0.5", "X-Forwarded-Host": "gatherwell.test"}
    )
    assert good.status_code == 200
    bad = proxied.get(
        SOCKET_HANDSHAKE, headers={"Host": "gatherwell.test", "X-Forwarded-Host": "evil.example"}
    )
    assert bad.status_code == 400

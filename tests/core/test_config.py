"""Configuration: secrets from the environment or the instance folder, checked at start."""

import os

import pytest

from facilitation import config, create_app


def test_secret_key_is_generated_once_into_the_instance_folder(tmp_path):
    first = config.instance_secret(str(tmp_path), "secret_key")
    second = config.instance_secret(str(tmp_path), "secret_key")
    assert first == second
    assert len(first) >= 32
    assert oct((tmp_path / "secret_key").stat().st_mode)[-3:] == "600"


def test_app_without_secret_key_uses_the_instance_secret(tmp_path, monkeypatch):
    monkeypatch.setenv("FACILITATION_INSTANCE_PATH", str(tmp_path))
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.delenv("FACILITATION_SECRET_KEY", raising=False)
    app = create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://"})
    assert app.config["SECRET_KEY"] == (tmp_path / "secret_key").read_text().strip()


def test_secret_key_from_the_environment_wins(tmp_path, monkeypatch):
    monkeypatch.setenv("FACILITATION_INSTANCE_PATH", str(tmp_path))
    monkeypatch.setenv("SECRET_KEY", "from-the-environment-123")
    app = create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://"})
    assert app.config["SECRET_KEY"] == "from-the-environment-123"
    assert not (tmp_path / "secret_key").exists()


def test_database_url_becomes_a_psycopg_uri():
    assert config.database_uri("postgres://u:p@h/db", "/x") == "postgresql+psycopg://u:p@h/db"
    assert config.database_uri("postgresql://h/db", "/x") == "postgresql+psycopg://h/db"
    assert config.database_uri(None, "/inst").endswith("/inst/gatherwell.sqlite3")


@pytest.mark.parametrize(
    "bad, message",
    [
        ({"SECRET_KEY": "short"}, "SECRET_KEY"),
        ({"DEFAULT_TIMEZONE": "Mars/Olympus"}, "time zone"),
        ({"MAIL_URL": "http://mail"}, "MAIL_URL"),
    ],
)
def test_bad_settings_stop_the_start(bad, message):
    settings = dict(config.DEFAULTS, SECRET_KEY="long-enough-secret-key")
    settings.update(bad)
    with pytest.raises(RuntimeError, match=message):
        config.check(settings)


def test_environment_settings_are_read(monkeypatch):
    env = {"FACILITATION_ORG_NAME": "Bristol Circles", "FACILITATION_PROXY_COUNT": "1"}
    found = config.from_environment(env)
    assert found == {"ORG_NAME": "Bristol Circles", "PROXY_COUNT": 1}
    assert "SECRET_KEY" not in config.from_environment(dict(os.environ, SECRET_KEY=""))


def test_hardening_settings_are_read_from_the_environment():
    env = {
        "FACILITATION_HSTS_SECONDS": "0",
        "FACILITATION_TRUSTED_HOSTS": "circles.example.org, .example.org",
        "FACILITATION_RATELIMIT_ENABLED": "false",
    }
    assert config.from_environment(env) == {
        "HSTS_SECONDS": 0,
        "TRUSTED_HOSTS": ["circles.example.org", ".example.org"],
        "RATELIMIT_ENABLED": False,
    }


SITE = "https://circles.example.org"


def test_without_a_site_url_the_app_does_not_start_in_production(tmp_path, monkeypatch):
    monkeypatch.setenv("FACILITATION_INSTANCE_PATH", str(tmp_path))
    monkeypatch.delenv("FACILITATION_TESTING", raising=False)
    monkeypatch.delenv("FACILITATION_SITE_URL", raising=False)
    with pytest.raises(RuntimeError, match="SITE_URL"):
        create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://"})
    monkeypatch.setenv("FACILITATION_SITE_URL", SITE)
    assert create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://"}).config["SITE_URL"] == SITE


def test_testing_and_debugging_get_a_local_site_url():
    assert config.default_site_url({"TESTING": True}, {}) == config.DEV_SITE_URL
    assert config.default_site_url({"DEBUG": True, "SERVER_NAME": "x.test"}, {}) == "http://x.test"
    assert config.default_site_url({}, {"FACILITATION_TESTING": "1"}) == config.DEV_SITE_URL
    assert config.default_site_url({}, {}) is None


@pytest.mark.parametrize(
    "bad", ["circles.example.org", "ftp://circles.example.org", "https://", "https://x.org/?a=1"]
)
def test_a_site_url_that_is_not_an_address_stops_the_start(bad):
    settings = dict(config.DEFAULTS, SECRET_KEY="long-enough-secret-key", SITE_URL=bad)
    with pytest.raises(RuntimeError, match="SITE_URL"):
        config.check(settings)


STRIPE_KEYS = {
    "STRIPE_SECRET_KEY": "sk_test_123",
    "STRIPE_PUBLISHABLE_KEY": "pk_test_123",
    "STRIPE_WEBHOOK_SECRET": "whsec_123",
}


def test_card_payments_are_off_without_both_keys():
    assert not config.card_payments_enabled(config.DEFAULTS)
    assert not config.card_payments_enabled({"STRIPE_SECRET_KEY": "sk_test_123"})
    assert config.card_payments_enabled(STRIPE_KEYS)


def test_stripe_settings_default_to_stripe_itself():
    assert config.DEFAULTS["STRIPE_API_BASE"] == "https://api.stripe.com"
    assert config.DEFAULTS["STRIPE_JS_URL"] == "https://js.stripe.com/v3/"


def test_stripe_settings_are_read_from_the_environment():
    env = {
        "STRIPE_SECRET_KEY": "sk_test_bare",
        "FACILITATION_STRIPE_PUBLISHABLE_KEY": "pk_test_prefixed",
        "FACILITATION_STRIPE_WEBHOOK_SECRET": "whsec_prefixed",
        "FACILITATION_STRIPE_API_BASE": "http://127.0.0.1:8420",
        "FACILITATION_STRIPE_JS_URL": "http://127.0.0.1:8420/js.stripe.com/v3/",
        "STRIPE_API_BASE": "http://ignored-without-the-prefix",
    }
    assert config.from_environment(env) == {
        "STRIPE_SECRET_KEY": "sk_test_bare",
        "STRIPE_PUBLISHABLE_KEY": "pk_test_prefixed",
        "STRIPE_WEBHOOK_SECRET": "whsec_prefixed",
        "STRIPE_API_BASE": "http://127.0.0.1:8420",
        "STRIPE_JS_URL": "http://127.0.0.1:8420/js.stripe.com/v3/",
    }


def test_complete_stripe_settings_pass_the_check():
    config.check(
        dict(config.DEFAULTS, SECRET_KEY="long-enough-secret-key", SITE_URL=SITE, **STRIPE_KEYS)
    )


@pytest.mark.parametrize(
    "bad, message",
    [
        ({"STRIPE_WEBHOOK_SECRET": None}, "STRIPE_WEBHOOK_SECRET .* must be set"),
        ({"STRIPE_WEBHOOK_SECRET": "sk_test_swapped"}, "STRIPE_WEBHOOK_SECRET"),
        ({"STRIPE_PUBLISHABLE_KEY": None}, "both STRIPE_SECRET_KEY and STRIPE_PUBLISHABLE_KEY"),
        ({"STRIPE_SECRET_KEY": "pk_test_swapped"}, "STRIPE_SECRET_KEY must be a secret key"),
        ({"STRIPE_PUBLISHABLE_KEY": "sk_test_swapped"}, "must be a publishable key"),
        ({"STRIPE_SECRET_KEY": "sk_live_123"}, "mix live and test mode"),
        ({"STRIPE_API_BASE": "api.stripe.com"}, "STRIPE_API_BASE must be an http"),
        ({"STRIPE_JS_URL": ""}, "STRIPE_JS_URL must be an http"),
    ],
)
def test_bad_stripe_settings_stop_the_start(bad, message):
    settings = dict(config.DEFAULTS, SECRET_KEY="long-enough-secret-key", **STRIPE_KEYS)
    settings.update(bad)
    with pytest.raises(RuntimeError, match=message):
        config.check(settings)


def test_app_with_stripe_keys_but_no_webhook_secret_does_not_start(tmp_path, monkeypatch):
    monkeypatch.setenv("FACILITATION_INSTANCE_PATH", str(tmp_path))
    keys = {"STRIPE_SECRET_KEY": "sk_test_123", "STRIPE_PUBLISHABLE_KEY": "pk_test_123"}
    with pytest.raises(RuntimeError, match="STRIPE_WEBHOOK_SECRET"):
        create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://", **keys})

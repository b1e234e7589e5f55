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

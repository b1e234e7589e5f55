"""Fixtures: an app per database backend (SQLite, PostgreSQL), a client, log-in helpers."""

from __future__ import annotations

import logging
import os
import re
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import jinja2
import jinja2.bccache
import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from facilitation import create_app
from facilitation.core import crypto
from facilitation.exercises import connections, pairing_worker
from facilitation.extensions import db
from facilitation.messaging.services import OUTBOX_LOGGER
from tests import children, factories
from tests.services import postgres_admin_url, postgres_or_skip
from tests.stripe_server import LocalStripe, running

BACKENDS = ["sqlite", "postgresql"]
#: One encryption key per test run, shared with child server processes.
TEST_ENCRYPTION_KEY = crypto.generate_key()


#: Modules whose tests mostly wait on real servers, browsers and timers (seconds to a minute
#: each). Run first, so that under pytest-xdist the quick tests fill the other workers around
#: them instead of one worker finishing a long test alone at the end.
SLOW_FIRST = (
    "tests/faults/",
    "tests/test_journey_browser.py",
    "tests/exercises/test_live_processes.py",
    "tests/exercises/test_live_screens_browser.py",
    "tests/exercises/test_socket_throttle.py",
    "tests/api/test_api_schemathesis.py",
    "tests/registration/test_races.py",
    "tests/core/test_csp_browser.py",
    "tests/attendance/test_desk_browser.py",
    "tests/registration/test_register_browser.py",
    "tests/test_packaging.py",
    "tests/test_serving.py",
)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Put the slow modules first (a stable sort: the order within each part is kept)."""
    items.sort(key=lambda item: 0 if item.nodeid.startswith(SLOW_FIRST) else 1)


def pytest_configure(config: pytest.Config) -> None:
    """Record that the suite is running; keep captured emails out of failure reports."""
    os.environ.setdefault("FACILITATION_TESTING", "1")
    # Without MAIL_URL every email is logged whole at INFO; a failing test would show each
    # one it sent (a run once printed 19,000 lines of them). Tests that read them use caplog.
    logging.getLogger(OUTBOX_LOGGER).setLevel(logging.WARNING)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Iterator[object]:
    """Stop every process the test body started and left running, whatever its outcome."""
    position = children.mark()
    try:
        return (yield)
    finally:
        children.stop_started_since(position)


@pytest.fixture(scope="session", autouse=True)
def _nothing_left_running() -> Iterator[None]:
    """Fail the run, naming them, if processes the suite started outlive it (then stop them).

    Set up before every other session fixture, so torn down after them all (localstripe and
    the rest have stopped theirs by then); each xdist worker checks its own children.
    """
    yield
    # The pairing pool lives as long as the process, as in production; stop it first so that
    # only what a test forgot is named below.
    pairing_worker.shutdown()
    left = children.leftovers()
    if left:
        children.stop_all()
        pytest.fail(
            "processes started by the tests were still running at the end (now stopped):\n  "
            + "\n  ".join(left),
            pytrace=False,
        )


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Last resort: stop whatever the suite started that still runs, and say so loudly."""
    config = session.config
    # xdist's controller has the workers as its children; each worker checks its own.
    controller = not hasattr(config, "workerinput") and getattr(config.option, "dist", "no") != "no"
    left = [] if controller else children.leftovers()
    if left:
        children.stop_all()
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        if reporter is not None:
            reporter.write_sep("!", "processes the tests started were still running", red=True)
            for line in left:
                reporter.write_line(f"  {line}", red=True)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def _test_config(uri: str, instance: str) -> dict[str, object]:
    return {
        "TESTING": True,
        "SECRET_KEY": "test-secret-key-not-for-production",
        "ENCRYPTION_KEY": TEST_ENCRYPTION_KEY,
        "SQLALCHEMY_DATABASE_URI": uri,
        "WTF_CSRF_ENABLED": False,
        "ARGON2_TIME_COST": 1,
        "ARGON2_MEMORY_COST": 1024,
        "SERVER_NAME": "gatherwell.test",
        "SITE_URL": "http://gatherwell.test",
        "MAIL_URL": None,
        # Card payments stay off unless a test points the app at localstripe.
        "STRIPE_SECRET_KEY": None,
        "STRIPE_PUBLISHABLE_KEY": None,
        "STRIPE_WEBHOOK_SECRET": None,
        "RATELIMIT_ENABLED": False,  # tests log in often; test_rate_limits.py turns it on
        # The console's preview comes with each change; test_preview_bursts.py tests the delay.
        "LIVE_PREVIEW_DELAY_S": 0,
    }


@pytest.fixture(scope="session")
def instance_dir() -> Iterator[str]:
    """Give the test run its own instance folder."""
    with tempfile.TemporaryDirectory(prefix="gatherwell-test-") as path:
        os.environ["FACILITATION_INSTANCE_PATH"] = path
        yield path


def _admin(statement: str) -> None:
    engine = sa.create_engine(postgres_admin_url(), isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(sa.text(statement))
    engine.dispose()


def _create_postgres_database(name: str) -> str:
    _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    _admin(f'CREATE DATABASE "{name}"')
    return re.sub(r"/[^/]*$", f"/{name}", postgres_admin_url())


@contextmanager
def _postgres_database(name: str, instance_dir: str) -> Iterator[str]:
    """Create and migrate a PostgreSQL database for this run; drop it afterwards."""
    uri = _migrated(_create_postgres_database(name), instance_dir)
    try:
        yield uri
    finally:
        _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _migrated(uri: str, instance_dir: str) -> str:
    app = create_app(_test_config(uri, instance_dir))
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    with app.app_context():
        from flask_migrate import upgrade

        upgrade()
        db.engine.dispose()
    # migrations/env.py configures logging from alembic.ini: a second, stderr copy of every
    # log line in each failure report. Put the root logger back as pytest set it.
    root.handlers[:], root.level = handlers, level
    return uri


@pytest.fixture(scope="session", params=BACKENDS)
def database_uri(request: pytest.FixtureRequest, instance_dir: str) -> Iterator[str]:
    """Give a freshly migrated database of each backend, once per test run."""
    if request.param == "sqlite":
        yield _migrated(f"sqlite:///{Path(instance_dir) / 'test.sqlite3'}", instance_dir)
        return
    postgres_or_skip()
    with _postgres_database(f"gatherwell_test_{os.getpid()}", instance_dir) as uri:
        yield uri


@pytest.fixture(scope="session")
def postgres_uri(instance_dir: str) -> Iterator[str]:
    """Give a migrated PostgreSQL database for tests that run real server processes."""
    postgres_or_skip()
    with _postgres_database(f"gatherwell_live_{os.getpid()}", instance_dir) as uri:
        yield uri


@pytest.fixture(scope="session")
def localstripe() -> Iterator[LocalStripe]:
    """Give a localstripe server on loopback for the whole run (skipped without it, not in CI)."""
    yield from running()


def _empty_all_tables(app: Flask) -> None:
    """Delete every row, children first, and restart PostgreSQL's id sequences.

    DELETE, not TRUNCATE: the tables hold a test's handful of rows, and TRUNCATE of all of
    them (new files for every table and index) took about 0.3 s per test on PostgreSQL
    against a few milliseconds for DELETE. Restarting the sequences keeps what TRUNCATE's
    RESTART IDENTITY gave: every test sees ids from 1, as on SQLite.
    """
    tables = list(reversed(db.metadata.sorted_tables))
    with db.engine.begin() as conn:
        for table in tables:
            conn.execute(table.delete())
        if conn.dialect.name == "postgresql":
            conn.execute(
                sa.text(
                    "SELECT setval(c.oid, 1, false) FROM pg_class c "
                    "WHERE c.relkind = 'S' AND c.relnamespace = current_schema()::regnamespace"
                )
            )


class _CompiledTemplates(jinja2.BytecodeCache):
    """Keep compiled templates in memory across the run's apps (keyed by name and source).

    Every test makes a new app, and with it a new Jinja environment that would compile each
    template it renders again from source: about a third of a page test's time.
    """

    def __init__(self) -> None:
        self._code: dict[str, bytes] = {}

    def load_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        code = self._code.get(bucket.key)
        if code is not None:
            bucket.bytecode_from_string(code)

    def dump_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        self._code[bucket.key] = bucket.bytecode_to_string()


COMPILED_TEMPLATES = _CompiledTemplates()


def _app_on(uri: str, instance_dir: str, *, empty_after: bool) -> Iterator[Flask]:
    """Yield an app in its context on ``uri``; afterwards empty the tables and forget sockets."""
    app = create_app(_test_config(uri, instance_dir))
    app.jinja_env.bytecode_cache = COMPILED_TEMPLATES
    with app.app_context():
        yield app
        db.session.remove()
        if empty_after:
            _empty_all_tables(app)
        db.engine.dispose()
    connections._connections.clear()  # ids restart with every test; forget this test's sockets


@pytest.fixture
def app(database_uri: str, instance_dir: str) -> Iterator[Flask]:
    """Give an app bound to a migrated database that is emptied after each test."""
    yield from _app_on(database_uri, instance_dir, empty_after=True)


@pytest.fixture
def pg_app(postgres_uri: str, instance_dir: str) -> Iterator[Flask]:
    """Give an app on PostgreSQL only, for tests that share the database with child servers."""
    yield from _app_on(postgres_uri, instance_dir, empty_after=True)


@pytest.fixture
def browser_app(tmp_path: Path, instance_dir: str) -> Iterator[Flask]:
    """Give an app on its own SQLite file, which a child server process shares."""
    uri = _migrated(f"sqlite:///{tmp_path / 'browser.sqlite3'}", instance_dir)
    yield from _app_on(uri, instance_dir, empty_after=False)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    """Give a test client."""
    return app.test_client()


class AuthActions:
    """Log a test client in and out."""

    def __init__(self, client: FlaskClient) -> None:
        self._client = client

    def login(self, user: factories.User, password: str = factories.PASSWORD) -> None:
        """Log in as ``user``."""
        response = self._client.post("/log-in", data={"email": user.email, "password": password})
        assert response.status_code == 302, response.get_data(as_text=True)

    def logout(self) -> None:
        """Log out."""
        self._client.post("/log-out")


@pytest.fixture
def auth(client: FlaskClient) -> AuthActions:
    """Give log-in helpers for the test client."""
    return AuthActions(client)

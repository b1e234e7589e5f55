"""Fault: PostgreSQL restarts, and stops for a while, under a running server (issue #8).

While the database is away, pages answer a clear 503 page, JSON requests a 503 JSON error
and live events a ``database_unavailable`` error: never a 500 and never a traceback. When
it is back, the same server answers normally again, without being restarted.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import pytest
import requests

from facilitation import create_app
from facilitation.extensions import db
from tests.exercises.live_helpers import command, make_run, session_cookie
from tests.faults.helpers import RECONNECT, server_env
from tests.live_server import PATIENCE_S, LiveClient, PostgresCluster, ServerProcess
from tests.services import in_ci

UNAVAILABLE = "The database is not answering"


@pytest.fixture
def cluster():
    """Give a throwaway PostgreSQL cluster of this test's own, removed afterwards."""
    if PostgresCluster.binaries() is None or shutil.which("runuser") is None:
        message = "PostgreSQL server binaries (initdb, pg_ctl) are not installed"
        if in_ci():
            pytest.fail(f"{message}; CI requires them", pytrace=False)
        pytest.skip(message)
    # Not under pytest's tmp_path: the postgres user must be able to reach the folder.
    directory = Path(tempfile.mkdtemp(prefix="gatherwell-pg-"))
    cluster = PostgresCluster(directory)
    try:
        yield cluster.init()
    finally:
        cluster.destroy()


def answers(url: str, cookie: str, *, json: bool = False) -> requests.Response:
    headers = {"Cookie": f"session={cookie}"}
    if json:
        headers["Accept"] = "application/json"
    return requests.get(url, headers=headers, timeout=PATIENCE_S, allow_redirects=False)


def test_postgres_restarted_and_stopped(cluster, pg_app, tmp_path):
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": cluster.url,
            "SECRET_KEY": pg_app.config["SECRET_KEY"],
            "ENCRYPTION_KEY": pg_app.config["ENCRYPTION_KEY"],
            "TESTING": True,
            "ARGON2_TIME_COST": 1,
            "ARGON2_MEMORY_COST": 1024,
        }
    )
    with app.app_context():
        from flask_migrate import upgrade

        upgrade()
        run, facilitator, people = make_run(2)
        phone_cookie = session_cookie(app, people[0])
        console_cookie = session_cookie(app, facilitator)
        run_id = run.id
        db.session.remove()
        db.engine.dispose()

    server = ServerProcess(server_env(app, cluster.url, tmp_path), log_dir=tmp_path).start()
    phone = console = None
    try:
        page = f"{server.url}/live/{run_id}"
        phone = LiveClient(server.url, run_id, phone_cookie, **RECONNECT)  # type: ignore[arg-type]
        console = LiveClient(
            server.url, run_id, console_cookie, **RECONNECT, **{"as": "facilitator"}
        )  # type: ignore[arg-type]
        assert answers(page, phone_cookie).status_code == 200
        assert console.call("control_run", {"action": "start", "command_id": command()})["ok"]

        # A fast restart cuts every pooled connection; the next request reconnects.
        cluster.restart()
        assert answers(page, phone_cookie).status_code == 200
        assert phone.call("request_snapshot")["ok"]

        # Stopped: every door says so clearly.
        cluster.stop()
        down = answers(page, phone_cookie)
        assert down.status_code == 503, down.text[:300]
        assert UNAVAILABLE in down.text and "Traceback" not in down.text
        assert down.headers["Retry-After"] == "60"
        assert "text/html" in down.headers["Content-Type"]
        as_json = answers(page, phone_cookie, json=True)
        assert as_json.status_code == 503
        assert as_json.json()["error"]["code"] == "database_unavailable"
        assert UNAVAILABLE in as_json.json()["error"]["message"]
        event = phone.call("request_snapshot")
        assert (event["ok"], event["error"]) == (False, "database_unavailable"), event
        control = console.call("control_run", {"action": "pause", "command_id": command()})
        assert control["error"] == "database_unavailable", control

        # Back: the same server answers again; the phone never had to reconnect.
        cluster.start()
        assert answers(page, phone_cookie).status_code == 200
        assert phone.call("request_snapshot")["ok"]
        retry = console.call("control_run", {"action": "pause", "command_id": command()})
        assert retry["ok"], retry
        phone.wait_for("run_state", lambda s: s["status"] == "paused")
        assert phone.client.connected
    finally:
        for client in (phone, console):
            if client is not None:
                client.close()
        server.stop()

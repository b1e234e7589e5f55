"""The console in a real browser resends a command whose answer was lost, with the same id."""

from __future__ import annotations

import json
import re
import threading
from datetime import timedelta

from facilitation.exercises.models import RunCommand
from facilitation.extensions import db
from tests.browser import Offline, chromium_or_skip, launched
from tests.exercises.live_helpers import make_run, session_cookie
from tests.faults.helpers import server_env, stored_run
from tests.live_server import ServerProcess

ACK = re.compile(r"^43/live,(\d+)")
EVENT = re.compile(r"^42/live,(\d+)(\[.*)$", re.S)


class LoseOneAnswer:
    """Pass the console's websocket frames through, but lose the answer to its first adjust.

    The connection is then dropped too, as a phone that changed network would find it: the
    console must reconnect and send the command again.
    """

    def __init__(self) -> None:
        self.commands: list[dict] = []
        self.answers: list[dict] = []
        self.lost = threading.Event()
        self._ack_id: str | None = None

    def route(self, ws) -> None:  # type: ignore[no-untyped-def]
        server = ws.connect_to_server()

        def from_page(message) -> None:  # type: ignore[no-untyped-def]
            found = EVENT.match(message) if isinstance(message, str) else None
            if found:
                name, *args = json.loads(found.group(2))
                if name == "control_run":
                    self.commands.append(args[0])
                    if args[0]["action"] == "adjust" and not self.lost.is_set():
                        self._ack_id = found.group(1)
            server.send(message)

        def from_server(message) -> None:  # type: ignore[no-untyped-def]
            found = ACK.match(message) if isinstance(message, str) else None
            if found and found.group(1) == self._ack_id and not self.lost.is_set():
                self.lost.set()  # applied by the server; the console never hears it
                ws.close()
                server.close()
                return
            if found:
                self.answers.append(json.loads(message[found.end() :])[0])
            ws.send(message)

        ws.on_message(from_page)
        server.on_message(from_server)


def wait_until(page, condition, timeout_s: float = 60) -> None:  # type: ignore[no-untyped-def]
    """Let the page run until ``condition()`` holds (the route handlers run meanwhile)."""
    for _ in range(int(timeout_s * 10)):
        if condition():
            return
        page.wait_for_timeout(100)
    raise AssertionError("the condition did not come true")


def test_a_lost_answer_is_resent_with_the_same_id_and_applied_once(browser_app, tmp_path):
    chromium_or_skip()
    env = server_env(browser_app, browser_app.config["SQLALCHEMY_DATABASE_URI"], tmp_path)
    server = ServerProcess(env, log_dir=tmp_path).start()
    run, facilitator, _ = make_run(4)
    db.session.commit()
    lose = LoseOneAnswer()
    try:
        with launched() as browser:
            context = browser.new_context(viewport={"width": 1280, "height": 860})
            Offline(server.url).attach(context)
            cookie = session_cookie(browser_app, facilitator)
            context.add_cookies([{"name": "session", "value": cookie, "url": server.url}])
            console = context.new_page()
            console.route_web_socket(re.compile(r"/socket\.io/"), lose.route)
            console.goto(f"{server.url}/live/{run.id}/console")
            console.wait_for_selector("#conn:text('Connected')")
            console.click('[data-action="start"]')
            console.wait_for_selector("#phase-name:text('Arrive')")
            before = stored_run(run.id).phase_deadline

            console.click('[data-action="adjust"][data-delta="30"]')
            # Lost, reconnected, sent again and answered "repeated".
            wait_until(console, lambda: any(a.get("repeated") for a in lose.answers))
            sent = [c for c in lose.commands if c["action"] == "adjust"]
            assert lose.lost.is_set() and len(sent) >= 2, lose.commands
            assert {c["command_id"] for c in sent} == {sent[0]["command_id"]}
            assert sent[0]["phase"] == {"round_index": 0, "phase_index": 0}
            assert all(c == sent[0] for c in sent)  # the very same command, phase and all

            after = stored_run(run.id)
            assert after.phase_deadline == before + timedelta(seconds=30)  # applied once
            rows = db.session.query(RunCommand).filter_by(command_id=sent[0]["command_id"])
            assert rows.count() == 1
            assert console.text_content("#message") == ""
    finally:
        server.stop()

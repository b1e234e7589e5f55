"""Run localstripe (a fake, stateful Stripe from PyPI) on loopback for the payment tests.

The server is localstripe's own aiohttp app, started in a child process by this module's
``__main__`` so that it listens on 127.0.0.1 only: localstripe's console script binds every
interface over IPv6 (``::``), which is more than a test needs and fails where IPv6 is off.

Run by hand: ``.venv/bin/python -m tests.stripe_server --port 8420``.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import requests

from tests import children
from tests.live_server import PATIENCE_S, ROOT, free_port
from tests.services import in_ci

#: Keys localstripe accepts (any sk_…/pk_…) and the signing secret the tests give it.
SECRET_KEY = "sk_test_localstripe"
PUBLISHABLE_KEY = "pk_test_localstripe"
WEBHOOK_SECRET = "whsec_localstripe_test"


class LocalStripe:
    """One localstripe process on a free loopback port."""

    def __init__(self, port: int | None = None, log_dir: Path | None = None) -> None:
        self.port = port or free_port()
        self.log_path = (log_dir or Path("/tmp")) / f"localstripe-{self.port}.log"
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def api_base(self) -> str:
        """Return the base URL to give the SDK (STRIPE_API_BASE)."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def js_url(self) -> str:
        """Return the URL of localstripe's fake Stripe.js (STRIPE_JS_URL)."""
        return f"{self.api_base}/js.stripe.com/v3/"

    def app_config(self, webhook_secret: str = WEBHOOK_SECRET) -> dict[str, str]:
        """Return the settings that point an app at this server."""
        return {
            "STRIPE_SECRET_KEY": SECRET_KEY,
            "STRIPE_PUBLISHABLE_KEY": PUBLISHABLE_KEY,
            "STRIPE_WEBHOOK_SECRET": webhook_secret,
            "STRIPE_API_BASE": self.api_base,
            "STRIPE_JS_URL": self.js_url,
        }

    def start(self, timeout: float = PATIENCE_S) -> LocalStripe:
        """Start the server and wait until it serves its Stripe.js."""
        with self.log_path.open("ab") as log:
            self.process = children.spawn(
                "localstripe",
                [
                    sys.executable,
                    "-m",
                    "tests.stripe_server",
                    "--port",
                    str(self.port),
                    "--parent",
                    str(os.getpid()),
                ],
                cwd=ROOT,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                self.stop()
                raise RuntimeError(f"localstripe exited early: {self.log()[-400:]}")
            try:
                if requests.get(self.js_url, timeout=PATIENCE_S).status_code == 200:
                    return self
            except requests.RequestException:
                pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"localstripe did not answer within {timeout}s; see {self.log_path}")

    def stop(self) -> None:
        """Stop the server (by its pid)."""
        if self.process:
            children.stop_process(self.process)

    def log(self) -> str:
        """Return what the server printed."""
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def register_webhook(
        self, url: str, secret: str = WEBHOOK_SECRET, events: list[str] | None = None
    ) -> str:
        """Deliver events (all, or only ``events``) to ``url``, signed with ``secret``."""
        webhook_id = uuid.uuid4().hex[:12]
        data: dict[str, object] = {"url": url, "secret": secret}
        if events is not None:
            data["events"] = events
        response = requests.post(
            f"{self.api_base}/_config/webhooks/{webhook_id}", json=data, timeout=PATIENCE_S
        )
        response.raise_for_status()
        return webhook_id

    def unregister_webhook(self, webhook_id: str) -> None:
        """Stop deliveries to a webhook.

        localstripe has no way to delete one, so it is pointed at an event type that never
        happens.
        """
        data = {"url": "http://127.0.0.1:9/", "secret": "unused", "events": ["none.never"]}
        requests.post(
            f"{self.api_base}/_config/webhooks/{webhook_id}", json=data, timeout=PATIENCE_S
        ).raise_for_status()

    def flush(self) -> None:
        """Forget every object (customers, PaymentIntents…); webhooks stay registered."""
        requests.delete(f"{self.api_base}/_config/data", timeout=PATIENCE_S).raise_for_status()


def running() -> Iterator[LocalStripe]:
    """Start localstripe for a test session; skip visibly without it, fail in CI."""
    problem = None
    server = None
    if importlib.util.find_spec("localstripe") is None:
        problem = "localstripe is not installed (pip install -e '.[dev]')"
    else:
        try:
            server = LocalStripe().start()
        except RuntimeError as exc:
            problem = f"localstripe could not start: {exc}"
    if server is None:
        if in_ci():
            pytest.fail(f"{problem}; CI requires it", pytrace=False)
        pytest.skip(str(problem))
    try:
        yield server
    finally:
        server.stop()


class WebhookReceiver:
    """A tiny HTTP server on loopback that records every POST (body and headers)."""

    def __init__(self) -> None:
        self.received: list[tuple[dict[str, str], bytes]] = []
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with receiver._lock:
                    receiver.received.append((dict(self.headers), body))
                self.send_response(200)
                self.end_headers()

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        """Return the URL to register."""
        return f"http://127.0.0.1:{self.server.server_address[1]}/stripe-webhook"

    def wait_for(
        self, event_type: str, object_id: str, timeout: float = PATIENCE_S
    ) -> tuple[dict[str, str], bytes]:
        """Wait for the delivery of ``event_type`` about ``object_id``; return headers, body."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                for headers, body in self.received:
                    event = json.loads(body)
                    if event["type"] == event_type and event["data"]["object"]["id"] == object_id:
                        return headers, body
            time.sleep(0.05)
        raise AssertionError(f"no {event_type} for {object_id} within {timeout}s")

    def close(self) -> None:
        """Stop serving."""
        self.server.shutdown()
        self.server.server_close()


def _exit_with(parent: int) -> None:
    """Exit when ``parent`` is gone, so a killed test run leaves no server behind."""
    while os.getppid() == parent:
        time.sleep(1)
    os._exit(0)


def _serve(port: int, parent: int | None) -> None:
    import logging

    from aiohttp import web
    from localstripe.server import app

    if parent:
        threading.Thread(target=_exit_with, args=(parent,), daemon=True).start()

    # Webhook deliveries are logged on aiohttp.access, as localstripe's own start() does.
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    web.run_app(app, host="127.0.0.1", port=port, print=None)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8420)
    parser.add_argument("--parent", type=int, help="exit when this process is gone")
    arguments = parser.parse_args()
    _serve(arguments.port, arguments.parent)

"""Real-browser helpers: Debian's Chromium driven by Playwright, with the internet blocked."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from tests.live_server import PATIENCE_S
from tests.services import in_ci

CHROMIUM = os.environ.get("FACILITATION_CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--autoplay-policy=no-user-gesture-required",
]


def chromium_or_skip() -> str:
    """Return Chromium's path; skip (or fail, in CI) when it is not installed."""
    if os.path.exists(CHROMIUM):
        return CHROMIUM
    message = f"Chromium is not installed at {CHROMIUM} (apt-get install chromium)"
    if in_ci():
        pytest.fail(f"{message}; CI requires it", pytrace=False)
    pytest.skip(message)


@contextmanager
def launched(extra_args: tuple[str, ...] = ()) -> Iterator[object]:
    """Launch headless Chromium through Playwright, with any extra command-line switches."""
    from playwright.sync_api import sync_playwright

    path = chromium_or_skip()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=path, args=[*CHROMIUM_ARGS, *extra_args]
        )
        _patient(browser)
        try:
            yield browser
        finally:
            browser.close()


def _patient(browser: Any) -> None:
    """Give every page of ``browser`` ``PATIENCE_S`` for each wait instead of Playwright's 30 s.

    A wait returns as soon as its condition holds; the bound only decides when a page that
    never gets there is called broken, and a loaded 2-core machine needs longer than 30 s.
    """
    new_context, new_page = browser.new_context, browser.new_page

    def patient_context(*args: Any, **kwargs: Any) -> Any:
        context = new_context(*args, **kwargs)
        context.set_default_timeout(PATIENCE_S * 1000)
        return context

    def patient_page(*args: Any, **kwargs: Any) -> Any:
        page = new_page(*args, **kwargs)
        page.set_default_timeout(PATIENCE_S * 1000)
        return page

    browser.new_context, browser.new_page = patient_context, patient_page


class Offline:
    """Block every request that is not to the local server, and remember what was blocked.

    ``allow`` names other loopback origins to let through (localstripe, for Stripe.js).
    """

    def __init__(self, base_url: str, allow: tuple[str, ...] = ()) -> None:
        self.base_url = base_url
        self.allowed = (base_url, *allow)
        self.blocked: list[str] = []

    def attach(self, context: object) -> None:
        """Route all of a browser context's requests through the check."""

        def handle(route: object) -> None:
            url = route.request.url  # type: ignore[attr-defined]
            if url.startswith(self.allowed) or url.startswith(("data:", "blob:")):
                route.continue_()  # type: ignore[attr-defined]
            else:
                self.blocked.append(url)
                route.abort()  # type: ignore[attr-defined]

        context.route("**/*", handle)  # type: ignore[attr-defined]

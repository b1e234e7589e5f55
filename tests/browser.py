"""Real-browser helpers: Debian's Chromium driven by Playwright, with the internet blocked."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

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
        try:
            yield browser
        finally:
            browser.close()


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

"""Absolute links for emails, tickets and calendar feeds, built on the configured SITE_URL.

Never on the request's Host header: a request with a forged Host would otherwise make the
site email a victim a password-reset link to the forger's site (Host header poisoning), or
put the forger's address into a public calendar feed that a cache then serves to everyone.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from flask import current_app


def site_url() -> str:
    """Return the site's configured address (``SITE_URL``) without a trailing slash."""
    return str(current_app.config["SITE_URL"]).rstrip("/")


def site_url_for(endpoint: str, **values: Any) -> str:
    """Return the absolute URL of ``endpoint`` on the configured site address.

    Works with or without a request (the background sweeper sends emails too).
    """
    parts = urlsplit(site_url())
    adapter = current_app.url_map.bind(
        parts.netloc, script_name=parts.path or "/", url_scheme=parts.scheme
    )
    return adapter.build(endpoint, values, force_external=True)

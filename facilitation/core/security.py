"""Security headers on every response, and a plain 400 page for a Host that is not trusted.

The rules (docs/security.md explains why):

- ``Content-Security-Policy`` allows scripts, styles, fonts and connections from this origin
  only (no inline script or style), images also as ``data:`` (drawn signatures), no plugins,
  no frames of ours inside other sites (``frame-ancestors 'none'``). The card payment page
  alone also allows the Stripe.js origin (``STRIPE_JS_URL``) and the Stripe API origin
  (``STRIPE_API_BASE``).
- ``X-Content-Type-Options: nosniff``, ``Referrer-Policy: same-origin`` and
  ``X-Frame-Options: DENY`` on every response, static files and JSON included.
- ``Strict-Transport-Security`` only on responses served over TLS (``request.is_secure``,
  which honours ``X-Forwarded-Proto`` when ``PROXY_COUNT`` is set).
- ``Cache-Control: no-store`` on everything, except the few public pages an anonymous
  visitor sees and static files: a new page is private until someone says otherwise.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable, Mapping
from typing import Any
from urllib.parse import urlsplit

from flask import Flask, Response, current_app, render_template, request
from flask_login import current_user
from werkzeug.exceptions import SecurityError
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.wsgi import get_host

from facilitation.extensions import SOCKETIO_PATH

#: Endpoints that anonymous visitors may have cached (public, the same for everyone).
PUBLIC_ENDPOINTS = frozenset(
    {
        "static",
        "favicon",
        "gatherings.list_gatherings",
        "gatherings.show_gathering",
        "gatherings.calendar_feed",
        "gatherings.gathering_ics",
    }
)
#: Endpoints that load Stripe.js and talk to the Stripe API from the browser.
STRIPE_ENDPOINTS = frozenset({"payments.show_payment"})
#: Real Stripe.js shows 3-D Secure challenges in frames from this origin.
STRIPE_HOOKS_ORIGIN = "https://hooks.stripe.com"
REAL_STRIPE_JS_ORIGIN = "https://js.stripe.com"

BASE_POLICY: dict[str, tuple[str, ...]] = {
    "default-src": ("'self'",),
    "script-src": ("'self'",),
    "style-src": ("'self'",),
    "img-src": ("'self'", "data:"),
    "font-src": ("'self'",),
    # 'self' covers ws:// and wss:// to this host in CSP Level 3 (Socket.IO).
    "connect-src": ("'self'",),
    "frame-src": ("'none'",),
    "object-src": ("'none'",),
    "base-uri": ("'none'",),
    "form-action": ("'self'",),
    "frame-ancestors": ("'none'",),
}


def origin(url: str | None) -> str | None:
    """Return the ``scheme://host[:port]`` of an http(s) URL, or None if it has none."""
    parts = urlsplit(url or "")
    if parts.scheme not in {"http", "https"} or not parts.netloc:
        return None
    return f"{parts.scheme}://{parts.netloc}"


def stripe_sources(config: Mapping[str, Any]) -> dict[str, tuple[str, ...]]:
    """Return the extra CSP sources the card page needs, derived from the Stripe settings."""
    js = origin(config.get("STRIPE_JS_URL"))
    api = origin(config.get("STRIPE_API_BASE"))
    extra: dict[str, tuple[str, ...]] = {}
    if js:
        extra["script-src"] = (js,)
        extra["frame-src"] = (js, STRIPE_HOOKS_ORIGIN) if js == REAL_STRIPE_JS_ORIGIN else (js,)
    if api:
        extra["connect-src"] = (api,)
    return extra


def content_security_policy(extra: Mapping[str, Iterable[str]] | None = None) -> str:
    """Return the policy, with ``extra`` sources added to their directives."""
    policy = {name: list(sources) for name, sources in BASE_POLICY.items()}
    for name, sources in (extra or {}).items():
        kept = [s for s in policy.get(name, []) if s != "'none'"]
        policy[name] = kept + [s for s in sources if s not in kept]
    return "; ".join(f"{name} {' '.join(sources)}" for name, sources in policy.items())


def _cacheable(endpoint: str | None) -> bool:
    return endpoint in PUBLIC_ENDPOINTS and not current_user.is_authenticated


def add_headers(response: Response) -> Response:
    """Put the security headers on a response (an ``after_request`` hook)."""
    config = current_app.config
    endpoint = request.endpoint
    extra = stripe_sources(config) if endpoint in STRIPE_ENDPOINTS else None
    headers = response.headers
    headers["Content-Security-Policy"] = content_security_policy(extra)
    headers["X-Content-Type-Options"] = "nosniff"
    headers["Referrer-Policy"] = "same-origin"
    headers["X-Frame-Options"] = "DENY"
    hsts_seconds = int(config.get("HSTS_SECONDS") or 0)
    if request.is_secure and hsts_seconds > 0:
        headers["Strict-Transport-Security"] = f"max-age={hsts_seconds}"
    if not _cacheable(endpoint):
        headers["Cache-Control"] = "no-store"
    return response


def refuse_host(error: SecurityError):  # type: ignore[no-untyped-def]
    """Answer a request for a Host that is not in TRUSTED_HOSTS with a plain 400 page."""
    # No URL can be built for an untrusted host, so this page names no route.
    return render_template("core/bad_host.html"), 400


def socket_host_guard(
    app: Flask, wsgi_app: Callable[..., Any], path: str = SOCKETIO_PATH
) -> Callable[..., Any]:
    """Wrap ``wsgi_app`` to refuse Socket.IO requests for an untrusted Host.

    Flask checks TRUSTED_HOSTS, but Socket.IO requests reach Engine.IO before Flask sees
    them (and before ProxyFix), so this WSGI wrapper checks them the same way.

    Every phone's greenlet stays inside this call for as long as its socket is open, and
    greenlet keeps a copy of the C stack below each suspended greenlet. Calling an object with
    ``__call__`` recurses in C (about 0.75 KB more per phone, measured in docs/benchmarks.md);
    a Python function or bound method calling another does not. So the guard is a function,
    and it calls the wrapped object (Flask-SocketIO's middleware) through its bound method.
    """
    plain = inspect.isfunction(wsgi_app) or inspect.ismethod(wsgi_app)
    call = wsgi_app if plain else wsgi_app.__call__

    def guard(environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        trusted = app.config.get("TRUSTED_HOSTS")
        if trusted is not None and str(environ.get("PATH_INFO", "")).startswith(path):
            try:
                get_host(_as_proxied(app, environ), trusted)
            except SecurityError:
                body = b"Unknown site address: this site does not answer to that host name.\n"
                start_response(
                    "400 BAD REQUEST",
                    [
                        ("Content-Type", "text/plain; charset=utf-8"),
                        ("Content-Length", str(len(body))),
                        ("X-Content-Type-Options", "nosniff"),
                        ("Cache-Control", "no-store"),
                    ],
                )
                return [body]
        return call(environ, start_response)

    return guard


def _as_proxied(app: Flask, environ: dict[str, Any]) -> dict[str, Any]:
    """Return the environ as ProxyFix would leave it (the app's own view of the host)."""
    hops = int(app.config.get("PROXY_COUNT") or 0)
    if not hops:
        return environ
    seen: dict[str, Any] = {}

    def keep(fixed: dict[str, Any], _start: Any) -> list[bytes]:
        seen.update(fixed)
        return []

    ProxyFix(keep, x_for=hops, x_proto=hops, x_host=hops)(dict(environ), None)  # type: ignore[arg-type]
    return seen


def install(app: Flask) -> None:
    """Add the security headers to every response and refuse untrusted hosts clearly."""
    app.after_request(add_headers)
    app.register_error_handler(SecurityError, refuse_host)
    app.wsgi_app = socket_host_guard(app, app.wsgi_app)  # type: ignore[method-assign]

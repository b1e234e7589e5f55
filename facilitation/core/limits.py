"""Rate limits (Flask-Limiter): storage, keys, the limits of each door, and the 429 answer.

The numbers and why they are what they are: docs/rate-limits.md. In short, a venue puts a
whole room behind one Wi-Fi address, so limits per address are generous and the tight
limits are per account (the email typed), per reset link or per logged-in person.
"""

from __future__ import annotations

import hashlib
import math
import time
from collections.abc import Callable
from typing import Any, TypeVar

from flask import Flask, current_app, jsonify, render_template, request, url_for
from flask.wrappers import Response
from flask_limiter import RateLimitExceeded
from flask_limiter.util import get_remote_address
from flask_login import current_user

from facilitation.extensions import limiter

F = TypeVar("F", bound=Callable[..., Any])

POST = ["POST"]

#: The limits (Flask-Limiter notation; ";" separates several). Each can be changed with the
#: config key ``RATELIMIT_<NAME>`` (create_app overrides); docs/rate-limits.md says why these.
LIMITS = {
    # Log-in: failed attempts only (a successful log-in costs nothing). Per account, the
    # password checks are counted before they are made, in the database (accounts.attempts):
    # RATELIMIT_LOG_IN_PER_ACCOUNT, default "10 per 15 minutes;50 per day".
    "LOG_IN_PER_ADDRESS": "100 per minute;1000 per hour",
    # Every log-in from one address, successful or not: each costs a password hash.
    "LOG_IN_ALL_PER_ADDRESS": "300 per minute",
    # Sign-up: every attempt.
    "SIGN_UP_PER_ADDRESS": "60 per 10 minutes;500 per day",
    "SIGN_UP_PER_ACCOUNT": "10 per hour",
    # Asking for a reset link: every request may send an email.
    "RESET_REQUEST_PER_ADDRESS": "30 per 10 minutes;200 per day",
    "RESET_REQUEST_PER_ACCOUNT": "3 per hour;10 per day",
    # The reset form behind a link.
    "RESET_FORM_PER_ADDRESS": "30 per 10 minutes",
    "RESET_FORM_PER_LINK": "10 per 10 minutes",
    # Registering for a gathering.
    "REGISTER_PER_ADDRESS": "300 per 10 minutes",
    "REGISTER_PER_PERSON": "20 per 10 minutes;100 per day",
}

#: What to tell a person who hit a limit, by endpoint; {wait} is "about 3 minutes" and such.
MESSAGES = {
    "accounts.log_in": "There have been too many log-in attempts. Wait {wait}, then try "
    "again. If you have forgotten your password, you can ask for a reset link.",
    "accounts.sign_up": "There have been too many sign-ups from here just now. Wait {wait}, "
    "then try again.",
    "accounts.forgot_password": "We have sent enough reset links for now. Look for the last "
    "one in your inbox (and spam folder), or ask again in {wait}.",
    "accounts.reset_password": "There have been too many attempts with this reset link. "
    "Wait {wait}, then try again.",
    "privacy.erase_account": "There have been too many attempts to confirm with your "
    "password. Wait {wait}, then try again.",
    "registration.create_registration": "There have been too many registration attempts. "
    "Wait {wait}, then try again. Registrations already made are on My gatherings.",
}
DEFAULT_MESSAGE = "There have been too many requests. Wait {wait}, then try again."


def install(app: Flask) -> None:
    """Attach the rate limiter to the app: storage, key prefix, and the 429 answer."""
    for key, value in storage_settings(app.config).items():
        app.config.setdefault(key, value)
    limiter.init_app(app)
    app.register_error_handler(RateLimitExceeded, too_many_requests)


def storage_settings(config: Any) -> dict[str, Any]:
    """Return Flask-Limiter's settings: Redis when REDIS_URL is set, else this process's memory.

    The Redis keys get their own prefix (by default the Socket.IO channel's name plus
    ``:limits``), so two installations, or two test runs, sharing one Redis never share counts.
    If Redis stops answering, counting falls back to memory rather than refusing everyone.
    """
    redis_url = config.get("REDIS_URL")
    prefix = config.get("RATELIMIT_KEY_PREFIX") or f"{config.get('SOCKETIO_CHANNEL')}:limits"
    settings: dict[str, Any] = {
        "RATELIMIT_STRATEGY": "fixed-window",
        "RATELIMIT_SWALLOW_ERRORS": True,
        "RATELIMIT_IN_MEMORY_FALLBACK_ENABLED": bool(redis_url),
    }
    if redis_url:
        settings["RATELIMIT_STORAGE_URI"] = redis_url
        settings["RATELIMIT_STORAGE_OPTIONS"] = {"key_prefix": prefix}
    else:
        # Said explicitly: one process counts in its own memory (and Flask-Limiter then does
        # not warn that no storage was chosen).
        settings["RATELIMIT_STORAGE_URI"] = "memory://"
    return settings


def _digest(kind: str, value: str) -> str:
    # Emails and reset tokens are hashed so that the rate-limit store holds no personal data.
    return f"{kind}:{hashlib.sha256(value.encode()).hexdigest()[:32]}"


def address_key() -> str:
    """Key by the client's address (after ProxyFix, so behind a proxy it is the client's)."""
    return f"ip:{get_remote_address()}"


def account_key() -> str:
    """Key by the email typed into the form, whichever address it comes from."""
    return _digest("email", (request.form.get("email") or "").strip().lower())


def link_key() -> str:
    """Key by the password-reset token in the URL."""
    return _digest("link", str((request.view_args or {}).get("token", "")))


def person_key() -> str:
    """Key by the logged-in person (their address when not logged in)."""
    if current_user.is_authenticated:
        return f"user:{current_user.id}"
    return address_key()


def _failed(response: Response) -> bool:
    """Count a log-in attempt only when it failed (the form came back with an error)."""
    return response.status_code == 400


def configured(name: str) -> Callable[[], str]:
    """Return a limit read from ``RATELIMIT_<name>`` in the config, else from LIMITS."""
    default = LIMITS[name]
    return lambda: str(current_app.config.get(f"RATELIMIT_{name}") or default)


def _pair(per_address: str, per_key: str, key: Callable[[], str], **options: Any):  # type: ignore[no-untyped-def]
    def decorate(view: F) -> F:
        limit = limiter.limit
        inner = limit(configured(per_key), key_func=key, methods=POST, **options)(view)
        outer = limit(configured(per_address), key_func=address_key, methods=POST, **options)
        return outer(inner)  # type: ignore[return-value]

    return decorate


#: Decorators for the limited views (POST only: showing a form is never limited).
_log_in_failures = limiter.limit(
    configured("LOG_IN_PER_ADDRESS"), key_func=address_key, methods=POST, deduct_when=_failed
)
_log_in_hashes = limiter.limit(
    configured("LOG_IN_ALL_PER_ADDRESS"), key_func=address_key, methods=POST
)


def log_in(view: F) -> F:
    """Limit log-in: failures and every attempt per address (per account: accounts.attempts)."""
    return _log_in_hashes(_log_in_failures(view))  # type: ignore[no-any-return]


sign_up = _pair("SIGN_UP_PER_ADDRESS", "SIGN_UP_PER_ACCOUNT", account_key)
reset_request = _pair("RESET_REQUEST_PER_ADDRESS", "RESET_REQUEST_PER_ACCOUNT", account_key)
reset_form = _pair("RESET_FORM_PER_ADDRESS", "RESET_FORM_PER_LINK", link_key)
register = _pair("REGISTER_PER_ADDRESS", "REGISTER_PER_PERSON", person_key)


def retry_after_seconds() -> int:
    """Return how long until the breached limit lets this request through again."""
    breached = limiter.current_limit
    if breached is None:
        return 60
    reset_time = breached.window[0]  # when the current window ends (epoch seconds)
    return max(1, math.ceil(reset_time - time.time()))


def wait_text(seconds: int) -> str:
    """Say a wait in words: "a few seconds", "about a minute", "about 12 minutes"."""
    if seconds < 45:
        return "a few seconds" if seconds < 15 else "under a minute"
    minutes = round(seconds / 60)
    if minutes <= 1:
        return "about a minute"
    if minutes < 90:
        return f"about {minutes} minutes"
    hours = round(minutes / 60)
    return f"about {hours} hours"


def _wants_json() -> bool:
    accept = request.accept_mimetypes
    return request.path.startswith("/api/") or (accept.accept_json and not accept.accept_html)


def too_many_requests(error: RateLimitExceeded):  # type: ignore[no-untyped-def]
    """Answer 429: a page saying what to do and when, or JSON for the API; with Retry-After."""
    current_app.logger.info("rate limit reached at %s (%s)", request.endpoint, error.description)
    return refuse(retry_after_seconds())


def refuse(seconds: int):  # type: ignore[no-untyped-def]
    """Answer 429 for a limit another part counted, with the wait in ``seconds``."""
    endpoint = request.endpoint or ""
    message = MESSAGES.get(endpoint, DEFAULT_MESSAGE).format(wait=wait_text(seconds))
    headers = {"Retry-After": str(seconds)}
    if _wants_json():
        # The API's error shape (docs/api.md), with the wait in seconds beside it.
        error = {"code": "rate_limited", "message": message, "field": None}
        body = {"error": error, "retry_after_s": seconds}
        return jsonify(body), 429, headers
    rule = request.url_rule
    back = request.path if rule and rule.methods and "GET" in rule.methods else None
    page = render_template(
        "core/rate_limited.html",
        message=message,
        back=back or url_for("gatherings.list_gatherings"),
        seconds=seconds,
    )
    return page, 429, headers

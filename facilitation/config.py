"""Configuration: defaults, then the environment, then overrides; checked at start-up."""

from __future__ import annotations

import logging
import os
import secrets
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from facilitation.gatherings import schedule

logger = logging.getLogger(__name__)

DEFAULTS: dict[str, Any] = {
    "SESSION_COOKIE_HTTPONLY": True,
    "SESSION_COOKIE_SAMESITE": "Lax",
    "PERMANENT_SESSION_LIFETIME": 60 * 60 * 24 * 30,
    "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
    "WTF_CSRF_TIME_LIMIT": None,
    "MAX_CONTENT_LENGTH": 2 * 1024 * 1024,
    #: Name shown in the header, emails and calendar feeds.
    "ORG_NAME": "Gatherwell Community",
    "MAIL_URL": None,
    "MAIL_FROM": "Gatherwell <no-reply@gatherwell.local>",
    "REDIS_URL": None,
    #: Redis channel of the Socket.IO message queue (separate installations, separate channels).
    "SOCKETIO_CHANNEL": "gatherwell",
    #: Force Secure cookies even when the request itself does not look like TLS.
    "FORCE_SECURE_COOKIES": False,
    #: Number of reverse proxies whose X-Forwarded-* headers are trusted (0: none).
    "PROXY_COUNT": 0,
    "PASSWORD_RESET_MAX_AGE": 60 * 60,
    #: argon2id cost; tests lower memory cost to stay fast, production keeps the defaults.
    "ARGON2_TIME_COST": 3,
    "ARGON2_MEMORY_COST": 64 * 1024,
    "DEFAULT_TIMEZONE": "Europe/London",
    #: How long signatures of erased accounts are kept (the retention policy), in days.
    "SIGNATURE_RETENTION_DAYS": 2555,
    #: Stripe keys; card payments are on only when both API keys are set.
    "STRIPE_SECRET_KEY": None,
    "STRIPE_PUBLISHABLE_KEY": None,
    #: Signing secret of the webhook endpoint (whsec_…); required with the keys.
    "STRIPE_WEBHOOK_SECRET": None,
    #: Where the Stripe API and Stripe.js are; tests point both at localstripe.
    "STRIPE_API_BASE": "https://api.stripe.com",
    "STRIPE_JS_URL": "https://js.stripe.com/v3/",
    #: The site's public address (scheme, host, optional port and path), e.g.
    #: ``https://circles.example.org``: every link in an email, a ticket or a calendar feed is
    #: built on it, never on the request's Host header. Required unless testing or debugging
    #: (``make run`` sets it from HOST and PORT).
    "SITE_URL": None,
    #: Host names this site answers to (Flask checks the Host header); None accepts any.
    "TRUSTED_HOSTS": None,
    #: Strict-Transport-Security max-age, sent only on responses served over TLS.
    "HSTS_SECONDS": 365 * 24 * 60 * 60,
    #: Rate limits (Flask-Limiter); stored in Redis when REDIS_URL is set, else in memory.
    "RATELIMIT_ENABLED": True,
    #: How long anonymous visitors' public pages are served from memory, in seconds (0: off).
    #: Edits to a gathering show at once; seat counts may lag by up to this long.
    "PAGE_CACHE_SECONDS": 3,
}

#: Settings read from FACILITATION_<NAME> (and a few conventional bare names).
ENV_KEYS = [
    "ORG_NAME",
    "MAIL_URL",
    "MAIL_FROM",
    "REDIS_URL",
    "SOCKETIO_CHANNEL",
    "FORCE_SECURE_COOKIES",
    "PROXY_COUNT",
    "DEFAULT_TIMEZONE",
    "SECRET_KEY",
    "ENCRYPTION_KEY",
    "DATABASE_URL",
    "STRIPE_SECRET_KEY",
    "STRIPE_PUBLISHABLE_KEY",
    "STRIPE_WEBHOOK_SECRET",
    "STRIPE_API_BASE",
    "STRIPE_JS_URL",
    "TRUSTED_HOSTS",
    "SITE_URL",
    "HSTS_SECONDS",
    "RATELIMIT_ENABLED",
    "PAGE_CACHE_SECONDS",
]
BARE_ENV_KEYS = {
    "SECRET_KEY",
    "DATABASE_URL",
    "MAIL_URL",
    "REDIS_URL",
    "ENCRYPTION_KEY",
    "STRIPE_SECRET_KEY",
    "STRIPE_PUBLISHABLE_KEY",
    "STRIPE_WEBHOOK_SECRET",
}


def _coerce(key: str, raw: str) -> Any:
    if key == "TRUSTED_HOSTS":
        return [host.strip() for host in raw.split(",") if host.strip()] or None
    if key in {"FORCE_SECURE_COOKIES", "RATELIMIT_ENABLED"}:
        return raw.strip().lower() in {"1", "true", "yes", "on"}
    if key in {"PROXY_COUNT", "HSTS_SECONDS", "PAGE_CACHE_SECONDS"}:
        return int(raw)
    return raw


def from_environment(environ: os._Environ[str] | dict[str, str]) -> dict[str, Any]:
    """Read settings from FACILITATION_* variables (and SECRET_KEY, DATABASE_URL, ...)."""
    found: dict[str, Any] = {}
    for key in ENV_KEYS:
        raw = environ.get(f"FACILITATION_{key}")
        if raw is None and key in BARE_ENV_KEYS:
            raw = environ.get(key)
        if raw:
            found[key] = _coerce(key, raw)
    return found


def database_uri(url: str | None, instance_path: str) -> str:
    """Turn DATABASE_URL into an SQLAlchemy URI; default to SQLite in ``instance/``."""
    if not url:
        return f"sqlite:///{Path(instance_path) / 'gatherwell.sqlite3'}"
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://") :]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    return url


def instance_secret(
    instance_path: str, name: str, nbytes: int = 32, generator: Callable[[], str] | None = None
) -> str:
    """Return a secret stored in ``instance/<name>``, generating it on first use."""
    path = Path(instance_path) / name
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    value = generator() if generator else secrets.token_urlsafe(nbytes)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(value + "\n")
    logger.info("generated %s in the instance folder", name)
    return value


def card_payments_enabled(config: Mapping[str, Any]) -> bool:
    """Return whether card payments are on: both Stripe API keys are set."""
    return bool(config.get("STRIPE_SECRET_KEY") and config.get("STRIPE_PUBLISHABLE_KEY"))


def _check_stripe(config: Mapping[str, Any]) -> None:
    secret = str(config.get("STRIPE_SECRET_KEY") or "")
    publishable = str(config.get("STRIPE_PUBLISHABLE_KEY") or "")
    if not secret and not publishable:
        return
    if not (secret and publishable):
        raise RuntimeError(
            "Set both STRIPE_SECRET_KEY and STRIPE_PUBLISHABLE_KEY for card payments, or neither"
        )
    if not secret.startswith(("sk_", "rk_")):
        raise RuntimeError("STRIPE_SECRET_KEY must be a secret key (sk_… or rk_…)")
    if not publishable.startswith("pk_"):
        raise RuntimeError("STRIPE_PUBLISHABLE_KEY must be a publishable key (pk_…)")
    if ("_live_" in secret) != ("_live_" in publishable):
        raise RuntimeError("STRIPE_SECRET_KEY and STRIPE_PUBLISHABLE_KEY mix live and test mode")
    if not str(config.get("STRIPE_WEBHOOK_SECRET") or "").startswith("whsec_"):
        raise RuntimeError(
            "STRIPE_WEBHOOK_SECRET (whsec_…, the signing secret of the webhook endpoint) must be "
            "set when the Stripe keys are: without it payments could not be confirmed"
        )
    for key in ("STRIPE_API_BASE", "STRIPE_JS_URL"):
        if not str(config.get(key) or "").startswith(("https://", "http://")):
            raise RuntimeError(f"{key} must be an http(s) URL")


#: Where links point when SITE_URL is unset while testing or debugging.
DEV_SITE_URL = "http://127.0.0.1:5000"


def default_site_url(config: Mapping[str, Any], environ: Mapping[str, str]) -> str | None:
    """Return the SITE_URL to use when none is set: only while testing or debugging.

    Testing means the app's ``TESTING`` or ``DEBUG`` setting, or ``FACILITATION_TESTING=1``
    in the environment (the suite sets it, so the servers it starts inherit it).
    """
    testing = config.get("TESTING") or config.get("DEBUG")
    if not (testing or environ.get("FACILITATION_TESTING") == "1"):
        return None
    server_name = config.get("SERVER_NAME")
    return f"http://{server_name}" if server_name else DEV_SITE_URL


def _check_site_url(config: Mapping[str, Any]) -> None:
    url = str(config.get("SITE_URL") or "")
    if not url:
        raise RuntimeError(
            "SITE_URL (FACILITATION_SITE_URL) must be set to the site's public address, e.g. "
            "https://circles.example.org: links in emails are built on it, never on the "
            "request's Host header"
        )
    parts = urlsplit(url)
    if parts.scheme not in {"http", "https"} or not parts.netloc or parts.query or parts.fragment:
        raise RuntimeError(
            f"SITE_URL {url!r} must be an http(s) address like https://circles.example.org"
        )


def check(config: dict[str, Any]) -> None:
    """Fail at start-up on settings that cannot work."""
    if not config.get("SECRET_KEY") or len(str(config["SECRET_KEY"])) < 16:
        raise RuntimeError("SECRET_KEY must be set and at least 16 characters long")
    try:
        schedule.zone(config["DEFAULT_TIMEZONE"])  # a lookup, not a walk of the zone database
    except schedule.ScheduleError:
        raise RuntimeError(
            f"DEFAULT_TIMEZONE {config['DEFAULT_TIMEZONE']!r} is not a time zone"
        ) from None
    mail_url = config.get("MAIL_URL")
    if mail_url and not str(mail_url).startswith(("smtp://", "smtps://")):
        raise RuntimeError("MAIL_URL must start with smtp:// or smtps://")
    _check_stripe(config)
    _check_site_url(config)

"""Find the real services the suite needs; skip visibly without them, fail in CI."""

from __future__ import annotations

import os

import pytest
import sqlalchemy as sa

DEFAULT_POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


def in_ci() -> bool:
    """Return whether this run is CI, where every service must be there."""
    return os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def postgres_admin_url() -> str:
    """Return the URL of a PostgreSQL database the suite may create databases from."""
    url = os.environ.get("FACILITATION_TEST_POSTGRES_URL", DEFAULT_POSTGRES)
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    return url


_checked: dict[str, str | None] = {}


def postgres_or_skip() -> None:
    """Skip (or fail, in CI) when PostgreSQL cannot be reached."""
    if "pg" not in _checked:
        try:
            engine = sa.create_engine(postgres_admin_url(), connect_args={"connect_timeout": 3})
            with engine.connect() as conn:
                conn.execute(sa.text("SELECT 1"))
            engine.dispose()
            _checked["pg"] = None
        except Exception as exc:  # any failure to connect means "not here"
            _checked["pg"] = f"{type(exc).__name__}: {str(exc).splitlines()[0][:160]}"
    reason = _checked["pg"]
    if reason is None:
        return
    message = f"PostgreSQL is not reachable at {postgres_admin_url()} ({reason})"
    if in_ci():
        pytest.fail(f"{message}; CI requires it", pytrace=False)
    pytest.skip(message)


def redis_url() -> str:
    """Return the Redis the suite uses as a Socket.IO message queue."""
    return os.environ.get("FACILITATION_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


def redis_or_skip() -> None:
    """Skip (or fail, in CI) when Redis cannot be reached."""
    import redis

    try:
        redis.Redis.from_url(redis_url(), socket_connect_timeout=2).ping()
    except redis.RedisError as exc:
        message = f"Redis is not reachable at {redis_url()} ({type(exc).__name__})"
        if in_ci():
            pytest.fail(f"{message}; CI requires it", pytrace=False)
        pytest.skip(message)

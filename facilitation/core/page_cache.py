"""A short-lived cache of public pages as anonymous visitors see them.

When a popular gathering opens, hundreds of visitors ask for the same page within seconds.
Only anonymous requests are cached: a visitor who is logged in, has a message waiting
(flash), carries a remember-me cookie or sends a query string is served fresh; a response is
kept only if it is a 200 that sets no cookie and leaves the session untouched, so no CSRF
token or personal detail can ever be stored. An entry lives ``PAGE_CACHE_SECONDS`` (0 turns
the cache off) and is dropped at once when this process commits a change to any of the
watched tables; another process's change shows after at most that many seconds, which is
harmless because registering always counts seats again under the gathering's lock.
While one request renders a page, others asking for it wait for that render (bounded).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import wraps
from typing import Any

from flask import Flask, Response, current_app, has_app_context, make_response, request, session
from flask_login import current_user
from sqlalchemy import event
from sqlalchemy.orm import Session

#: Most pages kept at once (oldest dropped first); bounds memory whatever ids are asked for.
MAX_ENTRIES = 256
#: How long a request waits for another one rendering the same page, in seconds.
WAIT_SECONDS = 10.0
_DIRTY_KEY = "page_cache_dirty"


@dataclass
class _Entry:
    body: bytes
    mimetype: str
    expires: float
    generation: int


@dataclass
class PageCache:
    """Pages by path, for this process."""

    entries: dict[str, _Entry] = field(default_factory=dict)
    rendering: dict[str, threading.Event] = field(default_factory=dict)
    generation: int = 0
    hits: int = 0
    misses: int = 0

    def clear(self) -> None:
        """Forget every page (something they show has changed)."""
        self.generation += 1
        self.entries.clear()

    def get(self, key: str, now: float) -> _Entry | None:
        """Return a live entry for ``key``, if any."""
        entry = self.entries.get(key)
        if entry is None or entry.expires <= now or entry.generation != self.generation:
            return None
        return entry

    def put(self, key: str, entry: _Entry) -> None:
        """Keep ``entry`` unless a change happened while it was rendered."""
        if entry.generation != self.generation:
            return
        self.entries.pop(key, None)
        while len(self.entries) >= MAX_ENTRIES:
            self.entries.pop(next(iter(self.entries)))
        self.entries[key] = entry


def cache_of(app: Flask) -> PageCache:
    """Return the app's page cache."""
    return app.extensions["page_cache"]  # type: ignore[no-any-return]


def _cacheable() -> bool:
    if request.method != "GET" or request.query_string:
        return False
    if current_app.config.get("PAGE_CACHE_SECONDS", 0) <= 0:
        return False
    if "_flashes" in session or "_user_id" in session:
        return False
    return not current_user.is_authenticated


def public_page(view: Callable[..., Any]) -> Callable[..., Any]:
    """Serve an anonymous visitor's GET of this view from the page cache when it can."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if not _cacheable():
            return view(*args, **kwargs)
        cache = cache_of(current_app)
        key = request.path
        entry = cache.get(key, time.monotonic())
        if entry is None and (busy := cache.rendering.get(key)) is not None:
            busy.wait(WAIT_SECONDS)
            entry = cache.get(key, time.monotonic())
        if entry is not None:
            cache.hits += 1
            return Response(entry.body, mimetype=entry.mimetype)
        cache.misses += 1
        generation = cache.generation
        done = cache.rendering.setdefault(key, threading.Event())
        try:
            response = make_response(view(*args, **kwargs))
            if (
                response.status_code == 200
                and "Set-Cookie" not in response.headers
                and not session.modified
                and not response.is_streamed
            ):
                ttl = current_app.config["PAGE_CACHE_SECONDS"]
                body = response.get_data()
                cache.put(
                    key, _Entry(body, response.mimetype or "", time.monotonic() + ttl, generation)
                )
            return response
        finally:
            if cache.rendering.get(key) is done:
                del cache.rendering[key]
            done.set()

    return wrapper


def install(app: Flask, tables: Iterable[str]) -> None:
    """Give ``app`` a page cache, emptied whenever a commit changes one of ``tables``."""
    app.extensions["page_cache"] = PageCache()
    _WATCHED.update(tables)
    if not _LISTENING:
        _listen()
        _LISTENING.append(True)


#: Tables whose changes empty the cache (the same for every app of the process).
_WATCHED: set[str] = set()
_LISTENING: list[bool] = []


def _touches(objects: Iterable[object]) -> bool:
    return any(getattr(type(o), "__tablename__", None) in _WATCHED for o in objects)


def _listen() -> None:
    @event.listens_for(Session, "after_flush")
    def _after_flush(sess: Session, _context: Any) -> None:
        if _touches(sess.new) or _touches(sess.dirty) or _touches(sess.deleted):
            sess.info[_DIRTY_KEY] = True

    @event.listens_for(Session, "do_orm_execute")
    def _bulk(state: Any) -> None:
        if state.is_update or state.is_delete or state.is_insert:
            table = getattr(state.statement, "table", None)
            if getattr(table, "name", None) in _WATCHED:
                state.session.info[_DIRTY_KEY] = True

    @event.listens_for(Session, "after_commit")
    def _after_commit(sess: Session) -> None:
        if sess.info.pop(_DIRTY_KEY, False) and has_app_context():
            cache = current_app.extensions.get("page_cache")
            if cache is not None:
                cache.clear()

    @event.listens_for(Session, "after_soft_rollback")
    def _after_rollback(sess: Session, _previous: Any) -> None:
        sess.info.pop(_DIRTY_KEY, None)

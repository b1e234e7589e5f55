"""Remember a read for the rest of the database transaction, so one request asks only once.

A registration reads the gathering's settings, questions and groups to build its form, and
the service reads them again to check the answers: each read is a round trip to the
database, and under a rush round trips are what a registration mostly costs. ``memo`` keeps
the first answer in the session until the transaction ends, or until a flush in it changes
a row of one of the tables named, whichever comes first.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from sqlalchemy import event
from sqlalchemy.orm import Session

T = TypeVar("T")
_KEY = "transaction_memo"


def memo(session: Session, key: tuple[Any, ...], tables: Iterable[str], load: Callable[[], T]) -> T:
    """Return ``load()``, or what it returned earlier in this transaction for ``key``."""
    found: dict[tuple[Any, ...], tuple[frozenset[str], Any]] = session.info.setdefault(_KEY, {})
    watched = frozenset(tables)
    if key in found and not _touched(session, watched):
        return found[key][1]  # type: ignore[no-any-return]
    found[key] = (watched, load())  # a query flushes pending changes first, as before
    return found[key][1]  # type: ignore[no-any-return]


def _tables_of(objects: Iterable[object]) -> set[str | None]:
    return {getattr(type(o), "__tablename__", None) for o in objects}


def _touched(session: Session, tables: frozenset[str]) -> bool:
    """Whether changes not yet flushed touch ``tables`` (the memo would miss them)."""
    return bool(tables & _tables_of((*session.new, *session.dirty, *session.deleted)))


@event.listens_for(Session, "after_flush")
def _forget_changed(session: Session, _context: Any) -> None:
    found = session.info.get(_KEY)
    if not found:
        return
    changed = _tables_of((*session.new, *session.dirty, *session.deleted))
    for key in [k for k, (tables, _) in found.items() if tables & changed]:
        del found[key]


@event.listens_for(Session, "after_transaction_end")
def _forget_all(session: Session, transaction: Any) -> None:
    if transaction.parent is None:
        session.info.pop(_KEY, None)

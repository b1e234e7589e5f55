"""Flood throttling of live sockets: token buckets per socket and per account (pure).

No Flask or Socket.IO here: the socket handlers ask :class:`Throttle` before doing any work,
passing the clock reading, and act on its answer. State is per process (several processes
each throttle their own sockets; a client is pinned to one process by sticky sessions).
"""

from __future__ import annotations

from dataclasses import dataclass

#: Pure core: no framework import, here or in what it imports (tests/core/test_pure_core.py).
__pure__ = True


@dataclass(frozen=True)
class Rate:
    """A token bucket's shape: up to ``burst`` at once, refilled at ``per_second``."""

    burst: int
    per_second: float


#: Every event of one socket: a screen sends a handful at connect (clock samples, a snapshot),
#: a person taps a few buttons; nothing legitimate keeps above 10 a second.
EVENTS = Rate(burst=20, per_second=10.0)
#: Every event of one account, all its sockets together: a person with three screens open (the
#: most :data:`MAX_SOCKETS_PER_ACCOUNT` allows) connecting at once stays inside it; twenty
#: sockets of one account flooding together share it, instead of getting ten a second each.
ACCOUNT_EVENTS = Rate(burst=40, per_second=15.0)
#: Support signals that reach the database, per person across their sockets: three at once,
#: then one every 5 s. Presses beyond that are answered from the open signal.
SUPPORT = Rate(burst=3, per_second=0.2)
#: Refused events in a row (the bucket never refilling in between) after which the socket is
#: disconnected: at 1,000 events a second that is half a second of flooding; a person never
#: gets there. Counted per socket and per account (every socket of a flooding account goes).
DISCONNECT_AFTER_REFUSALS = 500
#: Sockets one account may have open in one run on one process: a phone, a tablet and a laptop
#: tab. One more (a fourth tab, or a phone reconnecting from a new network while its old
#: connection is not yet known dead) replaces the oldest, which is told so (``replaced``).
MAX_SOCKETS_PER_ACCOUNT = 3
#: How often (seconds) accounts with no socket left are looked over and dropped once rested.
SWEEP_S = 10.0


class Bucket:
    """A token bucket: three small numbers."""

    __slots__ = ("refused", "stamp", "tokens")

    def __init__(self, rate: Rate, now: float) -> None:
        self.tokens = float(rate.burst)
        self.stamp = now
        self.refused = 0

    def take(self, rate: Rate, now: float) -> bool:
        """Take one token if there is one; count a refusal otherwise."""
        self.tokens = min(float(rate.burst), self.tokens + (now - self.stamp) * rate.per_second)
        self.stamp = now
        if self.tokens >= rate.burst:
            self.refused = 0  # the client has calmed down for a whole refill
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return True
        self.refused += 1
        return False


class Account:
    """One account's buckets (all its sockets together) and the sockets it has open."""

    __slots__ = ("events", "sids", "support")

    def __init__(self, rate: Rate, now: float) -> None:
        self.events = Bucket(rate, now)
        self.support = Bucket(SUPPORT, now)
        self.sids: set[str] = set()

    def rested(self, rate: Rate, now: float) -> bool:
        """Return whether both buckets would be full by ``now`` (nothing left to remember)."""
        events = self.events.tokens + (now - self.events.stamp) * rate.per_second
        support = self.support.tokens + (now - self.support.stamp) * SUPPORT.per_second
        return events >= rate.burst and support >= SUPPORT.burst


@dataclass(frozen=True)
class Verdict:
    """The throttle's answer to one event."""

    allowed: bool
    disconnect: bool = False


class Throttle:
    """Buckets per socket and per account for every event, and per account for support."""

    def __init__(
        self,
        events: Rate = EVENTS,
        disconnect_after: int = DISCONNECT_AFTER_REFUSALS,
        account_events: Rate = ACCOUNT_EVENTS,
    ) -> None:
        self.events = events
        self.account_events = account_events
        self.disconnect_after = disconnect_after
        self._sockets: dict[str, Bucket] = {}
        #: Kept after an account's last socket goes until its buckets have refilled, so that
        #: reconnecting does not hand a flooder fresh buckets.
        self._accounts: dict[int, Account] = {}
        self._swept_at = 0.0

    def _account(self, user_id: int, now: float) -> Account:
        account = self._accounts.get(user_id)
        if account is None:
            account = self._accounts[user_id] = Account(self.account_events, now)
        return account

    def check(self, sid: str, now: float, user_id: int | None = None) -> Verdict:
        """Decide whether a socket (of ``user_id``, if any) may send one more event now."""
        bucket = self._sockets.get(sid)
        if bucket is None:
            bucket = self._sockets[sid] = Bucket(self.events, now)
        if not bucket.take(self.events, now):
            return Verdict(False, disconnect=bucket.refused >= self.disconnect_after)
        if user_id is None:
            return Verdict(True)
        if now - self._swept_at >= SWEEP_S:
            self._sweep(now)
        account = self._account(user_id, now)
        account.sids.add(sid)
        if account.events.take(self.account_events, now):
            return Verdict(True)
        return Verdict(False, disconnect=account.events.refused >= self.disconnect_after)

    def support_allowed(self, user_id: int, now: float) -> bool:
        """Decide whether a support press may reach the database (per person, all sockets)."""
        return self._account(user_id, now).support.take(SUPPORT, now)

    def forget(self, sid: str, user_id: int | None = None, now: float = 0.0) -> None:
        """Drop a socket's state; its account's once it has no socket and has calmed down."""
        self._sockets.pop(sid, None)
        account = self._accounts.get(user_id) if user_id is not None else None
        if user_id is not None and account is not None:
            account.sids.discard(sid)
            if not account.sids and account.rested(self.account_events, now):
                del self._accounts[user_id]
        if now - self._swept_at >= SWEEP_S:
            self._sweep(now)

    def _sweep(self, now: float) -> None:
        self._swept_at = now
        for uid in [u for u, a in self._accounts.items() if not a.sids]:
            if self._accounts[uid].rested(self.account_events, now):
                del self._accounts[uid]

    def sizes(self) -> tuple[int, int]:
        """Return how many sockets and accounts have state (for tests and diagnostics)."""
        return len(self._sockets), len(self._accounts)

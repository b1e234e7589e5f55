"""Flood throttling of live sockets: token buckets per connection and per person (pure).

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
#: Support signals that reach the database, per person across their sockets: three at once,
#: then one every 5 s. Presses beyond that are answered from memory (see SUPPORT_REPEAT_S).
SUPPORT = Rate(burst=3, per_second=0.2)
#: A repeated press for the same open signal within this window is answered "already sent"
#: without alerting the facilitators again; after it, a press alerts them again.
SUPPORT_REPEAT_S = 30.0
#: Refused events in a row (the bucket never refilling in between) after which the socket is
#: disconnected: at 1,000 events a second that is half a second of flooding; a person never
#: gets there.
DISCONNECT_AFTER_REFUSALS = 500


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


class SupportMemo:
    """What was last told to the facilitators for one person, and their support bucket."""

    __slots__ = ("bucket", "sent_at", "signal_id")

    def __init__(self, now: float) -> None:
        self.bucket = Bucket(SUPPORT, now)
        self.signal_id: int | None = None
        self.sent_at = 0.0


@dataclass(frozen=True)
class Verdict:
    """The throttle's answer to one event."""

    allowed: bool
    disconnect: bool = False


class Throttle:
    """Per-socket buckets for every event and per-person memory of support signals."""

    def __init__(
        self,
        events: Rate = EVENTS,
        disconnect_after: int = DISCONNECT_AFTER_REFUSALS,
        repeat_s: float = SUPPORT_REPEAT_S,
    ) -> None:
        self.events = events
        self.disconnect_after = disconnect_after
        self.repeat_s = repeat_s
        self._sockets: dict[str, Bucket] = {}
        self._support: dict[int, SupportMemo] = {}

    def check(self, sid: str, now: float) -> Verdict:
        """Decide whether a socket may send one more event now."""
        bucket = self._sockets.get(sid)
        if bucket is None:
            bucket = self._sockets[sid] = Bucket(self.events, now)
        if bucket.take(self.events, now):
            return Verdict(True)
        return Verdict(False, disconnect=bucket.refused >= self.disconnect_after)

    def support_allowed(self, user_id: int, now: float) -> bool:
        """Decide whether a support press may reach the database (per person, all sockets)."""
        memo = self._support.get(user_id)
        if memo is None:
            memo = self._support[user_id] = SupportMemo(now)
        return memo.bucket.take(SUPPORT, now)

    def last_signal(self, user_id: int) -> int | None:
        """Return the id of the signal last sent to the facilitators for this person."""
        memo = self._support.get(user_id)
        return memo.signal_id if memo else None

    def should_alert(self, user_id: int, signal_id: int, now: float) -> bool:
        """Return whether to alert the facilitators (a new signal, or a repeat after the window).

        Records the alert when the answer is yes.
        """
        memo = self._support.get(user_id)
        if memo is None:
            memo = self._support[user_id] = SupportMemo(now)
        if memo.signal_id == signal_id and now - memo.sent_at < self.repeat_s:
            return False
        memo.signal_id, memo.sent_at = signal_id, now
        return True

    def forget(self, sid: str, user_id: int | None = None) -> None:
        """Drop a socket's state, and the person's when they have no other socket."""
        self._sockets.pop(sid, None)
        if user_id is not None:
            self._support.pop(user_id, None)

    def sizes(self) -> tuple[int, int]:
        """Return how many sockets and people have state (for tests and diagnostics)."""
        return len(self._sockets), len(self._support)

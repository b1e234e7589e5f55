"""Track this process's live sockets: who each is, the connect gate, account cap, floods."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import current_app, request
from flask_socketio import disconnect

from facilitation.exercises import rooms, throttle
from facilitation.extensions import socketio

logger = logging.getLogger(__name__)

PARTICIPANT, FACILITATOR, PROJECTOR = "participant", "facilitator", "projector"


@dataclass(frozen=True)
class Connection:
    """Who is on the other end of one socket."""

    run_id: int
    role: str
    user_id: int | None


#: Connections of this process, by Socket.IO sid.
_connections: dict[str, Connection] = {}

#: At most this many connect handlers work at once (the rest wait their turn). A room
#: reconnecting all at once (a restart, the venue's Wi-Fi coming back) otherwise has every
#: handler holding its queries and snapshots in memory at the same time and overflowing the
#: database pool; measured in docs/benchmarks.md.
CONNECT_CONCURRENCY = 4
connect_gate = threading.BoundedSemaphore(CONNECT_CONCURRENCY)

#: Seconds between two notices to the console about the same person refused at the same run:
#: a phone retrying in a loop tells the facilitators once, not once per attempt.
NOTICE_REPEAT_S = 60.0


def first_notice(run_id: int, user_id: int) -> bool:
    """Return whether the console should hear of this refusal (not told in the last minute)."""
    # Per app (as the throttle), so a new app starts with none.
    _noticed: dict[tuple[int, int], float] = current_app.extensions.setdefault("live_notices", {})
    now, key = throttle_clock(), (run_id, user_id)
    last = _noticed.get(key)
    if last is not None and now - last < NOTICE_REPEAT_S:
        return False
    if len(_noticed) > 10_000:  # bounded: forget the oldest half
        for old in sorted(_noticed, key=_noticed.__getitem__)[:5_000]:
            del _noticed[old]
    _noticed[key] = now
    return True


REPLACED = (
    "This exercise is open on another screen of yours, so this one was closed. "
    "Reload to use it here."
)


def make_room_for(connection: Connection, sid: str) -> None:
    """Close the account's oldest sockets in this run beyond ``MAX_SOCKETS_PER_ACCOUNT``.

    Called once the new socket ``sid`` is accepted. The newest connection wins: it is the
    screen the person is holding (or a phone back from a network change whose old connection
    is not yet known dead). A closed one is told ``replaced`` and does not reconnect by itself.
    """
    if connection.user_id is None:
        return
    others = [
        other_sid
        for other_sid, other in _connections.items()  # in the order they connected
        if other.user_id == connection.user_id
        and other.run_id == connection.run_id
        and other_sid != sid
    ]
    for old in others[: max(0, len(others) + 1 - throttle.MAX_SOCKETS_PER_ACCOUNT)]:
        logger.info("live socket %s replaced by a newer one of account %s", old, connection.user_id)
        payload = {"code": "replaced", "message": REPLACED}
        socketio.emit("replaced", payload, to=old, namespace=rooms.NAMESPACE)
        socketio.server.disconnect(old, namespace=rooms.NAMESPACE)
        _connections.pop(old, None)


def connections_of(user_id: int) -> dict[str, Connection]:
    """Return this process's sockets of one person, by sid."""
    return {sid: c for sid, c in list(_connections.items()) if c.user_id == user_id}


def error_answer(code: str, message: str) -> dict[str, Any]:
    """Return the answer to an event that was refused or failed."""
    return {"ok": False, "error": code, "message": message}


SLOW_DOWN = "Too many messages at once; wait a moment and try again."
#: The throttle's clock (monotonic seconds); tests replace it to step time by hand.
throttle_clock: Callable[[], float] = time.monotonic


def app_throttle() -> throttle.Throttle:
    """Return this app's socket throttle (per app, so a new app starts with none)."""
    found = current_app.extensions.get("live_throttle")
    if found is None:
        found = current_app.extensions["live_throttle"] = throttle.Throttle()
    return found  # type: ignore[no-any-return]


def flooding(connection: Connection) -> dict[str, Any] | None:
    """Answer slow_down over the socket's or the account's rate; disconnect sustained abuse."""
    sid = request.sid  # type: ignore[attr-defined]
    verdict = app_throttle().check(sid, throttle_clock(), connection.user_id)
    if verdict.allowed:
        return None
    if verdict.disconnect:
        logger.warning("live socket %s disconnected for flooding", sid)
        disconnect()
    return error_answer("slow_down", SLOW_DOWN)

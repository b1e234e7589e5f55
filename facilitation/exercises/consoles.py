"""Close the live consoles of people who may no longer facilitate (demoted, taken off, banned).

Private views and support alerts already go only to those who may facilitate at the time of
sending (``broadcast.private_rooms``), on every process. This closes the consoles themselves:
this process's sockets are told ``removed`` and disconnected at once; a console on another
process is told ``removed`` through its console room (via the Redis queue), taken out of that
room, and dropped by its own process at its next event (``sockets.live_event``). Any reconnect
is refused (``not_a_facilitator``).
"""

from __future__ import annotations

import logging
from datetime import timedelta

import sqlalchemy as sa

from facilitation.accounts.models import User
from facilitation.core.clock import utcnow
from facilitation.exercises import connections, rooms
from facilitation.exercises.engine import rounds
from facilitation.exercises.models import Run
from facilitation.extensions import db, socketio
from facilitation.gatherings import permissions
from facilitation.gatherings.models import Gathering

logger = logging.getLogger(__name__)

REASON = "not_a_facilitator"


def _allowed(user_id: int | None, gathering_id: int, cache: dict[int, Gathering | None]) -> bool:
    if gathering_id not in cache:
        cache[gathering_id] = db.session.get(Gathering, gathering_id)
    gathering = cache[gathering_id]
    user = db.session.get(User, user_id) if user_id is not None else None
    return gathering is not None and permissions.may_facilitate(user, gathering)


def close_revoked(user_id: int) -> int:
    """After commit: close every console of ``user_id`` they may no longer keep open.

    Return how many of this process's sockets were disconnected.
    """
    gatherings: dict[int, Gathering | None] = {}
    payload = {"reason": REASON}
    # Runs of gatherings over for more than a day have no console worth closing.
    recent = utcnow() - timedelta(days=1)
    unfinished = db.session.execute(
        sa.select(Run.id, Run.gathering_id)
        .join(Gathering, Gathering.id == Run.gathering_id)
        .where(Run.status != rounds.RunStatus.ENDED.value, Gathering.ends_at > recent)
    ).all()
    for run_id, gathering_id in unfinished:
        if _allowed(user_id, gathering_id, gatherings):
            continue
        room = rooms.console_room(run_id, user_id)
        socketio.emit("removed", payload, to=room, namespace=rooms.NAMESPACE)
        socketio.close_room(room, namespace=rooms.NAMESPACE)
    closed = 0
    for sid, connection in list(connections._connections.items()):
        if connection.role != connections.FACILITATOR or connection.user_id != user_id:
            continue
        run = db.session.get(Run, connection.run_id)
        if run is not None and _allowed(user_id, run.gathering_id, gatherings):
            continue
        socketio.emit("removed", payload, to=sid, namespace=rooms.NAMESPACE)
        socketio.server.disconnect(sid, namespace=rooms.NAMESPACE)
        closed += 1
    if closed:
        logger.info("closed %s live consoles of account %s", closed, user_id)
    return closed


def close_revoked_for(user_ids: set[int]) -> None:
    """After commit: close the revoked consoles of each of these accounts."""
    for user_id in sorted(user_ids):
        close_revoked(user_id)

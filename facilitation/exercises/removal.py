"""Take a person out of live runs and close their sockets: the one door other domains call.

A ban takes the person out of the runs they are in (re-paired, marked gone) and closes
their phones; a log-out, a password reset or a role change only closes their sockets (the
person may come back with a new log-in). Both go through here, so no other package edits
live-run rows or reads this process's socket registry.
"""

from __future__ import annotations

import logging
from datetime import datetime

import sqlalchemy as sa

from facilitation.exercises import broadcast, connections, rooms, services
from facilitation.exercises.engine import rounds
from facilitation.exercises.models import Run, RunParticipant
from facilitation.extensions import db, socketio

logger = logging.getLogger(__name__)

#: Why a person's sockets were closed, as sent in the ``removed`` event.
BANNED = "banned"
SESSION_ENDED = "session_ended"


def remove_from_runs(
    user_id: int, *, now: datetime, gathering_id: int | None = None
) -> list[services.Outcome]:
    """Re-pair the live rounds a person is paired in, then mark them gone from unfinished runs.

    Call it before the commit, once the ban is flushed, so the re-pair already leaves them out
    (resting with the reason ``banned``). Returns one outcome per run touched, for
    :func:`announce_removal` after the commit.
    """
    repaired = {
        o.run_id: o
        for o in services.repair_where_present(user_id, now=now, gathering_id=gathering_id)
    }
    stmt = (
        sa.select(RunParticipant)
        .join(Run, Run.id == RunParticipant.run_id)
        .where(
            RunParticipant.user_id == user_id,
            RunParticipant.left_at.is_(None),
            Run.status != rounds.RunStatus.ENDED.value,
        )
        .order_by(RunParticipant.run_id)
    )
    if gathering_id is not None:
        stmt = stmt.where(Run.gathering_id == gathering_id)
    outcomes = []
    for participant in db.session.scalars(stmt).all():
        outcome = repaired.get(participant.run_id) or services.Outcome(run_id=participant.run_id)
        outcome.support_changed = True
        outcome.personal_user_ids.append(user_id)
        participant.left_at = now
        outcomes.append(outcome)
    db.session.flush()
    logger.info("account %s taken out of %s live runs", user_id, len(outcomes))
    return outcomes


def disconnect_user(user_id: int, reason: str) -> int:
    """Tell every socket of a person why it is closed and close it; call after commit.

    Every socket with a log-in is in its person's room (``rooms.user_room``), so one ``removed``
    there reaches each of them once, on every process through the Redis message queue; the page
    closes its socket on it. Sockets of this process are closed here. A socket on another
    process that ignores ``removed`` is refused at its next change and when it reconnects
    (its log-in no longer holds, or the ban refuses it). Returns how many sockets were closed.
    """
    local = connections.connections_of(user_id)
    socketio.emit(
        "removed", {"reason": reason}, to=rooms.user_room(user_id), namespace=rooms.NAMESPACE
    )
    for sid in local:
        socketio.server.disconnect(sid, namespace=rooms.NAMESPACE)
    logger.info("account %s: %s live sockets closed (%s)", user_id, len(local), reason)
    return len(local)


def announce_removal(user_id: int, reason: str, outcomes: list[services.Outcome]) -> None:
    """After commit: disconnect the person, then send the others the re-paired rounds."""
    disconnect_user(user_id, reason)
    for outcome in outcomes:
        broadcast.after_change(outcome)

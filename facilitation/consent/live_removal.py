"""Take a banned person out of live runs: re-pair, mark them gone, tell and disconnect phones."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from facilitation.consent import safety
from facilitation.exercises import broadcast, rooms, services, sockets
from facilitation.exercises.engine import rounds
from facilitation.exercises.models import Run, RunParticipant
from facilitation.extensions import db, socketio

logger = logging.getLogger(__name__)


def is_banned(user: Any) -> bool:
    """Return whether this account (or its email address) is banned; anonymous is not."""
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    return safety.active_ban(user.email, user.id) is not None


def remove_from_live_runs(
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


def disconnect_person(user_id: int, reason: str) -> None:
    """Tell a person's phones they were removed and disconnect their sockets; call after commit.

    ``removed`` goes to their participant room of every unfinished run they were in, which
    reaches phones on other processes through the Redis message queue. Only this process's
    sockets (found in ``sockets._connections``) are disconnected here: a phone on another
    process gets ``removed`` and is expected to close itself, and is refused when it reconnects.
    """
    payload = {"reason": reason}
    local = {sid: c for sid, c in list(sockets._connections.items()) if c.user_id == user_id}
    run_ids = set(
        db.session.scalars(
            sa.select(RunParticipant.run_id)
            .join(Run, Run.id == RunParticipant.run_id)
            .where(RunParticipant.user_id == user_id, Run.status != rounds.RunStatus.ENDED.value)
        )
    )
    run_ids |= {c.run_id for c in local.values() if c.role == sockets.PARTICIPANT}
    for run_id in sorted(run_ids):
        socketio.emit(
            "removed",
            payload,
            to=rooms.participant_room(run_id, user_id),
            namespace=rooms.NAMESPACE,
        )
    for sid, connection in local.items():
        if connection.role != sockets.PARTICIPANT:
            # A facilitator console is in no participant room: tell it directly.
            socketio.emit("removed", payload, to=sid, namespace=rooms.NAMESPACE)
        socketio.server.disconnect(sid, namespace=rooms.NAMESPACE)
    logger.info("account %s disconnected from live runs (%s)", user_id, reason)


def announce_removal(user_id: int, reason: str, outcomes: list[services.Outcome]) -> None:
    """After commit: disconnect the person, then send the others the re-paired rounds."""
    disconnect_person(user_id, reason)
    for outcome in outcomes:
        broadcast.after_change(outcome)

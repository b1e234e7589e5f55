"""Send snapshots after a change has been committed; never before."""

from __future__ import annotations

import sqlalchemy as sa

from facilitation.core.clock import utcnow
from facilitation.exercises import rooms, snapshots
from facilitation.exercises.models import Run, RunParticipant, SupportSignal
from facilitation.exercises.services import Outcome
from facilitation.extensions import db, socketio


def emit_run_state(run: Run, to: str) -> None:
    """Send the shared run state, stamped with the server time just before sending."""
    payload = snapshots.run_state(run, utcnow())
    # Stamp as late as possible: clients read it as "the server's clock when this left".
    payload["server_time"] = snapshots.epoch_ms(utcnow())
    socketio.emit("run_state", payload, to=to, namespace=rooms.NAMESPACE)


def emit_pairings(run: Run) -> None:
    """Send the table to projectors and facilitators and each phone its own pairing."""
    table = snapshots.pairing_table(run)
    socketio.emit(
        "pairing_table", table, to=rooms.projector_room(run.id), namespace=rooms.NAMESPACE
    )
    socketio.emit(
        "pairing_table", table, to=rooms.facilitators_room(run.id), namespace=rooms.NAMESPACE
    )
    user_ids = list(
        db.session.scalars(sa.select(RunParticipant.user_id).where(RunParticipant.run_id == run.id))
    )
    for user_id, payload in snapshots.your_pairings(run, user_ids).items():
        socketio.emit(
            "your_pairing",
            payload,
            to=rooms.participant_room(run.id, user_id),
            namespace=rooms.NAMESPACE,
        )


def emit_facilitator_view(run: Run, *, with_preview: bool = True) -> None:
    """Send the facilitators' private view."""
    socketio.emit(
        "facilitator_view",
        snapshots.facilitator_view(run, with_preview=with_preview),
        to=rooms.facilitators_room(run.id),
        namespace=rooms.NAMESPACE,
    )


def emit_support_signal(signal: SupportSignal) -> None:
    """Tell the facilitators at once that someone needs support."""
    socketio.emit(
        "support_signal",
        snapshots.support_payload(signal),
        to=rooms.facilitators_room(signal.run_id),
        namespace=rooms.NAMESPACE,
    )


def after_change(outcome: Outcome) -> None:
    """Send what a committed change calls for."""
    run = db.session.get(Run, outcome.run_id)
    if run is None:
        return
    if outcome.state_changed:
        emit_run_state(run, rooms.run_room(run.id))
        # Under gevent the frames just queued go out only when this greenlet yields: let the
        # phones' writers run before building anything else.
        socketio.sleep(0)
    if outcome.pairing_changed:
        emit_pairings(run)
    elif outcome.personal_user_ids:
        for user_id, payload in snapshots.your_pairings(run, outcome.personal_user_ids).items():
            socketio.emit(
                "your_pairing",
                payload,
                to=rooms.participant_room(run.id, user_id),
                namespace=rooms.NAMESPACE,
            )
    # The facilitators' view lists who is present, paired, resting and asking for support in
    # the current round: a phase change within a round changes none of it, so it is not sent
    # again (at 500 people that would rebuild and resend the whole list every phase).
    people_changed = outcome.pairing_changed or outcome.support_changed
    if people_changed or outcome.round_changed:
        # The preview runs the pairing engine: only when who can be paired has changed.
        emit_facilitator_view(run, with_preview=people_changed)

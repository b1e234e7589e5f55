"""Send snapshots after a change has been committed; never before."""

from __future__ import annotations

import contextlib
import logging
import threading

import sqlalchemy as sa
from flask import Flask, current_app
from sqlalchemy.exc import InterfaceError, OperationalError

from facilitation.core.clock import utcnow
from facilitation.core.db import first_line
from facilitation.exercises import rooms, snapshots
from facilitation.exercises.models import Run, RunParticipant, SupportSignal
from facilitation.exercises.services import Outcome
from facilitation.extensions import db, socketio
from facilitation.gatherings import permissions
from facilitation.gatherings.models import Gathering

logger = logging.getLogger(__name__)

#: Seconds the console's next-round preview waits after people in the room change (arrive, sit
#: out, come back, leave), so that a burst of such changes costs one run of the pairing engine
#: instead of one per person: about 70-90 ms of CPU each at 1,000 people (docs/benchmarks.md,
#: session 6). The presence list itself goes out at once. ``LIVE_PREVIEW_DELAY_S`` overrides
#: it; 0 sends the preview with every change.
PREVIEW_DELAY_S = 1.0

#: Previews this process has scheduled and not yet built: (id of the app, run id).
_previews_due: set[tuple[int, int]] = set()
_previews_lock = threading.Lock()


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
    to = private_rooms(run)
    if to:
        view = snapshots.facilitator_view(run, with_preview=with_preview)
        socketio.emit("facilitator_view", view, to=to, namespace=rooms.NAMESPACE)


def emit_support_signal(signal: SupportSignal) -> None:
    """Tell the facilitators at once that someone needs support."""
    run = db.session.get(Run, signal.run_id)
    to = private_rooms(run) if run is not None else []
    if to:
        payload = snapshots.support_payload(signal)
        socketio.emit("support_signal", payload, to=to, namespace=rooms.NAMESPACE)


def emit_entry_refused(run: Run, notice: dict[str, object]) -> None:
    """Tell the run's consoles that someone was refused entry, and why."""
    to = private_rooms(run)
    if to:
        socketio.emit("entry_refused", notice, to=to, namespace=rooms.NAMESPACE)


def private_rooms(run: Run) -> list[str]:
    """Return the console rooms of everyone who may facilitate the run's gathering now.

    Never empty-handed to Socket.IO: an empty list means nobody, and callers then send nothing.
    """
    gathering = db.session.get(Gathering, run.gathering_id)
    if gathering is None:
        return []
    ids = sorted(permissions.facilitator_ids(gathering))
    return [rooms.console_room(run.id, user_id) for user_id in ids]


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
        # The preview runs the pairing engine: only when who can be paired has changed. A new
        # pairing comes from the facilitator, one at a time; arrivals, sit-outs and leavings
        # come from the room, often many at once: those get one preview per burst.
        delay = float(current_app.config.get("LIVE_PREVIEW_DELAY_S", PREVIEW_DELAY_S))
        defer = outcome.support_changed and not outcome.pairing_changed and delay > 0
        emit_facilitator_view(run, with_preview=people_changed and not defer)
        if defer:
            schedule_preview(current_app._get_current_object(), run.id, delay)  # type: ignore[attr-defined]


def schedule_preview(app: Flask, run_id: int, delay: float) -> None:
    """Send the facilitators a view with a fresh preview after ``delay`` seconds, once.

    Changes that come while one is due are covered by it: it is built when it is sent.
    """
    key = (id(app), run_id)
    with _previews_lock:
        if key in _previews_due:
            return
        _previews_due.add(key)
    socketio.start_background_task(_send_preview_later, app, run_id, delay)


def _send_preview_later(app: Flask, run_id: int, delay: float) -> None:
    socketio.sleep(delay)
    with _previews_lock:
        # From here on a new change schedules another preview, so none is missed.
        _previews_due.discard((id(app), run_id))
    with app.app_context():
        try:
            run = db.session.get(Run, run_id)
            if run is not None:
                emit_facilitator_view(run, with_preview=True)
        except (OperationalError, InterfaceError) as err:  # the console keeps its last preview
            logger.warning(
                "preview for run %s not sent, database not answering: %s", run_id, first_line(err)
            )
        except Exception:
            logger.exception("preview for run %s failed", run_id)
        finally:
            with contextlib.suppress(Exception):
                db.session.remove()

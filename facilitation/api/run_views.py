"""API endpoints of live exercise runs: list, read, control (the run's facilitators only).

Control goes through the same service as the console's socket event, and the same
broadcast follows the commit, so every phone and projector sees an API command at once.
"""

from __future__ import annotations

import uuid

import sqlalchemy as sa
from flask import jsonify

from facilitation.api import access, serialize
from facilitation.api.views import bp
from facilitation.core.clock import utcnow
from facilitation.core.errors import Forbidden, NotFound
from facilitation.exercises import broadcast, services, snapshots
from facilitation.exercises.models import Run
from facilitation.extensions import db
from facilitation.gatherings import permissions
from facilitation.gatherings.models import Gathering

RUN = "/v1/runs/<int:run_id>"
#: The API's name for an action, and the service's.
ACTIONS = {"add_time": "adjust"}


def _facilitated(gathering_id: int) -> Gathering:
    gathering = db.session.get(Gathering, gathering_id)
    if gathering is None:
        raise NotFound("not_found", "No such gathering.")
    if not permissions.may_facilitate(access.actor(), gathering):
        raise Forbidden("forbidden", "Only this gathering's facilitators can see its runs.")
    return gathering


def _run(run_id: int) -> Run:
    run = db.session.get(Run, run_id)
    if run is None:
        raise NotFound("no_such_run", "There is no such run.")
    _facilitated(run.gathering_id)
    return run


@bp.route("/v1/gatherings/<int:gathering_id>/runs")
@access.endpoint(query=access.PAGING)
def list_runs(gathering_id: int):  # type: ignore[no-untyped-def]
    """List a gathering's runs, newest first."""
    gathering = _facilitated(gathering_id)
    at = access.page()
    stmt = sa.select(Run).where(Run.gathering_id == gathering.id)
    total = db.session.scalar(sa.select(sa.func.count()).select_from(stmt.subquery()))
    rows = db.session.scalars(stmt.order_by(Run.id.desc()).limit(at.limit).offset(at.offset))
    return jsonify(access.paged([serialize.run(r) for r in rows], int(total or 0), at))


def _facilitator_view(run: Run) -> dict[str, object]:
    view = snapshots.facilitator_view(run, with_preview=False)
    view.pop("projector_token", None)  # the projector's secret link stays on the console
    return view


@bp.route(RUN)
@access.endpoint()
def get_run(run_id: int):  # type: ignore[no-untyped-def]
    """Return a run's state snapshot and the facilitators' view."""
    run = _run(run_id)
    return jsonify(
        run=serialize.run(run),
        state=snapshots.run_state(run, utcnow()),
        facilitator_view=_facilitator_view(run),
    )


@bp.route(RUN + "/control", methods=["POST"])
@access.endpoint(write=True)
def control_run(run_id: int):  # type: ignore[no-untyped-def]
    """Apply one command (start, pause, next phase, add time…) and broadcast the result."""
    run = _run(run_id)
    data = access.body("RunControl")
    action = ACTIONS.get(data["action"], data["action"])
    seconds = data.get("seconds")
    outcome = services.control(
        run.id,
        access.actor(),
        action,
        command_id=data.get("command_id") or uuid.uuid4().hex,
        now=utcnow(),
        delta_s=float(seconds) if seconds is not None else None,
    )
    db.session.commit()
    broadcast.after_change(outcome)
    run = services.load_run(run_id)
    return jsonify(
        version=outcome.result.get("version", run.version),
        repeated=bool(outcome.result.get("repeated", False)),
        state=snapshots.run_state(run, utcnow()),
    )

"""API endpoints of the check-in desk: check in, list, undo, headcount.

Door volunteers, organisers and the gathering's facilitators may use them, exactly as the
desk page (``gatherings.permissions.may_work_desk``); a retried check-in (same ``request_id``)
gets the first answer back and writes nothing.
"""

from __future__ import annotations

import sqlalchemy as sa
from flask import jsonify

from facilitation.api import access, serialize
from facilitation.api.views import bp
from facilitation.attendance import services
from facilitation.attendance.models import CheckIn, CheckInMethod
from facilitation.core.clock import utcnow
from facilitation.core.errors import Forbidden, NotFound
from facilitation.extensions import db
from facilitation.gatherings import permissions
from facilitation.gatherings.models import Gathering

DESK = "/v1/gatherings/<int:gathering_id>"


def _desk_gathering(gathering_id: int) -> Gathering:
    """Return a gathering whose desk the token's owner may work: 404 if none, 403 if not."""
    gathering = db.session.get(Gathering, gathering_id)
    if gathering is None:
        raise NotFound("not_found", "No such gathering.")
    if not permissions.may_work_desk(access.actor(), gathering):
        raise Forbidden("forbidden", "Only organisers, facilitators and door staff can check in.")
    return gathering


@bp.route(DESK + "/check-ins", methods=["POST"])
@access.endpoint(write=True, door=True)
def create_check_in(gathering_id: int):  # type: ignore[no-untyped-def]
    """Check a person in by ticket code or registration id."""
    gathering = _desk_gathering(gathering_id)
    data = access.body("CheckInCreate")
    now = utcnow()
    user = access.actor()
    if "ticket" in data:
        card = services.lookup_ticket(user, gathering, data["ticket"], now)
        registration_id, method = card.registration_id, CheckInMethod.SCAN
    else:
        registration_id, method = data["registration_id"], CheckInMethod.SEARCH
    outcome = services.check_in(
        user,
        gathering,
        registration_id,
        data["request_id"],
        now,
        data.get("door_payment_minor"),
        method=method,
    )
    db.session.commit()
    response = jsonify(
        result=outcome.result,
        replayed=outcome.replayed,
        check_in=serialize.check_in(outcome.check_in),
        decision=serialize.decision(outcome.decision),
    )
    response.status_code = 201 if outcome.result == "checked_in" and not outcome.replayed else 200
    return response


@bp.route(DESK + "/check-ins")
@access.endpoint(door=True, query=access.PAGING)
def list_check_ins(gathering_id: int):  # type: ignore[no-untyped-def]
    """List a gathering's check-ins, newest first, undone ones included."""
    gathering = _desk_gathering(gathering_id)
    at = access.page()
    stmt = sa.select(CheckIn).where(CheckIn.gathering_id == gathering.id)
    total = db.session.scalar(sa.select(sa.func.count()).select_from(stmt.subquery()))
    rows = db.session.scalars(
        stmt.order_by(CheckIn.checked_in_at.desc(), CheckIn.id.desc())
        .limit(at.limit)
        .offset(at.offset)
    ).all()
    return jsonify(access.paged([serialize.check_in(r) for r in rows], int(total or 0), at))


@bp.route("/v1/check-ins/<int:check_in_id>", methods=["DELETE"])
@access.endpoint(write=True, door=True)
def undo_check_in(check_in_id: int):  # type: ignore[no-untyped-def]
    """Undo a check-in made by mistake; undoing it again changes nothing."""
    row = db.session.get(CheckIn, check_in_id)
    if row is None:
        raise NotFound("not_found", "No such check-in.")
    _desk_gathering(row.gathering_id)
    undone = services.undo_check_in(access.actor(), check_in_id, utcnow())
    db.session.commit()
    return jsonify(serialize.check_in(undone))


@bp.route(DESK + "/headcount")
@access.endpoint(door=True)
def show_headcount(gathering_id: int):  # type: ignore[no-untyped-def]
    """Return who is checked in against who is expected."""
    gathering = _desk_gathering(gathering_id)
    count = services.headcount(gathering)
    return jsonify(
        gathering_id=gathering.id,
        checked_in=count.checked_in,
        expected=count.expected,
        walk_ins=count.walk_ins,
        not_arrived=count.not_arrived,
    )

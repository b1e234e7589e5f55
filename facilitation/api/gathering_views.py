"""API endpoints of gatherings: list, read, create, change, publish, cancel."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from flask import jsonify

from facilitation.api import access, serialize
from facilitation.api.views import bp
from facilitation.core.clock import utcnow
from facilitation.core.errors import DomainError, Forbidden
from facilitation.exercises import consoles
from facilitation.extensions import db
from facilitation.gatherings import schedule, services
from facilitation.gatherings.forms import time_zone_choices
from facilitation.gatherings.models import Gathering, GatheringStatus
from facilitation.registration import ledger, refunds

GATHERING = "/v1/gatherings/<int:gathering_id>"
DETAIL_FIELDS = (
    "title",
    "timezone",
    "capacity",
    "description_md",
    "kind",
    "venue_name",
    "venue_address",
    "online_url",
    "accessibility_notes",
    "facilitator_ids",
)


def load_visible(gathering_id: int) -> Gathering:
    """Return a gathering the token's owner may see (drafts: organisers, its facilitators)."""
    return services.get_for_viewer(gathering_id, access.actor())


def _zone_names() -> set[str]:
    return {choice.value for choice in time_zone_choices()}


def _parse_instant(text: str, field: str) -> datetime:
    """Return an RFC 3339 time (already checked by the schema) as an aware datetime."""
    try:
        value = datetime.fromisoformat(text.upper().replace(":60", ":59"))
    except ValueError:
        raise DomainError("bad_time", "Give the time as RFC 3339.", field) from None
    return value


def _local(text: str, field: str, timezone: str) -> datetime:
    """Return the naive wall-clock time in ``timezone`` of an RFC 3339 instant."""
    try:
        return schedule.to_local(_parse_instant(text, field), timezone).replace(tzinfo=None)
    except (OverflowError, ValueError, schedule.ScheduleError):
        raise DomainError("out_of_range", "That time is out of range.", field) from None


def _details_and_timing(
    data: dict[str, Any], current: Gathering | None
) -> tuple[services.Details, services.Timing]:
    """Merge the body into the current details (for a change) and convert the times."""
    details = services.details_of(current) if current is not None else services.Details("", "", 0)
    for name in DETAIL_FIELDS:
        if name in data:
            setattr(details, name, data[name])
    if details.timezone not in _zone_names():
        raise DomainError(
            "unknown_time_zone", "Choose a time zone such as Europe/London.", "timezone"
        )
    starts = data.get("starts_at")
    ends = data.get("ends_at")
    if current is not None:
        starts_local = (
            _local(starts, "starts_at", details.timezone)
            if starts
            else schedule.to_local(current.starts_at, details.timezone).replace(tzinfo=None)
        )
        ends_local = (
            _local(ends, "ends_at", details.timezone)
            if ends
            else schedule.to_local(current.ends_at, details.timezone).replace(tzinfo=None)
        )
    else:
        starts_local = _local(starts, "starts_at", details.timezone)  # type: ignore[arg-type]
        ends_local = _local(ends, "ends_at", details.timezone)  # type: ignore[arg-type]
    return details, services.Timing(starts_local, ends_local)


def _answer(gathering: Gathering, status: int = 200):  # type: ignore[no-untyped-def]
    response = jsonify(serialize.gathering(gathering))
    response.status_code = status
    return response


@bp.route("/v1/gatherings")
@access.endpoint(door=True, query=access.PAGING)
def list_gatherings():  # type: ignore[no-untyped-def]
    """List gatherings that have not ended: published ones; organisers see drafts too."""
    at = access.page()
    now = utcnow()
    stmt = sa.select(Gathering).where(Gathering.ends_at > now)
    if not access.actor().is_organiser:
        stmt = stmt.where(Gathering.status == GatheringStatus.PUBLISHED)
    total = db.session.scalar(sa.select(sa.func.count()).select_from(stmt.subquery()))
    rows = db.session.scalars(
        stmt.order_by(Gathering.starts_at, Gathering.id).limit(at.limit).offset(at.offset)
    ).all()
    return jsonify(access.paged([serialize.gathering(g) for g in rows], int(total or 0), at))


@bp.route(GATHERING)
@access.endpoint(door=True)
def get_gathering(gathering_id: int):  # type: ignore[no-untyped-def]
    """Return one gathering, as its page would show it to the token's owner."""
    return _answer(load_visible(gathering_id))


@bp.route("/v1/gatherings", methods=["POST"])
@access.endpoint(write=True)
def create_gathering():  # type: ignore[no-untyped-def]
    """Create a draft gathering (organisers)."""
    user = access.actor()
    if not user.is_organiser:
        return access.error_response("forbidden", "Only organisers can create gatherings.", 403)
    data = access.body("GatheringCreate")
    details, timing = _details_and_timing(data, None)
    gathering = services.create_gathering(user, details, timing, now=utcnow())
    db.session.commit()
    return _answer(gathering, 201)


def _organiser_gathering(gathering_id: int) -> Gathering:
    """Load a gathering for an organiser's change; others get 403 (as the pages do)."""
    user = access.actor()
    gathering = load_visible(gathering_id)
    if not user.is_organiser:
        raise Forbidden("forbidden", "Only organisers can change gatherings.")
    return gathering


@bp.route(GATHERING, methods=["PATCH"])
@access.endpoint(write=True)
def update_gathering(gathering_id: int):  # type: ignore[no-untyped-def]
    """Change some of a gathering's details or times (organisers)."""
    gathering = _organiser_gathering(gathering_id)
    data = access.body("GatheringPatch")
    details, timing = _details_and_timing(data, gathering)
    before = {f.id for f in gathering.facilitators}
    services.update_gathering(access.actor(), gathering, details, timing, now=utcnow())
    db.session.commit()
    consoles.close_revoked_for(before - {f.id for f in gathering.facilitators})
    return _answer(gathering)


@bp.route(GATHERING + "/publish", methods=["POST"])
@access.endpoint(write=True)
def publish_gathering(gathering_id: int):  # type: ignore[no-untyped-def]
    """Publish a draft (organisers)."""
    gathering = _organiser_gathering(gathering_id)
    services.publish(access.actor(), gathering, now=utcnow())
    db.session.commit()
    return _answer(gathering)


@bp.route(GATHERING + "/cancel", methods=["POST"])
@access.endpoint(write=True)
def cancel_gathering(gathering_id: int):  # type: ignore[no-untyped-def]
    """Cancel a gathering with a note; every registration is cancelled, refunded and told."""
    gathering = _organiser_gathering(gathering_id)
    data = access.body("GatheringCancel", required=False)
    services.cancel(access.actor(), gathering, data.get("note", ""), now=utcnow())
    db.session.commit()
    # As the page does: refunds go to Stripe only once the cancellation is committed.
    owed = [r.id for r in ledger.refunds_outstanding(gathering.id)]
    if owed:
        refunds.send_owed(owed)
    return _answer(gathering)

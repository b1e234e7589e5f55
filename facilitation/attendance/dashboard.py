"""The organiser's dashboard: upcoming gatherings and how they fill, safety, newest registrations.

Organisers see every gathering and the count of open safety reports; facilitators see the
gatherings they facilitate and no safety count (triage is the organisers'). Door volunteers
and participants are refused.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import joinedload

from facilitation.accounts.models import User
from facilitation.attendance.models import CheckIn
from facilitation.attendance.reports import fill_ratio
from facilitation.consent import incidents
from facilitation.core.errors import Forbidden
from facilitation.extensions import db
from facilitation.gatherings.models import Gathering, GatheringStatus, gathering_facilitators
from facilitation.registration import seats
from facilitation.registration.models import Registration
from facilitation.registration.states import Status


@dataclass(frozen=True)
class UpcomingGathering:
    """One gathering still to come (or under way), with how it fills and who has arrived."""

    gathering: Gathering
    capacity: int
    #: Seats taken now: confirmed, plus holds and offers before their deadline.
    seats_taken: int
    waitlist: int
    #: Confirmed registrations, the people expected at the door.
    expected: int
    checked_in: int

    @property
    def fill(self) -> float:
        """Return how full it is, from 0 to 1."""
        return fill_ratio(self.seats_taken, self.capacity)

    @property
    def check_in_progress(self) -> float:
        """Return the share of those expected who are checked in, from 0 to 1."""
        return min(self.checked_in / self.expected, 1.0) if self.expected else 0.0


@dataclass(frozen=True)
class Dashboard:
    """What the dashboard shows."""

    upcoming: tuple[UpcomingGathering, ...]
    #: Incident reports not yet resolved; None for those who do not triage them.
    open_safety_reports: int | None
    #: Newest registrations first, with person, gathering and option loaded.
    recent_registrations: tuple[Registration, ...]


def _counts(
    gathering_ids: Sequence[int], condition: sa.ColumnElement[bool], column: sa.ColumnElement[int]
) -> dict[int, int]:
    if not gathering_ids:
        return {}
    rows = db.session.execute(
        sa.select(column, sa.func.count())
        .where(column.in_(gathering_ids), condition)
        .group_by(column)
    ).all()
    return {gid: n for gid, n in rows}


def organiser_dashboard(
    actor: User, now: datetime, *, limit: int = 20, recent: int = 10
) -> Dashboard:
    """Return the dashboard for an organiser (everything) or a facilitator (their gatherings)."""
    if not actor.is_facilitator:
        raise Forbidden("forbidden", "Only organisers and facilitators have a dashboard.")
    mine: sa.ColumnElement[bool] = sa.true()
    if not actor.is_organiser:
        mine = Gathering.id.in_(
            sa.select(gathering_facilitators.c.gathering_id).where(
                gathering_facilitators.c.user_id == actor.id
            )
        )
    gatherings = list(
        db.session.scalars(
            sa.select(Gathering)
            .where(Gathering.status == GatheringStatus.PUBLISHED, Gathering.ends_at > now, mine)
            .order_by(Gathering.starts_at, Gathering.id)
            .limit(limit)
        )
    )
    ids = [g.id for g in gatherings]
    by_gathering = Registration.gathering_id
    taken = _counts(ids, seats.seat_condition(now), by_gathering)
    waiting = _counts(ids, Registration.status == Status.WAITLISTED, by_gathering)
    expected = _counts(ids, Registration.status == Status.CONFIRMED, by_gathering)
    arrived = _counts(ids, CheckIn.undone_at.is_(None), CheckIn.gathering_id)
    upcoming = tuple(
        UpcomingGathering(
            g,
            g.capacity,
            taken.get(g.id, 0),
            waiting.get(g.id, 0),
            expected.get(g.id, 0),
            arrived.get(g.id, 0),
        )
        for g in gatherings
    )
    open_reports = None
    if actor.is_organiser:
        open_reports = incidents.open_count(actor)
    newest = db.session.scalars(
        sa.select(Registration)
        .join(Gathering, Gathering.id == Registration.gathering_id)
        .where(mine)
        .options(
            joinedload(Registration.user),
            joinedload(Registration.gathering),
            joinedload(Registration.ticket_option),
        )
        .order_by(Registration.created_at.desc(), Registration.id.desc())
        .limit(recent)
    ).all()
    return Dashboard(upcoming, open_reports, tuple(newest))

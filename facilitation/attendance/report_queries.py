"""Collect the rows the attendance reports count, and check who may read them.

A gathering's report is for its managers (organisers and its facilitators), a series' for
organisers and the series' facilitators, a person's history for organisers and the person.
Door volunteers see none of them. Everything is read here and counted in ``reports``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from facilitation.accounts.models import User
from facilitation.attendance import charts, reports
from facilitation.attendance.models import CheckIn, WalkIn
from facilitation.core.errors import Forbidden
from facilitation.extensions import db
from facilitation.gatherings import permissions
from facilitation.gatherings.models import Gathering, GatheringStatus, Series
from facilitation.registration import options
from facilitation.registration.models import Payment, Registration, TicketOption


@dataclass(frozen=True)
class GatheringFigures:
    """A gathering's report, with the people and first visits it was counted from."""

    report: reports.GatheringReport
    people: tuple[reports.PersonRow, ...]
    first_gathering: dict[int, int]

    def summary_rows(self) -> list[list[str]]:
        """Return the figures as CSV rows."""
        return reports.gathering_summary_rows(self.report)

    def people_rows(self, gathering_id: int) -> list[list[str]]:
        """Return the people as CSV rows."""
        return reports.attendee_rows(self.people, self.first_gathering, gathering_id)


def _standing() -> sa.ColumnElement[bool]:
    return CheckIn.undone_at.is_(None)


def _checked_in_at(which: sa.ColumnElement[bool]) -> sa.Subquery:
    """Return (registration_id, at): when each registration's standing check-in was made."""
    return (
        sa.select(CheckIn.registration_id, sa.func.min(CheckIn.checked_in_at).label("at"))
        .where(which, _standing())
        .group_by(CheckIn.registration_id)
        .subquery()
    )


def attendance_of(user_ids: Iterable[int]) -> list[reports.Attendance]:
    """Return every gathering these people were checked in at, with its start."""
    ids = sorted(set(user_ids))
    if not ids:
        return []
    rows = db.session.execute(
        sa.select(CheckIn.user_id, CheckIn.gathering_id, Gathering.starts_at)
        .join(Gathering, Gathering.id == CheckIn.gathering_id)
        .where(CheckIn.user_id.in_(ids), _standing())
        .distinct()
    ).all()
    return [reports.Attendance(uid, gid, starts_at) for uid, gid, starts_at in rows]


def _people(gathering: Gathering) -> list[reports.PersonRow]:
    checked = _checked_in_at(CheckIn.gathering_id == gathering.id)
    rows = db.session.execute(
        sa.select(
            Registration.user_id,
            User.name,
            User.email,
            Registration.status,
            TicketOption.name,
            checked.c.at,
            WalkIn.id,
        )
        .join(User, User.id == Registration.user_id)
        .join(TicketOption, TicketOption.id == Registration.ticket_option_id)
        .outerjoin(checked, checked.c.registration_id == Registration.id)
        .outerjoin(WalkIn, WalkIn.registration_id == Registration.id)
        .where(Registration.gathering_id == gathering.id)
        .order_by(User.name, Registration.id)
    ).all()
    return [
        reports.PersonRow(uid, name, email, status, option, at, walk_in_id is not None)
        for uid, name, email, status, option, at, walk_in_id in rows
    ]


def _money(gathering: Gathering) -> list[reports.MoneyRow]:
    rows = db.session.execute(
        sa.select(TicketOption.name, Payment.kind, Payment.amount_minor, Payment.currency)
        .join(Registration, Registration.id == Payment.registration_id)
        .join(TicketOption, TicketOption.id == Registration.ticket_option_id)
        .where(Registration.gathering_id == gathering.id)
    ).all()
    return [reports.MoneyRow(*row) for row in rows]


def gathering_figures(actor: User, gathering: Gathering) -> GatheringFigures:
    """Return a gathering's report for its managers."""
    options.require_manager(actor, gathering)
    people = _people(gathering)
    present = [p.user_id for p in people if p.checked_in_at is not None]
    first = reports.first_gatherings(attendance_of(present))
    report = reports.gathering_report(gathering.id, people, _money(gathering), first)
    return GatheringFigures(report, tuple(people), first)


def _require_series_reader(actor: User, series: Series) -> None:
    if not permissions.may_facilitate_series(actor, series):
        raise Forbidden("forbidden", "Only organisers and this series' facilitators can.")


def occurrences_held(series: Series, now: datetime) -> list[reports.Occurrence]:
    """Return the occurrences of a series that have started by ``now`` and were not cancelled."""
    gatherings = db.session.scalars(
        sa.select(Gathering)
        .where(
            Gathering.series_id == series.id,
            Gathering.status != GatheringStatus.CANCELLED,
            Gathering.starts_at <= now,
        )
        .order_by(Gathering.starts_at, Gathering.id)
    ).all()
    return [reports.Occurrence(g.id, g.starts_at, _day(g)) for g in gatherings]


def _day(gathering: Gathering) -> str:
    here = gathering.starts_at.astimezone(ZoneInfo(gathering.timezone))
    return f"{here.day} {here:%b %Y}"


def series_figures(actor: User, series: Series, now: datetime) -> reports.SeriesReport:
    """Return attendance over the occurrences of a series held so far."""
    _require_series_reader(actor, series)
    held = occurrences_held(series, now)
    ids = [o.gathering_id for o in held]
    rows = db.session.execute(
        sa.select(CheckIn.user_id, CheckIn.gathering_id)
        .where(CheckIn.gathering_id.in_(ids), _standing())
        .distinct()
    ).all()
    starts = {o.gathering_id: o.starts_at for o in held}
    attended = [reports.Attendance(uid, gid, starts[gid]) for uid, gid in rows]
    return reports.series_report(held, attended)


def series_chart(report: reports.SeriesReport, title: str) -> str:
    """Return a series' attendance over time as an SVG chart."""
    figures = report.occurrences
    points = charts.series_points(
        [f.occurrence.label for f in figures],
        [f.attended for f in figures],
        [f.newcomers for f in figures],
    )
    total = sum(f.attended for f in figures)
    description = (
        f"Attendance at {len(figures)} occurrences of {title}: {total} check-ins by "
        f"{report.people} people; bars show who came, the line the newcomers."
    )
    return charts.attendance_chart(points, title=f"Attendance: {title}", description=description)


def history_of(actor: User, person: User, now: datetime) -> reports.History:
    """Return a person's attendance history, to an organiser or to the person."""
    if not (actor.is_organiser or actor.id == person.id):
        raise Forbidden("forbidden", "Only organisers and the person themselves can see this.")
    checked = _checked_in_at(CheckIn.user_id == person.id)
    rows = db.session.execute(
        sa.select(
            Gathering.id,
            Gathering.title,
            Gathering.starts_at,
            Gathering.ends_at,
            Registration.status,
            checked.c.at,
            WalkIn.id,
        )
        .join(Gathering, Gathering.id == Registration.gathering_id)
        .outerjoin(checked, checked.c.registration_id == Registration.id)
        .outerjoin(WalkIn, WalkIn.registration_id == Registration.id)
        .where(Registration.user_id == person.id)
    ).all()
    history = [
        reports.HistoryRow(gid, title, starts, ends, status, at, walk_in_id is not None)
        for gid, title, starts, ends, status, at, walk_in_id in rows
    ]
    return reports.participant_history(history, now)

"""Organisers' attendance pages: a gathering's, a series' and a person's report, the dashboard.

Each view loads, lets the core (``report_queries``, ``dashboard``) decide who may read it, and
renders; a refusal from the core is a 403, an unknown id a 404. Every report has a CSV twin
whose cells the core has already guarded against spreadsheet formulas.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Sequence
from typing import TypeVar

from flask import Blueprint, Response, abort, render_template
from flask_login import current_user, login_required

from facilitation.accounts.models import User
from facilitation.attendance import dashboard, report_queries, reports
from facilitation.core.clock import utcnow
from facilitation.core.display import local
from facilitation.core.errors import Forbidden
from facilitation.extensions import db
from facilitation.gatherings.models import Gathering, Series
from facilitation.registration.pricing import format_money

bp = Blueprint("attendance_reports", __name__)

NO_STORE = {"Cache-Control": "no-store"}
T = TypeVar("T")
M = TypeVar("M")


def _load(model: type[M], object_id: int) -> M:
    found = db.session.get(model, object_id)
    if found is None:
        abort(404)
    return found


def _allowed(read: Callable[[], T]) -> T:
    """Run a core read, turning its refusal into a 403."""
    try:
        return read()
    except Forbidden:
        abort(403)


def _slug(text: str, fallback: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:60] or fallback


def _csv(rows: Sequence[Sequence[str]], filename: str) -> Response:
    buffer = io.StringIO()
    csv.writer(buffer).writerows(rows)
    # The byte-order mark makes spreadsheet programs read the file as UTF-8.
    return Response(
        "\ufeff" + buffer.getvalue(),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{filename}"', **NO_STORE},
    )


def _gathering_name(gathering: Gathering) -> str:
    day = local(gathering.starts_at, gathering.timezone).date().isoformat()
    return f"{day}-{_slug(gathering.title, 'gathering')}"


# --- one gathering -----------------------------------------------------------------------


def _gathering_figures(gathering_id: int) -> tuple[Gathering, report_queries.GatheringFigures]:
    gathering = _load(Gathering, gathering_id)
    return gathering, _allowed(lambda: report_queries.gathering_figures(current_user, gathering))


@bp.route("/manage/gatherings/<int:gathering_id>/report")
@login_required
def show_gathering_report(gathering_id: int):  # type: ignore[no-untyped-def]
    """Show who registered, came, stayed away, walked in and waited, and the money kept."""
    gathering, figures = _gathering_figures(gathering_id)
    page = render_template(
        "attendance/reports/gathering.html",
        gathering=gathering,
        report=figures.report,
        people=figures.people,
        first_gathering=figures.first_gathering,
        money=format_money,
    )
    return page, 200, NO_STORE


@bp.route("/manage/gatherings/<int:gathering_id>/report-summary.csv")
@login_required
def export_gathering_summary(gathering_id: int):  # type: ignore[no-untyped-def]
    """Download a gathering's figures as CSV."""
    gathering, figures = _gathering_figures(gathering_id)
    return _csv(figures.summary_rows(), f"attendance-{_gathering_name(gathering)}.csv")


@bp.route("/manage/gatherings/<int:gathering_id>/report-people.csv")
@login_required
def export_gathering_people(gathering_id: int):  # type: ignore[no-untyped-def]
    """Download a gathering's people, with who came, as CSV."""
    gathering, figures = _gathering_figures(gathering_id)
    rows = figures.people_rows(gathering.id)
    return _csv(rows, f"attendance-people-{_gathering_name(gathering)}.csv")


# --- a series ----------------------------------------------------------------------------


@bp.route("/manage/series/<int:series_id>/report")
@login_required
def show_series_report(series_id: int):  # type: ignore[no-untyped-def]
    """Show a series' attendance over time: chart, per occurrence, retention, newcomers."""
    series = _load(Series, series_id)
    report = _allowed(lambda: report_queries.series_figures(current_user, series, utcnow()))
    page = render_template(
        "attendance/reports/series.html",
        series=series,
        report=report,
        chart=report_queries.series_chart(report, series.title),
    )
    return page, 200, NO_STORE


@bp.route("/manage/series/<int:series_id>/report.csv")
@login_required
def export_series_report(series_id: int):  # type: ignore[no-untyped-def]
    """Download a series' attendance per occurrence and its retention as CSV."""
    series = _load(Series, series_id)
    report = _allowed(lambda: report_queries.series_figures(current_user, series, utcnow()))
    rows = reports.series_rows(report)
    return _csv(rows, f"attendance-series-{_slug(series.title, 'series')}.csv")


# --- one person --------------------------------------------------------------------------


@bp.route("/manage/people/<int:user_id>/history")
@login_required
def show_history(user_id: int):  # type: ignore[no-untyped-def]
    """Show a person's attendance history, newest first."""
    person = _load(User, user_id)
    history = _allowed(lambda: report_queries.history_of(current_user, person, utcnow()))
    page = render_template("attendance/reports/history.html", person=person, history=history)
    return page, 200, NO_STORE


@bp.route("/manage/people/<int:user_id>/history.csv")
@login_required
def export_history(user_id: int):  # type: ignore[no-untyped-def]
    """Download a person's attendance history as CSV."""
    person = _load(User, user_id)
    history = _allowed(lambda: report_queries.history_of(current_user, person, utcnow()))
    rows = reports.history_rows(history)
    return _csv(rows, f"attendance-history-{_slug(person.name, 'person')}-{person.id}.csv")


# --- the dashboard -----------------------------------------------------------------------


@bp.route("/dashboard")
@login_required
def show_dashboard():  # type: ignore[no-untyped-def]
    """Show upcoming gatherings and how they fill, open safety reports, newest registrations."""
    board = _allowed(lambda: dashboard.organiser_dashboard(current_user, utcnow()))
    return render_template("attendance/dashboard.html", board=board), 200, NO_STORE

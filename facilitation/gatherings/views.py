"""Public pages: upcoming gatherings, one gathering, calendar files."""

from __future__ import annotations

from flask import Blueprint, Response, abort, current_app, render_template
from flask_login import current_user

from facilitation.core.clock import utcnow
from facilitation.core.errors import NotFound
from facilitation.core.links import site_url_for
from facilitation.core.page_cache import public_page
from facilitation.gatherings import services
from facilitation.gatherings.calendar import build_calendar, uid_domain
from facilitation.gatherings.models import Gathering
from facilitation.registration.pages import gathering_panel

bp = Blueprint("gatherings", __name__)


def _viewer():  # type: ignore[no-untyped-def]
    return current_user if current_user.is_authenticated else None


@bp.route("/")
@public_page
def list_gatherings():  # type: ignore[no-untyped-def]
    """List upcoming published gatherings."""
    gatherings = services.upcoming_published(utcnow())
    return render_template("gatherings/list.html", gatherings=gatherings)


@bp.route("/gatherings/<int:gathering_id>")
@public_page
def show_gathering(gathering_id: int):  # type: ignore[no-untyped-def]
    """Show one gathering."""
    try:
        gathering = services.get_for_viewer(gathering_id, _viewer())
    except NotFound:
        abort(404)
    now = utcnow()
    return render_template(
        "gatherings/detail.html",
        gathering=gathering,
        now=now,
        registration=gathering_panel(gathering, _viewer(), now),
    )


def _uid_domain() -> str:
    # Stable whatever host name a calendar used, so subscribers never see duplicates.
    return uid_domain(current_app.config["SECRET_KEY"])


def _ics_response(gatherings: list[Gathering], filename: str) -> Response:
    body = build_calendar(
        gatherings,
        org_name=current_app.config["ORG_NAME"],
        uid_domain=_uid_domain(),
        url_for_gathering=lambda g: site_url_for("gatherings.show_gathering", gathering_id=g.id),
        now=utcnow(),
    )
    response = Response(body, mimetype="text/calendar")
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@bp.route("/gatherings/<int:gathering_id>.ics")
def gathering_ics(gathering_id: int):  # type: ignore[no-untyped-def]
    """Download one gathering as an iCalendar file."""
    try:
        gathering = services.get_for_viewer(gathering_id, _viewer())
    except NotFound:
        abort(404)
    return _ics_response([gathering], f"gathering-{gathering.id}.ics")


@bp.route("/calendar.ics")
def calendar_feed():  # type: ignore[no-untyped-def]
    """Serve the calendar feed of all published gatherings, for subscribing."""
    response = _ics_response(services.calendar_feed(utcnow()), "gatherings.ics")
    response.headers["Content-Disposition"] = 'inline; filename="gatherings.ics"'
    return response

"""Organiser pages: create, edit, publish, cancel and duplicate gatherings and series."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from wtforms import SelectChoice

from facilitation.accounts.models import Role
from facilitation.core.clock import utcnow
from facilitation.core.errors import DomainError
from facilitation.core.web import PostForm, role_required, show_error
from facilitation.exercises import consoles
from facilitation.extensions import db
from facilitation.gatherings import schedule, services
from facilitation.gatherings.forms import (
    CancelForm,
    DetailsForm,
    GatheringForm,
    SeriesDetailsForm,
    SeriesForm,
)
from facilitation.gatherings.models import Gathering, Series
from facilitation.registration import ledger as registration_ledger
from facilitation.registration import queries as registration_queries
from facilitation.registration.manage_actions import send_refunds_and_tell
from facilitation.registration.states import LIVE

bp = Blueprint("manage", __name__, url_prefix="/manage")


def _details(form: DetailsForm) -> services.Details:
    return services.Details(
        title=form.title.data or "",
        timezone=form.timezone.data or "",
        capacity=form.capacity.data if form.capacity.data is not None else 0,
        description_md=form.description_md.data or "",
        kind=form.kind.data or "",
        venue_name=form.venue_name.data or "",
        venue_address=form.venue_address.data or "",
        online_url=form.online_url.data or "",
        accessibility_notes=form.accessibility_notes.data or "",
        facilitator_ids=list(form.facilitator_ids.data or []),
    )


def _offer_facilitators(form: DetailsForm) -> None:
    form.facilitator_ids.choices = [
        SelectChoice(str(u.id), u.name) for u in services.facilitator_choices()
    ]


def _load(model: type, object_id: int):  # type: ignore[no-untyped-def]
    found = db.session.get(model, object_id)
    if found is None:
        abort(404)
    return found


def _done(message: str, target: str, dropped: set[int] | None = None):  # type: ignore[no-untyped-def]
    db.session.commit()
    if dropped:
        # Facilitators taken off lose their open consoles at once (docs/security.md).
        consoles.close_revoked_for(dropped)
    flash(message, "success")
    return redirect(target)


def _facilitator_ids(targets: list[Gathering]) -> set[int]:
    return {f.id for target in targets for f in target.facilitators}


@bp.route("/gatherings")
@role_required(Role.ORGANISER)
def list_gatherings():  # type: ignore[no-untyped-def]
    """List every gathering, drafts and past ones included."""
    show = request.args.get("show", "upcoming")
    now = utcnow()
    stmt = sa.select(Gathering)
    if show == "past":
        stmt = stmt.where(Gathering.ends_at <= now).order_by(Gathering.starts_at.desc())
    else:
        stmt = stmt.where(Gathering.ends_at > now).order_by(Gathering.starts_at)
    gatherings = db.session.scalars(stmt.limit(500)).all()
    series = db.session.scalars(sa.select(Series).order_by(Series.first_date.desc())).all()
    return render_template(
        "manage/gatherings.html", gatherings=gatherings, series=series, show=show, form=PostForm()
    )


@bp.route("/gatherings/new", methods=["GET", "POST"])
@role_required(Role.ORGANISER)
def new_gathering():  # type: ignore[no-untyped-def]
    """Create a draft gathering."""
    form = GatheringForm()
    _offer_facilitators(form)
    if request.method == "GET":
        form.timezone.data = current_app_default_tz()
    if form.validate_on_submit():
        timing = services.Timing(form.starts_local.data, form.ends_local.data)  # type: ignore[arg-type]
        try:
            gathering = services.create_gathering(
                current_user, _details(form), timing, now=utcnow()
            )
        except DomainError as err:
            db.session.rollback()
            show_error(form, err)
        else:
            return _done(
                "Draft saved. Publish it when it is ready.",
                url_for("manage.edit_gathering", gathering_id=gathering.id),
            )
    return render_template("manage/gathering_form.html", form=form, gathering=None), (
        400 if form.errors else 200
    )


def current_app_default_tz() -> str:
    """Return the time zone new gatherings start with."""
    return str(current_app.config["DEFAULT_TIMEZONE"])


@bp.route("/gatherings/<int:gathering_id>/edit", methods=["GET", "POST"])
@role_required(Role.ORGANISER)
def edit_gathering(gathering_id: int):  # type: ignore[no-untyped-def]
    """Change a gathering (an occurrence of a series is then edited on its own)."""
    gathering: Gathering = _load(Gathering, gathering_id)
    form = GatheringForm(obj=gathering)
    _offer_facilitators(form)
    if request.method == "GET":
        form.facilitator_ids.data = [f.id for f in gathering.facilitators]
        form.starts_local.data = schedule.to_local(gathering.starts_at, gathering.timezone)
        form.ends_local.data = schedule.to_local(gathering.ends_at, gathering.timezone)
    if form.validate_on_submit():
        timing = services.Timing(form.starts_local.data, form.ends_local.data)  # type: ignore[arg-type]
        before = _facilitator_ids([gathering])
        try:
            services.update_gathering(current_user, gathering, _details(form), timing, now=utcnow())
        except DomainError as err:
            db.session.rollback()
            gathering = _load(Gathering, gathering_id)
            show_error(form, err)
        else:
            dropped = before - _facilitator_ids([gathering])
            target = url_for("manage.edit_gathering", gathering_id=gathering.id)
            return _done("Saved.", target, dropped)
    return render_template(
        "manage/gathering_form.html", form=form, gathering=gathering, post_form=PostForm()
    ), (400 if form.errors else 200)


def _act(gathering_id: int, action, message: str):  # type: ignore[no-untyped-def]
    gathering = _load(Gathering, gathering_id)
    if not PostForm().validate_on_submit():
        flash("The form expired. Please try again.", "error")
        return redirect(url_for("manage.edit_gathering", gathering_id=gathering_id))
    try:
        result = action(gathering)
    except DomainError as err:
        db.session.rollback()
        flash(err.message, "error")
        return redirect(url_for("manage.edit_gathering", gathering_id=gathering_id))
    return _done(message, url_for("manage.edit_gathering", gathering_id=result.id))


@bp.route("/gatherings/<int:gathering_id>/publish", methods=["POST"])
@role_required(Role.ORGANISER)
def publish_gathering(gathering_id: int):  # type: ignore[no-untyped-def]
    """Publish a draft."""
    return _act(
        gathering_id,
        lambda g: services.publish(current_user, g, now=utcnow()),
        "Published: it is now on the public list and calendar.",
    )


@bp.route("/gatherings/<int:gathering_id>/duplicate", methods=["POST"])
@role_required(Role.ORGANISER)
def duplicate_gathering(gathering_id: int):  # type: ignore[no-untyped-def]
    """Copy a gathering into a new draft a week later."""
    return _act(
        gathering_id,
        lambda g: services.duplicate(current_user, g, now=utcnow()),
        "Copied into a new draft one week later. Check the date, then publish.",
    )


def _send_refunds(gathering_ids: set[int]) -> None:
    """Refund through Stripe what cancelled registrations are owed, now it is committed."""
    owed = registration_ledger.refunds_outstanding()
    send_refunds_and_tell([r.id for r in owed if r.gathering_id in gathering_ids])


def _registered(gathering: Gathering) -> int:
    counts = registration_queries.counts_by_status(gathering)
    return sum(n for status, n in counts.items() if status in LIVE)


@bp.route("/gatherings/<int:gathering_id>/cancel", methods=["GET", "POST"])
@role_required(Role.ORGANISER)
def cancel_gathering(gathering_id: int):  # type: ignore[no-untyped-def]
    """Cancel a gathering with a note to participants; cancel and refund every registration."""
    gathering: Gathering = _load(Gathering, gathering_id)
    form = CancelForm()
    registered = _registered(gathering)
    if form.validate_on_submit():
        try:
            services.cancel(current_user, gathering, form.note.data or "", now=utcnow())
        except DomainError as err:
            db.session.rollback()
            flash(err.message, "error")
        else:
            db.session.commit()
            flash(
                f"Cancelled. {registered} registration(s) cancelled; each person was emailed.",
                "success",
            )
            _send_refunds({gathering.id})
            return redirect(url_for("manage.edit_gathering", gathering_id=gathering.id))
    return render_template(
        "manage/cancel.html", form=form, target=gathering, kind="gathering", registered=registered
    )


@bp.route("/series/new", methods=["GET", "POST"])
@role_required(Role.ORGANISER)
def new_series():  # type: ignore[no-untyped-def]
    """Create a series and its occurrences."""
    form = SeriesForm()
    _offer_facilitators(form)
    if request.method == "GET":
        form.timezone.data = current_app_default_tz()
    if form.validate_on_submit():
        by_count = form.end_mode.data == "count"
        recurrence = services.Recurrence(
            frequency=form.frequency.data or "",
            first_date=form.first_date.data,  # type: ignore[arg-type]
            start_time=form.start_time.data,  # type: ignore[arg-type]
            duration_minutes=form.duration_minutes.data or 0,
            occurrence_count=form.occurrence_count.data if by_count else None,
            until_date=None if by_count else form.until_date.data,
        )
        try:
            series = services.create_series(
                current_user,
                _details(form),
                recurrence,
                publish_now=bool(form.publish_now.data),
                now=utcnow(),
            )
        except DomainError as err:
            db.session.rollback()
            show_error(form, err)
        else:
            count = len(series.occurrences)
            return _done(
                f"Series created with {count} gatherings.",
                url_for("manage.show_series", series_id=series.id),
            )
    return render_template("manage/series_form.html", form=form), 400 if form.errors else 200


@bp.route("/series/<int:series_id>", methods=["GET", "POST"])
@role_required(Role.ORGANISER)
def show_series(series_id: int):  # type: ignore[no-untyped-def]
    """Show a series with its occurrences, and edit what the future ones say."""
    series: Series = _load(Series, series_id)
    form = SeriesDetailsForm(obj=series)
    _offer_facilitators(form)
    if request.method == "GET":
        form.facilitator_ids.data = [f.id for f in series.facilitators]
    if form.validate_on_submit():
        before = _facilitator_ids(list(series.occurrences))
        try:
            changed = services.update_series(current_user, series, _details(form), now=utcnow())
        except DomainError as err:
            db.session.rollback()
            series = _load(Series, series_id)
            show_error(form, err)
        else:
            return _done(
                f"Saved. {changed} upcoming gatherings updated; ones edited on their own keep "
                "their changes.",
                url_for("manage.show_series", series_id=series.id),
                before - _facilitator_ids(list(series.occurrences)),
            )
    return render_template(
        "manage/series.html", series=series, form=form, post_form=PostForm(), now=utcnow()
    ), (400 if form.errors else 200)


@bp.route("/series/<int:series_id>/publish", methods=["POST"])
@role_required(Role.ORGANISER)
def publish_series(series_id: int):  # type: ignore[no-untyped-def]
    """Publish every upcoming draft of a series."""
    series: Series = _load(Series, series_id)
    if not PostForm().validate_on_submit():
        abort(400)
    count = services.publish_series(current_user, series, now=utcnow())
    return _done(
        f"Published {count} gatherings.", url_for("manage.show_series", series_id=series.id)
    )


@bp.route("/series/<int:series_id>/cancel", methods=["GET", "POST"])
@role_required(Role.ORGANISER)
def cancel_series(series_id: int):  # type: ignore[no-untyped-def]
    """Cancel a series and its upcoming gatherings."""
    series: Series = _load(Series, series_id)
    form = CancelForm()
    if form.validate_on_submit():
        try:
            count = services.cancel_series(current_user, series, form.note.data or "", now=utcnow())
        except DomainError as err:
            db.session.rollback()
            flash(err.message, "error")
        else:
            response = _done(
                f"Series cancelled with its {count} upcoming gatherings.",
                url_for("manage.show_series", series_id=series.id),
            )
            _send_refunds({g.id for g in series.occurrences})
            return response
    return render_template("manage/cancel.html", form=form, target=series, kind="series")

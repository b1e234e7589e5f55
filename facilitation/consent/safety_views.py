"""Pages for reporting a concern, organisers' triage of reports, and bans."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from wtforms import BooleanField, SelectChoice, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from facilitation.accounts.models import Role, User
from facilitation.consent import safety
from facilitation.consent.models import Ban, IncidentReport, IncidentStatus
from facilitation.core.clock import utcnow
from facilitation.core.display import format_day, local
from facilitation.core.errors import DomainError
from facilitation.core.web import PostForm, role_required, show_error
from facilitation.exercises import removal
from facilitation.extensions import db
from facilitation.gatherings.models import Gathering, GatheringStatus

bp = Blueprint("safety", __name__)

STATUS_LABELS = {
    IncidentStatus.NEW: "New",
    IncidentStatus.IN_PROGRESS: "In progress",
    IncidentStatus.RESOLVED: "Resolved",
}
#: How far back the report form offers gatherings (concerns often come after the day).
REPORT_LOOKBACK = timedelta(days=180)


def _strip(value: str | None) -> str | None:
    return value.strip() if isinstance(value, str) else value


class ReportForm(FlaskForm):
    """Report a concern."""

    body = TextAreaField(
        "What happened, or what worries you",
        filters=[_strip],
        validators=[
            DataRequired("Tell us what happened."),
            Length(min=10, message="Tell us a little more (at least 10 characters)."),
            Length(max=9_000),
        ],
    )
    gathering_id = SelectField("Gathering (optional)", coerce=int, default=0)
    about = StringField(
        "About a person (optional)",
        filters=[_strip],
        validators=[Optional(), Length(max=200)],
        description="Their name or email, as you know it.",
    )
    anonymous = BooleanField(
        "Report anonymously",
        description="We will not store who you are, so we cannot reply to you.",
    )


class TriageForm(FlaskForm):
    """Move a report along and keep private notes."""

    #: Checked by the service, so an unknown value gets its message.
    status = SelectField(
        "Status",
        choices=[SelectChoice(value.value, label) for value, label in STATUS_LABELS.items()],
        validate_choice=False,
    )
    private_notes = TextAreaField(
        "Private notes (organisers only)", validators=[Optional(), Length(max=10_000)]
    )


class BanForm(FlaskForm):
    """Ban a person, with an optional reason kept for organisers."""

    reason = TextAreaField("Reason (organisers only)", validators=[Optional(), Length(max=2000)])


def _gathering_choices(selected: int | None) -> list[SelectChoice]:
    since = utcnow() - REPORT_LOOKBACK
    published = Gathering.status == GatheringStatus.PUBLISHED
    condition = Gathering.ends_at >= since
    if selected:
        condition = sa.or_(condition, Gathering.id == selected)
    gatherings = db.session.scalars(
        sa.select(Gathering).where(published, condition).order_by(Gathering.starts_at.desc())
    ).all()
    return [SelectChoice(0, "Not about one gathering")] + [
        SelectChoice(g.id, f"{g.title} — {format_day(local(g.starts_at, g.timezone))}")
        for g in gatherings
    ]


def _body(concern: str, about: str | None) -> str:
    # The person is kept as typed, inside the report: looking up accounts would tell the
    # reporter who has one.
    return f"About: {about}\n\n{concern}" if about else concern


@bp.route("/report-a-concern", methods=["GET", "POST"])
@login_required
def report_concern():  # type: ignore[no-untyped-def]
    """Report a concern about a gathering or a person, optionally anonymously."""
    form = ReportForm()
    if request.method == "GET":
        form.gathering_id.data = request.args.get("gathering", 0, type=int)
    form.gathering_id.choices = _gathering_choices(form.gathering_id.data)
    if form.validate_on_submit():
        anonymous = bool(form.anonymous.data)
        try:
            safety.report_incident(
                None if anonymous else current_user,
                _body(form.body.data or "", form.about.data),
                now=utcnow(),
                gathering_id=form.gathering_id.data or None,
            )
        except DomainError as err:
            db.session.rollback()
            show_error(form, err)
        else:
            db.session.commit()
            return redirect(url_for("safety.report_sent", anonymous=int(anonymous)))
    return render_template("consent/report.html", form=form), 400 if form.errors else 200


@bp.route("/report-a-concern/sent")
@login_required
def report_sent():  # type: ignore[no-untyped-def]
    """Confirm a report and say who will see it."""
    anonymous = request.args.get("anonymous") == "1"
    return render_template("consent/report_sent.html", anonymous=anonymous)


@bp.route("/manage/reports")
@role_required(Role.ORGANISER)
def list_reports():  # type: ignore[no-untyped-def]
    """List incident reports, newest first, optionally of one status."""
    status = request.args.get("status", "")
    stmt = sa.select(IncidentReport).order_by(IncidentReport.created_at.desc())
    if status in set(IncidentStatus):
        stmt = stmt.where(IncidentReport.status == status)
    else:
        status = ""
    reports = db.session.scalars(stmt.limit(500)).all()
    return render_template(
        "consent/reports.html",
        reports=reports,
        status=status,
        labels=STATUS_LABELS,
        reporters=_names({r.reporter_id for r in reports if r.reporter_id is not None}),
        gatherings=_titles({r.gathering_id for r in reports if r.gathering_id is not None}),
    )


def _names(user_ids: set[int]) -> dict[int, str]:
    rows = db.session.execute(sa.select(User.id, User.name).where(User.id.in_(user_ids)))
    return {user_id: name for user_id, name in rows}


def _titles(gathering_ids: set[int]) -> dict[int, str]:
    rows = db.session.execute(
        sa.select(Gathering.id, Gathering.title).where(Gathering.id.in_(gathering_ids))
    )
    return {gathering_id: title for gathering_id, title in rows}


@bp.route("/manage/reports/<int:report_id>", methods=["GET", "POST"])
@role_required(Role.ORGANISER)
def show_report(report_id: int):  # type: ignore[no-untyped-def]
    """Show one report and change its status and private notes."""
    report = db.session.get(IncidentReport, report_id)
    if report is None:
        abort(404)
    form = TriageForm(obj=report)
    if form.validate_on_submit():
        try:
            safety.triage(
                current_user,
                report,
                form.status.data or "",
                form.private_notes.data or "",
                now=utcnow(),
            )
        except DomainError as err:
            db.session.rollback()
            show_error(form, err)
        else:
            db.session.commit()
            flash("Saved.", "success")
            return redirect(url_for("safety.show_report", report_id=report_id))
    reporter = db.session.get(User, report.reporter_id) if report.reporter_id else None
    gathering = db.session.get(Gathering, report.gathering_id) if report.gathering_id else None
    return render_template(
        "consent/report_detail.html",
        report=report,
        form=form,
        reporter=reporter,
        gathering=gathering,
        labels=STATUS_LABELS,
    ), (400 if form.errors else 200)


@bp.route("/manage/people/<int:user_id>/ban", methods=["POST"])
@role_required(Role.ORGANISER)
def ban_person(user_id: int):  # type: ignore[no-untyped-def]
    """Ban a person, then take them out of any live run."""
    form = BanForm()
    if not form.validate_on_submit():
        flash("Keep the reason under 2,000 characters.", "error")
        return redirect(url_for("accounts.list_people"))
    person = db.session.get(User, user_id)
    if person is None:
        abort(404)
    now = utcnow()
    try:
        safety.ban(current_user, person, form.reason.data or "", now=now)
        outcomes = removal.remove_from_runs(person.id, now=now)
    except DomainError as err:
        db.session.rollback()
        flash(err.message, "error")
        return redirect(url_for("accounts.list_people"))
    db.session.commit()
    removal.announce_removal(user_id, removal.BANNED, outcomes)
    flash(f"{person.name} is banned and has been taken out of any live exercise.", "success")
    return redirect(url_for("safety.list_bans"))


@bp.route("/manage/bans/<int:ban_id>/lift", methods=["POST"])
@role_required(Role.ORGANISER)
def lift_ban(ban_id: int):  # type: ignore[no-untyped-def]
    """Lift a ban."""
    record = db.session.get(Ban, ban_id)
    if record is None:
        abort(404)
    if PostForm().validate_on_submit():
        try:
            safety.lift_ban(current_user, record, now=utcnow())
        except DomainError as err:
            db.session.rollback()
            flash(err.message, "error")
        else:
            db.session.commit()
            flash(f"The ban on {record.email} is lifted.", "success")
    return redirect(url_for("safety.list_bans"))


@bp.route("/manage/bans")
@role_required(Role.ORGANISER)
def list_bans():  # type: ignore[no-untyped-def]
    """List active and lifted bans."""
    bans = db.session.scalars(sa.select(Ban).order_by(Ban.created_at.desc()).limit(500)).all()
    ids = {b.user_id for b in bans if b.user_id is not None} | {b.created_by_id for b in bans}
    return render_template(
        "consent/bans.html",
        active=[b for b in bans if b.lifted_at is None],
        lifted=[b for b in bans if b.lifted_at is not None],
        names=_names(ids),
    )

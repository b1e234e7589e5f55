"""Pages for reporting a concern, organisers' triage of reports, and bans."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from sqlalchemy.exc import SQLAlchemyError
from wtforms import BooleanField, SelectChoice, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from facilitation.accounts.models import Role, User
from facilitation.consent import banning, community, incidents, safety
from facilitation.consent.models import Ban, IncidentReport, IncidentStatus
from facilitation.core.bad_input import parse_id
from facilitation.core.clock import utcnow
from facilitation.core.display import format_day, local
from facilitation.core.errors import DomainError
from facilitation.core.web import PostForm, role_required, show_error
from facilitation.exercises import removal
from facilitation.extensions import db
from facilitation.gatherings.models import Gathering, GatheringStatus
from facilitation.messaging import services as mail
from facilitation.registration import refunds
from facilitation.registration.pricing import format_money

bp = Blueprint("safety", __name__)

STATUS_LABELS = {
    IncidentStatus.NEW: "New",
    IncidentStatus.IN_PROGRESS: "In progress",
    IncidentStatus.RESOLVED: "Resolved",
}
#: How far back the report form offers gatherings (concerns often come after the day).
REPORT_LOOKBACK = timedelta(days=180)


@bp.app_context_processor
def _report_reader() -> dict[str, object]:
    return {"reads_reports": _reads_reports}


def _reads_reports() -> bool:
    """Return whether the menu offers Reports to a non-organiser (the safeguarding contact)."""
    if not current_user.is_authenticated:
        return False
    try:
        return incidents.may_open_reports(current_user)
    except SQLAlchemyError:  # an error page while the database is away shows no extra link
        db.session.rollback()
        return False


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
    about_leader = SelectField(
        "Is it about one of our organisers or facilitators?",
        coerce=int,
        default=0,
        validate_choice=False,
        description="Then it goes to the safeguarding contact alone: the person you name "
        "never reads it, nor do the other organisers.",
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
    """Ban a person, with an optional reason kept for organisers, once confirmed."""

    reason = TextAreaField("Reason (organisers only)", validators=[Optional(), Length(max=2000)])
    confirm = BooleanField(
        "Yes: ban this person, cancel their upcoming registrations and refund by each "
        "gathering's refund policy"
    )


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
        form.gathering_id.data = request.args.get("gathering", 0, type=parse_id)
    form.gathering_id.choices = _gathering_choices(form.gathering_id.data)
    form.about_leader.choices = [SelectChoice(0, "No")] + [
        SelectChoice(p.id, p.name) for p in incidents.leaders() if p.id != current_user.id
    ]
    if form.validate_on_submit():
        anonymous = bool(form.anonymous.data)
        try:
            report = incidents.report_incident(
                None if anonymous else current_user,
                _body(form.body.data or "", form.about.data),
                now=utcnow(),
                gathering_id=form.gathering_id.data or None,
                subject_user_id=form.about_leader.data or None,
            )
            _tell(report)
        except DomainError as err:
            db.session.rollback()
            show_error(form, err)
        else:
            db.session.commit()
            return redirect(
                url_for(
                    "safety.report_sent",
                    anonymous=int(anonymous),
                    safeguarding=int(report.routed_to_id is not None),
                )
            )
    return render_template(
        "consent/report.html", form=form, contact=community.safeguarding_contact()
    ), (400 if form.errors else 200)


def _tell(report: IncidentReport) -> None:
    """Queue a note to each reader of a new report; it names nobody and quotes nothing."""
    link = url_for("safety.show_report", report_id=report.id, _external=True)
    for person in incidents.to_tell(report):
        mail.queue(
            person.email,
            "A new report needs your attention",
            f"Hello {person.display_name},\n\nA concern was reported. Read it (after logging "
            f"in) at:\n{link}\n",
            kind="incident_reported",
        )


@bp.route("/report-a-concern/sent")
@login_required
def report_sent():  # type: ignore[no-untyped-def]
    """Confirm a report and say who will see it."""
    anonymous = request.args.get("anonymous") == "1"
    safeguarding = request.args.get("safeguarding") == "1"
    return render_template(
        "consent/report_sent.html", anonymous=anonymous, safeguarding=safeguarding
    )


@bp.route("/manage/reports")
@login_required
def list_reports():  # type: ignore[no-untyped-def]
    """List the incident reports the viewer may read, newest first, optionally of one status."""
    if not incidents.may_open_reports(current_user):
        abort(403)
    status = request.args.get("status", "")
    if status not in set(IncidentStatus):
        status = ""
    reports = incidents.list_for(current_user, status)
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
@login_required
def show_report(report_id: int):  # type: ignore[no-untyped-def]
    """Show one report to a reader of it and change its status and private notes."""
    try:
        report = incidents.get_for(current_user, report_id)
    except DomainError as err:
        abort(err.status)
    form = TriageForm(obj=report)
    if form.validate_on_submit():
        try:
            incidents.triage(
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
        subject=db.session.get(User, report.subject_user_id) if report.subject_user_id else None,
        gathering=gathering,
        labels=STATUS_LABELS,
    ), (400 if form.errors else 200)


@bp.route("/manage/people/<int:user_id>/ban", methods=["GET", "POST"])
@role_required(Role.ORGANISER)
def ban_person(user_id: int):  # type: ignore[no-untyped-def]
    """Show what a ban would do; once confirmed, ban, cancel, refund and take them out of runs."""
    person = db.session.get(User, user_id) if user_id <= community.MAX_ID else None
    if person is None:
        abort(404)
    form = BanForm()
    now = utcnow()
    try:
        planned = banning.plan(current_user, person, now=now)
    except DomainError as err:
        flash(err.message, "error")
        return redirect(url_for("accounts.list_people"))
    if request.method == "POST" and form.validate() and form.confirm.data:
        try:
            outcome = banning.ban_person(
                current_user, person, form.reason.data or "", confirmed=True, now=now
            )
            removals = removal.remove_from_runs(person.id, now=now)
        except DomainError as err:
            db.session.rollback()
            flash(err.message, "error")
            return redirect(url_for("accounts.list_people"))
        db.session.commit()
        removal.announce_removal(user_id, removal.BANNED, removals)
        sent = refunds.send_owed(outcome.refund_ids)
        flash(_ban_summary(person, outcome, sent), "success")
        return redirect(url_for("safety.list_bans"))
    failed = request.method == "POST" and bool(form.errors)
    return render_template(
        "consent/ban_confirm.html", person=person, form=form, planned=planned, money=format_money
    ), (400 if failed else 200)


def _ban_summary(person: User, outcome: banning.BanOutcome, sent: refunds.RefundReport) -> str:
    text = (
        f"{person.name} is banned, taken out of any live exercise, and "
        f"{len(outcome.cancelled)} upcoming registration(s) are cancelled."
    )
    if sent.sent:
        text += f" {len(sent.sent)} card refund(s) sent."
    if sent.failed:
        text += f" {len(sent.failed)} refund(s) still owed: see each gathering's registrations."
    return text


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

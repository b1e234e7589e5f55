"""Pages for exercises and for preparing runs in a gathering."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from wtforms import SelectChoice

from facilitation.accounts.models import Role
from facilitation.core.bad_input import is_id
from facilitation.core.clock import utcnow
from facilitation.core.errors import DomainError
from facilitation.core.web import PostForm, role_required, show_error
from facilitation.exercises import exercise_services, services
from facilitation.exercises.forms import ExerciseForm, StartRunForm
from facilitation.exercises.models import Exercise, Run
from facilitation.extensions import db
from facilitation.gatherings import permissions
from facilitation.gatherings.models import Gathering

bp = Blueprint("exercises", __name__)


def _exercise_input(form: ExerciseForm) -> exercise_services.ExerciseInput:
    return exercise_services.ExerciseInput(
        title=form.title.data or "",
        description=form.description.data or "",
        grouping=form.grouping.data or "",
        contact=form.contact.data or 0,
        eye_contact=form.eye_contact.data or 0,
        rounds=form.rounds.data or 0,
        phases=[
            exercise_services.PhaseInput(
                name=row.form.name.data or "",
                duration_s=row.form.duration_s.data or 0,
                instruction=row.form.instruction.data or "",
                active=row.form.active.data or "everyone",
            )
            for row in form.phases
        ],
    )


def _load_exercise(exercise_id: int) -> Exercise:
    exercise = db.session.get(Exercise, exercise_id)
    if exercise is None:
        abort(404)
    return exercise


@bp.route("/manage/exercises")
@role_required(Role.FACILITATOR)
def list_exercises():  # type: ignore[no-untyped-def]
    """List the built-in and the organisation's own exercises."""
    exercises = services.ensure_builtin_exercises(now=utcnow())
    db.session.commit()
    return render_template("exercises/list.html", exercises=exercises, form=PostForm())


@bp.route("/manage/exercises/new", methods=["GET", "POST"])
@role_required(Role.ORGANISER)
def new_exercise():  # type: ignore[no-untyped-def]
    """Create an exercise."""
    form = ExerciseForm()
    if form.validate_on_submit():
        try:
            exercise = exercise_services.create_exercise(
                current_user, _exercise_input(form), now=utcnow()
            )
        except DomainError as err:
            db.session.rollback()
            show_error(form, err)
        else:
            db.session.commit()
            flash("Exercise saved.", "success")
            return redirect(url_for("exercises.edit_exercise", exercise_id=exercise.id))
    return render_template("exercises/form.html", form=form, exercise=None), (
        400 if form.errors else 200
    )


@bp.route("/manage/exercises/<int:exercise_id>/edit", methods=["GET", "POST"])
@role_required(Role.ORGANISER)
def edit_exercise(exercise_id: int):  # type: ignore[no-untyped-def]
    """Change an exercise (runs already made keep their plan)."""
    exercise = _load_exercise(exercise_id)
    form = ExerciseForm(obj=exercise)
    if request.method == "GET":
        for row, phase in zip(form.phases, exercise.phases, strict=False):
            row.form.name.data = phase.name
            row.form.duration_s.data = phase.duration_s
            row.form.instruction.data = phase.instruction
            row.form.active.data = phase.active
    if form.validate_on_submit():
        try:
            exercise_services.update_exercise(current_user, exercise, _exercise_input(form))
        except DomainError as err:
            db.session.rollback()
            exercise = _load_exercise(exercise_id)
            show_error(form, err)
        else:
            db.session.commit()
            flash("Saved.", "success")
            return redirect(url_for("exercises.edit_exercise", exercise_id=exercise.id))
    return render_template("exercises/form.html", form=form, exercise=exercise), (
        400 if form.errors else 200
    )


@bp.route("/manage/exercises/<int:exercise_id>/copy", methods=["POST"])
@role_required(Role.ORGANISER)
def copy_exercise(exercise_id: int):  # type: ignore[no-untyped-def]
    """Copy an exercise into a new one to adapt."""
    source = _load_exercise(exercise_id)
    if not PostForm().validate_on_submit():
        abort(400)
    copy = exercise_services.copy_exercise(current_user, source, now=utcnow())
    db.session.commit()
    flash("Copied. Adapt it and save.", "success")
    return redirect(url_for("exercises.edit_exercise", exercise_id=copy.id))


def _facilitated_gathering(gathering_id: int) -> Gathering:
    gathering = db.session.get(Gathering, gathering_id)
    if gathering is None:
        abort(404)
    if not permissions.may_facilitate(current_user, gathering):
        abort(403)
    return gathering


@bp.route("/gatherings/<int:gathering_id>/live", methods=["GET", "POST"])
@login_required
def gathering_runs(gathering_id: int):  # type: ignore[no-untyped-def]
    """List a gathering's runs and prepare a new one (its facilitators only)."""
    gathering = _facilitated_gathering(gathering_id)
    exercises = services.ensure_builtin_exercises(now=utcnow())
    form = StartRunForm()
    form.exercise_id.choices = [SelectChoice(str(e.id), e.title) for e in exercises]
    if form.validate_on_submit():
        chosen = form.exercise_id.data
        exercise = db.session.get(Exercise, chosen) if is_id(chosen) else None
        try:
            if exercise is None:
                raise DomainError("no_exercise", "Choose an exercise.", "exercise_id")
            run = services.create_run(
                current_user,
                gathering,
                exercise,
                now=utcnow(),
                odd_policy=form.odd_policy.data or "rest",
                rounds_override=form.rounds.data,
                pause_between_rounds=bool(form.pause_between_rounds.data),
                avoid_repeats_across_runs=bool(form.avoid_repeats_across_runs.data),
            )
        except DomainError as err:
            db.session.rollback()
            show_error(form, err)
        else:
            db.session.commit()
            return redirect(url_for("live.console", run_id=run.id))
    else:
        db.session.commit()
    runs = db.session.scalars(
        sa.select(Run).where(Run.gathering_id == gathering.id).order_by(Run.id.desc())
    ).all()
    return render_template(
        "exercises/gathering_runs.html", gathering=gathering, runs=runs, form=form
    ), (400 if form.errors else 200)

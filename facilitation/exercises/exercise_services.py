"""Organisers' own exercises: create, edit and copy templates of timed phases."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from facilitation.accounts.models import User
from facilitation.core.errors import DomainError, Forbidden
from facilitation.exercises.engine.pairing_types import Contact, EyeContact, Grouping
from facilitation.exercises.engine.rounds import ActiveRole
from facilitation.exercises.models import Exercise, ExercisePhase
from facilitation.extensions import db

logger = logging.getLogger(__name__)

MAX_PHASES = 12


@dataclass
class PhaseInput:
    """One phase as typed into the form."""

    name: str
    duration_s: int
    instruction: str = ""
    active: str = ActiveRole.EVERYONE


@dataclass
class ExerciseInput:
    """An exercise as typed into the form."""

    title: str
    description: str
    grouping: str
    contact: int
    eye_contact: int
    rounds: int
    phases: list[PhaseInput]


def _check(data: ExerciseInput) -> None:
    data.title = " ".join(data.title.split())
    if not data.title:
        raise DomainError("title_required", "Give the exercise a title.", "title")
    if data.grouping not in set(Grouping):
        raise DomainError("bad_grouping", "Choose pairs or trios.", "grouping")
    if data.contact not in {int(c) for c in Contact}:
        raise DomainError("bad_contact", "Choose the touch it involves.", "contact")
    if data.eye_contact not in {int(e) for e in EyeContact}:
        raise DomainError("bad_eye_contact", "Choose the eye contact it asks for.", "eye_contact")
    if not 1 <= data.rounds <= 100:
        raise DomainError("bad_rounds", "Choose between 1 and 100 rounds.", "rounds")
    phases = [p for p in data.phases if p.name.strip()]
    if not phases:
        raise DomainError("no_phases", "Add at least one phase with a name.", "phases")
    if len(phases) > MAX_PHASES:
        raise DomainError("too_many_phases", f"Use at most {MAX_PHASES} phases.", "phases")
    for number, phase in enumerate(phases, start=1):
        if not 5 <= phase.duration_s <= 7200:
            raise DomainError(
                "bad_duration",
                f"Phase {number} ({phase.name.strip()}): give between 5 seconds and 2 hours.",
                "phases",
            )
        if phase.active not in set(ActiveRole):
            raise DomainError("bad_active", f"Phase {number}: choose who is active.", "phases")
    data.phases = phases


def _require_organiser(actor: User) -> None:
    if not actor.is_organiser:
        raise Forbidden("forbidden", "Only organisers can change exercises.")


def _apply(exercise: Exercise, data: ExerciseInput) -> None:
    exercise.title = data.title
    exercise.description = data.description.strip()
    exercise.grouping = data.grouping
    exercise.contact = data.contact
    exercise.eye_contact = data.eye_contact
    exercise.rounds = data.rounds
    exercise.phases.clear()
    db.session.flush()  # free the (exercise, position) slots before re-adding
    exercise.phases.extend(
        ExercisePhase(
            position=i,
            name=p.name.strip()[:80],
            duration_s=p.duration_s,
            instruction=p.instruction.strip(),
            active=p.active,
        )
        for i, p in enumerate(data.phases)
    )


def create_exercise(actor: User, data: ExerciseInput, *, now: datetime) -> Exercise:
    """Create an organiser's own exercise."""
    _require_organiser(actor)
    _check(data)
    exercise = Exercise(created_by_id=actor.id, created_at=now)
    db.session.add(exercise)
    _apply(exercise, data)
    db.session.flush()
    logger.info("exercise %s created by %s", exercise.id, actor.id)
    return exercise


def update_exercise(actor: User, exercise: Exercise, data: ExerciseInput) -> Exercise:
    """Change an exercise; runs already made keep the plan they started with."""
    _require_organiser(actor)
    if exercise.builtin_key:
        raise DomainError("builtin", "Built-in exercises cannot be changed; copy one instead.")
    _check(data)
    _apply(exercise, data)
    db.session.flush()
    logger.info("exercise %s updated by %s", exercise.id, actor.id)
    return exercise


def copy_exercise(actor: User, source: Exercise, *, now: datetime) -> Exercise:
    """Copy an exercise (built-in or not) into a new one the organiser can edit."""
    data = ExerciseInput(
        title=f"{source.title} (copy)"[:120],
        description=source.description,
        grouping=source.grouping,
        contact=source.contact,
        eye_contact=source.eye_contact,
        rounds=source.rounds,
        phases=[PhaseInput(p.name, p.duration_s, p.instruction, p.active) for p in source.phases],
    )
    return create_exercise(actor, data, now=now)

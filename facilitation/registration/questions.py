"""What the registration form asks: questions, and the pairing roles people choose.

Organisers and the gathering's own facilitators change these; every change is checked here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import sqlalchemy as sa

from facilitation.accounts.models import User
from facilitation.core.errors import DomainError
from facilitation.core.memo import memo
from facilitation.extensions import db
from facilitation.gatherings.models import Gathering
from facilitation.registration import answers
from facilitation.registration.models import (
    PairingRole,
    Registration,
    RegistrationAnswer,
    RegistrationQuestion,
)
from facilitation.registration.options import in_use, next_position, owned, require_manager
from facilitation.registration.waitlist import promote

# --- questions ---------------------------------------------------------------------------


@dataclass
class QuestionInput:
    """A question as typed into the form."""

    label: str
    kind: str
    choices: list[str] = field(default_factory=list)
    required: bool = False


def add_question(
    actor: User, gathering: Gathering, data: QuestionInput, *, now: datetime
) -> RegistrationQuestion:
    """Add a question at the end of a gathering's registration form."""
    require_manager(actor, gathering)
    label, choices = answers.check_question(data.label, data.kind, data.choices)
    question = RegistrationQuestion(
        gathering_id=gathering.id,
        position=next_position(RegistrationQuestion, gathering),
        label=label,
        kind=data.kind,
        choices=choices,
        required=data.required,
        is_active=True,
    )
    db.session.add(question)
    db.session.flush()
    return question


def update_question(
    actor: User, gathering: Gathering, question_id: int, data: QuestionInput, *, now: datetime
) -> RegistrationQuestion:
    """Change a question; once answered, its kind stays and no choice may disappear."""
    require_manager(actor, gathering)
    question = owned(RegistrationQuestion, question_id, gathering, "question")
    label, choices = answers.check_question(data.label, data.kind, data.choices)
    if _answered(question):
        if data.kind != question.kind:
            raise DomainError(
                "kind_locked", "People have answered; add a new question instead.", "kind"
            )
        if not set(question.choices) <= set(choices):
            raise DomainError(
                "choice_in_use",
                "People have answered; you can add choices and reword the question, "
                "but not remove choices.",
                "choices",
            )
    question.label, question.kind = label, data.kind
    question.choices, question.required = choices, data.required
    db.session.flush()
    return question


def _answered(question: RegistrationQuestion) -> bool:
    found = db.session.scalar(
        sa.select(RegistrationAnswer.id).where(RegistrationAnswer.question_id == question.id)
    )
    return found is not None


def remove_question(actor: User, gathering: Gathering, question_id: int, *, now: datetime) -> None:
    """Remove a question, keeping it switched off if people answered it."""
    require_manager(actor, gathering)
    question = owned(RegistrationQuestion, question_id, gathering, "question")
    if _answered(question):
        question.is_active = False
    else:
        db.session.delete(question)
    db.session.flush()


def questions_for(gathering: Gathering) -> list[RegistrationQuestion]:
    """Return the questions a gathering asks, in order."""
    return list(
        memo(
            db.session,
            ("questions", gathering.id),
            ["registration_questions"],
            lambda: list(
                db.session.scalars(
                    sa.select(RegistrationQuestion)
                    .where(
                        RegistrationQuestion.gathering_id == gathering.id,
                        RegistrationQuestion.is_active.is_(True),
                    )
                    .order_by(RegistrationQuestion.position, RegistrationQuestion.id)
                )
            ),
        )
    )


def question_rules(gathering: Gathering) -> list[answers.QuestionRule]:
    """Return the questions a gathering asks as rules for checking answers."""
    return [
        answers.QuestionRule(q.id, q.label, q.kind, list(q.choices or []), q.required)
        for q in questions_for(gathering)
    ]


# --- pairing roles -----------------------------------------------------------------------


@dataclass
class RoleInput:
    """A self-chosen pairing role as typed into the form."""

    name: str
    cap: int | None = None


def _check_role(data: RoleInput, gathering: Gathering, role_id: int | None) -> str:
    name = " ".join(data.name.split())
    if not name or len(name) > 60:
        raise DomainError("bad_role_name", "Give the role a name of up to 60 characters.", "name")
    if data.cap is not None and data.cap < 0:
        raise DomainError("bad_cap", "A cap cannot be below zero; leave it empty for none.", "cap")
    taken = db.session.scalar(
        sa.select(PairingRole.id).where(
            PairingRole.gathering_id == gathering.id, PairingRole.name == name
        )
    )
    if taken is not None and taken != role_id:
        raise DomainError("role_taken", "This gathering already has a role with that name.", "name")
    return name


def add_role(actor: User, gathering: Gathering, data: RoleInput, *, now: datetime) -> PairingRole:
    """Add a pairing role participants choose when they register."""
    require_manager(actor, gathering)
    role = PairingRole(
        gathering_id=gathering.id,
        name=_check_role(data, gathering, None),
        cap=data.cap,
        position=next_position(PairingRole, gathering),
    )
    db.session.add(role)
    db.session.flush()
    return role


def update_role(
    actor: User, gathering: Gathering, role_id: int, data: RoleInput, *, now: datetime
) -> PairingRole:
    """Rename a role or change its cap; a raised cap offers seats to those waiting."""
    require_manager(actor, gathering)
    role = owned(PairingRole, role_id, gathering, "role")
    role.name = _check_role(data, gathering, role.id)
    role.cap = data.cap
    db.session.flush()
    promote(gathering, now=now)
    return role


def remove_role(actor: User, gathering: Gathering, role_id: int, *, now: datetime) -> None:
    """Remove a role nobody has chosen yet."""
    require_manager(actor, gathering)
    role = owned(PairingRole, role_id, gathering, "role")
    if in_use(Registration.role_id, role.id):
        raise DomainError(
            "role_in_use", "People have chosen this role; rename it or change its cap instead."
        )
    db.session.delete(role)
    db.session.flush()


def roles_for(gathering: Gathering) -> list[PairingRole]:
    """Return a gathering's pairing roles in order."""
    return list(
        memo(
            db.session,
            ("roles", gathering.id),
            ["pairing_roles"],
            lambda: list(
                db.session.scalars(
                    sa.select(PairingRole)
                    .where(PairingRole.gathering_id == gathering.id)
                    .order_by(PairingRole.position, PairingRole.id)
                )
            ),
        )
    )

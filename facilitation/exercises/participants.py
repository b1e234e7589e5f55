"""Admit people to live runs: joining, presence, sitting out and support signals."""

from __future__ import annotations

import logging
from datetime import datetime

import sqlalchemy as sa

from facilitation.accounts.models import User
from facilitation.core.errors import DomainError, Forbidden, NotFound
from facilitation.exercises.engine import rounds
from facilitation.exercises.models import Run, RunParticipant, SupportSignal
from facilitation.extensions import db
from facilitation.gatherings import permissions
from facilitation.gatherings.models import Gathering

logger = logging.getLogger(__name__)

BANNED_MESSAGE = "You cannot join this exercise. Please speak to an organiser."
#: What a phone the gathering does not admit is told: neutral, the same for every reason.
NOT_ADMITTED_MESSAGE = (
    "This exercise is for the people registered for this gathering. If you think you should be "
    "in it, please speak to a facilitator."
)
NOT_CHECKED_IN_MESSAGE = "Check in at the door first, then join the exercise."


class JoinRefused(Forbidden):
    """The gathering does not admit this person to its runs; ``refusal`` says why (console)."""

    status = 403

    def __init__(self, refusal: permissions.Refusal) -> None:
        if refusal == permissions.Refusal.BANNED:
            code, message = "banned", BANNED_MESSAGE
        elif refusal == permissions.Refusal.NOT_CHECKED_IN:
            code, message = "not_registered", NOT_CHECKED_IN_MESSAGE
        else:
            code, message = "not_registered", NOT_ADMITTED_MESSAGE
        super().__init__(code, message)
        self.refusal = refusal


def notice_refusal(run: Run, user: User, refusal: permissions.Refusal) -> dict[str, object]:
    """Return what a run's console is told when someone is refused entry, and log it once."""
    logger.info("run %s refused account %s: %s", run.id, user.id, refusal.value)
    return {
        "user_id": user.id,
        "name": user.display_name,
        "reason": refusal.value,
        "message": f"{user.display_name} could not join: {permissions.REFUSAL_LABELS[refusal]}.",
    }


def _participant(run: Run, user_id: int) -> RunParticipant | None:
    return db.session.scalar(
        sa.select(RunParticipant).where(
            RunParticipant.run_id == run.id, RunParticipant.user_id == user_id
        )
    )


def join_run(
    run: Run, user: User, *, now: datetime, added_by: User | None = None
) -> RunParticipant:
    """Mark someone present in a run (again); they are paired from the next round.

    Only people the gathering admits may be present (``permissions.join_refusal``); a
    facilitator adding someone without a phone (``added_by``) may add only the gathering's
    people, never any other account.
    """
    if run.status == rounds.RunStatus.ENDED:
        raise DomainError("run_ended", "This exercise has ended.")
    gathering = db.session.get(Gathering, run.gathering_id)
    assert gathering is not None
    if added_by is not None:
        if not permissions.may_facilitate(added_by, gathering):
            raise Forbidden("forbidden", "Only this run's facilitators can add people.")
        refusal = permissions.admission_refusal(user, gathering)
    else:
        refusal = permissions.join_refusal(user, run, gathering)
    if refusal is not None:
        raise JoinRefused(refusal)
    participant = _participant(run, user.id)
    if participant is None:
        participant = RunParticipant(
            run_id=run.id,
            user_id=user.id,
            joined_at=now,
            sitting_out=False,
            added_by_id=added_by.id if added_by else None,
        )
        db.session.add(participant)
    else:
        participant.left_at = None
    db.session.flush()
    return participant


def present_participant(run: Run, user: User) -> RunParticipant:
    """Return the person's presence in the run, or fail if they have not joined."""
    if run.status == rounds.RunStatus.ENDED:
        raise DomainError("run_ended", "This exercise has ended.")
    participant = _participant(run, user.id)
    if participant is None or participant.left_at is not None:
        raise DomainError("not_joined", "Join the exercise first.")
    return participant


def set_sitting_out(run: Run, user: User, sitting_out: bool) -> RunParticipant:
    """Sit out from the next round on, or come back; nobody else is told why."""
    participant = present_participant(run, user)
    participant.sitting_out = sitting_out
    return participant


def leave_run(run: Run, user: User, *, now: datetime) -> None:
    """Stop being present in a run."""
    participant = present_participant(run, user)
    participant.left_at = now


def open_support_signal(run_id: int, user_id: int) -> SupportSignal | None:
    """Return the person's support signal in a run that no facilitator has seen to yet."""
    return db.session.scalar(
        sa.select(SupportSignal).where(
            SupportSignal.run_id == run_id,
            SupportSignal.user_id == user_id,
            SupportSignal.acknowledged_at.is_(None),
        )
    )


def signal_support(run: Run, user: User, *, now: datetime) -> SupportSignal:
    """Raise a silent support signal (one open signal per person at a time)."""
    present_participant(run, user)
    open_signal = open_support_signal(run.id, user.id)
    if open_signal is not None:
        return open_signal
    signal = SupportSignal(run_id=run.id, user_id=user.id, raised_at=now)
    db.session.add(signal)
    db.session.flush()
    logger.info("support signal %s raised in run %s", signal.id, run.id)
    return signal


def acknowledge_support(run: Run, actor: User, signal_id: int, *, now: datetime) -> SupportSignal:
    """Clear a support signal once a facilitator has seen to it."""
    signal = db.session.get(SupportSignal, signal_id)
    if signal is None or signal.run_id != run.id:
        raise NotFound("no_such_signal", "That support signal is not in this run.")
    if signal.acknowledged_at is None:
        signal.acknowledged_at = now
        signal.acknowledged_by_id = actor.id
    return signal

"""Snapshots of a run for each kind of client: the whole, small state each may see."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa

from facilitation.accounts.models import User
from facilitation.attendance import services as attendance
from facilitation.exercises import pairings
from facilitation.exercises.engine import rounds
from facilitation.exercises.engine.pairing_types import Pairing
from facilitation.exercises.models import (
    Run,
    RunGroupMember,
    RunParticipant,
    RunRest,
    RunRound,
    SupportSignal,
)
from facilitation.exercises.services import plan_of, state_of
from facilitation.extensions import db
from facilitation.gatherings.models import Gathering


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def epoch_ms(value: datetime) -> int:
    """Return a time as milliseconds since the epoch, as clients count."""
    return int(value.timestamp() * 1000)


def run_state(run: Run, now: datetime) -> dict[str, Any]:
    """Return the state every client of the run gets (identical for all)."""
    state, plan = state_of(run), plan_of(run)
    in_phase = state.status in (rounds.RunStatus.RUNNING, rounds.RunStatus.PAUSED)
    phase = plan.phases[state.phase_index] if in_phase else None
    upcoming = [
        {
            "round_index": p.round_index,
            "phase_index": p.phase_index,
            "name": p.phase.name,
            "instruction": p.phase.instruction,
            "active": p.phase.active.value,
            "duration_s": p.phase.duration_s,
            "starts_at": _iso(p.starts_at),
            "ends_at": _iso(p.ends_at),
        }
        for p in rounds.phase_plan(state, plan)
    ]
    return {
        "run_id": run.id,
        "version": run.version,
        "status": run.status,
        "title": run.title,
        "round_index": run.round_index,
        "rounds": plan.rounds,
        "phase_index": run.phase_index,
        "phase": (
            {
                "name": phase.name,
                "instruction": phase.instruction,
                "active": phase.active.value,
                "duration_s": phase.duration_s,
            }
            if phase
            else None
        ),
        "deadline": _iso(run.phase_deadline),
        "remaining_s": round(rounds.remaining(state, now), 3),
        "plan": upcoming,
        "join_code": run.join_code,
        "server_time": epoch_ms(now),
    }


# Statements asked per connection or per person are built once, with expanding parameters: one
# built per call with a literal list in ``in_()`` leaves a reference cycle behind each time it
# runs from SQLAlchemy's cache, freed only by the collector's rare full passes
# (docs/benchmarks.md, session 6).
_NAMES_OF = sa.select(User.id, User.display_name).where(
    User.id.in_(sa.bindparam("user_ids", expanding=True))
)
_PARTICIPANTS_OF = sa.select(RunParticipant).where(
    RunParticipant.run_id == sa.bindparam("run_id"),
    RunParticipant.user_id.in_(sa.bindparam("user_ids", expanding=True)),
)


def _names(user_ids: set[int]) -> dict[int, str]:
    if not user_ids:
        return {}
    rows = db.session.execute(_NAMES_OF, {"user_ids": list(user_ids)})
    return {uid: name for uid, name in rows}


# A round's members and rests are read as plain rows, not through the relationships: after
# each commit those load (and track) one ORM object per person again. In a profile of the
# 500-phone benchmark that loading was a third of the time spent building the facilitators'
# view (docs/benchmarks.md).


def _groups(stored: RunRound) -> dict[int, list[tuple[int, str]]]:
    """Return a round's groups by spot: each member's user id and role."""
    groups: dict[int, list[tuple[int, str]]] = {}
    rows = db.session.execute(
        sa.select(RunGroupMember.spot, RunGroupMember.user_id, RunGroupMember.role)
        .where(RunGroupMember.round_id == stored.id)
        .order_by(RunGroupMember.spot, RunGroupMember.role)
    )
    for spot, user_id, role in rows:
        groups.setdefault(spot, []).append((user_id, role))
    return groups


def _rests(stored: RunRound) -> dict[int, str]:
    """Return who rests in a round, and why."""
    rows = db.session.execute(
        sa.select(RunRest.user_id, RunRest.reason)
        .where(RunRest.round_id == stored.id)
        .order_by(RunRest.id)
    )
    return {user_id: reason for user_id, reason in rows}


def _paired(stored: RunRound) -> set[int]:
    """Return who is in a group in a round."""
    rows = db.session.scalars(
        sa.select(RunGroupMember.user_id).where(RunGroupMember.round_id == stored.id)
    )
    return set(rows)


def pairing_table(run: Run) -> dict[str, Any]:
    """Return the whole pairing of the current round, with display names only."""
    stored = pairings.current_round(run)
    if stored is None:
        return {
            "run_id": run.id,
            "round_index": run.round_index,
            "pairing_id": None,
            "groups": [],
            "resting_count": 0,
        }
    groups = _groups(stored)
    names = _names({uid for members in groups.values() for uid, _ in members})
    return {
        "run_id": run.id,
        "round_index": stored.round_index,
        "pairing_id": stored.id,
        "groups": [
            {
                "spot": spot,
                "members": [{"name": names.get(uid, "?"), "role": role} for uid, role in members],
            }
            for spot, members in sorted(groups.items())
        ],
        "resting_count": db.session.scalar(
            sa.select(sa.func.count()).select_from(RunRest).where(RunRest.round_id == stored.id)
        ),
    }


def your_pairings(run: Run, user_ids: list[int] | None = None) -> dict[int, dict[str, Any]]:
    """Return each participant's own pairing (partners, spot, role), built in one pass."""
    if user_ids is None:
        found = db.session.scalars(sa.select(RunParticipant).where(RunParticipant.run_id == run.id))
    else:
        found = db.session.scalars(_PARTICIPANTS_OF, {"run_id": run.id, "user_ids": user_ids})
    participants = {p.user_id: p for p in found}
    stored = pairings.current_round(run)
    groups = _groups(stored) if stored else {}
    # The one rest reason a phone is told: its own withdrawn consent (its own doing). Every
    # other reason (a boundary, someone's do-not-pair) stays with the facilitators.
    withdrawn = (
        {u for u, r in _rests(stored).items() if r == "consent_withdrawn"} if stored else set()
    )
    where: dict[int, int] = {uid: spot for spot, members in groups.items() for uid, _ in members}
    names = _names({uid for members in groups.values() for uid, _ in members})
    result: dict[int, dict[str, Any]] = {}
    for uid in user_ids if user_ids is not None else list(participants):
        payload: dict[str, Any] = {
            "run_id": run.id,
            "round_index": run.round_index,
            "pairing_id": stored.id if stored else None,
            "state": "not_joined",
            "spot": None,
            "role": None,
            "partners": [],
        }
        participant = participants.get(uid)
        if participant is not None and participant.left_at is None:
            if participant.sitting_out:
                # Shown at once, even before the next pairing takes them out.
                payload["state"] = "sitting_out"
            elif uid in where:
                members = groups[where[uid]]
                payload.update(
                    state="paired",
                    spot=where[uid],
                    role=next(role for member, role in members if member == uid),
                    partners=[
                        {"name": names.get(member, "?"), "role": role}
                        for member, role in members
                        if member != uid
                    ],
                )
            elif uid in withdrawn:
                payload["state"] = "consent_withdrawn"
            else:
                payload["state"] = "resting" if stored else "waiting"
        result[uid] = payload
    return result


def your_pairing(run: Run, user_id: int) -> dict[str, Any]:
    """Return one participant's own pairing."""
    return your_pairings(run, [user_id])[user_id]


def _preview_payload(run: Run) -> dict[str, Any] | None:
    """Return the pairing the next round would get now, for the console to show ahead."""
    if run.status == rounds.RunStatus.ENDED:
        return None
    waiting = run.status in (rounds.RunStatus.NOT_STARTED, rounds.RunStatus.BETWEEN_ROUNDS)
    upcoming = run.round_index + (0 if waiting else 1)
    if upcoming >= plan_of(run).rounds:
        return None
    preview: Pairing = pairings.preview(run, upcoming)
    ids = {m.person_id for g in preview.groups for m in g.members}
    names = _names(ids | {r.person_id for r in preview.resting})
    return {
        "round_index": upcoming,
        "groups": [
            {
                "spot": g.spot,
                "members": [
                    {"name": names.get(m.person_id, "?"), "role": m.role.value} for m in g.members
                ],
            }
            for g in preview.groups
        ],
        "resting": [
            {"name": names.get(r.person_id, "?"), "reason": r.reason.value} for r in preview.resting
        ],
    }


def _presence_state(
    user_id: int, sitting_out: bool, paired: set[int], rests: dict[int, str]
) -> str:
    if sitting_out:
        return "sitting_out"
    if user_id in paired:
        return "paired"
    return "resting" if user_id in rests else "waiting"


def facilitator_view(run: Run, *, with_preview: bool = True) -> dict[str, Any]:
    """Return what only facilitators see: presence, rest reasons, support, next pairing.

    The preview runs the pairing engine (in a worker process, cached by request; tens of ms of
    CPU for 1,000 people), so callers leave it out when nothing that decides a pairing has
    changed; consoles keep the last one.
    """
    present = db.session.execute(
        sa.select(RunParticipant.user_id, RunParticipant.sitting_out, User.display_name)
        .join(User, User.id == RunParticipant.user_id)
        .where(RunParticipant.run_id == run.id, RunParticipant.left_at.is_(None))
        .order_by(User.display_name)
    ).all()
    stored = pairings.current_round(run)
    rests = _rests(stored) if stored else {}
    paired = _paired(stored) if stored else set()
    names = {uid: name for uid, _, name in present}
    names |= _names(set(rests) - set(names))
    signals = db.session.scalars(
        sa.select(SupportSignal)
        .where(SupportSignal.run_id == run.id, SupportSignal.acknowledged_at.is_(None))
        .order_by(SupportSignal.raised_at)
    ).all()
    view: dict[str, Any] = {
        "run_id": run.id,
        "present": [
            {"user_id": uid, "name": name, "state": _presence_state(uid, out, paired, rests)}
            for uid, out, name in present
        ],
        "resting": [
            {"user_id": uid, "name": names.get(uid, "?"), "reason": reason}
            for uid, reason in rests.items()
        ],
        "support": [support_payload(s) for s in signals],
        "projector_token": run.projector_token,
        "headcount": headcount_payload(run.gathering_id),
    }
    if with_preview:
        view["preview"] = _preview_payload(run)
    return view


def headcount_payload(gathering_id: int) -> dict[str, int]:
    """Return who is checked in at the door against who is expected."""
    gathering = db.session.get(Gathering, gathering_id)
    if gathering is None:
        return {"checked_in": 0, "expected": 0}
    count = attendance.headcount(gathering)
    return {"checked_in": count.checked_in, "expected": count.expected}


def support_payload(signal: SupportSignal) -> dict[str, Any]:
    """Return a support signal as facilitators see it."""
    return {
        "signal_id": signal.id,
        "user_id": signal.user_id,
        "name": signal.user.display_name,
        "raised_at": _iso(signal.raised_at),
    }

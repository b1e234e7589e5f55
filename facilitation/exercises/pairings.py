"""Glue between the stored run and the pure pairing engine: build requests, keep results."""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import datetime

import sqlalchemy as sa
from flask import current_app

from facilitation.accounts.models import User
from facilitation.attendance import services as attendance
from facilitation.consent import safety
from facilitation.consent import services as consent_services
from facilitation.consent.models import BoundaryProfile
from facilitation.exercises import pairing_worker
from facilitation.exercises.engine.pairing_types import (
    Boundaries,
    Contact,
    ExerciseNeeds,
    EyeContact,
    Grouping,
    OddPolicy,
    Pairing,
    PairingRequest,
    Participant,
    PartnerPreference,
    RestReason,
    Role,
    pair_key,
)
from facilitation.exercises.models import (
    Run,
    RunGroupMember,
    RunParticipant,
    RunRest,
    RunRound,
)
from facilitation.extensions import db
from facilitation.gatherings import permissions
from facilitation.gatherings.models import Gathering

#: Rest reasons the engine decides; they count towards the fair rest rotation.
ENGINE_RESTS = {
    RestReason.ODD_REST.value,
    RestReason.NO_CLEAN_TRIO.value,
    RestReason.NO_COMPATIBLE_PARTNER.value,
}


def engine_round(round_index: int, attempt: int) -> int:
    """Return the engine's round number for a round and re-pair attempt."""
    return round_index * 1000 + attempt


def current_round(run: Run, round_index: int | None = None) -> RunRound | None:
    """Return the latest pairing attempt of a round (default: the run's current round)."""
    index = run.round_index if round_index is None else round_index
    return db.session.scalars(
        sa.select(RunRound)
        .where(RunRound.run_id == run.id, RunRound.round_index == index)
        .order_by(RunRound.attempt.desc())
        .limit(1)
    ).first()


def _latest_rounds(run_ids: list[int], before_round: int | None, run_id: int) -> list[int]:
    """Return ids of the latest attempt of each past round of the given runs."""
    latest = (
        sa.select(
            RunRound.run_id,
            RunRound.round_index,
            sa.func.max(RunRound.attempt).label("attempt"),
        )
        .where(RunRound.run_id.in_(run_ids))
        .group_by(RunRound.run_id, RunRound.round_index)
        .subquery()
    )
    stmt = sa.select(RunRound.id, RunRound.run_id, RunRound.round_index).join(
        latest,
        sa.and_(
            RunRound.run_id == latest.c.run_id,
            RunRound.round_index == latest.c.round_index,
            RunRound.attempt == latest.c.attempt,
        ),
    )
    return [
        rid
        for rid, rrun, rindex in db.session.execute(stmt)
        if not (rrun == run_id and before_round is not None and rindex >= before_round)
    ]


def _participant(user_id: int, boundaries: dict[int, BoundaryProfile]) -> Participant:
    """Return a person as the engine sees them, with their boundaries for this gathering."""
    profile = boundaries.get(user_id)
    if profile is None:
        return Participant(id=user_id)
    return Participant(
        id=user_id,
        boundaries=Boundaries(
            contact=Contact(profile.touch),
            eye_contact=EyeContact(profile.eye_contact),
            preference=PartnerPreference.parse(profile.partner_preference),
        ),
        gender=profile.gender,
        pairing_role=profile.pairing_role,
    )


def _stand_in(run: Run) -> Participant | None:
    """Return the facilitator who steps in for an odd count, with their boundaries, if any.

    Only someone who may still facilitate the gathering steps in.
    """
    if run.odd_policy != OddPolicy.FACILITATOR or run.stand_in_id is None:
        return None
    gathering = db.session.get(Gathering, run.gathering_id)
    person = db.session.get(User, run.stand_in_id)
    if gathering is None or not permissions.may_facilitate(person, gathering):
        return None
    boundaries = safety.effective_boundaries([run.stand_in_id], run.gathering_id)
    return _participant(run.stand_in_id, boundaries)


def build_request(run: Run, round_index: int, attempt: int) -> PairingRequest:
    """Gather who is present, their state and the history, as the engine's request."""
    present = db.session.scalars(
        sa.select(RunParticipant).where(
            RunParticipant.run_id == run.id, RunParticipant.left_at.is_(None)
        )
    ).all()
    user_ids = [p.user_id for p in present]
    ineligible = {
        uid: RestReason(reason)
        for uid, reason in consent_services.ineligibility(user_ids, run.gathering_id).items()
    }
    if attendance.uses_check_in(run.gathering_id):
        # Once the door checks people in, only those checked in are paired.
        checked_in = attendance.checked_in_user_ids(run.gathering_id)
        for uid in user_ids:
            if uid not in checked_in and uid not in ineligible:
                ineligible[uid] = RestReason.NOT_CHECKED_IN
    for p in present:
        if p.sitting_out and p.user_id not in ineligible:
            ineligible[p.user_id] = RestReason.SITTING_OUT
    boundaries = safety.effective_boundaries(user_ids, run.gathering_id)
    run_ids = [run.id]
    if run.avoid_repeats_across_runs:
        run_ids = list(
            db.session.scalars(sa.select(Run.id).where(Run.gathering_id == run.gathering_id))
        )
    past = _latest_rounds(run_ids, round_index, run.id)
    history: Counter[tuple[int, int]] = Counter()
    role_counts: dict[int, Counter[Role]] = defaultdict(Counter)
    past_rests: Counter[int] = Counter()
    if past:
        groups: dict[tuple[int, int], list[int]] = defaultdict(list)
        members = db.session.execute(
            sa.select(
                RunGroupMember.round_id,
                RunGroupMember.spot,
                RunGroupMember.user_id,
                RunGroupMember.role,
                RunRound.run_id,
            )
            .join(RunRound, RunRound.id == RunGroupMember.round_id)
            .where(RunGroupMember.round_id.in_(past))
        )
        for round_id, spot, user_id, role, member_run in members:
            groups[(round_id, spot)].append(user_id)
            if member_run == run.id:
                role_counts[user_id][Role(role)] += 1
        for people in groups.values():
            for i, a in enumerate(people):
                for b in people[i + 1 :]:
                    history[pair_key(a, b)] += 1
        rests = db.session.execute(
            sa.select(RunRest.user_id, RunRest.reason)
            .join(RunRound, RunRound.id == RunRest.round_id)
            .where(RunRest.round_id.in_(past), RunRound.run_id == run.id)
        )
        for user_id, reason in rests:
            if reason in ENGINE_RESTS:
                past_rests[user_id] += 1
    stand_in = _stand_in(run)
    # Requests either way between the room and the facilitator who steps in bind the engine too.
    everyone = user_ids + ([stand_in.id] if stand_in is not None else [])
    return PairingRequest(
        participants=tuple(_participant(uid, boundaries) for uid in user_ids),
        exercise=ExerciseNeeds(
            contact=Contact(run.contact),
            eye_contact=EyeContact(run.eye_contact),
            grouping=Grouping(run.grouping),
        ),
        seed=run.seed,
        round_number=engine_round(round_index, attempt),
        odd_policy=OddPolicy(run.odd_policy),
        ineligible=ineligible,
        do_not_pair=tuple(safety.do_not_pair_pairs(everyone, run.gathering_id)),
        history=dict(history),
        past_rests=dict(past_rests),
        role_counts={k: dict(v) for k, v in role_counts.items()},
        facilitator=stand_in,
    )


def pair_and_store(run: Run, round_index: int, *, now: datetime) -> RunRound:
    """Compute a new pairing attempt for a round and store it."""
    previous = current_round(run, round_index)
    attempt = 0 if previous is None else previous.attempt + 1
    result = compute(build_request(run, round_index, attempt))
    stored = RunRound(
        run_id=run.id,
        round_index=round_index,
        attempt=attempt,
        engine_round=engine_round(round_index, attempt),
        method=result.method.value,
        repeats=result.repeats,
        created_at=now,
    )
    db.session.add(stored)
    db.session.flush()
    # The members and rests go in as rows, in batches, not as one ORM object per person: at
    # 1,000 phones that took a round change's command-to-last-phone time from 289-350 ms down to
    # 169-199 ms (docs/benchmarks.md, session 6). ``stored.members`` and ``stored.rests`` load
    # from these rows when asked.
    members = [
        {"round_id": stored.id, "spot": g.spot, "user_id": m.person_id, "role": m.role.value}
        for g in result.groups
        for m in g.members
    ]
    rests = [
        {"round_id": stored.id, "user_id": r.person_id, "reason": r.reason.value}
        for r in result.resting
    ]
    if members:
        db.session.execute(sa.insert(RunGroupMember), members)
    if rests:
        db.session.execute(sa.insert(RunRest), rests)
    return stored


def preview(run: Run, round_index: int) -> Pairing:
    """Return the pairing a round would get now, without storing it."""
    previous = current_round(run, round_index)
    attempt = 0 if previous is None else previous.attempt + 1
    return compute(build_request(run, round_index, attempt))


def compute(request: PairingRequest) -> Pairing:
    """Run the engine off the event loop (``PAIRING_WORKERS`` processes), cached by request.

    The preview of a round and the pairing stored when it starts are one computation when
    nothing that decides the pairing changed in between.
    """
    workers = int(current_app.config.get("PAIRING_WORKERS", pairing_worker.DEFAULT_WORKERS))
    return pairing_worker.pair(request, workers)

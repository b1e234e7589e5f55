"""The pairing engine: who is grouped with whom in one round of a live exercise.

Pure: takes a `PairingRequest`, returns a `Pairing`; stdlib only, no clock, no global rng.
The random number generator is `random.Random` seeded from (seed, round number), so a
stored request reproduces its pairing exactly ("why was I paired with X?").

Hard constraints are never broken: two people are grouped only when `can_pair` holds for
every two members (both eligible, both comfortable with the exercise's touch and eye
contact, each one's partner preference admits the other, no do-not-pair request either
way). When they cannot all be placed, someone rests, with a reason for the facilitator.

Objective, in lexicographic order (see `objective`): (1) place as many eligible people as
possible; (2) repeat as few partnerships as possible, then prefer lower past counts;
(3) rest fairly (fewest past rests first: nobody rests twice before everyone has rested
once); (4) the facilitator steps in only when that helps; (5) seeded randomness.

Odd counts follow `OddPolicy`:

* pairs + `rest`: in each odd group of mutually reachable people, the cheapest by the
  objective rests (`odd_rest`);
* pairs + `trio`: one trio absorbs the odd one out; all three pairs in it are admissible.
  Without any admissible trio the odd one rests (`no_clean_trio`);
* pairs + `facilitator`: the request's facilitator becomes a candidate partner (bound by the
  same constraints); they are used only when that places someone who would rest.

Trio exercises (`Grouping.TRIOS`) use trios plus at most one pair (remainder 2), or two
pairs under the `trio` policy (remainder 1); under `rest` a remainder of 1 rests, under
`facilitator` the facilitator makes it 2. See `trio_solver` for the method and its limits.

Spots are numbered 1..k in order of each group's smallest member id. Roles A, B (and C)
go to whoever had that role least often (`role_counts`), ties by the seeded rng.

Pairs are solved exactly: a fast path whose optimality is proved by a certificate (about
10 ms for 1,000 people on the project's machines), or an exact maximum-weight matching when
no certificate applies; `Pairing.method` says which. See `pair_solver`.
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Collection, Mapping, Sequence

from facilitation.exercises.engine.objective import Objective
from facilitation.exercises.engine.pair_solver import solve_pairs
from facilitation.exercises.engine.pairing_graph import CompatGraph, mutually_admit
from facilitation.exercises.engine.pairing_types import (
    ExerciseNeeds,
    Group,
    Grouping,
    GroupMember,
    OddPolicy,
    PairBlock,
    Pairing,
    PairingError,
    PairingRequest,
    Participant,
    PersonId,
    RestingPerson,
    RestReason,
    Role,
)
from facilitation.exercises.engine.trio_solver import solve_trios

#: Pure core: no framework import, here or in what it imports (tests/core/test_pure_core.py).
__pure__ = True

_ROLES = (Role.A, Role.B, Role.C)


def admits_exercise(person: Participant, exercise: ExerciseNeeds) -> bool:
    """Return whether the person's touch and eye-contact comfort admit the exercise."""
    b = person.boundaries
    return b.contact >= exercise.contact and b.eye_contact >= exercise.eye_contact


def pair_blocker(
    a: Participant,
    b: Participant,
    exercise: ExerciseNeeds,
    do_not_pair: Collection[tuple[PersonId, PersonId]] = (),
    ineligible: Collection[PersonId] = (),
) -> PairBlock | None:
    """Return why a and b may not be grouped for this exercise, or None if they may."""
    if a.id == b.id:
        return PairBlock.SAME_PERSON
    if a.id in ineligible or b.id in ineligible:
        return PairBlock.INELIGIBLE
    if not (admits_exercise(a, exercise) and admits_exercise(b, exercise)):
        return PairBlock.BOUNDARIES
    if not mutually_admit(a, b):
        return PairBlock.PREFERENCE
    if (a.id, b.id) in do_not_pair or (b.id, a.id) in do_not_pair:
        return PairBlock.DO_NOT_PAIR
    return None


def can_pair(
    a: Participant,
    b: Participant,
    exercise: ExerciseNeeds,
    do_not_pair: Collection[tuple[PersonId, PersonId]] = (),
    ineligible: Collection[PersonId] = (),
) -> bool:
    """Return whether a and b may be grouped together for this exercise."""
    return pair_blocker(a, b, exercise, do_not_pair, ineligible) is None


def round_rng(seed: int, round_number: int) -> random.Random:
    """Return the random number generator for one round of a run."""
    return random.Random(f"gatherwell-pairing:{seed}:{round_number}")


def pair_round(request: PairingRequest) -> Pairing:
    """Group the eligible people of one round; deterministic for a given request."""
    _validate(request)
    rng = round_rng(request.seed, request.round_number)
    resting: dict[PersonId, RestReason] = {
        pid: RestReason(reason) for pid, reason in request.ineligible.items()
    }
    people: list[Participant] = []
    for person in sorted(request.participants, key=lambda p: p.id):
        if person.id in resting:
            continue
        if admits_exercise(person, request.exercise):
            people.append(person)
        else:
            resting[person.id] = RestReason.BOUNDARIES_EXCLUDE_EXERCISE
    real = [True] * len(people)
    helper = request.facilitator
    if (
        request.odd_policy is OddPolicy.FACILITATOR
        and helper is not None
        and helper.id not in resting
        and all(p.id != helper.id for p in request.participants)
        and admits_exercise(helper, request.exercise)
    ):
        people.append(helper)
        real.append(False)
    g = CompatGraph(people, request.do_not_pair, request.history)
    rests = [request.past_rests.get(p.id, 0) for p in people]
    obj = Objective(g, real, rests, rng)
    if request.exercise.grouping is Grouping.PAIRS:
        solved = solve_pairs(g, obj, rng, allow_trio=request.odd_policy is OddPolicy.TRIO)
    else:
        max_pairs = 2 if request.odd_policy is OddPolicy.TRIO else 1
        solved = solve_trios(g, obj, rng, max_pairs)
    for v, reason in solved.reasons.items():
        if real[v]:
            resting[g.ids[v]] = reason
    member_groups = sorted(
        (sorted(g.ids[v] for v in group) for group in solved.groups), key=lambda ids: ids[0]
    )
    index = {pid: v for v, pid in enumerate(g.ids)}
    groups = tuple(
        _with_roles(spot, ids, request.role_counts, g, index, rng)
        for spot, ids in enumerate(member_groups, start=1)
    )
    return Pairing(
        round_number=request.round_number,
        seed=request.seed,
        groups=groups,
        resting=tuple(RestingPerson(pid, resting[pid]) for pid in sorted(resting)),
        repeats=sum(group.repeated_pairs for group in groups),
        method=solved.method,
    )


def _validate(request: PairingRequest) -> None:
    """Raise `PairingError` for requests the engine cannot honour."""
    ids = [p.id for p in request.participants]
    if len(set(ids)) != len(ids):
        raise PairingError("duplicate_participant", "a participant is listed twice")
    if any(count < 0 for count in request.history.values()):
        raise PairingError("bad_history", "partnership counts cannot be negative")
    for reason in request.ineligible.values():
        if reason not in RestReason.__members__.values():
            raise PairingError("bad_reason", f"unknown rest reason {reason!r}")


def _with_roles(
    spot: int,
    ids: Sequence[PersonId],
    counts: Mapping[PersonId, Mapping[Role, int]],
    g: CompatGraph,
    index: Mapping[PersonId, int],
    rng: random.Random,
) -> Group:
    """Build a group, giving each member the role they have had least often."""
    roles = _ROLES[: len(ids)]
    scored = [
        (sum(counts.get(pid, {}).get(role, 0) for pid, role in zip(ids, perm, strict=True)), perm)
        for perm in itertools.permutations(roles)
    ]
    least = min(score for score, _ in scored)
    chosen = rng.choice([perm for score, perm in scored if score == least])
    members = sorted(
        (GroupMember(pid, role) for pid, role in zip(ids, chosen, strict=True)),
        key=lambda m: m.role,
    )
    repeated = sum(1 for a, b in itertools.combinations(ids, 2) if g.count(index[a], index[b]))
    return Group(spot=spot, members=tuple(members), repeated_pairs=repeated)

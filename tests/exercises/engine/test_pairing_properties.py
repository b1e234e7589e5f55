"""Property tests of the pairing engine against an independent model and brute force.

The model here is written from the rules, not from the engine: its own admissibility check,
its own objective key, an exhaustive search for small groups, and networkx's exact
maximum-weight matching (with weights encoding the same lexicographic objective) for
medium ones.
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Sequence
from dataclasses import replace

import networkx as nx  # type: ignore[import-untyped]
from hypothesis import given, settings
from hypothesis import strategies as st

from facilitation.exercises.engine.pairing import pair_round
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
    PreferenceKind,
    RestReason,
    SolveMethod,
)
from facilitation.exercises.engine.weighted_matching import max_weight_matching

FACILITATOR_ID = 100
INELIGIBLE = [
    RestReason.SITTING_OUT,
    RestReason.CONSENT_WITHDRAWN,
    RestReason.BANNED,
    RestReason.AGREEMENTS_MISSING,
    RestReason.NOT_CHECKED_IN,
]
PREFERENCES = [
    PartnerPreference(),
    PartnerPreference(),
    PartnerPreference(PreferenceKind.SAME_GENDER),
    PartnerPreference(PreferenceKind.ROLE, "lead"),
    PartnerPreference(PreferenceKind.ROLE, "follow"),
]
Key = tuple[int, int, int, tuple[int, ...], int]


# -- the independent model -----------------------------------------------------------------


def fits(person: Participant, exercise: ExerciseNeeds) -> bool:
    """Return whether a person's own boundaries allow the exercise."""
    b = person.boundaries
    return b.contact >= exercise.contact and b.eye_contact >= exercise.eye_contact


def wants(a: Participant, b: Participant) -> bool:
    """Return whether a's partner preference admits b."""
    pref = a.boundaries.preference
    if pref.kind is PreferenceKind.SAME_GENDER:
        return a.gender is not None and a.gender == b.gender
    if pref.kind is PreferenceKind.ROLE:
        return b.pairing_role == pref.role
    return True


def allowed(a: Participant, b: Participant, req: PairingRequest) -> bool:
    """Return whether the rules allow a and b in one group."""
    return (
        a.id != b.id
        and a.id not in req.ineligible
        and b.id not in req.ineligible
        and fits(a, req.exercise)
        and fits(b, req.exercise)
        and wants(a, b)
        and wants(b, a)
        and (a.id, b.id) not in req.do_not_pair
        and (b.id, a.id) not in req.do_not_pair
    )


def met_before(req: PairingRequest, a: int, b: int) -> int:
    """Return how often a and b were partners (history keys in either order)."""
    return req.history.get((a, b), 0) + req.history.get((b, a), 0)


def candidates(req: PairingRequest) -> tuple[list[Participant], int | None]:
    """Return who may be grouped (facilitator last, when they may step in) and their id."""
    pool = [p for p in req.participants if p.id not in req.ineligible and fits(p, req.exercise)]
    helper = req.facilitator
    if (
        req.odd_policy is OddPolicy.FACILITATOR
        and helper is not None
        and helper.id not in req.ineligible
        and fits(helper, req.exercise)
    ):
        return [*pool, helper], helper.id
    return pool, None


def key(groups: Sequence[Sequence[int]], req: PairingRequest) -> Key:
    """Return the lexicographic objective of a grouping (bigger is better)."""
    pool, helper = candidates(req)
    inside = {p for g in groups for p in g}
    repeats = counts = 0
    for g in groups:
        for a, b in itertools.combinations(g, 2):
            c = met_before(req, a, b)
            repeats += c > 0
            counts += c
    rests = sorted(
        (req.past_rests.get(p.id, 0) for p in pool if p.id not in inside and p.id != helper),
        reverse=True,
    )
    real = sum(1 for p in inside if p != helper)
    return (real, -repeats, -counts, tuple(-r for r in rests), -(helper in inside))


def best_key(req: PairingRequest) -> Key:
    """Return the best objective over every allowed grouping (exhaustive search)."""
    pool, _ = candidates(req)
    ok = {(a.id, b.id) for a in pool for b in pool if allowed(a, b, req)}
    pairs_mode = req.exercise.grouping is Grouping.PAIRS
    odd_limit = (
        (1 if req.odd_policy is OddPolicy.TRIO else 0)
        if pairs_mode
        else (2 if req.odd_policy is OddPolicy.TRIO else 1)
    )
    best: list[Key] = []

    def walk(left: list[int], groups: list[tuple[int, ...]], odd_used: int) -> None:
        if best and sum(len(g) for g in groups) + len(left) < best[0][0]:
            return  # cannot place as many people as the best so far
        if not left:
            k = key(groups, req)
            if not best or k > best[0]:
                best[:] = [k]
            return
        first, rest = left[0], left[1:]
        walk(rest, groups, odd_used)
        for i, b in enumerate(rest):
            if (first, b) not in ok:
                continue
            after = rest[:i] + rest[i + 1 :]
            if pairs_mode or odd_used < odd_limit:
                walk(after, [*groups, (first, b)], odd_used + (not pairs_mode))
            if not pairs_mode or odd_used < odd_limit:
                for j, c in enumerate(after):
                    if j >= i and (first, c) in ok and (b, c) in ok:
                        walk(
                            after[:j] + after[j + 1 :],
                            [*groups, (first, b, c)],
                            odd_used + pairs_mode,
                        )

    walk([p.id for p in pool], [], 0)
    return best[0]


def groups_of(result: Pairing) -> list[tuple[int, ...]]:
    """Return the groups as tuples of ids."""
    return [g.person_ids for g in result.groups]


# -- strategies ----------------------------------------------------------------------------


@st.composite
def requests(
    draw: st.DrawFn, max_people: int = 10, grouping: Grouping | None = None
) -> PairingRequest:
    """Draw a small pairing request with mixed boundaries, history and policies."""
    n = draw(st.one_of(st.integers(0, max_people), st.integers(max_people - 3, max_people)))
    ids = list(range(1, n + 1))

    def someone(pid: int) -> Participant:
        boundaries = Boundaries(
            Contact(draw(st.sampled_from([0, 1, 2, 2]))),
            EyeContact(draw(st.sampled_from([1, 2, 2, 2]))),
            draw(st.sampled_from(PREFERENCES)),
        )
        gender = draw(st.sampled_from(["f", "m", None]))
        return Participant(pid, boundaries, gender, draw(st.sampled_from(["lead", "follow", None])))

    participants = tuple(someone(pid) for pid in ids)
    person = st.sampled_from(ids or [0])
    pairs = st.tuples(person, person).filter(lambda t: t[0] != t[1])
    if n < 2:
        pairs = st.nothing()
    return PairingRequest(
        participants=participants,
        exercise=ExerciseNeeds(
            Contact(draw(st.sampled_from([0, 0, 1]))),
            EyeContact(draw(st.sampled_from([0, 1, 1, 2]))),
            grouping or draw(st.sampled_from(list(Grouping))),
        ),
        seed=draw(st.integers(0, 2**32)),
        round_number=draw(st.integers(1, 30)),
        odd_policy=draw(st.sampled_from(list(OddPolicy))),
        ineligible=draw(st.dictionaries(person, st.sampled_from(INELIGIBLE), max_size=min(n, 2))),
        do_not_pair=draw(st.lists(pairs, max_size=4 if n > 1 else 0)),
        history=draw(st.dictionaries(pairs, st.integers(1, 3), max_size=3 * n if n > 1 else 0)),
        past_rests=draw(st.dictionaries(person, st.integers(0, 2), max_size=n)),
        facilitator=someone(FACILITATOR_ID),
    )


# -- properties ----------------------------------------------------------------------------


@settings(max_examples=300, deadline=None)
@given(requests(max_people=14))
def test_everyone_eligible_is_placed_once_or_rests_with_a_reason(req: PairingRequest) -> None:
    result = pair_round(req)
    placed = [p for g in groups_of(result) for p in g]
    resting = [r.person_id for r in result.resting]

    assert len(placed) == len(set(placed))
    assert not set(placed) & set(resting)
    assert len(resting) == len(set(resting))
    expected = {p.id for p in req.participants} | set(req.ineligible)
    assert set(placed) - {FACILITATOR_ID} | set(resting) == expected
    for r in result.resting:
        if r.person_id in req.ineligible:
            assert r.reason == req.ineligible[r.person_id]
    assert all(len(g) in (2, 3) for g in groups_of(result))


@settings(max_examples=300, deadline=None)
@given(requests(max_people=14))
def test_no_hard_constraint_is_ever_broken(req: PairingRequest) -> None:
    result = pair_round(req)
    everyone = {p.id: p for p in req.participants}
    if req.facilitator is not None:
        everyone.setdefault(req.facilitator.id, req.facilitator)

    for group in groups_of(result):
        for a, b in itertools.combinations(group, 2):
            assert allowed(everyone[a], everyone[b], req), (a, b)


@settings(max_examples=150, deadline=None)
@given(requests(max_people=14), st.randoms(use_true_random=False))
def test_same_request_gives_the_same_pairing(req: PairingRequest, rnd: random.Random) -> None:
    shuffled = list(req.participants)
    rnd.shuffle(shuffled)

    assert pair_round(req) == pair_round(replace(req, participants=tuple(shuffled)))


@settings(max_examples=250, deadline=None)
@given(requests(max_people=10, grouping=Grouping.PAIRS))
def test_pairs_meet_the_exhaustive_optimum(req: PairingRequest) -> None:
    result = pair_round(req)

    assert key(groups_of(result), req) == best_key(req)
    assert result.method is not SolveMethod.BEST_EFFORT


@settings(max_examples=120, deadline=None)
@given(requests(max_people=9, grouping=Grouping.TRIOS))
def test_small_trio_exercises_meet_the_exhaustive_optimum(req: PairingRequest) -> None:
    result = pair_round(req)

    assert key(groups_of(result), req) == best_key(req)


@settings(max_examples=150, deadline=None)
@given(requests(max_people=10, grouping=Grouping.PAIRS))
def test_no_repeat_while_a_fresh_grouping_places_as_many(req: PairingRequest) -> None:
    result = pair_round(req)
    placed, fewest_repeats = best_key(req)[:2]

    assert key(groups_of(result), req)[0] == placed
    assert -result.repeats == fewest_repeats


# -- exact matching --------------------------------------------------------------------------


def brute_matching_weight(n: int, edges: Sequence[tuple[int, int, int]]) -> int:
    """Return the best total weight of any matching, by exhaustive search."""
    weight = {(i, j): w for i, j, w in edges} | {(j, i): w for i, j, w in edges}

    def walk(left: tuple[int, ...]) -> int:
        if not left:
            return 0
        first, rest = left[0], left[1:]
        best = walk(rest)
        for i, b in enumerate(rest):
            if (first, b) in weight:
                best = max(best, weight[(first, b)] + walk(rest[:i] + rest[i + 1 :]))
        return best

    return walk(tuple(range(n)))


@st.composite
def weighted_graphs(draw: st.DrawFn, max_n: int) -> tuple[int, list[tuple[int, int, int]]]:
    """Draw a small weighted graph."""
    n = draw(st.integers(0, max_n))
    pairs = [(i, j) for i in range(n) for j in range(i + 1, n)]
    chosen = draw(st.lists(st.sampled_from(pairs), unique=True)) if pairs else []
    return n, [(i, j, draw(st.integers(1, 20))) for i, j in chosen]


def matching_weight(mate: Sequence[int], edges: Sequence[tuple[int, int, int]]) -> int:
    """Check `mate` is a matching on the edges and return its weight."""
    weight = {(i, j): w for i, j, w in edges} | {(j, i): w for i, j, w in edges}
    for v, u in enumerate(mate):
        assert u == -1 or (mate[u] == v and (v, u) in weight)
    return sum(weight[(v, u)] for v, u in enumerate(mate) if v < u)


@settings(max_examples=200, deadline=None)
@given(weighted_graphs(max_n=9))
def test_weighted_matching_is_optimal_on_small_graphs(
    graph: tuple[int, list[tuple[int, int, int]]],
) -> None:
    n, edges = graph

    assert matching_weight(max_weight_matching(n, edges), edges) == brute_matching_weight(n, edges)


def test_weighted_matching_agrees_with_networkx_on_random_graphs() -> None:
    rng = random.Random(2024)
    for _ in range(60):
        n = rng.randint(2, 60)
        density = rng.random()
        edges = [
            (i, j, rng.randint(1, rng.choice([2, 10, 10**6])))
            for i in range(n)
            for j in range(i + 1, n)
            if rng.random() < density
        ]
        graph = nx.Graph()
        graph.add_weighted_edges_from(edges)
        theirs = sum(graph[a][b]["weight"] for a, b in nx.max_weight_matching(graph))

        assert matching_weight(max_weight_matching(n, edges), edges) == theirs


# -- medium groups against networkx -----------------------------------------------------------


def medium_request(rng: random.Random, n: int, policy: OddPolicy) -> PairingRequest:
    """Return a 30-80 person request with constraints and a dense history."""
    participants = []
    scarce = rng.choice([0, 0, 4, 8])  # people wanting a role only two people have
    for pid in range(1, n + 1):
        pref = rng.choices(PREFERENCES, [6, 6, 2, 1, 1])[0]
        role = rng.choice(["lead", "follow"])
        if pid <= scarce:
            pref = PartnerPreference(PreferenceKind.ROLE, "drummer")
        elif pid <= scarce + 2:
            role = "drummer"
        boundaries = Boundaries(Contact(rng.choice([0, 1, 2])), EyeContact.FULL, pref)
        participants.append(Participant(pid, boundaries, rng.choice(["f", "m", None]), role))
    history = {}
    for _ in range(rng.choice([0, n, 4 * n, 10 * n])):
        a, b = rng.sample(range(1, n + 1), 2)
        history[(a, b)] = rng.randint(1, 3)
    if rng.random() < 0.4:  # a long series: most pairs have met, some several times
        for a, b in itertools.combinations(range(1, n + 1), 2):
            if rng.random() < 0.9:
                history[(a, b)] = rng.randint(1, 4)
    return PairingRequest(
        participants=tuple(participants),
        exercise=ExerciseNeeds(contact=Contact(rng.choice([0, 1]))),
        seed=rng.randint(0, 10**6),
        round_number=rng.randint(1, 20),
        odd_policy=policy,
        ineligible={pid: RestReason.SITTING_OUT for pid in rng.sample(range(1, n + 1), 3)},
        do_not_pair=[(rng.randint(1, n), rng.randint(1, n)) for _ in range(n // 10)],
        history=history,
        past_rests={pid: rng.randint(0, 2) for pid in range(1, n + 1)},
        facilitator=Participant(FACILITATOR_ID, Boundaries(Contact.HUGS, EyeContact.FULL)),
    )


def networkx_groups(req: PairingRequest) -> list[tuple[int, ...]]:
    """Return networkx's maximum-weight matching under weights encoding the objective."""
    pool, helper = candidates(req)
    n = len(pool)
    levels = sorted({req.past_rests.get(p.id, 0) for p in pool if p.id != helper})
    base = n + 1
    top = max([met_before(req, a.id, b.id) for a in pool for b in pool] + [1])
    per_count: int = base ** len(levels)
    per_repeat = (n * top + 1) * per_count
    per_person = (n + 1) * per_repeat

    def value(p: Participant) -> int:
        if p.id == helper:
            return -1
        bonus: int = base ** levels.index(req.past_rests.get(p.id, 0))
        return 2 * (per_person + bonus)

    graph = nx.Graph()
    for a, b in itertools.combinations(pool, 2):
        if allowed(a, b, req):
            c = met_before(req, a.id, b.id)
            penalty = 2 * (per_repeat + c * per_count) if c else 0
            graph.add_edge(a.id, b.id, weight=value(a) + value(b) - penalty)
    return [tuple(pair) for pair in nx.max_weight_matching(graph)]


def test_medium_groups_match_networkx_optimum() -> None:
    rng = random.Random(11)
    methods = set()
    for round_ in range(16):
        policy = OddPolicy.REST if round_ % 2 else OddPolicy.FACILITATOR
        req = medium_request(rng, rng.randint(30, 80), policy)
        result = pair_round(req)
        methods.add(result.method)

        assert key(groups_of(result), req) == key(networkx_groups(req), req), round_
    assert methods == {SolveMethod.CERTIFIED, SolveMethod.EXACT}


def remember(result: Pairing, history: dict[tuple[int, int], int], rests: dict[int, int]) -> None:
    """Add a round's pairs to the history and the engine's rests to the rest counts."""
    for group in groups_of(result):
        pair = (min(group), max(group))
        history[pair] = history.get(pair, 0) + 1
    for r in result.resting:
        if r.reason is not RestReason.SITTING_OUT:
            rests[r.person_id] = rests.get(r.person_id, 0) + 1


def test_scarce_partners_over_many_rounds_match_networkx_optimum() -> None:
    # Twelve people accept only one of three "drummers": shortages, then forced repeats
    # whose counts grow, inside a room large enough for the kernel certificate to shrink
    # the rest of the room to one vertex.
    rng = random.Random(5)
    wants = Boundaries(preference=PartnerPreference(PreferenceKind.ROLE, "drummer"))
    room = [Participant(pid, wants) for pid in range(1, 13)]
    room += [Participant(pid, pairing_role="drummer") for pid in range(13, 16)]
    room += [Participant(pid, gender=rng.choice("fm")) for pid in range(16, 91)]
    history: dict[tuple[int, int], int] = {}
    rests: dict[int, int] = {}
    methods = []
    for round_number in range(1, 25):
        req = PairingRequest(
            participants=tuple(room),
            exercise=ExerciseNeeds(),
            seed=3,
            round_number=round_number,
            ineligible={rng.randint(16, 90): RestReason.SITTING_OUT},
            history=dict(history),
            past_rests=dict(rests),
        )
        result = pair_round(req)
        methods.append(result.method)

        assert key(groups_of(result), req) == key(networkx_groups(req), req), round_number
        remember(result, history, rests)
    assert methods.count(SolveMethod.CERTIFIED) >= 20

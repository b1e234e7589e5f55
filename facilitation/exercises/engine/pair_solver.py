"""Optimal pairs (and at most one trio) for one round: a fast path, a certificate, a fallback.

The objective is `objective.Objective`; pairs never break a hard constraint because only
admissible edges exist in the graph.

**Fast path.** Each connected component of the admissible graph is handled on its own (the
objective adds up over components). In a component of odd size one person must rest, so
the cheapest to rest (fewest past rests, then the seeded rng; the facilitator first) is set
aside. The rest are paired by a seeded greedy on fresh pairs (never partnered before),
most constrained first, then repaired with Edmonds augmenting paths, first on fresh pairs,
then on all admissible pairs.

**Certificate.** If a component ends with everyone but its set-aside person paired, using
no repeated partnership, it is optimal: every odd component must leave someone out, the
one left out is the cheapest possible, and no repeat is the least possible.

**More certificates** (`barrier`): a forced repeat (someone whose every possible partner is
a past partner) and a structural shortage (several people competing for a few scarce
partners, with or without repeats) are proved optimal with a Tutte-Berge barrier and, for
the shortage, an exact solve of a small kernel that bounds every maximum matching.

**Fallback.** A component without any certificate is solved exactly by maximum-weight
matching with the objective's weights, in native code (`native_matching`, rustworkx): a few
ms at 100 people, about 0.1-0.3 s of CPU at 1,000 on a dense graph (the pure-Python
`weighted_matching` took one to a few seconds there), so the certificates still matter.

Repair searches have a step budget: a search that would explore a whole dense component
gives up and the certificates (which never trust a budgeted search's silence) decide.

**Trio policy.** At most one trio, which only ever helps by placing one more person. For a
certified component with one person resting and no repeat, a clean (admissible, fresh)
triangle of that person with a matched pair places everyone, the best possible there.
Otherwise every triangle through a vertex that some maximum matching leaves out
(Gallai-Edmonds set D, the outer vertices of failed searches) is tried in order of an upper
bound, each with an exact re-solve of the rest of the component, within a work limit
(`_TRIO_WORK`); past it (components beyond about 270 people) the best trio found by
attaching a resting person to a pair is kept and the result is marked `best_effort`. If no
admissible trio exists, the odd one out rests (`no_clean_trio`).
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass

from facilitation.exercises.engine.barrier import (
    certify_forced_repeats,
    certify_two_sided_shortage,
    certify_with_kernel,
)
from facilitation.exercises.engine.matching import (
    UNMATCHED,
    greedy_match,
    maximise,
    search,
)
from facilitation.exercises.engine.native_matching import max_weight_matching
from facilitation.exercises.engine.objective import Objective
from facilitation.exercises.engine.pairing_graph import CompatGraph
from facilitation.exercises.engine.pairing_types import RestReason, SolveMethod

#: Pure core: no framework import, here or in what it imports (tests/core/test_pure_core.py).
__pure__ = True

Trio = tuple[int, int, int]
_TrioFound = tuple[int, Trio, list[tuple[int, int]]]  #: gain, the trio, the pairs around it
_GUEST_RETRIES = 3  # other odd-ones-out tried for a trio before exhaustive search
_SEARCH_BUDGET = 4000  # steps a repair search may take; past that, certify otherwise
_TRIO_WORK = 20_000_000  # trio search: exact re-solves allowed while count * size^3 stays below


@dataclass
class Solved:
    """Groups of vertex indices, why each unplaced vertex rests, and how it was solved."""

    groups: list[tuple[int, ...]]
    reasons: dict[int, RestReason]
    method: SolveMethod


def solve_pairs(g: CompatGraph, obj: Objective, rng: random.Random, allow_trio: bool) -> Solved:
    """Return optimal pairs (plus one trio if allowed and useful) over all vertices of g."""
    comps = g.components(range(g.n))
    mate = [UNMATCHED] * g.n
    certified = _fast(g, obj, rng, comps, mate)
    exact = False
    for ci, comp in enumerate(comps):
        if not certified[ci]:
            certified[ci] = _certify_otherwise(g, obj, rng, comp, mate)
        if not certified[ci]:
            _commit(mate, comp, exact_pairs(g, obj, rng, comp))
            exact = True
    trio: Trio | None = None
    proven = True
    if allow_trio:
        trio, searched, proven = _best_trio(g, obj, rng, comps, mate, certified)
        exact = exact or searched
    groups: list[tuple[int, ...]] = [(v, mate[v]) for v in range(g.n) if v < mate[v]]
    if trio is not None:
        groups.append(trio)
    placed = {v for group in groups for v in group}
    reasons: dict[int, RestReason] = {}
    for comp in comps:
        resting = [v for v in comp if v not in placed]
        if len(comp) == 1 or len(resting) != 1 or len(comp) % 2 == 0:
            reason = RestReason.NO_COMPATIBLE_PARTNER
        elif allow_trio and trio is None:
            reason = RestReason.NO_CLEAN_TRIO
        else:
            reason = RestReason.ODD_REST
        reasons.update((v, reason) for v in resting)
    if not proven:
        return Solved(groups, reasons, SolveMethod.BEST_EFFORT)
    return Solved(groups, reasons, SolveMethod.EXACT if exact else SolveMethod.CERTIFIED)


def _fast(
    g: CompatGraph,
    obj: Objective,
    rng: random.Random,
    comps: Sequence[Sequence[int]],
    mate: list[int],
) -> list[bool]:
    """Pair greedily and repair; return per component whether the result is certified."""
    alive = [False] * g.n
    comp_of = [0] * g.n
    for ci, comp in enumerate(comps):
        aside = min(comp, key=obj.rest_key) if len(comp) % 2 else UNMATCHED
        for v in comp:
            comp_of[v] = ci
            alive[v] = len(comp) > 1 and v != aside
    keys = {v: g.degree_bound(v) + rng.random() for v in range(g.n) if alive[v]}
    order = sorted(keys, key=keys.__getitem__)  # most constrained first, ties at random
    greedy_match(g, order, mate, rng)
    loose = sorted((v for v in order if mate[v] == UNMATCHED), key=obj.rest_key, reverse=True)
    loose = maximise(g, mate, loose, alive, fresh_only=True, budget=_SEARCH_BUDGET)
    loose = maximise(g, mate, loose, alive, fresh_only=False, budget=_SEARCH_BUDGET)
    certified = [True] * len(comps)
    for v in loose:
        certified[comp_of[v]] = False
    for v in order:
        if v < mate[v] and g.count(v, mate[v]) > 0:
            certified[comp_of[v]] = False
    return certified


def _certify_otherwise(
    g: CompatGraph, obj: Objective, rng: random.Random, comp: Sequence[int], mate: list[int]
) -> bool:
    """Try the certificates of `barrier` in turn; on failure leave the pairing as it was."""
    if certify_forced_repeats(g, obj, comp, mate):
        return True
    if certify_two_sided_shortage(g, obj, rng, comp, mate):
        return True
    saved = [mate[v] for v in comp]
    for fresh in (True, False):
        if certify_with_kernel(g, obj, rng, comp, mate, fresh):
            return True
        for v, m in zip(comp, saved, strict=True):
            mate[v] = m
    return False


def _commit(mate: list[int], vertices: Sequence[int], pairs: Sequence[tuple[int, int]]) -> None:
    """Replace the matching on `vertices` by `pairs`."""
    for v in vertices:
        mate[v] = UNMATCHED
    for u, v in pairs:
        mate[u], mate[v] = v, u


def exact_pairs(
    g: CompatGraph, obj: Objective, rng: random.Random, vertices: Sequence[int]
) -> list[tuple[int, int]]:
    """Return an optimal set of pairs among `vertices` (exact weighted matching)."""
    verts = list(vertices)
    rng.shuffle(verts)  # ties between optimal matchings go to the seeded rng
    local = {v: i for i, v in enumerate(verts)}
    alive = [False] * g.n
    for v in verts:
        alive[v] = True
    value, penalty = obj.value, obj.penalty
    edges = []
    # Each edge once: a vertex leaves `alive` once its edges are listed. At 1,000 people this
    # loop runs over up to ~250,000 pairs, so it stays inline (no call per pair).
    for i, u in enumerate(verts):
        alive[u] = False
        own, past = value[u], g.hist[u]
        for v in g.neighbors(u, alive, fresh_only=False):
            count = past.get(v)
            edges.append((i, local[v], own + value[v] - (penalty(count) if count else 0)))
    top = 2 * max((abs(value[v]) for v in verts), default=0)  # penalties only lower a weight
    mate = max_weight_matching(len(verts), edges, top)
    return [(verts[i], verts[j]) for i, j in enumerate(mate) if i < j]


def _best_trio(
    g: CompatGraph,
    obj: Objective,
    rng: random.Random,
    comps: Sequence[Sequence[int]],
    mate: list[int],
    certified: Sequence[bool],
) -> tuple[Trio | None, bool, bool]:
    """Place the one allowed trio where it gains most.

    Return the trio, whether a search was needed, and whether the result is proved optimal.
    """
    candidates = []
    for ci, comp in enumerate(comps):
        resting = [v for v in comp if mate[v] == UNMATCHED and obj.value[v] > 0]
        if len(comp) >= 3 and resting:
            current = obj.score((v, mate[v]) for v in comp if v < mate[v])
            bound = sum(obj.value[v] for v in comp if obj.value[v] > 0) - current
            candidates.append((bound, obj.jitter[comp[0]], ci, current))
    candidates.sort(reverse=True)
    best: _TrioFound | None = None
    searched = False
    proven = True
    for bound, _, ci, current in candidates:
        if bound <= (best[0] if best else 0):
            break
        comp = comps[ci]
        found = _quick_trio(g, obj, rng, comp, mate) if certified[ci] else None
        if found is None:
            searched = True
            found, complete = _searched_trio(g, obj, rng, comp, mate, current, best)
            proven = proven and complete
        if found is not None and found[0] > (best[0] if best else 0):
            best = found
            best_comp = ci
    if best is None:
        return None, searched, proven
    _commit(mate, comps[best_comp], best[2])
    return best[1], searched, proven


def _quick_trio(
    g: CompatGraph, obj: Objective, rng: random.Random, comp: Sequence[int], mate: list[int]
) -> _TrioFound | None:
    """Place everyone in a certified component using one clean trio, if quickly found.

    Only for a component with one person resting and no repeat: then placing everyone
    with no repeat is the best any configuration can do there.
    """
    resting = [v for v in comp if mate[v] == UNMATCHED]
    pairs = [(v, mate[v]) for v in comp if v < mate[v]]
    if len(resting) != 1 or any(g.count(u, v) for u, v in pairs):
        return None
    aside = resting[0]
    trio = _attach(g, mate, aside, rng)
    if trio is not None:
        return obj.value[aside], trio, [p for p in pairs if p[0] not in trio]
    alive = [False] * g.n
    others = [v for v in comp if v != aside]
    for guest in rng.sample(others, min(_GUEST_RETRIES, len(others))):
        trial = list(mate)
        for v in comp:
            trial[v] = UNMATCHED
            alive[v] = v != guest
        order = sorted((v for v in comp if v != guest), key=lambda v: obj.jitter[v])
        greedy_match(g, order, trial, rng)
        loose = [v for v in order if trial[v] == UNMATCHED]
        loose = maximise(g, trial, loose, alive, True, budget=_SEARCH_BUDGET)
        trio = None if loose else _attach(g, trial, guest, rng)
        if trio is not None:
            kept = [(v, trial[v]) for v in comp if v < trial[v] and v not in trio]
            return obj.value[aside], trio, kept
    return None


def _attach(g: CompatGraph, mate: Sequence[int], guest: int, rng: random.Random) -> Trio | None:
    """Return a trio of `guest` with a matched fresh pair, all three pairs fresh."""
    everyone = [True] * g.n
    past = g.hist[guest]
    options = [
        (guest, x, mate[x])
        for x in g.neighbors(guest, everyone, fresh_only=True)
        if mate[x] != UNMATCHED
        and mate[x] not in past
        and g.adjacent(guest, mate[x])
        and g.count(x, mate[x]) == 0
    ]
    return rng.choice(options) if options else None


def _searched_trio(
    g: CompatGraph,
    obj: Objective,
    rng: random.Random,
    comp: Sequence[int],
    mate: list[int],
    current: int,
    to_beat: _TrioFound | None,
) -> tuple[_TrioFound | None, bool]:
    """Return the best trio configuration of a component, and whether it is proved best.

    `mate` must hold an optimal pairs-only matching of `comp`, scoring `current`. Triangles
    through vertices some maximum matching leaves out are re-solved exactly in order of an
    upper bound on their gain, within a work limit; past it the best found is returned.
    """
    best = to_beat
    for v in sorted(comp, key=obj.rest_key, reverse=True):
        if mate[v] == UNMATCHED and obj.value[v] > 0:
            trio = _attach_any(g, obj, mate, v)
            if trio is not None:
                pairs = [(u, mate[u]) for u in comp if u < mate[u] and u not in trio]
                gain = obj.group_score(trio) + obj.score(pairs) - current
                if gain > (best[0] if best else 0):
                    best = (gain, trio, pairs)
    evaluations = _TRIO_WORK // len(comp) ** 3
    if evaluations == 0:
        return (best if best is not to_beat else None), False
    alive = [False] * g.n
    for v in comp:
        alive[v] = True
    missable: set[int] = set()
    for v in comp:
        if mate[v] == UNMATCHED:
            missable.update(search(g, mate, v, alive, False, augment=False).outer)
    triangles: dict[Trio, int] = {}
    for z in missable:
        near = list(g.neighbors(z, alive, fresh_only=False))
        for i, x in enumerate(near):
            for y in near[i + 1 :]:
                if g.adjacent(x, y):
                    a, b, c = sorted((z, x, y))
                    triangles[(a, b, c)] = min(
                        obj.value[t] - obj.penalty(g.count(t, o1)) - obj.penalty(g.count(t, o2))
                        for t, o1, o2 in ((a, b, c), (b, a, c), (c, a, b))
                    )
    ranked = sorted(triangles, key=lambda t: (-triangles[t], rng.random()))
    complete = True
    for trio in ranked:
        if triangles[trio] <= (best[0] if best else 0):
            break
        if evaluations == 0:
            complete = False
            break
        evaluations -= 1
        rest = [v for v in comp if v not in trio]
        pairs = exact_pairs(g, obj, rng, rest)
        gain = obj.group_score(trio) + obj.score(pairs) - current
        if gain > (best[0] if best else 0):
            best = (gain, trio, pairs)
    return (best if best is not to_beat else None), complete


def _attach_any(g: CompatGraph, obj: Objective, mate: Sequence[int], guest: int) -> Trio | None:
    """Return the trio of `guest` with a matched pair that costs the fewest repeats."""
    everyone = [True] * g.n
    options = [
        (obj.penalty(g.count(guest, x)) + obj.penalty(g.count(guest, mate[x])), x)
        for x in g.neighbors(guest, everyone, fresh_only=False)
        if mate[x] != UNMATCHED and g.adjacent(guest, mate[x])
    ]
    if not options:
        return None
    _, x = min(options)
    return (guest, x, mate[x])

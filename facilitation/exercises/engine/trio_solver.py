"""Groups of three for trio exercises, with at most one or two pairs for the remainder.

Shape. With n people who can be grouped at all, the round uses trios plus at most
`max_pairs` pairs: a remainder of 2 becomes one pair; a remainder of 1 rests (`rest` policy,
fair rotation: the cheapest to rest by the objective), or becomes two pairs instead of one
trio (`trio` policy, `max_pairs=2`), or is absorbed by the facilitator stepping in
(`facilitator` policy, which makes the remainder 2). Constraints may force more rests; the
objective (`objective.Objective`) decides which.

Packing triangles is NP-hard, so this is a heuristic with a certificate, not an exact
algorithm at every size:

* seeded greedy packing of fresh trios (never-partnered people), most constrained first,
  a few times with different random orders; the remainder is paired on fresh pairs;
* the result is *certified* optimal when everyone but the arithmetic minimum of people
  rests, those resting are the cheapest possible, and no partnership repeats;
* otherwise, up to `EXACT_LIMIT` people, a dynamic programme over subsets finds the exact
  optimum; beyond that the best packing found is kept and marked `best_effort`.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from functools import cache

from facilitation.exercises.engine.matching import FreePools
from facilitation.exercises.engine.objective import Objective
from facilitation.exercises.engine.pair_solver import Solved, exact_pairs
from facilitation.exercises.engine.pairing_graph import CompatGraph
from facilitation.exercises.engine.pairing_types import RestReason, SolveMethod

#: Pure core: no framework import, here or in what it imports (tests/core/test_pure_core.py).
__pure__ = True

EXACT_LIMIT = 12
_ATTEMPTS = 6
_SAMPLES = 12


def solve_trios(g: CompatGraph, obj: Objective, rng: random.Random, max_pairs: int) -> Solved:
    """Return trios (plus up to `max_pairs` pairs) over all vertices of g."""
    isolated = {comp[0] for comp in g.components(range(g.n)) if len(comp) == 1}
    active = [v for v in range(g.n) if v not in isolated]
    by_cost = sorted(active, key=obj.rest_key)
    feasible = [r for r in range(len(active) + 1) if _shape(len(active) - r, max_pairs)]
    aside_count = min(feasible, key=lambda r: sum(obj.value[v] for v in by_cost[:r]))
    grouped = by_cost[aside_count:]
    shape = _shape(len(grouped), max_pairs)
    assert shape is not None
    groups: list[tuple[int, ...]] | None = None
    for _ in range(_ATTEMPTS):
        groups = _attempt(g, rng, grouped, shape[0], shape[1], fresh_only=True)
        if groups is not None:
            break
    method = SolveMethod.CERTIFIED
    if groups is None:
        if len(active) <= EXACT_LIMIT:
            groups = _exact(g, obj, rng, active, max_pairs)
            method = SolveMethod.EXACT
        else:
            groups = _best_effort(g, obj, rng, grouped, shape[0], max_pairs)
            method = SolveMethod.BEST_EFFORT
    placed = {v for group in groups for v in group}
    resting = [v for v in active if v not in placed]
    parity = len(resting) == aside_count
    reasons = {v: RestReason.NO_COMPATIBLE_PARTNER for v in isolated}
    for v in resting:
        reasons[v] = RestReason.ODD_REST if parity else RestReason.NO_COMPATIBLE_PARTNER
    return Solved(groups, reasons, method)


def _shape(n: int, max_pairs: int) -> tuple[int, int] | None:
    """Return (trios, pairs) covering n people with at most `max_pairs` pairs, if any."""
    for pairs in range(max_pairs + 1):
        if 2 * pairs <= n and (n - 2 * pairs) % 3 == 0:
            return (n - 2 * pairs) // 3, pairs
    return None


def _attempt(
    g: CompatGraph,
    rng: random.Random,
    verts: Sequence[int],
    trios: int,
    pairs: int,
    fresh_only: bool,
) -> list[tuple[int, ...]] | None:
    """Try once to cover `verts` exactly with the given numbers of trios and pairs."""
    packed, left = _pack(g, rng, verts, trios, fresh_only)
    if len(packed) < trios:
        return None
    paired = _pair_all(g, left, fresh_only)
    if paired is None:
        return None
    return [*packed, *paired]


def _ok(g: CompatGraph, u: int, v: int, fresh_only: bool) -> bool:
    """Return whether u and v may be grouped (and, if asked, never were before)."""
    return g.adjacent(u, v) and not (fresh_only and g.count(u, v))


def _pack(
    g: CompatGraph, rng: random.Random, verts: Sequence[int], wanted: int, fresh_only: bool
) -> tuple[list[tuple[int, ...]], list[int]]:
    """Greedily form up to `wanted` trios; return them and the people left over."""
    keys = {v: g.degree_bound(v) + rng.random() for v in verts}
    order = sorted(verts, key=keys.__getitem__)
    free = FreePools(g, order)
    trios: list[tuple[int, ...]] = []
    left: list[int] = []
    for u in order:
        if u not in free:
            continue
        free.take(u)
        if len(trios) == wanted:
            left.append(u)
            continue
        found = _find_trio(g, rng, free, u, fresh_only)
        if found is None:
            left.append(u)
            continue
        free.take(found[0])
        free.take(found[1])
        trios.append((u, *found))
    return trios, left


def _find_trio(
    g: CompatGraph, rng: random.Random, free: FreePools, u: int, fresh_only: bool
) -> tuple[int, int] | None:
    """Return two free people who form a trio with u, sampling first, then scanning."""
    types_u = g.compat[g.type_of[u]]
    total = free.size(types_u)
    if total < 2:
        return None
    for _ in range(_SAMPLES):
        v = free.sample(types_u, total, rng)
        w = free.sample(types_u, total, rng)
        if (
            v != w
            and _ok(g, u, v, fresh_only)
            and _ok(g, u, w, fresh_only)
            and _ok(g, v, w, fresh_only)
        ):
            return v, w
    near = [v for v in free.scan(types_u) if _ok(g, u, v, fresh_only)]
    for i, v in enumerate(near):
        for w in near[i + 1 :]:
            if _ok(g, v, w, fresh_only):
                return v, w
    return None


def _pair_all(
    g: CompatGraph, left: Sequence[int], fresh_only: bool
) -> list[tuple[int, ...]] | None:
    """Return a perfect pairing of the (at most four) people left, if one exists."""
    if not left:
        return []
    if len(left) % 2 or len(left) > 4:
        return None
    first, rest = left[0], left[1:]
    for i, v in enumerate(rest):
        if _ok(g, first, v, fresh_only):
            others = _pair_all(g, [*rest[:i], *rest[i + 1 :]], fresh_only)
            if others is not None:
                return [(first, v), *others]
    return None


def _best_effort(
    g: CompatGraph,
    obj: Objective,
    rng: random.Random,
    verts: Sequence[int],
    trios: int,
    max_pairs: int,
) -> list[tuple[int, ...]]:
    """Return the best of several packings that may repeat partners or leave people out."""
    best: list[tuple[int, ...]] = []
    best_score: int | None = None
    for attempt in range(_ATTEMPTS):
        packed, left = _pack(g, rng, verts, trios, fresh_only=attempt % 2 == 0)
        pairs = sorted(exact_pairs(g, obj, rng, left), key=lambda p: -obj.group_score(p))
        groups = [*packed, *pairs[:max_pairs]]
        score = obj.score(groups)
        if best_score is None or score > best_score:
            best, best_score = groups, score
    return best


def _exact(
    g: CompatGraph, obj: Objective, rng: random.Random, active: Sequence[int], max_pairs: int
) -> list[tuple[int, ...]]:
    """Return an optimal grouping of a small set of people by search over subsets."""
    verts = list(active)
    rng.shuffle(verts)  # ties between optima go to the seeded rng
    k = len(verts)
    adj = [sum(1 << j for j in range(k) if g.adjacent(verts[i], verts[j])) for i in range(k)]

    @cache
    def best(mask: int, pairs_left: int) -> tuple[int, tuple[tuple[int, ...], ...]]:
        if not mask:
            return 0, ()
        i = (mask & -mask).bit_length() - 1
        rest = mask & ~(1 << i)
        top = best(rest, pairs_left)
        options = adj[i] & rest
        j_bits = options
        while j_bits:
            j = (j_bits & -j_bits).bit_length() - 1
            j_bits &= j_bits - 1
            if pairs_left:
                score, groups = best(rest & ~(1 << j), pairs_left - 1)
                score += obj.group_score((verts[i], verts[j]))
                if score > top[0]:
                    top = (score, ((i, j), *groups))
            l_bits = options & adj[j] & ~((2 << j) - 1)
            while l_bits:
                m = (l_bits & -l_bits).bit_length() - 1
                l_bits &= l_bits - 1
                score, groups = best(rest & ~(1 << j) & ~(1 << m), pairs_left)
                score += obj.group_score((verts[i], verts[j], verts[m]))
                if score > top[0]:
                    top = (score, ((i, j, m), *groups))
        return top

    _, chosen = best((1 << k) - 1, max_pairs)
    return [tuple(verts[i] for i in group) for group in chosen]

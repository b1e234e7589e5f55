"""Certificates for components whose fast pairing is not obviously optimal.

**Forced repeats.** `certify_forced_repeats` accepts a pairing that places everyone but the
cheapest person of an odd component and repeats partners only where it must: each repeat
met once before, and their number equals what a Tutte-Berge barrier of the fresh graph
(never-partnered pairs) proves any pairing of that size needs.

**Scarce partners.** When a few people compete for scarce partners (ten want a role that
three people have), more people rest than parity demands. `certify_with_kernel` proves the
result with a barrier X, first in the fresh graph (never-partnered pairs; it must place as
many people as the full graph, checked with the same X), else in the full admissible graph:

* Maximise the matching, searching from each unmatched person, constrained people first.
  A failed search from a constrained person is cheap and names *inner* vertices (the scarce
  partners); their union is X. Tutte-Berge: no matching misses fewer than odd(C - X) - |X|
  people, odd counting the odd components ("parts") of the graph without X. If ours misses
  exactly that many, X is tight, and every maximum matching matches X into distinct odd
  parts, leaves one person out of each other odd part and pairs everything else inside
  its part. The optimum is a maximum matching (level 1 of the objective dominates).
* Keep X and the small parts as they are and shrink each large part to one vertex. A large
  odd part is worth the value of all its people minus its cheapest one, plus that one back
  if some x in X enters it (through the least repeated edge). This *kernel* is a relaxation:
  its optimum, found exactly by `native_matching` on a few dozen vertices, plus the large
  parts' constant worth, bounds every maximum matching's score from above.
* Realise the kernel's choice, pairing each large part internally on fresh pairs. If that
  succeeds the score meets the bound, so the pairing is optimal on every level at once
  (placed, repeats and their counts, fairness of rest).

**Two-sided shortage.** `certify_two_sided_shortage`: when people only accept partners from
the other side (55 leads who accept only follows, 45 follows who accept only leads), the
smaller side is a barrier and every part left is a single person, so the bound is simple: the
whole smaller side placed with as many of the other side's most valuable people (those who
rested most), no repeat. Built on fresh pairs in a few ms at 1,000 people, where the exact
solver needs a few hundred ms of CPU even in native code.

Anything else returns False and the caller falls back to the exact solver.
"""

from __future__ import annotations

import random
from collections.abc import Sequence

from facilitation.exercises.engine.matching import (
    GIVE_UPS,
    UNMATCHED,
    greedy_match,
    maximise,
    search,
    short_augment,
)
from facilitation.exercises.engine.native_matching import max_weight_matching
from facilitation.exercises.engine.objective import Objective
from facilitation.exercises.engine.pairing_graph import CompatGraph

#: Pure core: no framework import, here or in what it imports (tests/core/test_pure_core.py).
__pure__ = True

_SEARCH_BUDGET = 4000  # steps a search may take before it is left unanswered
_SMALL_PART = 40  # parts up to this size stay whole in the kernel
_KERNEL_LIMIT = 250  # larger kernels are left to the exact solver
_SCARCE = 8  # people with at most this many possible partners are "very constrained"


def certify_forced_repeats(
    g: CompatGraph, obj: Objective, comp: Sequence[int], mate: list[int]
) -> bool:
    """Return True if the component's pairing, which repeats partners, provably must."""
    unmatched = [v for v in comp if mate[v] == UNMATCHED]
    if len(unmatched) != len(comp) % 2:
        return False
    if unmatched and unmatched[0] != min(comp, key=obj.rest_key):
        return False
    pairs = [(v, mate[v]) for v in comp if v < mate[v]]
    repeated = [(u, v) for u, v in pairs if g.count(u, v)]
    if any(g.count(u, v) != 1 for u, v in repeated):
        return False
    trial = list(mate)
    for u, v in repeated:
        trial[u] = trial[v] = UNMATCHED
    alive = _mask(g, comp)
    barrier: set[int] = set()
    for root in sorted((v for v in comp if trial[v] == UNMATCHED), key=g.degree_bound):
        if trial[root] != UNMATCHED:
            continue
        outcome = search(g, trial, root, alive, fresh_only=True, budget=_SEARCH_BUDGET)
        if outcome.augmented:
            return False  # one more fresh pair exists: fewer repeats may be possible
        if not outcome.gave_up:
            barrier.update(outcome.inner)
    parts = g.components([v for v in comp if v not in barrier], fresh_only=True)
    missed_at_least = sum(len(part) % 2 for part in parts) - len(barrier)
    fresh_at_most = (len(comp) - missed_at_least) // 2
    return len(repeated) == len(pairs) - fresh_at_most


def certify_two_sided_shortage(
    g: CompatGraph, obj: Objective, rng: random.Random, comp: Sequence[int], mate: list[int]
) -> bool:
    """Re-pair a component whose people fall in two sides (leads and follows); True if optimal.

    When nobody may be grouped with anyone of their own side, the smaller side X is a
    barrier: no pairing places more than |X| of the other side, and placing exactly the |X|
    most valuable of them (those who rested most) with no repeated partner is the best any
    pairing can score. Build that on fresh pairs; fail if it cannot be built.
    """
    if any(obj.value[v] <= 0 for v in comp):
        return False  # a stepping-in facilitator: left to the other certificates
    side = _type_sides(g, {g.type_of[v] for v in comp})
    if side is None:
        return False
    one = [v for v in comp if side[g.type_of[v]] == 0]
    other = [v for v in comp if side[g.type_of[v]] == 1]
    barrier, many = (one, other) if len(one) <= len(other) else (other, one)
    if len(barrier) == len(many):
        return False  # no shortage: the fast path's own certificate covers it
    placed = sorted(many, key=obj.rest_key, reverse=True)[: len(barrier)]
    trial = list(mate)
    for v in comp:
        trial[v] = UNMATCHED
    chosen = [*barrier, *placed]
    order = sorted(chosen, key=lambda v: g.degree_bound(v) + rng.random())
    greedy_match(g, order, trial, rng)
    loose = [v for v in order if trial[v] == UNMATCHED]
    if maximise(g, trial, loose, _mask(g, chosen), fresh_only=True, budget=_SEARCH_BUDGET):
        return False
    for v in comp:
        mate[v] = trial[v]
    return True


def _type_sides(g: CompatGraph, types: set[int]) -> dict[int, int] | None:
    """Split the types into two sides with every compatible pair across; None if impossible."""
    side: dict[int, int] = {}
    for start in sorted(types):
        if start in side:
            continue
        side[start] = 0
        stack = [start]
        while stack:
            t = stack.pop()
            for u in g.compat[t]:
                if u not in types:
                    continue
                if u not in side:
                    side[u] = 1 - side[t]
                    stack.append(u)
                elif side[u] == side[t]:
                    return None
    return side


def certify_with_kernel(
    g: CompatGraph,
    obj: Objective,
    rng: random.Random,
    comp: Sequence[int],
    mate: list[int],
    fresh: bool,
) -> bool:
    """Re-pair `comp` in `mate` through a barrier kernel; True if proved optimal.

    With `fresh`, work in the graph of never-partnered pairs, after proving that it places
    as many people as the full graph: then the optimum repeats nobody, and the kernel bound
    only has to hold over fresh maximum matchings.
    """
    alive = _mask(g, comp)
    if fresh:
        for v in comp:
            if mate[v] != UNMATCHED and g.count(v, mate[v]):
                mate[mate[v]] = mate[v] = UNMATCHED
    searched = _grow_barrier(g, comp, mate, alive, fresh)
    missed = sum(1 for v in comp if mate[v] == UNMATCHED)
    # Tutte-Berge holds for any X, so a second candidate is free to try: everyone the
    # searches named plus every partner of a very constrained person (a scarce partner may
    # hold a person with no other option, so no search starts next to it).
    scarce = {
        w
        for v in comp
        if g.degree_bound(v) <= _SCARCE
        for w in g.neighbors(v, alive, fresh_only=fresh)
    }
    for barrier in (searched, searched | scarce):
        rest_of = [v for v in comp if v not in barrier]
        parts = g.components(rest_of, fresh_only=fresh)
        tight = missed == sum(len(part) % 2 for part in parts) - len(barrier)
        if tight and fresh:  # the full graph must not place more people either
            every = g.components(rest_of, fresh_only=False)
            tight = missed == sum(len(part) % 2 for part in every) - len(barrier)
        if not tight:
            continue
        saved = [mate[v] for v in comp]
        if _solve_kernel(g, obj, rng, comp, mate, barrier, parts, fresh):
            return True
        for v, m in zip(comp, saved, strict=True):
            mate[v] = m
    return False  # no tight barrier, or its kernel could not be realised


def _solve_kernel(
    g: CompatGraph,
    obj: Objective,
    rng: random.Random,
    comp: Sequence[int],
    mate: list[int],
    barrier: set[int],
    parts: Sequence[Sequence[int]],
    fresh: bool,
) -> bool:
    """Solve the kernel of a tight barrier exactly and realise it; True if it meets the bound."""
    alive = _mask(g, comp)
    large = [part for part in parts if len(part) > _SMALL_PART]
    kept = [*barrier, *(v for part in parts if len(part) <= _SMALL_PART for v in part)]
    rng.shuffle(kept)  # ties between optimal kernels go to the seeded rng
    large_odd = [part for part in large if len(part) % 2]
    if len(kept) + len(large_odd) > _KERNEL_LIMIT:
        return False
    index = {v: i for i, v in enumerate(kept)}
    kept_alive = _mask(g, kept)
    edges = [
        (i, index[w], obj.pair_weight(v, w))
        for i, v in enumerate(kept)
        for w in g.neighbors(v, kept_alive, fresh_only=fresh)
        if index[w] > i
    ]
    entries: dict[tuple[int, int], list[int]] = {}  # (x, large part) -> cheapest ways in
    for p, part in enumerate(large_odd):
        cheapest = min(obj.value[v] for v in part)
        inside = set(part)
        for x in barrier:
            ways = [u for u in g.neighbors(x, alive, fresh_only=fresh) if u in inside]
            if ways:
                least = min(obj.penalty(g.count(x, u)) for u in ways)
                entries[(x, p)] = [u for u in ways if obj.penalty(g.count(x, u)) == least]
                weight = obj.value[x] + cheapest - least
                edges.append((index[x], len(kept) + p, weight))
    chosen = max_weight_matching(len(kept) + len(large_odd), edges)
    edge_weight = {(i, j): w for i, j, w in edges}
    bound = sum(edge_weight[(i, j)] for i, j in enumerate(chosen) if i < j)
    bound += sum(sum(obj.value[v] for v in part) for part in large)
    bound -= sum(min(obj.value[v] for v in part) for part in large_odd)
    for v in comp:
        mate[v] = UNMATCHED
    taken: dict[int, int] = {}  # large part -> the person an x in the barrier pairs with
    for i, j in enumerate(chosen):
        if i < j < len(kept):
            mate[kept[i]], mate[kept[j]] = kept[j], kept[i]
        elif i < len(kept) <= j:
            x, p = kept[i], j - len(kept)
            u = rng.choice(entries[(x, p)])
            mate[x], mate[u] = u, x
            taken[p] = u
    for p, part in enumerate(large_odd):
        out = taken.get(p, min(part, key=obj.rest_key))
        if not _pair_fresh(g, rng, [v for v in part if v != out], mate):
            return False
    if not all(_pair_fresh(g, rng, part, mate) for part in large if len(part) % 2 == 0):
        return False
    if fresh:
        # The fresh bound covers solutions without repeats. A stepping-in facilitator paired
        # while a participant rests might be swapped out by a repeat that places one more
        # participant (level 1 beats level 2), so that case is left to the exact solver.
        helper_in = any(obj.value[v] < 0 and mate[v] != UNMATCHED for v in comp)
        someone_out = any(obj.value[v] > 0 and mate[v] == UNMATCHED for v in comp)
        if helper_in and someone_out:
            return False
    # The construction meets the bound by design; checking it keeps a slip from passing
    # for a proof (it would only send the component to the exact solver).
    return obj.score((v, mate[v]) for v in comp if v < mate[v]) == bound


def _mask(g: CompatGraph, vertices: Sequence[int]) -> list[bool]:
    """Return a membership mask over all vertices."""
    mask = [False] * g.n
    for v in vertices:
        mask[v] = True
    return mask


def _grow_barrier(
    g: CompatGraph, comp: Sequence[int], mate: list[int], alive: Sequence[bool], fresh: bool
) -> set[int]:
    """Augment from each unmatched vertex, constrained first; return the failed searches' inner.

    Before searching from a constrained person, take over a scarce partner held by someone
    with more options (same size of matching, but the search then fails within the small
    group of people competing for the scarce partners instead of crossing the whole room).
    """
    barrier: set[int] = set()
    roots = sorted((v for v in comp if mate[v] == UNMATCHED), key=g.degree_bound)
    queue = list(roots)
    gave_up = 0
    while queue and gave_up < GIVE_UPS:  # past that, no tight barrier is coming
        root = queue.pop(0)
        if mate[root] != UNMATCHED:
            continue
        others = [v for v in queue if mate[v] == UNMATCHED]
        if short_augment(g, mate, root, others, alive, fresh_only=fresh):
            continue
        freed = _take_over(g, mate, root, alive, fresh)
        if freed != UNMATCHED:
            queue.append(freed)
            continue
        outcome = search(g, mate, root, alive, fresh_only=fresh, budget=_SEARCH_BUDGET)
        if not outcome.augmented and not outcome.gave_up:
            barrier.update(outcome.inner)
        gave_up += outcome.gave_up
    return barrier


def _take_over(
    g: CompatGraph, mate: list[int], root: int, alive: Sequence[bool], fresh: bool
) -> int:
    """Pair `root` with a partner held by someone with more options; return who was freed."""
    held = [
        (g.degree_bound(mate[x]), x)
        for x in g.neighbors(root, alive, fresh_only=fresh)
        if mate[x] != UNMATCHED
    ]
    if not held:
        return UNMATCHED
    options, x = max(held)
    if options <= g.degree_bound(root):
        return UNMATCHED
    freed = mate[x]
    mate[freed] = UNMATCHED
    mate[root], mate[x] = x, root
    return freed


def _pair_fresh(g: CompatGraph, rng: random.Random, people: Sequence[int], mate: list[int]) -> bool:
    """Pair all of `people` among themselves on fresh pairs; return whether that worked."""
    alive = _mask(g, people)
    order = sorted(people, key=lambda v: g.degree_bound(v) + rng.random())
    greedy_match(g, order, mate, rng)
    loose = [v for v in order if mate[v] == UNMATCHED]
    return not maximise(g, mate, loose, alive, fresh_only=True, budget=_SEARCH_BUDGET)

"""A Tutte-Berge certificate for components where some people cannot all be placed.

When a few people compete for scarce partners (ten want a role only three people have), the
simple certificate of `pair_solver` fails: more people rest than parity demands. Rather than
run the exact weighted matching on the whole component (seconds at 1,000 people), this
module proves optimality with a *barrier*:

* Maximise the matching on fresh pairs (never partnered before), searching from each unmatched
  person; each failed search from a constrained person is cheap and names *inner* vertices
  (the scarce partners). Their union X is the candidate barrier.
* Tutte-Berge: no matching of the component misses fewer than odd(C - X) - |X| people, where
  odd counts the odd components of the graph without X. If our fresh matching misses exactly
  that many, and the bound holds with the same X in the graph that allows repeats too, it
  places as many as possible and repeats nobody: levels 1 and 2 are optimal.
* In every maximum matching, X is matched into distinct odd components and each other odd
  component leaves exactly one person out. So the fairest conceivable rest is: cover with X
  the components whose cheapest person is most expensive to rest (a greedy on a transversal
  matroid), and rest the cheapest person of every other odd component. That is a lower bound
  on level 3; if a fresh matching realises it, the component is certified.

Anything else returns None and the caller falls back to the exact solver.
"""

from __future__ import annotations

import random
from collections.abc import Sequence

from facilitation.exercises.engine.matching import (
    UNMATCHED,
    greedy_match,
    maximise,
    search,
    short_augment,
)
from facilitation.exercises.engine.objective import Objective
from facilitation.exercises.engine.pairing_graph import CompatGraph

_SEARCH_BUDGET = 4000  # steps a search may take before it is left unanswered


def certify_with_barrier(
    g: CompatGraph, obj: Objective, rng: random.Random, comp: Sequence[int], mate: list[int]
) -> bool:
    """Re-pair `comp` in `mate` and return True if the result is proved optimal."""
    alive = [False] * g.n
    for v in comp:
        alive[v] = True
        if mate[v] != UNMATCHED and g.count(v, mate[v]):
            mate[mate[v]] = UNMATCHED
            mate[v] = UNMATCHED
    barrier: set[int] = set()
    roots = sorted((v for v in comp if mate[v] == UNMATCHED), key=g.degree_bound)
    for root in roots:
        if mate[root] != UNMATCHED:
            continue
        others = [v for v in roots if v != root and mate[v] == UNMATCHED]
        if short_augment(g, mate, root, others, alive, fresh_only=True):
            continue
        outcome = search(g, mate, root, alive, fresh_only=True, budget=_SEARCH_BUDGET)
        if not outcome.augmented and not outcome.gave_up:
            barrier.update(outcome.inner)
    missed = sum(1 for v in comp if mate[v] == UNMATCHED)
    rest_of = [v for v in comp if v not in barrier]
    fresh_parts = g.components(rest_of, fresh_only=True)
    odd_parts = [part for part in fresh_parts if len(part) % 2]
    if missed != len(odd_parts) - len(barrier):
        return False
    all_parts = g.components(rest_of, fresh_only=False)
    if missed != sum(len(part) % 2 for part in all_parts) - len(barrier):
        return False
    resting = _fairest_rest(g, obj, odd_parts, barrier)
    for v in comp:
        mate[v] = UNMATCHED
        alive[v] = v not in resting
    order = sorted((v for v in comp if alive[v]), key=lambda v: g.degree_bound(v) + rng.random())
    greedy_match(g, order, mate, rng)
    loose = [v for v in order if mate[v] == UNMATCHED]
    if maximise(g, mate, loose, alive, fresh_only=True, budget=_SEARCH_BUDGET):
        return False
    # Levels 1 and 3 above count matched people; a facilitator stepping in while a
    # participant rests may not be optimal, so that case goes to the exact solver.
    helper_in = any(obj.value[v] < 0 and mate[v] != UNMATCHED for v in comp)
    return not (helper_in and any(obj.value[v] > 0 for v in resting))


def certify_forced_repeats(
    g: CompatGraph, obj: Objective, comp: Sequence[int], mate: list[int]
) -> bool:
    """Return True if the component's pairing, which repeats partners, provably must.

    Applies when everyone but the cheapest person of an odd component is paired (so levels
    1 and 3 are met as in the simple certificate) and each repeated pair met only once
    before. Then it is optimal if the number of repeats equals the number of people the
    best fresh-only matching must leave out beyond that: a Tutte-Berge barrier of the fresh
    graph bounds how many fresh pairs any matching can hold.
    """
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
    alive = [False] * g.n
    for v in comp:
        alive[v] = True
    barrier: set[int] = set()
    roots = sorted((v for v in comp if trial[v] == UNMATCHED), key=g.degree_bound)
    for root in roots:
        if trial[root] != UNMATCHED:
            continue
        outcome = search(g, trial, root, alive, fresh_only=True, budget=_SEARCH_BUDGET)
        if outcome.augmented:
            return False  # a fresh pair more exists: fewer repeats may be possible
        if not outcome.gave_up:
            barrier.update(outcome.inner)
    parts = g.components([v for v in comp if v not in barrier], fresh_only=True)
    missed_at_least = sum(len(part) % 2 for part in parts) - len(barrier)
    fresh_at_most = (len(comp) - missed_at_least) // 2
    return len(repeated) == len(pairs) - fresh_at_most


def _fairest_rest(
    g: CompatGraph, obj: Objective, odd_parts: Sequence[Sequence[int]], barrier: set[int]
) -> set[int]:
    """Return who rests: the cheapest of each odd part the barrier cannot cover best."""
    cheapest = [min(part, key=obj.rest_key) for part in odd_parts]
    part_of = {v: i for i, part in enumerate(odd_parts) for v in part}
    everyone = [True] * g.n
    near: dict[int, set[int]] = {i: set() for i in range(len(odd_parts))}
    for x in barrier:
        for w in g.neighbors(x, everyone, fresh_only=True):
            if w in part_of:
                near[part_of[w]].add(x)
    owner: dict[int, int] = {}  # barrier vertex -> the odd part it is matched into
    ranked = sorted(range(len(odd_parts)), key=lambda i: obj.rest_key(cheapest[i]), reverse=True)
    for part in ranked:
        if len(owner) == len(barrier):
            break
        _cover(part, near, owner, set())
    covered = set(owner.values())
    return {cheapest[i] for i in range(len(odd_parts)) if i not in covered}


def _cover(part: int, near: dict[int, set[int]], owner: dict[int, int], seen: set[int]) -> bool:
    """Match `part` to a barrier vertex along an augmenting path (Kuhn); True if it worked."""
    for x in near[part]:
        if x in seen:
            continue
        seen.add(x)
        if x not in owner or _cover(owner[x], near, owner, seen):
            owner[x] = part
            return True
    return False

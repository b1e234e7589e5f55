"""Maximum-cardinality matching on the implicit pair graph: seeded greedy, then repair.

`greedy_match` pairs people in a random order that puts the most constrained first, taking
a random admissible partner each time. `search` is Edmonds' augmenting-path search from
one unmatched root, with blossom shrinking (the classic O(V^3) formulation); it either
augments the matching by one pair or proves that no augmenting path starts at the root.
By Berge's theorem a matching from which no unmatched vertex has an augmenting path is
maximum, and a root whose search failed never gains one later.

A failed search also reports its *outer* vertices (those an even alternating path reaches:
each could be the one left unmatched instead of the root) and its *inner* ones.
"""

from __future__ import annotations

import random
from collections import deque
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from facilitation.exercises.engine.pairing_graph import CompatGraph

#: Pure core: no framework import, here or in what it imports (tests/core/test_pure_core.py).
__pure__ = True

UNMATCHED = -1
_SAMPLES = 8  # random partner draws before an exhaustive scan
GIVE_UPS = 3  # budgeted searches that may give up in one pass before the rest are skipped


@dataclass(frozen=True, slots=True)
class SearchOutcome:
    """The result of one augmenting-path search."""

    augmented: bool
    outer: tuple[int, ...] = ()  #: vertices reachable by even alternating paths (if failed)
    inner: tuple[int, ...] = ()
    gave_up: bool = False  #: the search stopped at its budget without an answer


class FreePools:
    """Unassigned vertices bucketed by type, with O(1) removal and weighted sampling."""

    def __init__(self, g: CompatGraph, vertices: Sequence[int]) -> None:
        self.g = g
        self.pools: list[list[int]] = [[] for _ in g.members]
        self.pos = [-1] * g.n
        for v in vertices:
            pool = self.pools[g.type_of[v]]
            self.pos[v] = len(pool)
            pool.append(v)

    def __contains__(self, v: int) -> bool:
        return self.pos[v] >= 0

    def take(self, v: int) -> None:
        """Remove v from its pool."""
        pool = self.pools[self.g.type_of[v]]
        last = pool.pop()
        if last != v:
            pool[self.pos[v]] = last
            self.pos[last] = self.pos[v]
        self.pos[v] = -1

    def size(self, types: Sequence[int]) -> int:
        """Return how many free vertices have one of `types`."""
        return sum(len(self.pools[t]) for t in types)

    def sample(self, types: Sequence[int], total: int, rng: random.Random) -> int:
        """Return a uniformly random free vertex among `types` (`total` is their count)."""
        r = rng.randrange(total)
        for t in types:
            size = len(self.pools[t])
            if r < size:
                return self.pools[t][r]
            r -= size
        raise AssertionError("total does not match the pools")

    def scan(self, types: Sequence[int]) -> Iterator[int]:
        """Yield every free vertex among `types`."""
        for t in types:
            yield from self.pools[t]


def greedy_match(g: CompatGraph, order: Sequence[int], mate: list[int], rng: random.Random) -> None:
    """Pair the unmatched vertices of `order`, in that order, with random fresh partners.

    Only fresh (never partnered before) admissible partners from `order` are taken. A vertex
    left without a partner had none left when its turn came.
    """
    free = FreePools(g, [v for v in order if mate[v] == UNMATCHED])
    for u in order:
        if u not in free:
            continue
        free.take(u)
        types = g.compat[g.type_of[u]]
        blocked, past = g.blocked[u], g.hist[u]
        total = free.size(types)
        partner = UNMATCHED
        for _ in range(min(_SAMPLES, total)):
            w = free.sample(types, total, rng)
            if w not in blocked and w not in past:
                partner = w
                break
        if partner == UNMATCHED and total:
            partner = next(
                (w for w in free.scan(types) if w not in blocked and w not in past), UNMATCHED
            )
        if partner != UNMATCHED:
            free.take(partner)
            mate[u] = partner
            mate[partner] = u


def search(
    g: CompatGraph,
    mate: list[int],
    root: int,
    alive: Sequence[bool],
    fresh_only: bool,
    augment: bool = True,
    budget: int | None = None,
) -> SearchOutcome:
    """Search for an augmenting path from unmatched `root` among alive vertices.

    With `augment` the path found is applied to `mate`. With `fresh_only` past partners are
    not adjacent. With a `budget`, give up after about that many steps (edges examined
    plus vertices relabelled when a blossom shrinks).
    """
    n = g.n
    parent = [-1] * n
    base = list(range(n))
    outer = [False] * n
    touched = [root]
    outer[root] = True
    queue = deque([root])

    def lca(a: int, b: int) -> int:
        seen = set()
        while True:
            a = base[a]
            seen.add(a)
            if mate[a] == UNMATCHED:
                break
            a = parent[mate[a]]
        while True:
            b = base[b]
            if b in seen:
                return b
            b = parent[mate[b]]

    def mark_path(v: int, stop: int, child: int, bases: set[int]) -> None:
        while base[v] != stop:
            bases.add(base[v])
            bases.add(base[mate[v]])
            parent[v] = child
            child = mate[v]
            v = parent[mate[v]]

    steps = 0
    limit = budget if budget is not None else -1
    while queue:
        v = queue.popleft()
        for to in g.neighbors(v, alive, fresh_only):
            steps += 1
            if steps == limit:
                return SearchOutcome(False, gave_up=True)
            if base[v] == base[to] or mate[v] == to:
                continue
            if to == root or (mate[to] != UNMATCHED and parent[mate[to]] != -1):
                if limit > 0 and steps + len(touched) >= limit:
                    return SearchOutcome(False, gave_up=True)
                steps += len(touched)
                top = lca(v, to)
                bases: set[int] = set()
                mark_path(v, top, to, bases)
                mark_path(to, top, v, bases)
                for i in touched:
                    if base[i] in bases:
                        base[i] = top
                        if not outer[i]:
                            outer[i] = True
                            queue.append(i)
            elif parent[to] == -1:
                parent[to] = v
                touched.append(to)
                if mate[to] == UNMATCHED:
                    if augment:
                        _flip(mate, parent, to)
                    return SearchOutcome(True)
                nxt = mate[to]
                outer[nxt] = True
                touched.append(nxt)
                queue.append(nxt)
    return SearchOutcome(
        False,
        outer=tuple(v for v in touched if outer[v]),
        inner=tuple(v for v in touched if not outer[v]),
    )


def _flip(mate: list[int], parent: list[int], end: int) -> None:
    """Apply the augmenting path that ends at `end` (traced through `parent`)."""
    v = end
    while v != UNMATCHED:
        pv = parent[v]
        ppv = mate[pv]
        mate[v] = pv
        mate[pv] = v
        v = ppv


def maximise(
    g: CompatGraph,
    mate: list[int],
    roots: Sequence[int],
    alive: Sequence[bool],
    fresh_only: bool,
    budget: int | None = None,
) -> list[int]:
    """Augment from each still-unmatched root in turn; return the roots left unmatched.

    Without a budget the result is a maximum matching (when `roots` holds every unmatched
    vertex); with one, a root whose search gave up is simply reported as unmatched, and once
    `GIVE_UPS` searches gave up, so are the roots not yet tried.
    """
    failed: list[int] = []
    gave_up = 0
    for k, root in enumerate(roots):
        if mate[root] != UNMATCHED:
            continue
        if gave_up >= GIVE_UPS:
            # Searches that cross a whole dense room give up one after another (a hundred
            # leads competing for the follows): the rest are reported unmatched at once.
            failed.extend(v for v in roots[k:] if mate[v] == UNMATCHED)
            break
        others = [v for v in roots if v != root and mate[v] == UNMATCHED]
        if short_augment(g, mate, root, others, alive, fresh_only):
            continue
        outcome = search(g, mate, root, alive, fresh_only, budget=budget)
        if not outcome.augmented:
            failed.append(root)
            gave_up += outcome.gave_up
    return failed


def short_augment(
    g: CompatGraph,
    mate: list[int],
    root: int,
    others: Sequence[int],
    alive: Sequence[bool],
    fresh_only: bool,
) -> bool:
    """Augment along a path of one or three edges from `root` to another unmatched vertex.

    In dense graphs almost every repair is such a swap (root-x, then x's partner y takes
    another unmatched w); finding it directly avoids growing a whole alternating tree. When
    repeats are allowed, the least repeated choices are tried first.
    """
    if not others:
        return False
    near = list(g.neighbors(root, alive, fresh_only))
    if not fresh_only:
        near.sort(key=lambda x: g.count(root, x))
    # Whether any unmatched person could take over from someone of each type: when nobody can
    # (leads who accept only follows, with every follow taken), skip the scan over `others`.
    wanted = {g.type_of[w] for w in others}
    takers = [any(row[t] for t in wanted) for row in g.type_ok]
    for fresh_second in (True, False) if not fresh_only else (True,):
        for x in near:
            y = mate[x]
            if y == UNMATCHED:
                mate[root], mate[x] = x, root
                return True
            if not takers[g.type_of[y]]:
                continue
            blocked, past = g.blocked[y], g.hist[y]
            compat = g.type_ok[g.type_of[y]]
            for w in others:
                if (
                    mate[w] == UNMATCHED
                    and compat[g.type_of[w]]
                    and w not in blocked
                    and not (fresh_second and w in past)
                ):
                    mate[root], mate[x] = x, root
                    mate[y], mate[w] = w, y
                    return True
    return False

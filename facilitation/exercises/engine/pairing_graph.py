"""The admissible-pair graph, kept implicit so that 1,000 people cost little to build.

Whether two eligible people may be grouped depends on (a) their partner preferences and
the gender and pairing role each preference looks at, and (b) sparse exceptions: do-not-pair
requests. People with the same (preference, gender, pairing role) form a *type*; types are
few, so compatibility is a small type-by-type table, and an edge exists between two people
of compatible types unless a do-not-pair request blocks it. Past partnerships are kept per
person as sparse counts; the "fresh" graph (no repeated partners) drops those edges too.

Vertices are indices 0..n-1 into the list of eligible people. Touch and eye-contact levels
are checked before a person becomes a vertex: they concern the person alone.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence, Set

from facilitation.exercises.engine.pairing_types import Participant, PersonId, normalise_label

#: Pure core: no framework import, here or in what it imports (tests/core/test_pure_core.py).
__pure__ = True


def _type_key(person: Participant) -> tuple[str, str | None, str | None, str | None]:
    """Return what pairing compatibility depends on for `person`."""
    pref = person.boundaries.preference
    return (
        pref.kind.value,
        normalise_label(pref.role),
        normalise_label(person.gender),
        normalise_label(person.pairing_role),
    )


def mutually_admit(a: Participant, b: Participant) -> bool:
    """Return whether each one's partner preference admits the other."""
    return a.boundaries.preference.admits(a.gender, b) and b.boundaries.preference.admits(
        b.gender, a
    )


class CompatGraph:
    """Admissible pairs among eligible people, plus their partnership history."""

    def __init__(
        self,
        people: Sequence[Participant],
        blocked_pairs: Iterable[tuple[PersonId, PersonId]],
        history: Mapping[tuple[PersonId, PersonId], int],
    ) -> None:
        self.n = len(people)
        self.ids = [p.id for p in people]
        index = {pid: i for i, pid in enumerate(self.ids)}
        keys: dict[tuple[str, str | None, str | None, str | None], int] = {}
        representatives: list[Participant] = []
        self.type_of: list[int] = []
        for person in people:
            key = _type_key(person)
            if key not in keys:
                keys[key] = len(representatives)
                representatives.append(person)
            self.type_of.append(keys[key])
        self.members: list[list[int]] = [[] for _ in representatives]
        for v, t in enumerate(self.type_of):
            self.members[t].append(v)
        self.type_ok: list[list[bool]] = [
            [mutually_admit(a, b) for b in representatives] for a in representatives
        ]
        self.compat: list[list[int]] = [
            [t2 for t2, ok in enumerate(row) if ok] for row in self.type_ok
        ]
        none: frozenset[int] = frozenset()
        blocked: dict[int, set[int]] = {}
        for a, b in blocked_pairs:
            i, j = index.get(a), index.get(b)
            if i is not None and j is not None and i != j:
                blocked.setdefault(i, set()).add(j)
                blocked.setdefault(j, set()).add(i)
        self.blocked: list[Set[int]] = [blocked.get(v, none) for v in range(self.n)]
        self.hist: list[dict[int, int]] = [{} for _ in range(self.n)]
        self.max_count = 0
        for (a, b), count in history.items():
            i, j = index.get(a), index.get(b)
            if i is None or j is None or i == j or count <= 0:
                continue
            total = self.hist[i].get(j, 0) + count
            self.hist[i][j] = total
            self.hist[j][i] = total
            self.max_count = max(self.max_count, total)

    def adjacent(self, u: int, v: int) -> bool:
        """Return whether u and v may be grouped together."""
        return (
            u != v and self.type_of[v] in self.compat[self.type_of[u]] and v not in self.blocked[u]
        )

    def count(self, u: int, v: int) -> int:
        """Return how often u and v were partners before."""
        return self.hist[u].get(v, 0)

    def neighbors(self, v: int, alive: Sequence[bool], fresh_only: bool) -> Iterator[int]:
        """Yield the alive neighbours of v; with `fresh_only`, skip past partners."""
        blocked = self.blocked[v]
        past = self.hist[v] if fresh_only else {}
        members = self.members
        for t in self.compat[self.type_of[v]]:
            for w in members[t]:
                if alive[w] and w != v and w not in blocked and w not in past:
                    yield w

    def degree_bound(self, v: int) -> int:
        """Return an upper bound on v's degree, cheap to compute."""
        return sum(len(self.members[t]) for t in self.compat[self.type_of[v]])

    def components(self, vertices: Iterable[int], fresh_only: bool = False) -> list[list[int]]:
        """Return the connected components among `vertices`, in discovery order.

        Runs in O(n * types + blocked pairs): a vertex leaves the unvisited pool the first
        time it is seen, and a pool member is skipped only when a blocked (or, with
        `fresh_only`, a past) pair separates it from the vertex being expanded.
        """
        pools: list[set[int]] = [set() for _ in self.members]
        order = list(vertices)
        for v in order:
            pools[self.type_of[v]].add(v)
        result: list[list[int]] = []
        for start in order:
            if start not in pools[self.type_of[start]]:
                continue
            pools[self.type_of[start]].discard(start)
            component = [start]
            frontier = [start]
            while frontier:
                v = frontier.pop()
                blocked = self.blocked[v]
                past = self.hist[v] if fresh_only else {}
                for t in self.compat[self.type_of[v]]:
                    pool = pools[t]
                    if not pool:
                        continue
                    reached = [w for w in pool if w not in blocked and w not in past]
                    for w in reached:
                        pool.discard(w)
                    component.extend(reached)
                    frontier.extend(reached)
            result.append(component)
        return result

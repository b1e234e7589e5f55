"""The pairing objective as one integer score, so exact algorithms can maximise it.

The engine's objective is lexicographic:

1. place as many participants as possible (the facilitator, when stepping in, counts 0);
2. use as few repeated partnerships as possible, then the lowest total of past counts;
3. rest fairly: compare the past-rest counts of those resting, largest first, and prefer
   the smaller list (so nobody rests twice before everyone has rested once);
4. let the facilitator (under the facilitator policy) step in only when that helps;
5. anything else is left to the seeded random number generator.

Each level is scaled by more than the largest total the levels below it can reach, so
maximising `sum(value(v) for placed v) - sum(penalty(pair) for pairs inside groups)` is the
lexicographic optimum. A pair's penalty depends on its past count only; a vertex's value
is what placing it is worth (levels 1 and 3). All numbers are Python integers.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Sequence

from facilitation.exercises.engine.pairing_graph import CompatGraph

#: Pure core: no framework import, here or in what it imports (tests/core/test_pure_core.py).
__pure__ = True


class Objective:
    """Scalar weights for the lexicographic objective over one graph."""

    def __init__(
        self, g: CompatGraph, real: Sequence[bool], rests: Sequence[int], rng: random.Random
    ) -> None:
        n = max(g.n, 1)
        levels = sorted({r for r, is_real in zip(rests, real, strict=True) if is_real})
        rank = {r: i for i, r in enumerate(levels)}
        base = n + 1
        self.s_count = base ** len(levels)
        self.s_repeat = (n * max(g.max_count, 1) + 1) * self.s_count
        self.s_place = (n + 1) * self.s_repeat
        self.real = list(real)
        # Doubled so that the facilitator's -1 sits below every difference of levels 1-3.
        self.value = [
            2 * (self.s_place + base ** rank[r]) if is_real else -1
            for r, is_real in zip(rests, real, strict=True)
        ]
        self.rests = list(rests)
        #: random tie-break per vertex, drawn once so that orderings are reproducible
        self.jitter = [rng.random() for _ in range(g.n)]
        self.g = g

    def penalty(self, count: int) -> int:
        """Return the cost of grouping two people who were partners `count` times."""
        return 0 if count <= 0 else 2 * (self.s_repeat + count * self.s_count)

    def pair_weight(self, u: int, v: int) -> int:
        """Return the score of the pair (u, v); positive unless neither is a participant."""
        return self.value[u] + self.value[v] - self.penalty(self.g.count(u, v))

    def group_score(self, members: Sequence[int]) -> int:
        """Return the score of one group (pair or trio)."""
        total = sum(self.value[v] for v in members)
        for i, u in enumerate(members):
            for v in members[i + 1 :]:
                total -= self.penalty(self.g.count(u, v))
        return total

    def score(self, groups: Iterable[Sequence[int]]) -> int:
        """Return the score of a whole configuration."""
        return sum(self.group_score(group) for group in groups)

    def rest_key(self, v: int) -> tuple[int, float]:
        """Return a sort key: who should rest first (cheapest value, then the rng)."""
        return (self.value[v], self.jitter[v])

    def repeats(self, groups: Iterable[Sequence[int]]) -> int:
        """Return how many repeated partnerships the groups use."""
        total = 0
        for members in groups:
            for i, u in enumerate(members):
                total += sum(1 for v in members[i + 1 :] if self.g.count(u, v) > 0)
        return total

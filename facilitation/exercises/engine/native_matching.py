"""Exact maximum-weight matching through rustworkx (native code), with a pure fallback.

rustworkx's `max_weight_matching` is the same primal-dual blossom method as
`weighted_matching` (both follow van Rantwijk's organisation of Galil's algorithm), compiled:
on the engine's worst requests at 1,000 people it is 10-40 times faster than the pure version
(docs/benchmarks.md, pairing). It works in 128-bit integers, so weights past `NATIVE_LIMIT`
(the objective's weights grow with the number of distinct past-rest counts) go to the pure
version, which uses Python's unbounded integers: the answer is exact either way.

rustworkx holds the GIL while it works (its weight callback is Python), so this does not
free the event loop by itself: the app runs the whole engine in a worker process
(`facilitation.exercises.pairing_worker`).
"""

from __future__ import annotations

from collections.abc import Sequence

import rustworkx as rx

from facilitation.exercises.engine.weighted_matching import Edge
from facilitation.exercises.engine.weighted_matching import (
    max_weight_matching as pure_max_weight_matching,
)

#: Pure core: no framework import, here or in what it imports (tests/core/test_pure_core.py).
__pure__ = True

#: Largest edge weight handed to rustworkx. Its duals and slacks stay within a few times the
#: largest weight, so 2**120 leaves room below the 2**127 of a signed 128-bit integer.
NATIVE_LIMIT = 2**120


def max_weight_matching(n: int, edges: Sequence[Edge], top: int | None = None) -> list[int]:
    """Return a maximum-weight matching of vertices 0..n-1 as `mate` (-1 when single).

    `top`, if given, bounds every edge's absolute weight (saves a pass over the edges).
    """
    mate = [-1] * n
    if not edges:
        return mate
    if top is None:
        top = max(abs(w) for _, _, w in edges)
    if top >= NATIVE_LIMIT:
        return pure_max_weight_matching(n, edges)
    graph = rx.PyGraph(multigraph=True, node_count_hint=n, edge_count_hint=len(edges))
    graph.add_nodes_from(range(n))
    graph.extend_from_weighted_edge_list(edges)
    for i, j in rx.max_weight_matching(graph, weight_fn=int):
        mate[i], mate[j] = j, i
    return mate

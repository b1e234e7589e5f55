"""Exact maximum-weight matching in a general graph (Edmonds' primal-dual blossom method).

This is the engine's exact fallback, used only when the fast path cannot certify its
answer. It follows Z. Galil, "Efficient algorithms for finding maximum matching in graphs",
ACM Computing Surveys 18(1), 1986, in the array-based O(n^3) organisation popularised by
J. van Rantwijk's `mwmatching.py` (the one networkx also adapts): S/T labels on top-level
blossoms, least-slack edges per vertex and per S-blossom for the dual steps, and blossom
expansion when a T-blossom's dual reaches zero. Weights are integers; vertex duals are kept
doubled so that every quantity stays integral.

Endpoint `p` of edge `k = p // 2` is `edges[k][p % 2]`; `mate[v]` holds the remote endpoint of
v's matched edge while the algorithm runs. Blossoms are numbered n..2n-1.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

#: Pure core: no framework import, here or in what it imports (tests/core/test_pure_core.py).
__pure__ = True

Edge = tuple[int, int, int]


class _Blossoms:
    """Working state of one maximum-weight matching computation."""

    def __init__(self, n: int, edges: Sequence[Edge]) -> None:
        self.n = n
        self.edges = edges
        self.endpoint = [edges[p // 2][p % 2] for p in range(2 * len(edges))]
        self.neighbend: list[list[int]] = [[] for _ in range(n)]
        for k, (i, j, _) in enumerate(edges):
            self.neighbend[i].append(2 * k + 1)
            self.neighbend[j].append(2 * k)
        self.mate = [-1] * n
        self.label = [0] * (2 * n)
        self.labelend = [-1] * (2 * n)
        self.inblossom = list(range(n))
        self.parent = [-1] * (2 * n)
        self.childs: list[list[int]] = [[] for _ in range(2 * n)]
        self.base = list(range(n)) + [-1] * n
        self.endps: list[list[int]] = [[] for _ in range(2 * n)]
        self.bestedge = [-1] * (2 * n)
        self.blossombest: list[list[int] | None] = [None] * (2 * n)
        self.unused = list(range(n, 2 * n))
        top = max((w for _, _, w in edges), default=0)
        self.dual = [top] * n + [0] * n
        self.allowed = [False] * len(edges)
        self.queue: list[int] = []

    def slack(self, k: int) -> int:
        """Return twice the slack of edge k (valid between top-level blossoms)."""
        i, j, w = self.edges[k]
        return self.dual[i] + self.dual[j] - 2 * w

    def leaves(self, b: int) -> Iterator[int]:
        """Yield the vertices inside blossom b."""
        stack = [b]
        while stack:
            top = stack.pop()
            if top < self.n:
                yield top
            else:
                stack.extend(reversed(self.childs[top]))

    def assign_label(self, w: int, t: int, p: int) -> None:
        """Label w's top-level blossom S (t=1) or T (t=2), reached through endpoint p."""
        b = self.inblossom[w]
        self.label[w] = self.label[b] = t
        self.labelend[w] = self.labelend[b] = p
        self.bestedge[w] = self.bestedge[b] = -1
        if t == 1:
            self.queue.extend(self.leaves(b))
        else:
            base = self.base[b]
            self.assign_label(self.endpoint[self.mate[base]], 1, self.mate[base] ^ 1)

    def scan_blossom(self, v: int, w: int) -> int:
        """Trace back from v and w; return a new blossom's base, or -1 for an augmenting path."""
        path: list[int] = []
        base = -1
        while v != -1 or w != -1:
            b = self.inblossom[v]
            if self.label[b] & 4:
                base = self.base[b]
                break
            path.append(b)
            self.label[b] = 5
            if self.labelend[b] == -1:
                v = -1
            else:
                v = self.endpoint[self.labelend[b]]
                b = self.inblossom[v]
                v = self.endpoint[self.labelend[b]]
            if w != -1:
                v, w = w, v
        for b in path:
            self.label[b] = 1
        return base

    def add_blossom(self, base: int, k: int) -> None:
        """Shrink the odd cycle closed by edge k into a new S-blossom with the given base."""
        v, w, _ = self.edges[k]
        bb, bv, bw = self.inblossom[base], self.inblossom[v], self.inblossom[w]
        b = self.unused.pop()
        self.base[b] = base
        self.parent[b] = -1
        self.parent[bb] = b
        path: list[int] = []
        endps: list[int] = []
        while bv != bb:
            self.parent[bv] = b
            path.append(bv)
            endps.append(self.labelend[bv])
            v = self.endpoint[self.labelend[bv]]
            bv = self.inblossom[v]
        path.append(bb)
        path.reverse()
        endps.reverse()
        endps.append(2 * k)
        while bw != bb:
            self.parent[bw] = b
            path.append(bw)
            endps.append(self.labelend[bw] ^ 1)
            w = self.endpoint[self.labelend[bw]]
            bw = self.inblossom[w]
        self.childs[b] = path
        self.endps[b] = endps
        self.label[b] = 1
        self.labelend[b] = self.labelend[bb]
        self.dual[b] = 0
        for leaf in self.leaves(b):
            if self.label[self.inblossom[leaf]] == 2:
                self.queue.append(leaf)
            self.inblossom[leaf] = b
        best_to = [-1] * (2 * self.n)
        for sub in path:
            cached = self.blossombest[sub]
            if cached is None:
                lists = [[p // 2 for p in self.neighbend[x]] for x in self.leaves(sub)]
            else:
                lists = [cached]
            for edge_list in lists:
                for e in edge_list:
                    i, j, _ = self.edges[e]
                    if self.inblossom[j] == b:
                        i, j = j, i
                    bj = self.inblossom[j]
                    if (
                        bj != b
                        and self.label[bj] == 1
                        and (best_to[bj] == -1 or self.slack(e) < self.slack(best_to[bj]))
                    ):
                        best_to[bj] = e
            self.blossombest[sub] = None
            self.bestedge[sub] = -1
        self.blossombest[b] = [e for e in best_to if e != -1]
        self.bestedge[b] = -1
        for e in self.blossombest[b] or ():
            if self.bestedge[b] == -1 or self.slack(e) < self.slack(self.bestedge[b]):
                self.bestedge[b] = e

    def expand_blossom(self, b: int, endstage: bool) -> None:
        """Dissolve top-level blossom b into its sub-blossoms, relabelling if mid-stage."""
        for s in self.childs[b]:
            self.parent[s] = -1
            if s < self.n:
                self.inblossom[s] = s
            elif endstage and self.dual[s] == 0:
                self.expand_blossom(s, endstage)
            else:
                for leaf in self.leaves(s):
                    self.inblossom[leaf] = s
        if not endstage and self.label[b] == 2:
            self._relabel_expanded(b)
        self.label[b] = self.labelend[b] = -1
        self.childs[b] = []
        self.endps[b] = []
        self.base[b] = -1
        self.blossombest[b] = None
        self.bestedge[b] = -1
        self.unused.append(b)

    def _relabel_expanded(self, b: int) -> None:
        """Relabel the sub-blossoms of an expanded T-blossom along its alternating path."""
        childs, endps, endpoint = self.childs[b], self.endps[b], self.endpoint
        entry = self.inblossom[endpoint[self.labelend[b] ^ 1]]
        j = childs.index(entry)
        if j & 1:
            j -= len(childs)
            step, trick = 1, 0
        else:
            step, trick = -1, 1
        p = self.labelend[b]
        while j != 0:
            self.label[endpoint[p ^ 1]] = 0
            self.label[endpoint[endps[j - trick] ^ trick ^ 1]] = 0
            self.assign_label(endpoint[p ^ 1], 2, p)
            self.allowed[endps[j - trick] // 2] = True
            j += step
            p = endps[j - trick] ^ trick
            self.allowed[p // 2] = True
            j += step
        bv = childs[j]
        self.label[endpoint[p ^ 1]] = self.label[bv] = 2
        self.labelend[endpoint[p ^ 1]] = self.labelend[bv] = p
        self.bestedge[bv] = -1
        j += step
        while childs[j] != entry:
            bv = childs[j]
            if self.label[bv] == 1:
                j += step
                continue
            reached = -1
            for leaf in self.leaves(bv):
                if self.label[leaf] != 0:
                    reached = leaf
                    break
            if reached != -1:
                self.label[reached] = 0
                self.label[endpoint[self.mate[self.base[bv]]]] = 0
                self.assign_label(reached, 2, self.labelend[reached])
            j += step

    def augment_blossom(self, b: int, v: int) -> None:
        """Swap matched and unmatched edges inside blossom b so that v becomes its base."""
        t = v
        while self.parent[t] != b:
            t = self.parent[t]
        if t >= self.n:
            self.augment_blossom(t, v)
        childs, endps, endpoint = self.childs[b], self.endps[b], self.endpoint
        i = j = childs.index(t)
        if i & 1:
            j -= len(childs)
            step, trick = 1, 0
        else:
            step, trick = -1, 1
        while j != 0:
            j += step
            t = childs[j]
            p = endps[j - trick] ^ trick
            if t >= self.n:
                self.augment_blossom(t, endpoint[p])
            j += step
            t = childs[j]
            if t >= self.n:
                self.augment_blossom(t, endpoint[p ^ 1])
            self.mate[endpoint[p]] = p ^ 1
            self.mate[endpoint[p ^ 1]] = p
        self.childs[b] = childs[i:] + childs[:i]
        self.endps[b] = endps[i:] + endps[:i]
        self.base[b] = self.base[self.childs[b][0]]

    def augment_matching(self, k: int) -> None:
        """Augment along the path through S-S edge k, between two single vertices."""
        v, w, _ = self.edges[k]
        for s, p in ((v, 2 * k + 1), (w, 2 * k)):
            while True:
                bs = self.inblossom[s]
                if bs >= self.n:
                    self.augment_blossom(bs, s)
                self.mate[s] = p
                if self.labelend[bs] == -1:
                    break
                t = self.endpoint[self.labelend[bs]]
                bt = self.inblossom[t]
                s = self.endpoint[self.labelend[bt]]
                j = self.endpoint[self.labelend[bt] ^ 1]
                if bt >= self.n:
                    self.augment_blossom(bt, j)
                self.mate[j] = self.labelend[bt]
                p = self.labelend[bt] ^ 1

    def scan(self, v: int) -> bool:
        """Scan the edges of S-vertex v; return True once the matching was augmented."""
        for p in self.neighbend[v]:
            k = p // 2
            w = self.endpoint[p]
            if self.inblossom[v] == self.inblossom[w]:
                continue
            kslack = 0
            if not self.allowed[k]:
                kslack = self.slack(k)
                if kslack <= 0:
                    self.allowed[k] = True
            bw = self.inblossom[w]
            if self.allowed[k]:
                if self.label[bw] == 0:
                    self.assign_label(w, 2, p ^ 1)
                elif self.label[bw] == 1:
                    base = self.scan_blossom(v, w)
                    if base >= 0:
                        self.add_blossom(base, k)
                    else:
                        self.augment_matching(k)
                        return True
                elif self.label[w] == 0:
                    self.label[w] = 2
                    self.labelend[w] = p ^ 1
            elif self.label[bw] == 1:
                b = self.inblossom[v]
                if self.bestedge[b] == -1 or kslack < self.slack(self.bestedge[b]):
                    self.bestedge[b] = k
            elif self.label[w] == 0 and (
                self.bestedge[w] == -1 or kslack < self.slack(self.bestedge[w])
            ):
                self.bestedge[w] = k
        return False

    def dual_step(self) -> bool:
        """Change the duals by the least allowed delta; return False when optimal."""
        n = self.n
        kind, delta, edge, blossom = 1, min(self.dual[:n]), -1, -1
        for v in range(n):
            if self.label[self.inblossom[v]] == 0 and self.bestedge[v] != -1:
                d = self.slack(self.bestedge[v])
                if d < delta:
                    kind, delta, edge = 2, d, self.bestedge[v]
        for b in range(2 * n):
            if self.parent[b] == -1 and self.label[b] == 1 and self.bestedge[b] != -1:
                d = self.slack(self.bestedge[b]) // 2
                if d < delta:
                    kind, delta, edge = 3, d, self.bestedge[b]
        for b in range(n, 2 * n):
            if (
                self.base[b] >= 0
                and self.parent[b] == -1
                and self.label[b] == 2
                and self.dual[b] < delta
            ):
                kind, delta, blossom = 4, self.dual[b], b
        for v in range(n):
            lab = self.label[self.inblossom[v]]
            if lab == 1:
                self.dual[v] -= delta
            elif lab == 2:
                self.dual[v] += delta
        for b in range(n, 2 * n):
            if self.base[b] >= 0 and self.parent[b] == -1:
                if self.label[b] == 1:
                    self.dual[b] += delta
                elif self.label[b] == 2:
                    self.dual[b] -= delta
        if kind == 1:
            return False
        if kind == 4:
            self.expand_blossom(blossom, False)
            return True
        self.allowed[edge] = True
        i, j, _ = self.edges[edge]
        if self.label[self.inblossom[i]] == 0:
            i, j = j, i
        self.queue.append(i)
        return True

    def stage(self) -> bool:
        """Run one stage: grow alternating trees until an augmentation; False if none."""
        n = self.n
        self.label = [0] * (2 * n)
        self.bestedge = [-1] * (2 * n)
        self.blossombest[n:] = [None] * n
        self.allowed = [False] * len(self.edges)
        self.queue = []
        for v in range(n):
            if self.mate[v] == -1 and self.label[self.inblossom[v]] == 0:
                self.assign_label(v, 1, -1)
        while True:
            while self.queue:
                if self.scan(self.queue.pop()):
                    return True
            if not self.dual_step():
                return False

    def run(self) -> list[int]:
        """Compute the matching; return mate[v] as a vertex, or -1."""
        n = self.n
        for _ in range(n):
            if not self.stage():
                break
            for b in range(n, 2 * n):
                if (
                    self.parent[b] == -1
                    and self.base[b] >= 0
                    and self.label[b] == 1
                    and self.dual[b] == 0
                ):
                    self.expand_blossom(b, True)
        return [self.endpoint[p] if p >= 0 else -1 for p in self.mate]


def max_weight_matching(n: int, edges: Sequence[Edge]) -> list[int]:
    """Return a maximum-weight matching of vertices 0..n-1 as `mate` (-1 when single).

    `edges` are (i, j, weight) with integer weights, i != j, at most one edge per pair.
    Runs in O(n^3) time.
    """
    if not edges:
        return [-1] * n
    return _Blossoms(n, edges).run()

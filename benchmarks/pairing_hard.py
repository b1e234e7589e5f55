"""Adversarial rooms for the pairing engine, and rustworkx / networkx on the same request.

Scenarios (fixed seeds), each run round after round as a live run does (pairs, rests and
roles of each round feed the next request; 2% sit out each round):

* ``lead-follow``: 55% leads who accept only follows, 45% follows who accept only leads,
  with genders (several types per side). About 100 leads must rest every round.
* ``dense-dnp``: the mixed room of `pairing_bench.scenario`, plus 30% of people filing
  do-not-pair requests naming 10-30 others each (about 6,000 blocked pairs at 1,000).
* ``mixed``: `pairing_bench.scenario`'s mixed boundaries, over 45 rounds of history.
* ``trio-pol``: the mixed room under the `trio` odd policy (one trio absorbs the odd one).
* ``trios``: a trio exercise over the mixed room.

Baselines, measured in the same run on each scenario's worst round (and rustworkx on every
fifteenth round too): ``rustworkx.max_weight_matching`` and ``networkx.max_weight_matching`` on
the admissible graph with weights that encode the engine's objective, timed on the matching
call alone (building the graph is reported apart). Neither can express a trio, so the trio
scenarios have no baseline. The run fails if a constraint is broken or if the engine is
worse than a baseline on a compared round.
"""

from __future__ import annotations

import itertools
import random
import time
from collections import Counter
from dataclasses import dataclass

import networkx as nx  # type: ignore[import-untyped]
import rustworkx as rx
from pairing_bench import (
    ENGINE_RESTS,
    allowed,
    breaks,
    fits,
    objective,
    scenario,
)

from facilitation.exercises.engine.pairing import pair_round
from facilitation.exercises.engine.pairing_types import (
    Boundaries,
    Contact,
    ExerciseNeeds,
    EyeContact,
    Grouping,
    OddPolicy,
    PairingRequest,
    Participant,
    PartnerPreference,
    PreferenceKind,
    RestReason,
    Role,
    pair_key,
)

Score = tuple[int, int, int]


def lead_follow(n: int, seed: int) -> tuple[tuple[Participant, ...], list[tuple[int, int]]]:
    """Return n people, 55% leads accepting only follows and the rest the reverse."""
    rng = random.Random(seed)
    people = []
    for pid in range(1, n + 1):
        lead = pid <= round(n * 0.55)
        wants = PartnerPreference(PreferenceKind.ROLE, "follow" if lead else "lead")
        gender = rng.choice(["f", "m", "nb", None])
        boundaries = Boundaries(Contact.HANDS, EyeContact.FULL, wants)
        people.append(Participant(pid, boundaries, gender, "lead" if lead else "follow"))
    blocks = [(rng.randint(1, n), rng.randint(1, n)) for _ in range(n // 20)]
    return tuple(people), [(a, b) for a, b in blocks if a != b]


def dense_blocks(n: int, seed: int) -> tuple[tuple[Participant, ...], list[tuple[int, int]]]:
    """Return the mixed room with 30% of people each blocking 10-30 others."""
    people, blocks = scenario(n, seed)
    rng = random.Random(seed + 1)
    for asker in rng.sample(range(1, n + 1), int(n * 0.3)):
        blocks += [
            (asker, o) for o in rng.sample(range(1, n + 1), rng.randint(10, 30)) if o != asker
        ]
    return people, blocks


def weighted_edges(req: PairingRequest) -> tuple[list[int], list[tuple[int, int, int]]]:
    """Return the eligible people and the admissible pairs weighted by the objective."""
    pool = [p for p in req.participants if fits(p, req)]
    levels = sorted({req.past_rests.get(p.id, 0) for p in pool})
    n, base = len(pool), len(pool) + 1
    top = max([*req.history.values(), 1])
    per_count = base ** len(levels)
    per_repeat = (n * top + 1) * per_count
    per_person = (n + 1) * per_repeat
    value = {
        p.id: 2 * (per_person + base ** levels.index(req.past_rests.get(p.id, 0))) for p in pool
    }
    edges = []
    for a, b in itertools.combinations(pool, 2):
        if allowed(a, b, req):
            c = req.history.get(pair_key(a.id, b.id), 0)
            penalty = 2 * (per_repeat + c * per_count) if c else 0
            edges.append((a.id, b.id, value[a.id] + value[b.id] - penalty))
    return [p.id for p in pool], edges


def rustworkx_pairs(req: PairingRequest) -> tuple[list[tuple[int, ...]] | None, float, float]:
    """Return rustworkx's optimum (None if the weights overflow 128 bits) and its times."""
    start = time.perf_counter()
    ids, edges = weighted_edges(req)
    index = {pid: i for i, pid in enumerate(ids)}
    graph = rx.PyGraph(multigraph=True)
    graph.add_nodes_from(ids)
    graph.extend_from_weighted_edge_list([(index[a], index[b], w) for a, b, w in edges])
    built = time.perf_counter()
    try:
        matching = rx.max_weight_matching(graph, weight_fn=int)
    except OverflowError:
        return None, 0.0, built - start
    done = time.perf_counter()
    return [(ids[i], ids[j]) for i, j in matching], done - built, built - start


def networkx_pairs(req: PairingRequest) -> tuple[list[tuple[int, ...]], float, float]:
    """Return networkx's optimum, its matching time and the graph-building time."""
    start = time.perf_counter()
    _, edges = weighted_edges(req)
    graph = nx.Graph()
    graph.add_weighted_edges_from(edges)
    built = time.perf_counter()
    matching = nx.max_weight_matching(graph)
    return [tuple(p) for p in matching], time.perf_counter() - built, built - start


@dataclass
class Hard:
    """What one scenario measured."""

    name: str
    n: int
    rounds: int
    wall: list[float]
    cpu: list[float]
    methods: Counter[str]
    breaks: int
    compared: list[tuple[int, str, Score, Score, float, float]]  # round, by, ours, theirs, s, s


def run_hard(name: str, n: int, rounds: int, with_networkx: bool) -> Hard:
    """Run one scenario for `rounds` rounds; compare with the baselines."""
    policy, exercise = OddPolicy.REST, ExerciseNeeds(Contact.NONE, EyeContact.SOFT)
    if name == "lead-follow":
        people, blocks = lead_follow(n, seed=55)
        exercise = ExerciseNeeds(Contact.HANDS, EyeContact.SOFT)
    elif name == "dense-dnp":
        people, blocks = dense_blocks(n, seed=20_26)
    else:
        people, blocks = scenario(n, seed=20_26)
    if name == "trio-pol":
        policy = OddPolicy.TRIO
    if name == "trios":
        exercise = ExerciseNeeds(Contact.NONE, EyeContact.SOFT, Grouping.TRIOS)
    pairs_only = name not in ("trio-pol", "trios")
    everyone = {p.id: p for p in people}
    rng = random.Random(7)
    history: Counter[tuple[int, int]] = Counter()
    rests: Counter[int] = Counter()
    roles: dict[int, Counter[Role]] = {}
    out = Hard(name, n, rounds, [], [], Counter(), 0, [])
    kept: dict[int, tuple[PairingRequest, Score]] = {}
    for number in range(1, rounds + 1):
        sitting = rng.sample(range(1, n + 1), n // 50)
        req = PairingRequest(
            participants=people,
            exercise=exercise,
            seed=4242,
            odd_policy=policy,
            round_number=number,
            ineligible={pid: RestReason.SITTING_OUT for pid in sitting},
            do_not_pair=blocks,
            history=dict(history),
            past_rests=dict(rests),
            role_counts={pid: dict(c) for pid, c in roles.items()},
        )
        start, start_cpu = time.perf_counter(), time.process_time()
        result = pair_round(req)
        out.wall.append(time.perf_counter() - start)
        out.cpu.append(time.process_time() - start_cpu)
        out.methods[result.method.value] += 1
        out.breaks += breaks(result, req, everyone)
        for group in result.groups:
            history.update(pair_key(a, b) for a, b in itertools.combinations(group.person_ids, 2))
            for member in group.members:
                roles.setdefault(member.person_id, Counter())[member.role] += 1
        rests.update(r.person_id for r in result.resting if r.reason in ENGINE_RESTS)
        if pairs_only and number % 15 == 0:
            kept[number] = (req, objective([g.person_ids for g in result.groups], req))
        if pairs_only and out.wall[-1] == max(out.wall):
            kept[-1] = (req, objective([g.person_ids for g in result.groups], req))
            worst = number
    for number, (req, ours) in sorted(kept.items()):
        label = worst if number == -1 else number
        theirs, match_s, build_s = rustworkx_pairs(req)
        if theirs is not None:
            out.compared.append(
                (label, "rustworkx", ours, objective(theirs, req), match_s, build_s)
            )
        if number == -1 and with_networkx:
            nx_pairs, match_s, build_s = networkx_pairs(req)
            out.compared.append(
                (label, "networkx", ours, objective(nx_pairs, req), match_s, build_s)
            )
    return out


def ms(seconds: float) -> str:
    """Format seconds as milliseconds."""
    return f"{seconds * 1000:7.1f}"


def report_hard(h: Hard) -> bool:
    """Print one scenario's figures; return True if its checks passed."""
    wall, cpu = sorted(h.wall), sorted(h.cpu)
    at95 = min(len(wall) - 1, round(0.95 * (len(wall) - 1)))
    worst = h.wall.index(wall[-1]) + 1
    print(
        f"{h.n:5d} {h.name:11s} {h.rounds} rounds, engine ms/round: median "
        f"{ms(wall[len(wall) // 2])}  p95 {ms(wall[at95])}  max {ms(wall[-1])} (round {worst})"
        f"   CPU median {ms(cpu[len(cpu) // 2])}  max {ms(cpu[-1])}"
    )
    print(f"{'':17s} {dict(h.methods)}; constraint breaks {h.breaks}")
    worse = 0
    for number, by, ours, theirs, match_s, build_s in h.compared:
        worse += (ours[0], -ours[1], -ours[2]) < (theirs[0], -theirs[1], -theirs[2])
        print(
            f"{'':17s} round {number:2d}: engine placed/repeats/counts {ours}   {by:9s} "
            f"{theirs} in {ms(match_s)} ms (+{ms(build_s)} ms to build its graph)"
        )
    if h.compared:
        print(f"{'':17s} rounds where the engine is worse than a baseline: {worse}")
    return h.breaks == 0 and worse == 0


#: (scenario, people) run by ``pairing_bench.py --hard``.
PLAN = [
    ("lead-follow", 1000),
    ("dense-dnp", 1000),
    ("mixed", 1000),
    ("trio-pol", 150),
    ("trio-pol", 200),
    ("trios", 200),
]


def main_hard(rounds: int, with_networkx: bool, names: set[str] | None = None) -> bool:
    """Run the planned scenarios (or those named); return True if every check passed."""
    ok = True
    for name, n in PLAN:
        if names is None or name in names:
            ok &= report_hard(run_hard(name, n, rounds, with_networkx))
    return ok

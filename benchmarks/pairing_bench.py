"""Time the pairing engine over 20 rounds and compare it with networkx's exact matching.

Scenario (fixed seed): n people; 5% file do-not-pair requests naming 1-3 others; mixed
boundaries (15% no touch, 5% avoid eye contact, 12% same-gender and 8% role preferences);
2% sit out each round. Each round feeds its pairs, rests and roles into the next request,
as a live run does. Two exercises: no touch (eye contact soft) and hands.

Baseline: `networkx.max_weight_matching(G, maxcardinality=True)` on the same admissible
graph, with integer weights that encode the engine's lexicographic objective (placed,
then repeats, then past counts, then fair rests). Its time is the matching call alone;
building the graph is reported apart. At 1,000 people it runs on 3 of the 20 rounds.

Every pairing is checked by an independent checker written from the rules. The script
exits 1 if a constraint is broken or if the engine is worse than networkx on any compared
round (fewer placed, or more repeats at equal placed). Timing is reported, not asserted.

    .venv/bin/python benchmarks/pairing_bench.py          # 100, 500 and 1,000 people
    .venv/bin/python benchmarks/pairing_bench.py --quick  # 100 and 200 people, 10 rounds
    .venv/bin/python benchmarks/pairing_bench.py --hard   # adversarial rooms, 45 rounds each

The full run adds three variants at 1,000 people: a scarce role (ten people accept only one
of three "drummers"; networkx on 3 rounds), the `trio` odd policy, and a trio exercise
(no networkx baseline for those two: it cannot express a trio).

`--hard` runs the adversarial rooms of `pairing_hard.py` instead (lead/follow shortage,
dense do-not-pair, 45 rounds of history, the trio policy at 150 and 200, trios at 200), with
rustworkx and networkx as baselines on the same requests.
"""

from __future__ import annotations

import argparse
import gc
import itertools
import os
import random
import statistics
import sys
import time
from collections import Counter
from dataclasses import dataclass, field

import networkx as nx  # type: ignore[import-untyped]
import rustworkx as rx

from facilitation.exercises.engine.pairing import pair_round
from facilitation.exercises.engine.pairing_types import (
    Boundaries,
    Contact,
    ExerciseNeeds,
    EyeContact,
    Grouping,
    OddPolicy,
    Pairing,
    PairingRequest,
    Participant,
    PartnerPreference,
    PreferenceKind,
    RestReason,
    Role,
    pair_key,
)

ENGINE_RESTS = {RestReason.ODD_REST, RestReason.NO_CLEAN_TRIO, RestReason.NO_COMPATIBLE_PARTNER}


def scenario(
    n: int, seed: int, scarce: bool = False
) -> tuple[tuple[Participant, ...], list[tuple[int, int]]]:
    """Return n participants with mixed boundaries and their do-not-pair requests.

    With `scarce`, people 1-10 only accept a "drummer" and only people 11-13 are drummers.
    """
    rng = random.Random(seed)
    people = []
    for pid in range(1, n + 1):
        gender = rng.choices(["f", "m", "nb", None], [45, 45, 7, 3])[0]
        role = rng.choices(["lead", "follow", None], [20, 20, 60])[0]
        draw = rng.random()
        if draw < 0.80 or (draw < 0.92 and gender is None):
            pref = PartnerPreference()
        elif draw < 0.92:
            pref = PartnerPreference(PreferenceKind.SAME_GENDER)
        else:
            pref = PartnerPreference(PreferenceKind.ROLE, rng.choice(["lead", "follow"]))
        touch = rng.choices(list(Contact), [15, 45, 40])[0]
        eyes = rng.choices(list(EyeContact), [5, 15, 80])[0]
        if scarce and pid <= 10:
            pref = PartnerPreference(PreferenceKind.ROLE, "drummer")
        if scarce and 10 < pid <= 13:
            role = "drummer"
        people.append(Participant(pid, Boundaries(touch, eyes, pref), gender, role))
    blocks = []
    for asker in rng.sample(range(1, n + 1), n // 20):
        for other in rng.sample(range(1, n + 1), rng.randint(1, 3)):
            if other != asker:
                blocks.append((asker, other))
    return tuple(people), blocks


# -- independent checker ------------------------------------------------------------------------


def fits(p: Participant, req: PairingRequest) -> bool:
    """Return whether p may be grouped at all in this round."""
    return (
        p.id not in req.ineligible
        and p.boundaries.contact >= req.exercise.contact
        and p.boundaries.eye_contact >= req.exercise.eye_contact
    )


def allowed(a: Participant, b: Participant, req: PairingRequest) -> bool:
    """Return whether the rules allow a and b together (written apart from the engine)."""

    def wants(x: Participant, y: Participant) -> bool:
        pref = x.boundaries.preference
        if pref.kind is PreferenceKind.SAME_GENDER:
            return x.gender is not None and x.gender == y.gender
        if pref.kind is PreferenceKind.ROLE:
            return y.pairing_role == pref.role
        return True

    return (
        a.id != b.id
        and fits(a, req)
        and fits(b, req)
        and wants(a, b)
        and wants(b, a)
        and (a.id, b.id) not in req.do_not_pair
        and (b.id, a.id) not in req.do_not_pair
    )


def breaks(result: Pairing, req: PairingRequest, everyone: dict[int, Participant]) -> int:
    """Count broken rules: forbidden pairs, people placed twice, people lost."""
    found = 0
    seen: Counter[int] = Counter()
    for group in result.groups:
        seen.update(group.person_ids)
        for a, b in itertools.combinations(group.person_ids, 2):
            found += not allowed(everyone[a], everyone[b], req)
    seen.update(r.person_id for r in result.resting)
    found += sum(count - 1 for count in seen.values() if count > 1)
    found += len(set(everyone) ^ set(seen))
    return found


def objective(groups: list[tuple[int, ...]], req: PairingRequest) -> tuple[int, int, int]:
    """Return (placed, repeated partnerships, total past count) of a grouping."""
    repeats = counts = 0
    for group in groups:
        for a, b in itertools.combinations(group, 2):
            c = req.history.get(pair_key(a, b), 0)
            repeats += c > 0
            counts += c
    return sum(len(g) for g in groups), repeats, counts


# -- baseline -------------------------------------------------------------------------------------


def networkx_pairs(req: PairingRequest) -> tuple[list[tuple[int, ...]], float, float]:
    """Return networkx's optimum, its matching time and the graph-building time."""
    start = time.perf_counter()
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
    graph = nx.Graph()
    graph.add_nodes_from(value)
    for a, b in itertools.combinations(pool, 2):
        if allowed(a, b, req):
            c = req.history.get(pair_key(a.id, b.id), 0)
            penalty = 2 * (per_repeat + c * per_count) if c else 0
            graph.add_edge(a.id, b.id, weight=value[a.id] + value[b.id] - penalty)
    built = time.perf_counter()
    matching = nx.max_weight_matching(graph, maxcardinality=True)
    done = time.perf_counter()
    return [tuple(pair) for pair in matching], done - built, built - start


# -- the run ---------------------------------------------------------------------------------


@dataclass
class Figures:
    """What one size and exercise measured."""

    times: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)
    methods: Counter[str] = field(default_factory=Counter)
    breaks: int = 0
    repeats: int = 0
    placed: int = 0
    gc_passes: int = 0
    compared: list[tuple[int, tuple[int, int, int], tuple[int, int, int], float, float]] = field(
        default_factory=list
    )


def run(
    n: int,
    rounds: int,
    exercise: ExerciseNeeds,
    nx_rounds: set[int],
    policy: OddPolicy = OddPolicy.REST,
    scarce: bool = False,
) -> Figures:
    """Run the engine for `rounds` rounds, then networkx on the chosen rounds."""
    people, blocks = scenario(n, seed=20_26, scarce=scarce)
    everyone = {p.id: p for p in people}
    rng = random.Random(7)
    history: Counter[tuple[int, int]] = Counter()
    rests: Counter[int] = Counter()
    roles: dict[int, Counter[Role]] = {}
    figures = Figures()
    kept: dict[int, tuple[PairingRequest, Pairing]] = {}
    passes = [0]

    def count_passes(phase: str, info: dict[str, int]) -> None:
        if phase == "start" and info["generation"] == 2:
            passes[0] += 1

    gc.collect()
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
        gc.callbacks.append(count_passes)
        start, start_cpu = time.perf_counter(), time.process_time()
        result = pair_round(req)
        figures.times.append(time.perf_counter() - start)
        figures.cpu.append(time.process_time() - start_cpu)
        gc.callbacks.remove(count_passes)
        figures.methods[result.method.value] += 1
        figures.breaks += breaks(result, req, everyone)
        figures.repeats += result.repeats
        figures.placed += sum(len(g.members) for g in result.groups)
        for group in result.groups:
            history.update(pair_key(a, b) for a, b in itertools.combinations(group.person_ids, 2))
            for member in group.members:
                roles.setdefault(member.person_id, Counter())[member.role] += 1
        rests.update(r.person_id for r in result.resting if r.reason in ENGINE_RESTS)
        if number in nx_rounds:
            kept[number] = (req, result)
    figures.gc_passes = passes[0]
    for number, (req, result) in sorted(kept.items()):
        theirs, match_s, build_s = networkx_pairs(req)
        ours = objective([g.person_ids for g in result.groups], req)
        figures.compared.append((number, ours, objective(theirs, req), match_s, build_s))
    return figures


def ms(seconds: float) -> str:
    """Format seconds as milliseconds."""
    return f"{seconds * 1000:8.1f}"


def report(n: int, label: str, f: Figures, rounds: int) -> bool:
    """Print one block of figures; return True if the correctness checks passed."""
    t, cpu = sorted(f.times), sorted(f.cpu)
    at95 = min(len(t) - 1, round(0.95 * (len(t) - 1)))
    print(
        f"{n:5d} {label:9s} engine ms/round: median {ms(statistics.median(t))}  "
        f"p95 {ms(t[at95])}  max {ms(t[-1])}   (CPU: median {ms(statistics.median(cpu))}  "
        f"max {ms(cpu[-1])})"
    )
    print(f"{'':15s} {dict(f.methods)}; {f.gc_passes} gen-2 GC pass(es) inside timed calls")
    print(
        f"{'':15s} {rounds} rounds: constraint breaks {f.breaks}, placed {f.placed}, "
        f"repeated partnerships {f.repeats}"
    )
    worse = 0
    for number, ours, theirs, match_s, build_s in f.compared:
        worse += (ours[0], -ours[1]) < (theirs[0], -theirs[1])
        print(
            f"{'':15s} round {number:2d}: engine placed/repeats/counts {ours}   networkx "
            f"{theirs} in {ms(match_s)} ms (+{ms(build_s)} ms to build the graph)"
        )
    if f.compared:
        nx_median = statistics.median(c[3] for c in f.compared)
        print(
            f"{'':15s} networkx median {ms(nx_median)} ms on {len(f.compared)} of {rounds} "
            f"rounds; engine is {nx_median / statistics.median(t):.0f}x faster; "
            f"rounds where the engine is worse: {worse}"
        )
    return f.breaks == 0 and worse == 0


def main() -> int:
    """Run the benchmark; return the exit status."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="100 and 200 people, 10 rounds")
    parser.add_argument(
        "--hard", action="store_true", help="only the adversarial rooms (pairing_hard.py)"
    )
    parser.add_argument("--rounds", type=int, default=45, help="rounds per adversarial room")
    parser.add_argument("--only", help="comma-separated adversarial rooms to run")
    parser.add_argument(
        "--no-networkx", action="store_true", help="adversarial rooms: rustworkx baseline only"
    )
    args = parser.parse_args()
    if args.hard:
        from pairing_hard import main_hard

        print(
            f"pairing engine, adversarial rooms, vs rustworkx {rx.__version__} and networkx "
            f"{nx.__version__}; python {sys.version.split()[0]}; {os.cpu_count()} CPUs; "
            f"load average {os.getloadavg()[0]:.2f}"
        )
        names = set(args.only.split(",")) if args.only else None
        ok = main_hard(args.rounds, not args.no_networkx, names)
        print(f"load average at the end {os.getloadavg()[0]:.2f}")
        print("OK" if ok else "FAILED: constraint break, or worse than a baseline")
        return 0 if ok else 1
    if args.quick:
        plan = [(100, 10, set(range(1, 11))), (200, 10, {1, 5, 10})]
    else:
        plan = [(100, 20, set(range(1, 21))), (500, 20, {1, 10, 20}), (1000, 20, {1, 10, 20})]
    exercises = [
        ("no-touch", ExerciseNeeds(Contact.NONE, EyeContact.SOFT)),
        ("hands", ExerciseNeeds(Contact.HANDS, EyeContact.SOFT)),
    ]
    print(
        f"pairing engine vs networkx.max_weight_matching {nx.__version__}; "
        f"python {sys.version.split()[0]}; {os.cpu_count()} CPUs; "
        f"load average {os.getloadavg()[0]:.2f}"
    )
    ok = True
    for n, rounds, nx_rounds in plan:
        for label, exercise in exercises:
            ok &= report(n, label, run(n, rounds, exercise, nx_rounds), rounds)
    if not args.quick:
        print("variants at 1,000 people (no touch), 20 rounds:")
        no_touch = exercises[0][1]
        trios = ExerciseNeeds(Contact.NONE, EyeContact.SOFT, Grouping.TRIOS)
        variants = [
            ("scarce", run(1000, 20, no_touch, {1, 10, 20}, scarce=True)),
            ("trio-pol", run(1000, 20, no_touch, set(), policy=OddPolicy.TRIO)),
            ("trios", run(1000, 20, trios, set())),
        ]
        for label, figures in variants:
            ok &= report(1000, label, figures, 20)
    print(f"load average at the end {os.getloadavg()[0]:.2f}")
    print("OK" if ok else "FAILED: constraint break, or worse than the baseline")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

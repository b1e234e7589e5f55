"""The exact fallback runs in native code (rustworkx), and agrees with the pure matcher."""

from __future__ import annotations

import random

import rustworkx as rx

from facilitation.exercises.engine import matching, native_matching
from facilitation.exercises.engine.objective import Objective
from facilitation.exercises.engine.pair_solver import exact_pairs
from facilitation.exercises.engine.pairing_graph import CompatGraph
from facilitation.exercises.engine.pairing_types import (
    Boundaries,
    Contact,
    EyeContact,
    Participant,
    PartnerPreference,
    PreferenceKind,
)
from facilitation.exercises.engine.weighted_matching import max_weight_matching as pure
from tests.exercises.engine.test_pairing_properties import matching_weight


def lead_follow_room(n: int) -> tuple[Participant, ...]:
    """Return n people: 55% leads who accept only follows, the rest follows who accept leads."""
    leads = int(n * 0.55)
    return tuple(
        Participant(
            pid,
            Boundaries(
                Contact.HANDS,
                EyeContact.FULL,
                PartnerPreference(PreferenceKind.ROLE, "follow" if pid <= leads else "lead"),
            ),
            pairing_role="lead" if pid <= leads else "follow",
        )
        for pid in range(1, n + 1)
    )


def test_the_exact_fallback_is_solved_by_rustworkx(monkeypatch) -> None:
    calls: list[int] = []
    real = rx.max_weight_matching

    def counting(graph, **kwargs):  # type: ignore[no-untyped-def]
        calls.append(graph.num_nodes())
        return real(graph, **kwargs)

    monkeypatch.setattr(rx, "max_weight_matching", counting)
    people = lead_follow_room(60)
    g = CompatGraph(people, (), {(1, 34): 1, (2, 35): 2})
    obj = Objective(g, [True] * g.n, [0] * g.n, random.Random(1))

    pairs = exact_pairs(g, obj, random.Random(2), range(g.n))

    assert calls == [60]
    assert len(pairs) == 27 and all(g.count(u, v) == 0 for u, v in pairs)


def test_native_and_pure_matchers_agree_on_random_graphs() -> None:
    rng = random.Random(16)
    for _ in range(80):
        n = rng.randint(2, 40)
        density = rng.random()
        edges = [
            (i, j, rng.randint(1, rng.choice([3, 10**6, 2**90])))
            for i in range(n)
            for j in range(i + 1, n)
            if rng.random() < density
        ]

        ours = matching_weight(native_matching.max_weight_matching(n, edges), edges)

        assert ours == matching_weight(pure(n, edges), edges)


def test_weights_past_128_bits_go_to_the_pure_matcher(monkeypatch) -> None:
    def refuse(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise AssertionError("rustworkx cannot hold these weights")

    monkeypatch.setattr(rx, "max_weight_matching", refuse)
    big = native_matching.NATIVE_LIMIT
    edges = [(0, 1, big), (1, 2, big + 5), (2, 3, big)]

    assert native_matching.max_weight_matching(4, edges) == [1, 0, 3, 2]


def test_a_pass_of_repairs_stops_searching_once_searches_give_up(monkeypatch) -> None:
    people = lead_follow_room(200)
    g = CompatGraph(people, (), {})
    mate = [matching.UNMATCHED] * g.n
    follows = [v for v in range(g.n) if people[v].pairing_role == "follow"]
    leads = [v for v in range(g.n) if people[v].pairing_role == "lead"]
    for lead, follow in zip(leads, follows, strict=False):
        mate[lead], mate[follow] = follow, lead
    loose = [v for v in leads if mate[v] == matching.UNMATCHED]
    searched: list[int] = []
    real = matching.search

    def counting(*args, **kwargs):  # type: ignore[no-untyped-def]
        searched.append(args[2])
        return real(*args, **kwargs)

    monkeypatch.setattr(matching, "search", counting)

    failed = matching.maximise(g, mate, loose, [True] * g.n, fresh_only=False, budget=500)

    assert failed == loose  # no lead can be placed: every follow is taken
    assert len(searched) == matching.GIVE_UPS < len(loose)

"""Leads who accept only follows and follows who accept only leads, more leads than follows.

The two-sided shortage certificate must give networkx's optimum (placed, repeats, their
counts, fair rests) round after round, as history and rests pile up.
"""

from __future__ import annotations

import random

from facilitation.exercises.engine import pair_solver
from facilitation.exercises.engine.pairing import pair_round
from facilitation.exercises.engine.pairing_types import (
    Boundaries,
    Contact,
    ExerciseNeeds,
    EyeContact,
    OddPolicy,
    PairingRequest,
    Participant,
    PartnerPreference,
    PreferenceKind,
    RestReason,
    SolveMethod,
)
from tests.exercises.engine.test_pairing_properties import (
    groups_of,
    key,
    networkx_groups,
    remember,
)


def two_sided_room(rng: random.Random, n: int) -> tuple[Participant, ...]:
    """Return n people, about 55% leads, with genders (so several types on each side)."""
    people = []
    for pid in range(1, n + 1):
        lead = rng.random() < 0.55
        wants = PartnerPreference(PreferenceKind.ROLE, "follow" if lead else "lead")
        people.append(
            Participant(
                pid,
                Boundaries(Contact.HANDS, EyeContact.FULL, wants),
                gender=rng.choice(["f", "m", None]),
                pairing_role="lead" if lead else "follow",
            )
        )
    return tuple(people)


def test_a_lead_follow_shortage_matches_networkx_round_after_round(monkeypatch) -> None:
    proved: list[bool] = []
    real = pair_solver.certify_two_sided_shortage

    def spy(*args):  # type: ignore[no-untyped-def]
        proved.append(real(*args))
        return proved[-1]

    monkeypatch.setattr(pair_solver, "certify_two_sided_shortage", spy)
    rng = random.Random(55)
    room = two_sided_room(rng, 70)
    blocks = [(rng.randint(1, 70), rng.randint(1, 70)) for _ in range(25)]
    history: dict[tuple[int, int], int] = {}
    rests: dict[int, int] = {}
    methods = []
    for round_number in range(1, 31):
        req = PairingRequest(
            participants=room,
            exercise=ExerciseNeeds(contact=Contact.HANDS),
            seed=9,
            round_number=round_number,
            odd_policy=OddPolicy.REST,
            ineligible={pid: RestReason.SITTING_OUT for pid in rng.sample(range(1, 71), 2)},
            do_not_pair=blocks,
            history=dict(history),
            past_rests=dict(rests),
        )
        result = pair_round(req)
        methods.append(result.method)

        assert key(groups_of(result), req) == key(networkx_groups(req), req), round_number
        remember(result, history, rests)
    assert methods.count(SolveMethod.CERTIFIED) >= 20
    assert proved.count(True) >= 20  # by this certificate, not the kernel's

"""Example tests of the pure pairing engine."""

from __future__ import annotations

import itertools
import random
from collections import Counter
from dataclasses import replace

import pytest

from facilitation.exercises.engine.barrier import certify_forced_repeats
from facilitation.exercises.engine.objective import Objective
from facilitation.exercises.engine.pairing import can_pair, pair_blocker, pair_round
from facilitation.exercises.engine.pairing_graph import CompatGraph
from facilitation.exercises.engine.pairing_types import (
    Boundaries,
    Contact,
    ExerciseNeeds,
    EyeContact,
    Grouping,
    OddPolicy,
    PairBlock,
    Pairing,
    PairingError,
    PairingRequest,
    Participant,
    PartnerPreference,
    PreferenceKind,
    RestReason,
    Role,
    SolveMethod,
    pair_key,
)

NEEDS = ExerciseNeeds()
SAME_GENDER = PartnerPreference(PreferenceKind.SAME_GENDER)


def people(n: int, **boundaries: object) -> tuple[Participant, ...]:
    """Return participants 1..n with the given boundaries (conservative defaults)."""
    return tuple(Participant(i, Boundaries(**boundaries)) for i in range(1, n + 1))  # type: ignore[arg-type]


def request(participants: tuple[Participant, ...], **changes: object) -> PairingRequest:
    """Return a pair-exercise request for round 1 with seed 7, changed as asked."""
    base = PairingRequest(participants, NEEDS, seed=7, round_number=1)
    return replace(base, **changes)  # type: ignore[arg-type]


def placed(result: Pairing) -> list[int]:
    """Return everyone in a group, with repeats if someone were placed twice."""
    return [pid for group in result.groups for pid in group.person_ids]


def pairs_of(result: Pairing) -> set[tuple[int, int]]:
    """Return every unordered pair of people grouped together."""
    return {
        pair_key(a, b) for g in result.groups for a, b in itertools.combinations(g.person_ids, 2)
    }


def resting(result: Pairing) -> dict[int, RestReason]:
    """Return who rests and why."""
    return {r.person_id: r.reason for r in result.resting}


def feed(history: Counter[tuple[int, int]], rests: Counter[int], result: Pairing) -> None:
    """Add a round's pairs to the history and its engine-imposed rests to the rest counts."""
    history.update(pairs_of(result))
    rests.update(r.person_id for r in result.resting if r.reason in (RestReason.ODD_REST,))


def test_even_group_is_fully_paired() -> None:
    result = pair_round(request(people(6)))

    assert sorted(placed(result)) == [1, 2, 3, 4, 5, 6]
    assert [len(g.members) for g in result.groups] == [2, 2, 2]
    assert result.resting == ()
    assert result.repeats == 0
    assert result.method is SolveMethod.CERTIFIED


def test_odd_group_under_rest_policy_rests_one_person() -> None:
    result = pair_round(request(people(7)))

    assert len(placed(result)) == 6 == len(set(placed(result)))
    assert list(resting(result).values()) == [RestReason.ODD_REST]


def test_do_not_pair_is_honoured_both_ways_for_every_seed() -> None:
    group = people(4)
    for seed in range(30):
        result = pair_round(request(group, seed=seed, do_not_pair=[(1, 2), (4, 3)]))

        assert pairs_of(result) in ({(1, 3), (2, 4)}, {(1, 4), (2, 3)})


def test_do_not_pair_leaves_both_resting_when_they_are_the_only_two() -> None:
    result = pair_round(request(people(2), do_not_pair=[(2, 1)]))

    assert result.groups == ()
    assert resting(result) == {
        1: RestReason.NO_COMPATIBLE_PARTNER,
        2: RestReason.NO_COMPATIBLE_PARTNER,
    }


def test_touch_below_the_exercise_rests_the_person() -> None:
    group = (*people(4, contact=Contact.HUGS), Participant(5, Boundaries(Contact.NONE)))
    result = pair_round(request(group, exercise=ExerciseNeeds(contact=Contact.HANDS)))

    assert resting(result) == {5: RestReason.BOUNDARIES_EXCLUDE_EXERCISE}
    assert sorted(placed(result)) == [1, 2, 3, 4]


def test_eye_contact_below_the_exercise_rests_the_person() -> None:
    group = (
        *people(2, eye_contact=EyeContact.FULL),
        Participant(3, Boundaries(eye_contact=EyeContact.SOFT)),
    )
    result = pair_round(request(group, exercise=ExerciseNeeds(eye_contact=EyeContact.FULL)))

    assert pairs_of(result) == {(1, 2)}
    assert resting(result) == {3: RestReason.BOUNDARIES_EXCLUDE_EXERCISE}


def test_same_gender_preference_pairs_only_within_the_gender() -> None:
    prefers = Boundaries(preference=SAME_GENDER)
    group = (
        Participant(1, prefers, gender="woman"),
        Participant(2, gender="man"),
        Participant(3, gender="Woman "),
        Participant(4, gender="man"),
    )
    for seed in range(20):
        assert (1, 3) in pairs_of(pair_round(request(group, seed=seed)))


def test_same_gender_preference_needs_both_genders_known() -> None:
    group = (Participant(1, Boundaries(preference=SAME_GENDER)), Participant(2))

    result = pair_round(request(group))

    assert result.groups == ()
    assert pair_blocker(group[0], group[1], NEEDS) is PairBlock.PREFERENCE


def test_role_preference_pairs_with_that_self_chosen_role() -> None:
    wants = Boundaries(preference=PartnerPreference.parse("role:listener"))
    group = (
        Participant(1, wants),
        Participant(2, pairing_role="speaker"),
        Participant(3, pairing_role="Listener"),
        Participant(4),
    )
    for seed in range(20):
        assert (1, 3) in pairs_of(pair_round(request(group, seed=seed)))


def test_one_sided_preference_still_blocks_the_pair() -> None:
    picky = Participant(1, Boundaries(preference=SAME_GENDER), gender="woman")
    easy = Participant(2, gender="man")

    assert not can_pair(picky, easy, NEEDS)
    assert not can_pair(easy, picky, NEEDS)
    assert pair_round(request((picky, easy))).groups == ()


def test_pair_blocker_names_each_reason() -> None:
    a, b = Participant(1), Participant(2)
    hands = ExerciseNeeds(contact=Contact.HANDS)

    assert pair_blocker(a, a, NEEDS) is PairBlock.SAME_PERSON
    assert pair_blocker(a, b, NEEDS, ineligible={2}) is PairBlock.INELIGIBLE
    assert pair_blocker(a, b, hands) is PairBlock.BOUNDARIES
    assert pair_blocker(a, b, NEEDS, do_not_pair={(2, 1)}) is PairBlock.DO_NOT_PAIR
    assert pair_blocker(a, b, NEEDS) is None


def test_ineligible_people_rest_with_the_reason_given() -> None:
    reasons = {
        1: RestReason.SITTING_OUT,
        2: RestReason.CONSENT_WITHDRAWN,
        3: RestReason.BANNED,
        4: RestReason.AGREEMENTS_MISSING,
        99: RestReason.NOT_CHECKED_IN,  # not among the participants at all
    }
    result = pair_round(request(people(8), ineligible=reasons))

    assert resting(result) == reasons
    assert sorted(placed(result)) == [5, 6, 7, 8]


def test_trio_policy_absorbs_the_odd_one_out() -> None:
    result = pair_round(request(people(7), odd_policy=OddPolicy.TRIO))

    assert sorted(len(g.members) for g in result.groups) == [2, 2, 3]
    assert sorted(placed(result)) == list(range(1, 8))
    trio = next(g for g in result.groups if len(g.members) == 3)
    assert [m.role for m in trio.members] == [Role.A, Role.B, Role.C]


def test_trio_policy_prefers_a_trio_without_repeated_partners() -> None:
    # 7 is the one to absorb (fewest rests) and has met everyone but 5 and 6 before.
    history = {(7, 1): 1, (7, 2): 1, (7, 3): 1, (7, 4): 1}
    rests = {p: 1 for p in range(1, 7)}
    for seed in range(20):
        result = pair_round(
            request(
                people(7), seed=seed, odd_policy=OddPolicy.TRIO, history=history, past_rests=rests
            )
        )

        assert result.repeats == 0
        assert sorted(placed(result)) == list(range(1, 8))


def test_trio_policy_without_a_clean_trio_rests_someone() -> None:
    # 1-2 and 2-3 may pair, 1-3 may not: no trio is admissible.
    result = pair_round(request(people(3), odd_policy=OddPolicy.TRIO, do_not_pair=[(1, 3)]))

    assert len(result.groups) == 1
    assert list(resting(result).values()) == [RestReason.NO_CLEAN_TRIO]


def test_rest_rotation_is_fair_over_rounds() -> None:
    group = people(7)
    history: Counter[tuple[int, int]] = Counter()
    rests: Counter[int] = Counter()
    for round_number in range(1, 15):
        result = pair_round(
            request(group, round_number=round_number, history=history, past_rests=rests)
        )
        feed(history, rests, result)
        counts = [rests[p.id] for p in group]

        assert max(counts) - min(counts) <= 1, f"round {round_number}: {counts}"
    assert all(rests[p.id] == 2 for p in group)


def test_facilitator_steps_in_for_an_odd_count() -> None:
    helper = Participant(100)
    result = pair_round(request(people(5), odd_policy=OddPolicy.FACILITATOR, facilitator=helper))

    assert sorted(placed(result)) == [1, 2, 3, 4, 5, 100]
    assert result.resting == ()


def test_facilitator_is_not_used_for_an_even_count() -> None:
    helper = Participant(100)
    result = pair_round(request(people(6), odd_policy=OddPolicy.FACILITATOR, facilitator=helper))

    assert 100 not in placed(result)
    assert result.resting == ()


def test_facilitator_obeys_hard_constraints() -> None:
    helper = Participant(100)
    for seed in range(20):
        result = pair_round(
            request(
                people(3),
                seed=seed,
                odd_policy=OddPolicy.FACILITATOR,
                facilitator=helper,
                do_not_pair=[(3, 100)],
            )
        )

        assert (3, 100) not in pairs_of(result)
        assert sorted(placed(result)) == [1, 2, 3, 100]


def test_facilitator_whose_boundaries_exclude_the_exercise_does_not_step_in() -> None:
    group = people(3, contact=Contact.HANDS)
    result = pair_round(
        request(
            group,
            exercise=ExerciseNeeds(contact=Contact.HANDS),
            odd_policy=OddPolicy.FACILITATOR,
            facilitator=Participant(100),
        )
    )

    assert 100 not in placed(result)
    assert list(resting(result).values()) == [RestReason.ODD_REST]


def test_spots_follow_the_smallest_member_id_and_roles_are_a_b() -> None:
    result = pair_round(request(people(10)))

    assert [g.spot for g in result.groups] == [1, 2, 3, 4, 5]
    firsts = [min(g.person_ids) for g in result.groups]
    assert firsts == sorted(firsts)
    assert all([m.role for m in g.members] == [Role.A, Role.B] for g in result.groups)


def test_whoever_was_b_more_often_becomes_a() -> None:
    counts = {1: {Role.B: 1}, 2: {Role.A: 1}}
    for seed in range(10):
        result = pair_round(request(people(2), seed=seed, role_counts=counts))

        assert result.groups[0].members[0].person_id == 1


def test_repeats_are_avoided_when_a_fresh_pairing_exists() -> None:
    history = {(1, 2): 1, (3, 4): 1, (5, 6): 1, (1, 3): 2}
    for seed in range(20):
        result = pair_round(request(people(6), seed=seed, history=history))

        assert result.repeats == 0
        assert not pairs_of(result) & set(history)


def test_forced_repeat_uses_the_least_repeated_pair() -> None:
    # 1 may only pair with 2 or 3 (others asked not to); both were partners before.
    history = {(1, 2): 3, (1, 3): 1}
    result = pair_round(request(people(4), history=history, do_not_pair=[(1, 4)]))

    assert (1, 3) in pairs_of(result)
    assert result.repeats == 1


def test_scarce_role_rests_the_surplus_with_no_compatible_partner() -> None:
    wants = Boundaries(preference=PartnerPreference(PreferenceKind.ROLE, "drummer"))
    group = (
        Participant(1, wants),
        Participant(2, wants),
        Participant(3, wants),
        Participant(4, pairing_role="drummer"),
        Participant(5),
        Participant(6),
    )
    result = pair_round(request(group))

    assert resting(result) == {
        p: RestReason.NO_COMPATIBLE_PARTNER for p in {1, 2, 3} - set(placed(result))
    }
    assert len(placed(result)) == 4


def drummer_room(n: int, seekers: int, drummers: int) -> tuple[Participant, ...]:
    """Return n people of whom `seekers` only want one of the `drummers`."""
    wants = Boundaries(preference=PartnerPreference(PreferenceKind.ROLE, "drummer"))
    room = [Participant(i, wants) for i in range(1, seekers + 1)]
    room += [
        Participant(i, pairing_role="drummer") for i in range(seekers + 1, seekers + drummers + 1)
    ]
    room += [Participant(i) for i in range(seekers + drummers + 1, n + 1)]
    return tuple(room)


def test_scarce_partners_rotate_fairly_and_are_certified_without_exact_search() -> None:
    room = drummer_room(60, seekers=6, drummers=2)
    history: Counter[tuple[int, int]] = Counter()
    rests: Counter[int] = Counter()
    for round_number in range(1, 4):
        result = pair_round(
            request(room, round_number=round_number, history=history, past_rests=rests)
        )
        history.update(pairs_of(result))
        rests.update(
            r.person_id for r in result.resting if r.reason is RestReason.NO_COMPATIBLE_PARTNER
        )

        assert result.method is SolveMethod.CERTIFIED
        assert result.repeats == 0
    assert [rests[p] for p in range(1, 7)] == [2] * 6


def test_a_forced_repeat_is_certified_when_the_count_is_even() -> None:
    room = drummer_room(20, seekers=1, drummers=2)
    result = pair_round(request(room, history={(1, 2): 1, (1, 3): 1}))

    assert result.partners_of(1) in ((2,), (3,))
    assert result.repeats == 1
    assert result.method is SolveMethod.CERTIFIED


def test_a_repeat_is_avoided_by_resting_the_one_who_would_need_it() -> None:
    room = drummer_room(21, seekers=1, drummers=2)
    result = pair_round(request(room, history={(1, 2): 1, (1, 3): 1}))

    assert resting(result) == {1: RestReason.ODD_REST}
    assert result.repeats == 0


def test_forced_repeat_certificate_refuses_a_needlessly_frequent_repeat() -> None:
    # Person 1 must repeat; with drummer 3 (met once) rather than 2 (met twice), 4 takes 2.
    room = drummer_room(6, seekers=1, drummers=2)
    g = CompatGraph(room, [], {(1, 2): 2, (1, 3): 1})
    obj = Objective(g, [True] * 6, [0] * 6, random.Random(0))
    mate = [1, 0, 3, 2, 5, 4]  # vertices 0-5 are people 1-6: 1 with 2, 3 with 4, 5 with 6

    assert not certify_forced_repeats(g, obj, range(6), mate)
    assert certify_forced_repeats(g, obj, range(6), [2, 3, 0, 1, 5, 4])


def test_same_request_gives_the_same_pairing_whatever_the_input_order() -> None:
    group = people(31)
    first = pair_round(request(group, history={(1, 2): 1}))

    assert pair_round(request(group, history={(1, 2): 1})) == first
    assert pair_round(request(tuple(reversed(group)), history={(2, 1): 1})) == first


def test_seed_and_round_number_vary_the_pairing() -> None:
    group = people(40)
    baseline = pairs_of(pair_round(request(group)))

    assert pairs_of(pair_round(request(group, seed=8))) != baseline
    assert pairs_of(pair_round(request(group, round_number=2))) != baseline


def test_trios_grouping_forms_trios() -> None:
    trios = ExerciseNeeds(grouping=Grouping.TRIOS)
    result = pair_round(request(people(9), exercise=trios))

    assert [len(g.members) for g in result.groups] == [3, 3, 3]
    assert all([m.role for m in g.members] == [Role.A, Role.B, Role.C] for g in result.groups)


@pytest.mark.parametrize(
    ("n", "policy", "sizes", "rests"),
    [
        (11, OddPolicy.REST, [2, 3, 3, 3], 0),
        (10, OddPolicy.REST, [3, 3, 3], 1),
        (10, OddPolicy.TRIO, [2, 2, 3, 3], 0),
        (10, OddPolicy.FACILITATOR, [2, 3, 3, 3], 0),
    ],
)
def test_trios_grouping_handles_the_remainder_per_policy(
    n: int, policy: OddPolicy, sizes: list[int], rests: int
) -> None:
    trios = ExerciseNeeds(grouping=Grouping.TRIOS)
    result = pair_round(
        request(people(n), exercise=trios, odd_policy=policy, facilitator=Participant(100))
    )

    assert sorted(len(g.members) for g in result.groups) == sizes
    assert len(result.resting) == rests
    assert result.optimal


def test_trios_grouping_pairs_the_one_who_fits_no_trio() -> None:
    # Nobody may be with person 1 except 2; 1 and 2 can only be a pair.
    trios = ExerciseNeeds(grouping=Grouping.TRIOS)
    blocks = [(1, p) for p in range(3, 9)]
    result = pair_round(request(people(8), exercise=trios, do_not_pair=blocks))

    assert sorted(len(g.members) for g in result.groups) == [2, 3, 3]
    assert (1, 2) in pairs_of(result)
    assert result.optimal


def test_duplicate_participants_are_refused() -> None:
    with pytest.raises(PairingError) as caught:
        pair_round(request((Participant(1), Participant(1))))

    assert caught.value.code == "duplicate_participant"


def test_preference_text_round_trips_and_rejects_nonsense() -> None:
    for text in ("any", "same_gender", "role:listener"):
        assert str(PartnerPreference.parse(text)) == text
    with pytest.raises(PairingError):
        PartnerPreference.parse("tall")
    with pytest.raises(PairingError):
        PartnerPreference.parse("role:")

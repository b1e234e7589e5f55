"""Value types of the pairing engine: boundaries, the pairing request and its result.

Everything here is a frozen value; the engine takes a `PairingRequest` and returns a
`Pairing`. Nothing here touches Flask, SQLAlchemy or the clock.

Ordered levels (`Contact`, `EyeContact`) compare by value, so "admits" is `>=`. Store them by
name so that a new level can later be inserted by renumbering, without a data migration.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from enum import IntEnum, StrEnum

#: Pure core: no framework import, here or in what it imports (tests/core/test_pure_core.py).
__pure__ = True

PersonId = int


class PairingError(ValueError):
    """Reject a malformed pairing request; `.code` names the problem."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


class Contact(IntEnum):
    """Touch a person accepts, or an exercise needs; higher admits lower."""

    NONE = 0
    HANDS = 1
    HUGS = 2


class EyeContact(IntEnum):
    """Eye contact a person is comfortable with, or an exercise needs."""

    NONE = 0  #: avoid eye contact
    SOFT = 1
    FULL = 2


class PreferenceKind(StrEnum):
    """Who a person is willing to be paired with."""

    ANY = "any"
    SAME_GENDER = "same_gender"
    ROLE = "role"


def normalise_label(text: str | None) -> str | None:
    """Normalise a self-described gender or pairing role (trimmed, case-folded; "" is None)."""
    if text is None:
        return None
    text = text.strip().casefold()
    return text or None


@dataclass(frozen=True, slots=True)
class PartnerPreference:
    """A partner preference: `any`, `same_gender`, or `role:<name>`."""

    kind: PreferenceKind = PreferenceKind.ANY
    role: str | None = None

    def __post_init__(self) -> None:
        if (self.kind is PreferenceKind.ROLE) != (normalise_label(self.role) is not None):
            raise PairingError("bad_preference", "a role preference needs a role name, only it")

    @classmethod
    def parse(cls, text: str) -> PartnerPreference:
        """Parse `any`, `same_gender` or `role:<name>`."""
        head, _, rest = text.strip().partition(":")
        if head == PreferenceKind.ROLE:
            return cls(PreferenceKind.ROLE, rest.strip())
        if rest or head not in (PreferenceKind.ANY, PreferenceKind.SAME_GENDER):
            raise PairingError("bad_preference", f"unknown partner preference {text!r}")
        return cls(PreferenceKind(head))

    def __str__(self) -> str:
        return f"role:{self.role}" if self.kind is PreferenceKind.ROLE else self.kind.value

    def admits(self, own_gender: str | None, other: Participant) -> bool:
        """Return whether this preference (of someone of `own_gender`) admits `other`."""
        if self.kind is PreferenceKind.ANY:
            return True
        if self.kind is PreferenceKind.SAME_GENDER:
            mine = normalise_label(own_gender)
            return mine is not None and mine == normalise_label(other.gender)
        return normalise_label(other.pairing_role) == normalise_label(self.role)


ANY_PARTNER = PartnerPreference()


@dataclass(frozen=True, slots=True)
class Boundaries:
    """A person's boundaries; the defaults are the conservative ones (no touch)."""

    contact: Contact = Contact.NONE
    eye_contact: EyeContact = EyeContact.SOFT
    preference: PartnerPreference = ANY_PARTNER


@dataclass(frozen=True, slots=True)
class Participant:
    """A person the engine may pair, with the facts pairing depends on."""

    id: PersonId
    boundaries: Boundaries = Boundaries()
    gender: str | None = None
    pairing_role: str | None = None  #: self-chosen, e.g. "listener"; see `role:` preferences


class Grouping(StrEnum):
    """The group size an exercise is designed for."""

    PAIRS = "pairs"
    TRIOS = "trios"


@dataclass(frozen=True, slots=True)
class ExerciseNeeds:
    """What an exercise asks of every group: touch, eye contact and group size."""

    contact: Contact = Contact.NONE
    eye_contact: EyeContact = EyeContact.NONE
    grouping: Grouping = Grouping.PAIRS


class OddPolicy(StrEnum):
    """What to do with the person left over when the count does not divide evenly."""

    TRIO = "trio"  #: absorb them: one trio (pairs), or two pairs instead of a trio (trios)
    REST = "rest"  #: a fair rest rotation
    FACILITATOR = "facilitator"  #: the facilitator steps in as a participant


class RestReason(StrEnum):
    """Why someone is not in a group this round (shown to facilitators only)."""

    # Passed in by the caller for people who may not be paired at all this round.
    SITTING_OUT = "sitting_out"
    CONSENT_WITHDRAWN = "consent_withdrawn"
    BANNED = "banned"
    AGREEMENTS_MISSING = "agreements_missing"
    NOT_CHECKED_IN = "not_checked_in"
    # Decided by the engine.
    BOUNDARIES_EXCLUDE_EXERCISE = "boundaries_exclude_exercise"
    NO_COMPATIBLE_PARTNER = "no_compatible_partner"
    ODD_REST = "odd_rest"
    NO_CLEAN_TRIO = "no_clean_trio"


class PairBlock(StrEnum):
    """Why two people may not be grouped together."""

    SAME_PERSON = "same_person"
    INELIGIBLE = "ineligible"
    BOUNDARIES = "boundaries"  #: one person's touch or eye comfort is below the exercise's
    PREFERENCE = "preference"  #: a partner preference does not admit the other
    DO_NOT_PAIR = "do_not_pair"


class Role(StrEnum):
    """A member's role in a group (who speaks first, and so on)."""

    A = "A"
    B = "B"
    C = "C"


class SolveMethod(StrEnum):
    """How the engine knows its answer is optimal, if it does."""

    CERTIFIED = "certified"  #: fast path, optimality proved by a cheap certificate
    EXACT = "exact"  #: an exact algorithm (weighted blossom, enumeration, or search)
    BEST_EFFORT = "best_effort"  #: groups of three beyond exact reach; best found kept


def pair_key(a: PersonId, b: PersonId) -> tuple[PersonId, PersonId]:
    """Return the key of the unordered pair {a, b} used by `PairingRequest.history`."""
    return (a, b) if a <= b else (b, a)


@dataclass(frozen=True, slots=True)
class PairingRequest:
    """Everything one round's pairing depends on; the same request gives the same pairing.

    `participants` are the people in the room for this run. Those in `ineligible` (which
    may also name people absent from `participants`) rest with the given reason.
    `do_not_pair` holds (asker, other) requests; they bind both ways. `history` counts past
    partnerships per unordered pair (any key order; see `pair_key`), over this run and,
    if the caller wishes, earlier runs of the gathering. `past_rests` counts the rests the
    engine imposed in this run (not sitting out). `role_counts` counts past roles.
    """

    participants: tuple[Participant, ...]
    exercise: ExerciseNeeds
    seed: int
    round_number: int
    odd_policy: OddPolicy = OddPolicy.REST
    ineligible: Mapping[PersonId, RestReason] = field(default_factory=dict)
    do_not_pair: Collection[tuple[PersonId, PersonId]] = ()
    history: Mapping[tuple[PersonId, PersonId], int] = field(default_factory=dict)
    past_rests: Mapping[PersonId, int] = field(default_factory=dict)
    role_counts: Mapping[PersonId, Mapping[Role, int]] = field(default_factory=dict)
    facilitator: Participant | None = None  #: steps in under `OddPolicy.FACILITATOR`


@dataclass(frozen=True, slots=True)
class GroupMember:
    """One person in a group, with their role."""

    person_id: PersonId
    role: Role


@dataclass(frozen=True, slots=True)
class Group:
    """A pair or trio at a numbered spot; members are listed in role order."""

    spot: int
    members: tuple[GroupMember, ...]
    repeated_pairs: int  #: partnerships inside this group that happened before

    @property
    def person_ids(self) -> tuple[PersonId, ...]:
        """Return the members' ids in role order."""
        return tuple(m.person_id for m in self.members)


@dataclass(frozen=True, slots=True)
class RestingPerson:
    """Someone not in a group this round, and why."""

    person_id: PersonId
    reason: RestReason


@dataclass(frozen=True, slots=True)
class Pairing:
    """The result of one round: groups with spots and roles, and who rests and why.

    Groups are numbered 1..k by the smallest member id; `resting` is sorted by id. The
    request (with its seed and round number) reproduces this result exactly, which is how
    "why was I paired with X?" is answered.
    """

    round_number: int
    seed: int
    groups: tuple[Group, ...]
    resting: tuple[RestingPerson, ...]
    repeats: int  #: repeated partnerships used, summed over groups
    method: SolveMethod

    @property
    def optimal(self) -> bool:
        """Return whether the lexicographic objective is known to be met exactly."""
        return self.method is not SolveMethod.BEST_EFFORT

    def group_of(self, person_id: PersonId) -> Group | None:
        """Return the group `person_id` is in, if any."""
        for group in self.groups:
            if person_id in group.person_ids:
                return group
        return None

    def partners_of(self, person_id: PersonId) -> tuple[PersonId, ...]:
        """Return the other members of `person_id`'s group (empty when resting)."""
        group = self.group_of(person_id)
        if group is None:
            return ()
        return tuple(p for p in group.person_ids if p != person_id)

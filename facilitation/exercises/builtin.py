"""The exercises every installation has; kept in step with this code."""

from __future__ import annotations

from dataclasses import dataclass

from facilitation.exercises.engine.pairing_types import Contact, EyeContact, Grouping
from facilitation.exercises.engine.rounds import ActiveRole, PhaseSpec


@dataclass(frozen=True)
class BuiltinExercise:
    """A built-in exercise, as code."""

    key: str
    title: str
    description: str
    grouping: Grouping
    contact: Contact
    eye_contact: EyeContact
    rounds: int
    phases: tuple[PhaseSpec, ...]


EYE_GAZING = BuiltinExercise(
    key="eye-gazing-rotation",
    title="Eye-gazing rotation",
    description="Rotating pairs: arrive, gaze in silence, each partner shares, thank and move on.",
    grouping=Grouping.PAIRS,
    contact=Contact.NONE,
    eye_contact=EyeContact.SOFT,
    rounds=8,
    phases=(
        PhaseSpec(
            "Arrive",
            30,
            "Find your partner and your spot. Sit facing each other.",
            ActiveRole.EVERYONE,
        ),
        PhaseSpec(
            "Gaze",
            180,
            "Rest your gaze softly in your partner's eyes. No words.",
            ActiveRole.EVERYONE,
        ),
        PhaseSpec(
            "A shares", 60, "A: say what you noticed. B: listen without answering.", ActiveRole.A
        ),
        PhaseSpec(
            "B shares", 60, "B: say what you noticed. A: listen without answering.", ActiveRole.B
        ),
        PhaseSpec(
            "Thank and move",
            30,
            "Thank your partner in your own way, then move on.",
            ActiveRole.EVERYONE,
        ),
    ),
)

DYAD = BuiltinExercise(
    key="speaker-listener-dyad",
    title="Speaker and listener dyad",
    description="One speaks, one listens fully, then swap. No advice, no cross-talk.",
    grouping=Grouping.PAIRS,
    contact=Contact.NONE,
    eye_contact=EyeContact.NONE,
    rounds=4,
    phases=(
        PhaseSpec(
            "Settle", 20, "Sit with your partner. Take three breaths together.", ActiveRole.EVERYONE
        ),
        PhaseSpec(
            "A speaks",
            300,
            "A: speak about what is alive in you. B: listen, say nothing.",
            ActiveRole.A,
        ),
        PhaseSpec(
            "B speaks",
            300,
            "B: speak about what is alive in you. A: listen, say nothing.",
            ActiveRole.B,
        ),
        PhaseSpec("Thank", 20, "Thank your partner.", ActiveRole.EVERYONE),
    ),
)

BUILTINS = (EYE_GAZING, DYAD)

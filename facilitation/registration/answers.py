"""Questions on the registration form and the answers to them; pure."""

from __future__ import annotations

import enum
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from facilitation.core.errors import DomainError

#: Pure core: no framework import, here or in what it imports (tests/core/test_pure_core.py).
__pure__ = True

MAX_SHORT = 300
MAX_LONG = 5000
MAX_CHOICES = 30
YES, NO = "yes", "no"


class QuestionKind(enum.StrEnum):
    """What sort of answer a question wants."""

    SHORT_TEXT = "short_text"
    LONG_TEXT = "long_text"
    SINGLE = "single"  #: one of ``choices``
    MULTIPLE = "multiple"  #: any of ``choices``, stored as a JSON list
    YES_NO = "yes_no"


class AnswerError(DomainError):
    """A question or an answer is not acceptable."""


@dataclass(frozen=True)
class QuestionRule:
    """A question as the form asks it."""

    id: int
    label: str
    kind: str
    choices: Sequence[str]
    required: bool


def check_question(label: str, kind: str, choices: Sequence[str]) -> tuple[str, list[str]]:
    """Return a question's label and choices cleaned, or refuse them."""
    label = " ".join(label.split())
    if not label:
        raise AnswerError("label_required", "Write the question.", "label")
    if len(label) > 500:
        raise AnswerError("label_too_long", "Keep the question under 500 characters.", "label")
    if kind not in set(QuestionKind):
        raise AnswerError("bad_question_kind", "Choose what kind of answer you want.", "kind")
    cleaned = [" ".join(c.split()) for c in choices if c.strip()]
    if kind not in (QuestionKind.SINGLE, QuestionKind.MULTIPLE):
        return label, []
    if len(cleaned) < 2:
        raise AnswerError("choices_required", "Give at least two choices.", "choices")
    if len(cleaned) > MAX_CHOICES or len(set(cleaned)) != len(cleaned):
        raise AnswerError("bad_choices", f"Give up to {MAX_CHOICES} different choices.", "choices")
    if any(len(c) > 200 for c in cleaned):
        raise AnswerError("choice_too_long", "Keep each choice under 200 characters.", "choices")
    return label, cleaned


def _one(question: QuestionRule, raw: object) -> str | None:
    """Return the stored text of one answer, or None when it was left empty."""
    kind = QuestionKind(question.kind)
    field = f"answer_{question.id}"
    if kind is QuestionKind.MULTIPLE:
        picked = [raw] if isinstance(raw, str) else list(raw or [])  # type: ignore[call-overload]
        picked = [p for p in picked if p]
        if any(p not in question.choices for p in picked):
            raise AnswerError("bad_choice", "Choose from the options given.", field)
        ordered = [c for c in question.choices if c in picked]
        return json.dumps(ordered) if ordered else None
    text = raw.strip() if isinstance(raw, str) else ""
    if not text:
        return None
    if kind is QuestionKind.SINGLE and text not in question.choices:
        raise AnswerError("bad_choice", "Choose one of the options given.", field)
    if kind is QuestionKind.YES_NO and text not in (YES, NO):
        raise AnswerError("bad_yes_no", "Answer yes or no.", field)
    limit = MAX_SHORT if kind is QuestionKind.SHORT_TEXT else MAX_LONG
    if len(text) > limit:
        raise AnswerError("answer_too_long", f"Keep this under {limit} characters.", field)
    return text


def check_answers(questions: Sequence[QuestionRule], given: Mapping[int, object]) -> dict[int, str]:
    """Return the answers to store by question id; refuse a missing required one or a bad one.

    Answers to questions not asked are ignored.
    """
    stored: dict[int, str] = {}
    for question in questions:
        value = _one(question, given.get(question.id))
        if value is None:
            if question.required:
                raise AnswerError(
                    "answer_required",
                    f"Please answer “{question.label}”.",
                    f"answer_{question.id}",
                )
            continue
        stored[question.id] = value
    return stored


def display(kind: str, value: str) -> str:
    """Return a stored answer as people read it (multiple choices joined by commas)."""
    if kind == QuestionKind.MULTIPLE:
        return ", ".join(json.loads(value))
    return value

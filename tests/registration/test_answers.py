"""Questions and answers on the registration form: pure rules."""

import json

import pytest

from facilitation.registration.answers import (
    AnswerError,
    QuestionRule,
    check_answers,
    check_question,
    display,
)

WHY = QuestionRule(1, "What brings you?", "short_text", [], True)
DIET = QuestionRule(2, "Food", "single", ["Vegan", "Anything"], False)
TIMES = QuestionRule(3, "Which days?", "multiple", ["Sat", "Sun"], False)
FIRST = QuestionRule(4, "First time?", "yes_no", [], True)
QUESTIONS = [WHY, DIET, TIMES, FIRST]


def refused(code, questions, given):
    with pytest.raises(AnswerError) as caught:
        check_answers(questions, given)
    assert caught.value.code == code
    return caught.value


def test_answers_are_cleaned_and_stored_as_text():
    stored = check_answers(QUESTIONS, {1: "  Curiosity ", 2: "Vegan", 3: ["Sun", "Sat"], 4: "no"})
    assert stored == {1: "Curiosity", 2: "Vegan", 3: json.dumps(["Sat", "Sun"]), 4: "no"}
    assert display("multiple", stored[3]) == "Sat, Sun"


def test_optional_questions_may_be_left_empty_and_unknown_ones_are_ignored():
    assert check_answers(QUESTIONS, {1: "Friends", 4: "yes", 99: "ignored"}) == {
        1: "Friends",
        4: "yes",
    }


def test_a_required_answer_must_be_given():
    error = refused("answer_required", QUESTIONS, {1: "   ", 4: "yes"})
    assert error.field == "answer_1" and "What brings you?" in error.message


@pytest.mark.parametrize(
    ("given", "code"),
    [
        ({1: "x", 4: "yes", 2: "Meat"}, "bad_choice"),
        ({1: "x", 4: "yes", 3: ["Mon"]}, "bad_choice"),
        ({1: "x", 4: "maybe"}, "bad_yes_no"),
        ({1: "x" * 301, 4: "yes"}, "answer_too_long"),
    ],
)
def test_answers_outside_the_question_are_refused(given, code):
    refused(code, QUESTIONS, given)


def test_questions_need_a_label_and_choices_when_they_offer_them():
    assert check_question(" Food  please ", "single", ["A", " ", "B"]) == (
        "Food please",
        ["A", "B"],
    )
    assert check_question("Why?", "long_text", ["ignored"]) == ("Why?", [])
    for label, kind, choices, code in [
        ("", "short_text", [], "label_required"),
        ("Food", "single", ["Only one"], "choices_required"),
        ("Food", "multiple", ["A", "A"], "bad_choices"),
        ("Food", "essay", [], "bad_question_kind"),
    ]:
        with pytest.raises(AnswerError) as caught:
            check_question(label, kind, choices)
        assert caught.value.code == code

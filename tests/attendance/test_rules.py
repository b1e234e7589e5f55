"""The desk's rules, pure: every refusal, its order, and the notes on an admission."""

from dataclasses import replace
from datetime import UTC, datetime

import pytest

from facilitation.attendance.rules import (
    BAN_MESSAGE,
    DeskFacts,
    OtherGathering,
    Verdict,
    decide,
)

TZ = "Europe/London"
#: 19:04 in London in December (GMT) is 19:04 UTC; in June (BST) it would be 18:04 UTC.
CHECKED_IN = datetime(2026, 12, 5, 19, 4, tzinfo=UTC)


def facts(**values: object) -> DeskFacts:
    base: dict[str, object] = {"status": "confirmed", "timezone": TZ}
    base.update(values)
    return DeskFacts(**base)  # type: ignore[arg-type]


def test_a_confirmed_signed_paid_person_is_admitted():
    decision = decide(facts())
    assert (decision.verdict, decision.code, decision.headline) == (Verdict.ADMIT, "admit", "Admit")
    assert decision.admitted and decision.warnings == ()


def test_a_ticket_for_another_gathering_names_it():
    other = OtherGathering("Tuesday circle", datetime(2026, 12, 8, 19, 0, tzinfo=UTC), TZ)
    decision = decide(facts(other_gathering=other))
    assert decision.code == "wrong_gathering" and not decision.admitted
    assert decision.headline == "This ticket is for Tuesday circle, Tue 8 Dec"


@pytest.mark.parametrize(
    ("status", "code", "headline"),
    [
        ("cancelled", "registration_cancelled", "This registration was cancelled."),
        ("declined", "application_declined", "This application was declined."),
        ("expired", "registration_expired", "This registration lapsed."),
        ("waitlisted", "waitlisted", "On the waitlist: no seat yet."),
        ("applied", "awaiting_approval", "Waiting for approval."),
        ("held", "card_unpaid", "Card payment not finished."),
        ("offered", "offer_open", "A seat is offered but not taken yet."),
    ],
)
def test_a_registration_that_is_not_confirmed_is_refused(status, code, headline):
    decision = decide(facts(status=status))
    assert (decision.verdict, decision.code, decision.headline) == (Verdict.REFUSE, code, headline)


def test_a_ban_is_refused_in_neutral_words_whatever_else_is_true():
    decision = decide(facts(banned=True, status="cancelled", missing_agreements=("Consent",)))
    assert (decision.code, decision.headline) == ("ask_organiser", BAN_MESSAGE)
    assert "ban" not in (decision.headline + decision.detail).lower()


def test_already_checked_in_gives_the_time_in_the_gatherings_zone():
    decision = decide(facts(checked_in_at=CHECKED_IN))
    assert (decision.code, decision.headline) == (
        "already_checked_in",
        "Already checked in at 19:04",
    )
    summer = decide(facts(checked_in_at=datetime(2026, 6, 5, 18, 4, tzinfo=UTC)))
    assert summer.headline == "Already checked in at 19:04"


def test_unsigned_agreements_must_be_signed_first_and_can_be_signed_at_the_desk():
    decision = decide(facts(missing_agreements=("Code of conduct", "Consent")))
    assert (decision.code, decision.headline) == ("agreements_missing", "Please sign first.")
    assert decision.to_sign == ("Code of conduct", "Consent")
    assert decision.detail == "Not signed yet: Code of conduct, Consent."


def test_money_due_at_the_door_is_taken_before_admitting():
    due = facts(door_due_minor=2000)
    asked = decide(due)
    assert (asked.code, asked.headline, asked.to_take_minor) == (
        "payment_due",
        "Take EUR 20.00 first.",
        2000,
    )
    taken = decide(facts(door_due_minor=2000, payment_taken_minor=2000))
    assert taken.verdict is Verdict.ADMIT_WITH_WARNINGS
    assert taken.warnings == ("EUR 20.00 taken at the door.",)


@pytest.mark.parametrize(
    ("due", "taken", "code"),
    [(2000, 1500, "wrong_amount"), (2000, 2500, "wrong_amount"), (0, 500, "nothing_due")],
)
def test_a_wrong_sum_taken_is_refused(due, taken, code):
    assert decide(facts(door_due_minor=due, payment_taken_minor=taken)).code == code


def test_a_first_visit_is_admitted_with_a_note():
    decision = decide(facts(first_visit=True))
    assert decision.verdict is Verdict.ADMIT_WITH_WARNINGS and decision.admitted
    assert decision.warnings == ("First visit: welcome them.",)


#: Each fact that stops an admission, what clears it, and the code it gives while it stands.
PRIORITY = [
    ("other_gathering", None, "wrong_gathering"),
    ("gathering_cancelled", False, "gathering_cancelled"),
    ("banned", False, "ask_organiser"),
    ("checked_in_at", None, "already_checked_in"),
    ("status", "confirmed", "awaiting_approval"),
    ("missing_agreements", (), "agreements_missing"),
    ("door_due_minor", 0, "payment_due"),
]


def test_the_rules_answer_the_most_important_thing_first():
    current = facts(
        other_gathering=OtherGathering("Elsewhere", CHECKED_IN, TZ),
        gathering_cancelled=True,
        banned=True,
        checked_in_at=CHECKED_IN,
        status="applied",
        missing_agreements=("Consent",),
        door_due_minor=500,
    )
    for field, cleared, code in PRIORITY:
        assert decide(current).code == code
        current = replace(current, **{field: cleared})
    assert decide(current).code == "admit"

"""What the pages show: my gatherings, a gathering's registrations, answers, export."""

from datetime import timedelta

import pytest

from facilitation.accounts.models import Role
from facilitation.core.errors import DomainError, Forbidden
from facilitation.gatherings import permissions
from facilitation.registration import cancellation, ledger, queries
from tests.factories import make_gathering, make_user
from tests.registration.factories import (
    before_start,
    make_code,
    make_option,
    make_question,
    organiser_of,
    register,
)


def test_my_registrations_are_split_into_upcoming_and_past(organiser):
    person = make_user()
    soon = make_gathering(organiser)
    later = make_gathering(
        organiser, starts_local=soon.starts_at.replace(tzinfo=None) + timedelta(days=7)
    )
    for gathering in (later, soon):
        register(person, gathering, make_option(gathering))
    mine = queries.my_registrations(person, now=before_start(soon))
    assert [r.gathering for r in mine.upcoming] == [soon, later] and mine.past == []
    after = queries.my_registrations(person, now=soon.ends_at)
    assert [r.gathering for r in after.upcoming] == [later]
    assert [r.gathering for r in after.past] == [soon]


def test_registrations_filter_by_status_and_search_by_name_or_email(gathering):
    option = make_option(gathering)
    ada = make_user(name="Ada Lovelace", email="ada@example.org")
    bob = make_user(name="Bob 100% Real", email="bob@example.org")
    for person in (ada, bob, make_user()):
        register(person, gathering, option)
    organiser = organiser_of(gathering)
    assert len(queries.registrations_for(organiser, gathering)) == 3
    waiting = queries.registrations_for(organiser, gathering, status="waitlisted")
    assert len(waiting) == 1
    assert [r.user for r in queries.registrations_for(organiser, gathering, search="LOVE")] == [ada]
    assert [r.user for r in queries.registrations_for(organiser, gathering, search="100%")] == [bob]
    assert queries.registrations_for(organiser, gathering, search="_") == []  # literal, no wildcard
    assert queries.counts_by_status(gathering) == {"confirmed": 2, "waitlisted": 1}
    with pytest.raises(DomainError):
        queries.registrations_for(organiser, gathering, status="maybe")
    with pytest.raises(Forbidden):
        queries.registrations_for(make_user(Role.FACILITATOR), gathering)


def test_seats_left_counts_live_holds_but_not_lapsed_ones(gathering):
    now = before_start(gathering)
    register(make_user(), gathering, make_option(gathering, "fixed"), now=now)
    assert queries.seats_left(gathering, now) == 1
    assert queries.seats_left(gathering, now + timedelta(minutes=15)) == 2


def test_facilitators_see_answers_in_question_order(gathering):
    why = make_question(gathering)
    days = make_question(gathering, "Which days?", "multiple", ["Sat", "Sun"])
    registration = register(
        make_user(),
        gathering,
        make_option(gathering),
        answers={days.id: ["Sat", "Sun"], why.id: "Rest"},
    )
    found = queries.answers_for(organiser_of(gathering), gathering)
    assert found == {registration.id: [("What brings you?", "Rest"), ("Which days?", "Sat, Sun")]}


def test_the_export_has_a_row_per_registration_with_answers(gathering):
    question = make_question(gathering)
    make_code(gathering, "HALF")
    person = make_user(name="=Sneaky Formula")
    registration = register(
        person,
        gathering,
        make_option(gathering, "fixed"),
        code="HALF",
        answers={question.id: "Rest"},
    )
    ledger.record_payment(registration.id, "pi_1", 1000, "eur", now=before_start(gathering))
    header, row = queries.export_rows(organiser_of(gathering), gathering)
    assert header[-1] == "What brings you?"
    assert row[0] == "'=Sneaky Formula" and row[2] == "confirmed"
    assert row[5:7] == ["EUR 10.00", "EUR 10.00"] and row[9] == "HALF" and row[-1] == "Rest"


def test_a_receipt_lists_the_payments(gathering):
    registration = register(make_user(), gathering, make_option(gathering, "fixed"))
    ledger.record_payment(registration.id, "pi_1", 2000, "eur", now=before_start(gathering))
    cancellation.cancel_by_participant(registration.user, registration, now=before_start(gathering))
    ledger.record_refund(registration.id, "re_1", 2000, now=before_start(gathering))
    assert [p.kind for p in queries.payments_of(registration)] == ["charge", "refund"]


def test_a_confirmed_registration_counts_as_taking_part(gathering):
    confirmed, waiting = make_user(), make_user()
    option = make_option(gathering)
    for person in (confirmed, make_user(), waiting):
        register(person, gathering, option)
    assert permissions.takes_part(confirmed.id, gathering)
    assert not permissions.takes_part(waiting.id, gathering)

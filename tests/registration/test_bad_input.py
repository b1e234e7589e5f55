"""Bad input gets a clear message and leaves nothing written, even if the caller commits."""

from datetime import timedelta

import pytest

from facilitation.accounts.models import Role
from facilitation.consent import safety
from facilitation.core.clock import utcnow
from facilitation.core.errors import DomainError
from facilitation.extensions import db
from facilitation.gatherings import services as gatherings
from tests.factories import make_gathering, make_user
from tests.registration.factories import (
    before_start,
    make_code,
    make_option,
    make_question,
    make_role,
    make_settings,
    register,
)
from tests.registration.helpers import row_counts


def refused(error_code, person, gathering, option, **values):
    """Register, expect a refusal with ``error_code``; commit anyway, check nothing was written."""
    db.session.commit()
    before = row_counts()
    with pytest.raises(DomainError) as caught:
        register(person, gathering, option, **values)
    assert caught.value.code == error_code
    db.session.commit()  # a careless caller: still nothing half-written
    assert row_counts() == before
    return caught.value


def test_an_amount_below_the_minimum(gathering):
    error = refused(
        "below_minimum", make_user(), gathering, make_option(gathering, "sliding"), amount_minor=999
    )
    assert error.message == "That is below the minimum for this option."
    assert error.field == "amount_minor"


def test_a_used_up_code(gathering):
    option = make_option(gathering, "fixed")
    make_code(gathering, "ONCE", "amount", 500, max_uses=1)
    register(make_user(), gathering, option, code="ONCE")
    error = refused("code_used_up", make_user(), gathering, option, code="ONCE")
    assert error.message == "That code has been used up." and error.field == "code"


def test_an_expired_code(gathering):
    option = make_option(gathering, "fixed")
    make_code(gathering, "EARLY", expires_at=before_start(gathering, days=4))
    error = refused("code_expired", make_user(), gathering, option, code="EARLY")
    assert error.message == "That code has expired."


def test_an_unknown_code(gathering):
    error = refused("unknown_code", make_user(), gathering, make_option(gathering), code="NOPE")
    assert "spelling" in error.message


def test_a_closed_registration(gathering):
    option = make_option(gathering)
    make_settings(gathering, registration_closes_at=before_start(gathering, days=5))
    error = refused("registration_closed", make_user(), gathering, option)
    assert error.message == "Registration for this gathering has closed."


def test_a_cancelled_gathering(gathering, organiser):
    option = make_option(gathering)
    gatherings.cancel(organiser, gathering, "Flooded.", now=utcnow())
    error = refused("gathering_cancelled", make_user(), gathering, option)
    assert error.message == "This gathering has been cancelled."


def test_a_draft_or_started_gathering(organiser):
    draft = make_gathering(organiser, publish=False)
    refused("not_open", make_user(), draft, make_option(draft))
    live = make_gathering(organiser)
    option = make_option(live)
    error = refused("already_started", make_user(), live, option, now=live.starts_at)
    assert "already started" in error.message


def test_a_second_registration_by_the_same_person(gathering):
    option = make_option(gathering)
    person = make_user()
    register(person, gathering, option)
    error = refused("already_registered", person, gathering, option)
    assert error.message.startswith("You are already registered for this gathering.")


def test_a_second_registration_while_waiting_says_so(gathering):
    option = make_option(gathering)
    for _ in range(2):
        register(make_user(), gathering, option)
    person = make_user()
    register(person, gathering, option)
    error = refused("already_registered", person, gathering, option)
    assert "You are on the waitlist." in error.message


def test_a_banned_person_is_told_neutrally(gathering):
    person = make_user()
    safety.ban(make_user(Role.ORGANISER), person, "Private reason", now=utcnow())
    error = refused("not_available", person, gathering, make_option(gathering))
    assert "not available for this account" in error.message
    assert "ban" not in error.message.lower() and "Private reason" not in error.message


def test_a_missing_required_answer(gathering):
    question = make_question(gathering, "Emergency contact?", required=True)
    error = refused("answer_required", make_user(), gathering, make_option(gathering))
    assert error.field == f"answer_{question.id}"


def test_a_missing_or_foreign_option_or_role(gathering, organiser):
    other = make_gathering(organiser)
    refused("option_required", make_user(), gathering, make_option(other))
    option = make_option(gathering)
    make_role(gathering, "Partner A group")
    refused("role_required", make_user(), gathering, option)
    refused("role_required", make_user(), gathering, option, role_id=999)


def test_a_switched_off_option(gathering):
    from facilitation.registration import options

    option = make_option(gathering, "fixed")
    data = options.OptionInput("Fixed", "fixed", price_minor=2000, is_active=False)
    options.update_option(make_user(Role.ORGANISER), gathering, option.id, data, now=utcnow())
    refused("option_required", make_user(), gathering, option)


def test_capacity_zero_means_registration_is_closed(organiser):
    closed = make_gathering(organiser, capacity=0)
    refused("registration_closed", make_user(), closed, make_option(closed))


def test_an_expired_hold_does_not_lock_the_person_out(gathering):
    option = make_option(gathering, "fixed")
    person = make_user()
    now = before_start(gathering)
    register(person, gathering, option, now=now)
    later = now + timedelta(minutes=15)
    assert register(person, gathering, option, now=later).status == "held"

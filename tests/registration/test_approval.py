"""Approval mode: applications are approved (confirmed, offered or waitlisted) or declined."""

from datetime import timedelta

import pytest

from facilitation.accounts.models import Role
from facilitation.core.errors import DomainError, Forbidden
from facilitation.registration import services
from tests.factories import make_gathering, make_user
from tests.registration.factories import (
    before_start,
    make_option,
    make_settings,
    organiser_of,
    register,
)
from tests.registration.helpers import sent


@pytest.fixture
def screened(organiser):
    gathering = make_gathering(organiser, capacity=1)
    make_settings(gathering, requires_approval=True, offer_hours=24)
    return gathering


def test_approving_a_free_application_confirms_it(screened):
    person = make_user()
    application = register(person, screened, make_option(screened))
    now = before_start(screened, days=2)
    services.approve(organiser_of(screened), application, "Welcome!", now=now)
    assert application.status == "confirmed" and application.decided_at == now
    assert application.decided_by_id == screened.created_by_id
    [approved] = sent("registration_approved", person.email)
    assert "Welcome!" in approved.body_text and "confirmed" in approved.body_text
    assert sent("registration_confirmed", person.email)[0].ics


def test_approving_a_paid_application_offers_the_seat_until_a_deadline(screened):
    person = make_user()
    application = register(person, screened, make_option(screened, "fixed"))
    now = before_start(screened, days=2)
    services.approve(organiser_of(screened), application, "", now=now)
    assert application.status == "offered"
    assert application.offer_expires_at == now + timedelta(hours=24)
    [email] = sent("registration_approved", person.email)
    assert "pay EUR 20.00 before" in email.body_text and "GMT" in email.body_text
    held = services.start_payment(application, now=now + timedelta(hours=1))
    assert held.status == "held"
    assert held.hold_expires_at == now + timedelta(hours=1, minutes=15)


def test_an_offer_never_outlasts_the_start(screened):
    application = register(make_user(), screened, make_option(screened, "fixed"))
    now = before_start(screened, hours=3)
    services.approve(organiser_of(screened), application, "", now=now)
    assert application.offer_expires_at == screened.starts_at


def test_approving_when_full_puts_the_applicant_on_the_waitlist(screened):
    option = make_option(screened)
    first, second = (register(make_user(), screened, option) for _ in range(2))
    now = before_start(screened, days=2)
    services.approve(organiser_of(screened), first, "", now=now)
    services.approve(organiser_of(screened), second, "", now=now)
    assert (first.status, second.status) == ("confirmed", "waitlisted")
    assert "waitlist" in sent("registration_approved")[1].body_text


def test_declining_sends_the_message_and_takes_no_seat(screened):
    person = make_user()
    application = register(person, screened, make_option(screened, "fixed"))
    services.decline(
        organiser_of(screened), application, "Not this time.", now=before_start(screened)
    )
    assert application.status == "declined"
    [email] = sent("registration_declined", person.email)
    assert "Not this time." in email.body_text and "Nothing was charged." in email.body_text


def test_a_decided_application_cannot_be_decided_again(screened):
    application = register(make_user(), screened, make_option(screened))
    services.decline(organiser_of(screened), application, "", now=before_start(screened))
    with pytest.raises(DomainError) as caught:
        services.approve(organiser_of(screened), application, "", now=before_start(screened))
    assert caught.value.code == "wrong_status"


def test_only_organisers_and_the_gatherings_facilitators_decide(organiser):
    own = make_user(Role.FACILITATOR)
    stranger = make_user(Role.FACILITATOR)
    gathering = make_gathering(organiser, facilitator_ids=[own.id])
    make_settings(gathering, requires_approval=True)
    option = make_option(gathering)
    application = register(make_user(), gathering, option)
    for outsider in (stranger, make_user()):
        with pytest.raises(Forbidden):
            services.approve(outsider, application, "", now=before_start(gathering))
    services.approve(own, application, "", now=before_start(gathering))
    assert application.status == "confirmed"

"""Checking in at the desk: every rule through the service, undo, retries, injected time."""

from datetime import timedelta

import pytest
import sqlalchemy as sa

from facilitation.accounts.models import Role
from facilitation.attendance import services
from facilitation.attendance.models import CheckIn
from facilitation.consent import safety
from facilitation.consent import services as consent_services
from facilitation.core.clock import utcnow
from facilitation.core.errors import DomainError, Forbidden
from facilitation.extensions import db
from facilitation.gatherings import permissions
from facilitation.gatherings import services as gatherings
from facilitation.registration import cancellation
from facilitation.registration import services as registration_services
from facilitation.registration.models import Payment
from tests.attendance.factories import (
    at_door,
    check_in,
    coming,
    door_volunteer,
    request_id,
    require_agreement,
)
from tests.consent.factories import sign
from tests.factories import make_gathering, make_user
from tests.registration.factories import make_option, make_settings


def rows(model=CheckIn):
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def refusal(actor, gathering, registration, **values):
    with pytest.raises(services.DeskRefusal) as caught:
        check_in(actor, gathering, registration, **values)
    return caught.value


def test_a_confirmed_person_is_checked_in_once(gathering):
    registration = coming(gathering)
    desk, now = door_volunteer(), at_door(gathering)
    outcome = check_in(desk, gathering, registration, now, method="scan")
    assert outcome.result == "checked_in" and not outcome.replayed
    row = outcome.check_in
    assert (row.registration_id, row.user_id, row.by_id) == (
        registration.id,
        registration.user_id,
        desk.id,
    )
    assert (row.checked_in_at, row.method, row.undone_at) == (now, "scan", None)
    assert services.headcount(gathering) == services.Headcount(checked_in=1, expected=1, walk_ins=0)
    assert services.checked_in_user_ids(gathering.id) == {registration.user_id}


def test_a_second_tap_says_when_they_were_checked_in_and_counts_nothing(gathering):
    registration, desk = coming(gathering), door_volunteer()
    first = check_in(desk, gathering, registration, gathering.starts_at + timedelta(minutes=4))
    again = check_in(desk, gathering, registration, gathering.starts_at + timedelta(minutes=9))
    assert again.result == "already_checked_in" and again.check_in.id == first.check_in.id
    assert again.decision.headline == "Already checked in at 19:04"
    assert rows() == 1 and services.headcount(gathering).checked_in == 1


def test_a_retried_request_returns_the_first_outcome_and_writes_nothing(gathering):
    registration, desk, nonce = coming(gathering), door_volunteer(), request_id()
    first = services.check_in(desk, gathering, registration.id, nonce, at_door(gathering))
    db.session.commit()
    retry = services.check_in(desk, gathering, registration.id, nonce, at_door(gathering, 5))
    assert retry.replayed and retry.result == "checked_in"
    assert retry.check_in.id == first.check_in.id and retry.checked_in_at == at_door(gathering)
    assert rows() == 1


def test_a_request_id_cannot_be_reused_for_someone_else(gathering):
    desk, nonce = door_volunteer(), request_id()
    services.check_in(desk, gathering, coming(gathering).id, nonce, at_door(gathering))
    with pytest.raises(DomainError) as caught:
        services.check_in(desk, gathering, coming(gathering).id, nonce, at_door(gathering))
    assert caught.value.code == "request_reused" and rows() == 1


@pytest.mark.parametrize("nonce", ["", "short", "x" * 65, "has space in it", "semi;colon;"])
def test_a_malformed_request_id_is_refused(gathering, nonce):
    with pytest.raises(DomainError) as caught:
        services.check_in(
            door_volunteer(), gathering, coming(gathering).id, nonce, at_door(gathering)
        )
    assert caught.value.code == "bad_request_id"


def test_undo_keeps_the_row_and_lets_them_check_in_again(gathering):
    registration, desk = coming(gathering), door_volunteer()
    first = check_in(desk, gathering, registration)
    undone = services.undo_check_in(desk, first.check_in.id, at_door(gathering, 5))
    assert undone.undone_at == at_door(gathering, 5) and undone.undone_by_id == desk.id
    assert services.headcount(gathering).checked_in == 0
    assert services.undo_check_in(desk, first.check_in.id, at_door(gathering, 1)) is undone
    assert undone.undone_at == at_door(gathering, 5)  # undoing twice changes nothing
    second = check_in(desk, gathering, registration, at_door(gathering, 2))
    assert second.result == "checked_in" and second.check_in.id != first.check_in.id
    assert rows() == 2 and services.checked_in_user_ids(gathering.id) == {registration.user_id}


def test_a_ticket_for_another_gathering_is_refused_with_its_name(gathering, organiser):
    other = make_gathering(organiser, title="Sunday sit", capacity=5)
    registration = coming(other)
    refused = refusal(door_volunteer(), gathering, registration)
    assert refused.code == "wrong_gathering"
    assert refused.decision.headline.startswith("This ticket is for Sunday sit, ")
    assert rows() == 0


def test_unsigned_agreements_must_be_signed_first_and_can_be_signed_at_the_desk(gathering):
    agreement = require_agreement(gathering)
    registration, desk = coming(gathering), door_volunteer()
    refused = refusal(desk, gathering, registration)
    assert refused.code == "agreements_missing"
    assert refused.decision.to_sign == ("Consent agreement",)
    sign(registration.user, agreement)
    assert check_in(desk, gathering, registration).result == "checked_in"


def test_withdrawn_consent_is_unsigned_again(gathering):
    agreement = require_agreement(gathering)
    registration = coming(gathering)
    sign(registration.user, agreement)
    consent_services.withdraw(registration.user, agreement, now=utcnow() + timedelta(seconds=1))
    assert refusal(door_volunteer(), gathering, registration).code == "agreements_missing"


def test_an_unpaid_card_hold_is_refused_and_a_lapsed_one_reads_as_expired(gathering):
    registration = coming(gathering, option=make_option(gathering, "fixed"))
    assert registration.status == "held"
    paying = registration.hold_expires_at - timedelta(minutes=1)
    assert refusal(door_volunteer(), gathering, registration, now=paying).code == "card_unpaid"
    assert refusal(door_volunteer(), gathering, registration).code == "registration_expired"


def test_pay_at_the_door_is_taken_once_then_they_are_admitted(gathering):
    registration = coming(gathering, option=make_option(gathering, "door", price_minor=1500))
    desk = door_volunteer()
    asked = refusal(desk, gathering, registration)
    assert (asked.code, asked.decision.to_take_minor) == ("payment_due", 1500)
    assert refusal(desk, gathering, registration, door_payment_minor=1000).code == "wrong_amount"
    assert rows(Payment) == 0
    admitted = check_in(desk, gathering, registration, door_payment_minor=1500)
    assert admitted.result == "checked_in"
    assert admitted.decision.warnings[0] == "EUR 15.00 taken at the door."
    payment = admitted.payment
    assert (payment.provider, payment.amount_minor, payment.recorded_by_id) == (
        "door",
        1500,
        desk.id,
    )
    assert (registration.pay_at_door_due_minor, registration.amount_paid_minor) == (0, 1500)


def test_a_retried_paid_check_in_takes_the_money_once(gathering):
    registration = coming(gathering, option=make_option(gathering, "door"))
    desk, nonce = door_volunteer(), request_id()
    for _ in range(2):
        services.check_in(desk, gathering, registration.id, nonce, at_door(gathering), 2000)
    assert rows(Payment) == 1 and rows() == 1


def test_money_is_refused_when_nothing_is_due(gathering):
    refused = refusal(door_volunteer(), gathering, coming(gathering), door_payment_minor=500)
    assert refused.code == "nothing_due" and rows(Payment) == 0


def test_a_banned_person_is_refused_in_neutral_words(gathering, organiser):
    registration = coming(gathering)
    safety.ban(organiser, registration.user, "reason kept private", now=at_door(gathering, 60))
    refused = refusal(door_volunteer(), gathering, registration)
    assert refused.code == "ask_organiser"
    assert refused.message == "Please ask the organiser to come to the door."
    assert rows() == 0


def test_an_application_awaiting_approval_is_refused(organiser):
    gathering = make_gathering(organiser, capacity=5)
    make_settings(gathering, requires_approval=True)
    registration = coming(gathering)
    assert registration.status == "applied"
    assert refusal(door_volunteer(), gathering, registration).code == "awaiting_approval"


def test_declined_and_waitlisted_registrations_are_refused(organiser):
    gathering = make_gathering(organiser, capacity=1)
    option = make_option(gathering, "free")
    coming(gathering, option=option)
    waiting = coming(gathering, option=option)
    assert waiting.status == "waitlisted"
    assert refusal(door_volunteer(), gathering, waiting).code == "waitlisted"
    screened = make_gathering(organiser, capacity=5)
    make_settings(screened, requires_approval=True)
    application = coming(screened)
    registration_services.decline(organiser, application, "", now=at_door(screened, 600))
    assert refusal(door_volunteer(), screened, application).code == "application_declined"


def test_a_cancelled_registration_is_refused(gathering):
    registration = coming(gathering)
    cancellation.cancel_by_participant(registration.user, registration, now=at_door(gathering, 600))
    assert refusal(door_volunteer(), gathering, registration).code == "registration_cancelled"
    assert rows() == 0


def test_a_cancelled_gathering_admits_nobody(gathering, organiser):
    registration = coming(gathering)
    gatherings.cancel(organiser, gathering, "Venue flooded", now=at_door(gathering, 600))
    code = refusal(door_volunteer(), gathering, registration).code
    assert code in {"gathering_cancelled", "registration_cancelled"}


def test_only_desk_workers_check_in(gathering, organiser):
    registration = coming(gathering)
    facilitator, outsider = make_user(Role.FACILITATOR), make_user(Role.FACILITATOR)
    gathering.facilitators.append(facilitator)
    for nobody in (make_user(), outsider, registration.user):
        with pytest.raises(Forbidden):
            check_in(nobody, gathering, registration)
    for worker in (door_volunteer(), facilitator, organiser):
        assert permissions.may_work_desk(worker, gathering)
    assert rows() == 0


def test_undo_is_for_desk_workers_only(gathering):
    row = check_in(door_volunteer(), gathering, coming(gathering)).check_in
    with pytest.raises(Forbidden):
        services.undo_check_in(make_user(), row.id, at_door(gathering))
    with pytest.raises(DomainError):
        services.undo_check_in(door_volunteer(), 10_000, at_door(gathering))


def test_the_first_visit_is_noted(gathering, organiser):
    registration, desk = coming(gathering), door_volunteer()
    assert check_in(desk, gathering, registration).decision.warnings == (
        "First visit: welcome them.",
    )
    later = make_gathering(organiser, capacity=5)
    again = coming(later, person=registration.user)
    assert check_in(desk, later, again).decision.warnings == ()

"""Walk-ins: one screen registers, takes the money and checks in, all or nothing."""

from datetime import timedelta

import pytest
import sqlalchemy as sa

from facilitation.accounts import services as accounts
from facilitation.accounts.models import User
from facilitation.attendance import services
from facilitation.attendance.models import CheckIn, WalkIn
from facilitation.consent import safety
from facilitation.core.errors import DomainError, Forbidden
from facilitation.extensions import db
from facilitation.messaging.models import OutboxMessage
from facilitation.registration import ledger
from facilitation.registration.models import Payment, Registration
from tests.attendance.factories import (
    at_door,
    coming,
    door_volunteer,
    request_id,
    require_agreement,
)
from tests.consent.factories import sign
from tests.factories import PASSWORD, make_gathering, make_user
from tests.registration.factories import make_option, make_question, make_settings
from tests.registration.helpers import sent

MODELS = (User, Registration, Payment, WalkIn, CheckIn, OutboxMessage)


def counts():
    return [db.session.scalar(sa.select(sa.func.count()).select_from(m)) for m in MODELS]


def walk_in_data(option, amount=None, **values):
    base = {
        "name": "Robin Walker",
        "email": "Robin@Example.org ",
        "option_id": option.id,
        "amount_minor": option.price_minor if amount is None else amount,
        "request_id": request_id(),
    }
    base.update(values)
    return services.WalkInInput(**base)


def refused(actor, gathering, data, now=None):
    before = counts()
    with pytest.raises(DomainError) as caught:
        services.walk_in(actor, gathering, data, now or at_door(gathering))
    db.session.rollback()
    assert counts() == before
    return caught.value


def test_a_new_person_is_registered_charged_and_checked_in(gathering):
    option = make_option(gathering, "door", price_minor=1500)
    desk = door_volunteer()
    db.session.commit()
    outcome = services.walk_in(desk, gathering, walk_in_data(option), at_door(gathering))
    person = outcome.registration.user
    assert (person.email, person.name, outcome.account_created) == (
        "robin@example.org",
        "Robin Walker",
        True,
    )
    assert outcome.registration.status == "confirmed" and outcome.decision.admitted
    assert (outcome.payment.provider, outcome.payment.amount_minor) == ("door", 1500)
    assert outcome.registration.pay_at_door_due_minor == 0
    assert outcome.check_in.method == "walk_in" and outcome.walk_in.registered_by_id == desk.id
    assert services.headcount(gathering) == services.Headcount(1, 1, 1)
    assert sent("registration_confirmed", person.email)  # with the ticket


def test_a_new_account_opens_only_through_the_emailed_link(gathering):
    option = make_option(gathering, "free")
    outcome = services.walk_in(
        door_volunteer(), gathering, walk_in_data(option), at_door(gathering)
    )
    person = outcome.registration.user
    now = at_door(gathering)
    with pytest.raises(DomainError):
        accounts.authenticate(
            person.email, PASSWORD, now=now, attempt=accounts.count_log_in(person.email, now=now)
        )
    [welcome] = sent("walk_in_account", person.email)
    token = welcome.body_text.split("/reset-password/")[1].split()[0]
    assert accounts.user_for_reset_token(token).id == person.id
    accounts.reset_password(token, "a new long password")
    attempt = accounts.count_log_in(person.email, now=now)
    assert accounts.authenticate(person.email, "a new long password", now=now, attempt=attempt)


def test_an_existing_account_is_used_and_not_emailed(gathering):
    known = make_user(name="Robin Walker", email="robin@example.org")
    outcome = services.walk_in(
        door_volunteer(),
        gathering,
        walk_in_data(make_option(gathering, "free")),
        at_door(gathering),
    )
    assert outcome.registration.user_id == known.id and not outcome.account_created
    assert sent("walk_in_account") == []


def test_a_retried_submit_replays_the_first_outcome(gathering):
    data = walk_in_data(make_option(gathering, "door"))
    desk = door_volunteer()
    first = services.walk_in(desk, gathering, data, at_door(gathering))
    db.session.commit()
    before = counts()
    again = services.walk_in(desk, gathering, data, at_door(gathering, 5))
    assert again.replayed and again.registration.id == first.registration.id
    assert again.check_in.id == first.check_in.id and again.payment.id == first.payment.id
    assert counts() == before


def test_a_required_agreement_stops_only_the_check_in(gathering):
    agreement = require_agreement(gathering)
    desk = door_volunteer()
    outcome = services.walk_in(
        desk, gathering, walk_in_data(make_option(gathering, "door")), at_door(gathering)
    )
    assert outcome.registration.status == "confirmed" and outcome.payment is not None
    assert outcome.check_in is None and outcome.decision.code == "agreements_missing"
    sign(outcome.registration.user, agreement)
    later = services.check_in(
        desk, gathering, outcome.registration.id, request_id(), at_door(gathering, 2),
        method="walk_in",
    )  # fmt: skip
    assert later.result == "checked_in" and services.headcount(gathering).walk_ins == 1


def test_the_desk_asks_in_person_so_required_questions_do_not_stop_a_walk_in(gathering):
    make_question(gathering, "Any injuries we should know of?", required=True)
    outcome = services.walk_in(
        door_volunteer(),
        gathering,
        walk_in_data(make_option(gathering, "free")),
        at_door(gathering),
    )
    assert outcome.check_in is not None and outcome.registration.answers == []


def test_walk_ins_are_taken_until_the_end_not_after(gathering):
    option, desk = make_option(gathering, "free"), door_volunteer()
    late = gathering.starts_at + timedelta(minutes=30)
    assert services.walk_in(desk, gathering, walk_in_data(option), late).check_in
    db.session.commit()
    error = refused(desk, gathering, walk_in_data(option, email="b@example.org"), gathering.ends_at)
    assert error.code == "already_ended"


@pytest.mark.parametrize(
    ("kind", "amount", "code"),
    [("door", 1000, "wrong_amount"), ("door", 0, "wrong_amount"), ("free", 500, "wrong_amount"),
     ("fixed", 2000, "option_not_at_door"), ("sliding", 2000, "option_not_at_door")],
)  # fmt: skip
def test_a_wrong_option_or_sum_is_refused_before_anything_is_written(gathering, kind, amount, code):
    option = make_option(gathering, kind)
    desk = door_volunteer()
    db.session.commit()
    assert refused(desk, gathering, walk_in_data(option, amount)).code == code


@pytest.mark.parametrize(
    ("values", "code"),
    [({"name": "  "}, "name_required"), ({"email": "not-an-address"}, "bad_email"),
     ({"request_id": "x"}, "bad_request_id"), ({"option_id": None}, "option_required")],
)  # fmt: skip
def test_bad_input_is_refused(gathering, values, code):
    option = make_option(gathering, "free")
    desk = door_volunteer()
    db.session.commit()
    assert refused(desk, gathering, walk_in_data(option, **values)).code == code


def test_a_full_gathering_takes_no_walk_in_and_makes_no_account(organiser):
    gathering = make_gathering(organiser, capacity=1)
    option = make_option(gathering, "free")
    coming(gathering, option=option)
    desk = door_volunteer()
    db.session.commit()
    assert refused(desk, gathering, walk_in_data(option)).code == "full"
    assert accounts.find_by_email("robin@example.org") is None


def test_a_banned_address_is_refused_neutrally(gathering, organiser):
    option = make_option(gathering, "free")
    person = make_user(email="robin@example.org")
    safety.ban(organiser, person, "", now=at_door(gathering, 600))
    desk = door_volunteer()
    db.session.commit()
    error = refused(desk, gathering, walk_in_data(option))
    assert (error.code, error.message) == (
        "ask_organiser",
        "Please ask the organiser to come to the door.",
    )


def test_someone_already_registered_is_sent_to_the_search(gathering):
    option = make_option(gathering, "free")
    coming(gathering, person=make_user(email="robin@example.org"), option=option)
    desk = door_volunteer()
    db.session.commit()
    assert refused(desk, gathering, walk_in_data(option)).code == "already_registered"


def test_applications_need_an_organiser_or_facilitator_at_the_door(organiser):
    gathering = make_gathering(organiser, capacity=5)
    make_settings(gathering, requires_approval=True)
    option = make_option(gathering, "free")
    desk = door_volunteer()
    db.session.commit()
    assert refused(desk, gathering, walk_in_data(option)).code == "needs_approval"
    outcome = services.walk_in(organiser, gathering, walk_in_data(option), at_door(gathering))
    assert outcome.registration.status == "confirmed" and outcome.check_in is not None
    assert outcome.registration.decided_by_id == organiser.id


def test_only_desk_workers_register_walk_ins(gathering):
    option = make_option(gathering, "free")
    with pytest.raises(Forbidden):
        services.walk_in(make_user(), gathering, walk_in_data(option), at_door(gathering))


def test_a_failure_midway_leaves_no_account_registration_or_email(gathering, monkeypatch):
    option = make_option(gathering, "door")
    desk = door_volunteer()
    db.session.commit()

    def card_reader_fails(*args, **kwargs):
        raise DomainError("bad_amount", "The payment could not be recorded.")

    monkeypatch.setattr(ledger, "take_door_payment", card_reader_fails)
    assert refused(desk, gathering, walk_in_data(option)).code == "bad_amount"
    assert accounts.find_by_email("robin@example.org") is None

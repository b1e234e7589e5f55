"""Registering: where a registration lands, what it owes, and what the person is told."""

from datetime import timedelta

from facilitation.registration.models import RegistrationAnswer
from tests.factories import make_user
from tests.registration.factories import (
    before_start,
    make_code,
    make_option,
    make_question,
    make_role,
    make_settings,
    register,
)
from tests.registration.helpers import sent


def test_a_free_registration_is_confirmed_with_a_calendar_file(gathering):
    person = make_user()
    registration = register(person, gathering, make_option(gathering, "free"))
    assert registration.status == "confirmed" and registration.amount_minor == 0
    assert registration.confirmed_at == before_start(gathering)
    [email] = sent("registration_confirmed", person.email)
    assert gathering.title in email.subject and "BEGIN:VCALENDAR" in email.ics
    assert f"gathering-{gathering.id}@" in email.ics


def test_a_card_price_holds_the_seat_while_paying(gathering):
    now = before_start(gathering)
    registration = register(make_user(), gathering, make_option(gathering, "fixed"), now=now)
    assert registration.status == "held" and registration.amount_minor == 2000
    assert registration.hold_expires_at == now + timedelta(minutes=15)
    assert registration.currency == "EUR"
    assert sent("registration_confirmed") == []


def test_the_hold_lasts_as_long_as_the_settings_say(gathering):
    make_settings(gathering, hold_minutes=5, currency="gbp")
    now = before_start(gathering)
    registration = register(make_user(), gathering, make_option(gathering, "fixed"), now=now)
    assert registration.hold_expires_at == now + timedelta(minutes=5)
    assert registration.currency == "GBP"


def test_pay_at_the_door_is_confirmed_with_the_amount_due(gathering):
    registration = register(make_user(), gathering, make_option(gathering, "door"))
    assert registration.status == "confirmed" and registration.pay_at_door_due_minor == 2000
    [email] = sent("registration_confirmed")
    assert "To pay at the door: EUR 20.00" in email.body_text


def test_a_sliding_scale_takes_the_chosen_amount_and_a_code(gathering):
    option = make_option(gathering, "sliding")
    code = make_code(gathering, "QUARTER", "percent", 25)
    registration = register(make_user(), gathering, option, amount_minor=2400, code="quarter")
    assert registration.amount_minor == 1800 and registration.discount_code_id == code.id


def test_a_full_scholarship_confirms_without_payment(gathering):
    make_code(gathering, "GIFT", "percent", 100, is_scholarship=True)
    option = make_option(gathering, "fixed")
    registration = register(make_user(), gathering, option, code="GIFT")
    assert registration.status == "confirmed" and registration.amount_minor == 0


def test_when_full_people_join_the_waitlist_in_order(gathering):
    option = make_option(gathering, "free")
    now = before_start(gathering)
    for _ in range(2):
        register(make_user(), gathering, option, now=now)
    late = make_user()
    first = register(late, gathering, option, now=now)
    second = register(make_user(), gathering, option, now=now + timedelta(seconds=1))
    assert (first.status, second.status) == ("waitlisted", "waitlisted")
    assert first.waitlisted_at < second.waitlisted_at
    [email] = sent("registration_waitlisted", late.email)
    assert "waitlist" in email.body_text


def test_in_approval_mode_a_registration_is_an_application(gathering):
    make_settings(gathering, requires_approval=True)
    person = make_user()
    registration = register(person, gathering, make_option(gathering, "fixed"))
    assert registration.status == "applied" and registration.hold_expires_at is None
    [email] = sent("registration_received", person.email)
    assert "Nothing is charged" in email.body_text


def test_answers_are_stored_with_the_registration(gathering):
    why = make_question(gathering, required=True)
    days = make_question(gathering, "Which days?", "multiple", ["Sat", "Sun"])
    registration = register(
        make_user(), gathering, make_option(gathering), answers={why.id: "Rest", days.id: ["Sun"]}
    )
    stored = {a.question_id: a.value for a in registration.answers}
    assert stored == {why.id: "Rest", days.id: '["Sun"]'}
    assert all(isinstance(a, RegistrationAnswer) for a in registration.answers)


def test_a_full_role_puts_people_on_the_waitlist_for_that_role(organiser):
    from tests.factories import make_gathering

    gathering = make_gathering(organiser, capacity=4)
    a = make_role(gathering, "Partner A group", cap=1)
    b = make_role(gathering, "Partner B group", cap=1)
    option = make_option(gathering)
    assert register(make_user(), gathering, option, role_id=a.id).status == "confirmed"
    assert register(make_user(), gathering, option, role_id=a.id).status == "waitlisted"
    assert register(make_user(), gathering, option, role_id=b.id).status == "confirmed"


def test_a_lapsed_hold_is_not_a_registration_any_more(gathering):
    option = make_option(gathering, "fixed")
    person = make_user()
    now = before_start(gathering)
    old = register(person, gathering, option, now=now)
    again = register(person, gathering, option, now=now + timedelta(minutes=16))
    assert (old.status, again.status) == ("expired", "held")


def test_a_newcomer_does_not_take_a_seat_someone_waiting_is_due(gathering):
    card, free = make_option(gathering, "fixed"), make_option(gathering, "free")
    now = before_start(gathering)
    register(make_user(), gathering, free, now=now)
    register(make_user(), gathering, card, now=now)  # holds the last seat for 15 minutes
    waiting = register(make_user(), gathering, free, now=now + timedelta(minutes=1))
    # The hold lapses; the sweeper has not run yet, so the seat looks free.
    newcomer = register(make_user(), gathering, free, now=now + timedelta(minutes=20))
    assert (waiting.status, newcomer.status) == ("waitlisted", "waitlisted")
    assert waiting.waitlisted_at < newcomer.waitlisted_at

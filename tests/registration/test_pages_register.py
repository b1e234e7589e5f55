"""The registration form on a gathering's page: every path, and bad input written nowhere."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from facilitation.consent import safety
from facilitation.consent import services as consent
from facilitation.core.clock import utcnow
from facilitation.extensions import db
from facilitation.gatherings import services as gatherings
from facilitation.registration.models import Registration, RegistrationAnswer
from tests.consent.factories import make_agreement
from tests.factories import make_gathering, make_user
from tests.registration.factories import (
    make_code,
    make_option,
    make_question,
    make_role,
    make_settings,
    organiser_of,
    register,
)
from tests.registration.helpers import row_counts, sent

#: Keys that switch card payments on, and an API base where nothing listens: Stripe is "down".
STRIPE_DOWN = {
    "STRIPE_SECRET_KEY": "sk_test_down",
    "STRIPE_PUBLISHABLE_KEY": "pk_test_down",
    "STRIPE_WEBHOOK_SECRET": "whsec_down",
    "STRIPE_API_BASE": "http://127.0.0.1:9",
}


@pytest.fixture
def cards_on(app):
    """Switch card payments on, with Stripe unreachable (nothing here may reach it)."""
    app.config.update(STRIPE_DOWN)


def page(client, gathering) -> str:
    return client.get(f"/gatherings/{gathering.id}").get_data(as_text=True)


def post(client, gathering, **data):
    return client.post(f"/gatherings/{gathering.id}/register", data=data)


def error_of(html: str, field: str) -> str:
    """Return the error shown under a field."""
    found = re.search(rf'<p class="error" id="{field}-error">([^<]*)</p>', html)
    return found.group(1) if found else ""


def refused(client, gathering, field: str | None = None, **data) -> str:
    """Post the form, expect a 400 with nothing written; return the message shown."""
    db.session.commit()
    before = row_counts()
    response = post(client, gathering, **data)
    html = response.get_data(as_text=True)
    assert response.status_code == 400, html
    assert row_counts() == before
    if field is None:
        return re.search(r'<div class="flash flash-error" role="alert">([^<]*)</div>', html)[1]
    return error_of(html, field)


def mine(person) -> Registration:
    return db.session.scalar(sa.select(Registration).where(Registration.user_id == person.id))


# --- what the page shows ------------------------------------------------------------------


def test_visitors_are_asked_to_log_in_and_come_back(client, gathering):
    make_option(gathering)
    db.session.commit()
    html = page(client, gathering)
    assert "Log in to register" in html
    assert f"/log-in?next=/gatherings/{gathering.id}%23register" in html
    assert f"/sign-up?next=/gatherings/{gathering.id}%23register" in html
    assert 'name="option_id"' not in html


def test_options_are_cards_with_their_prices_and_guidance(client, gathering, person, cards_on):
    make_option(gathering, "free", name="Community")
    make_option(gathering, "fixed", name="Standard")
    make_option(gathering, "sliding", name="Sliding", guidance="Pay what fits your means.")
    make_option(gathering, "door", name="At the door")
    db.session.commit()
    html = page(client, gathering)
    assert html.count('class="ticket-card"') == 4
    assert "EUR 20.00" in html and "EUR 20.00, paid at the door" in html
    assert "Sliding scale: EUR 10.00 to EUR 30.00 (suggested EUR 20.00)" in html
    assert "Pay what fits your means." in html
    assert re.search(r'name="amount_\d+"[^>]*value="20.00"', html)  # the suggested amount
    assert "2</strong> of 2 places left" in html


def test_without_card_payments_card_options_are_unavailable(client, gathering, person):
    make_option(gathering, "free")
    fixed = make_option(gathering, "fixed")
    db.session.commit()
    html = page(client, gathering)
    assert "Card payments are not set up here" in html
    assert re.search(rf'value="{fixed.id}" disabled', html)
    response = post(client, gathering, option_id=fixed.id)
    assert response.status_code == 400 and mine(person) is None


def test_questions_roles_and_code_are_on_the_form(client, gathering, person):
    make_option(gathering)
    make_question(gathering, "Your name badge", required=True)
    make_question(gathering, "Anything else?", "long_text")
    make_question(gathering, "Diet", "single", ["Vegan", "Anything"])
    make_question(gathering, "Sessions", "multiple", ["Morning", "Evening"])
    make_question(gathering, "First time?", "yes_no")
    make_role(gathering, "Partner A")
    db.session.commit()
    html = page(client, gathering)
    assert "Your name badge (required)" in html and "<textarea" in html
    assert 'type="checkbox"' in html and "Partner A" in html
    assert "Discount or scholarship code" in html


def test_someone_registered_sees_where_they_stand(client, gathering, person):
    register(person, gathering, make_option(gathering), now=utcnow())
    db.session.commit()
    html = page(client, gathering)
    assert "You are registered: <strong>Confirmed</strong>" in html
    assert f"/registrations/{mine(person).id}" in html and 'name="option_id"' not in html


def test_a_full_gathering_offers_the_waitlist(client, gathering, person):
    option = make_option(gathering)
    for _ in range(2):
        register(make_user(), gathering, option, now=utcnow())
    db.session.commit()
    assert "Full — waitlist open" in page(client, gathering)
    response = post(client, gathering, option_id=option.id)
    assert response.status_code == 302 and mine(person).status == "waitlisted"
    assert "you are on the waitlist" in client.get(response.location).get_data(as_text=True)


@pytest.mark.parametrize(
    "change, shown",
    [
        ("closed", "Registration for this gathering has closed."),
        ("cancelled", "This gathering has been cancelled."),
    ],
)
def test_closed_and_cancelled_gatherings_take_no_registrations(
    client, gathering, person, change, shown
):
    option = make_option(gathering)
    if change == "closed":
        make_settings(gathering, registration_closes_at=utcnow() - timedelta(minutes=1))
    else:
        gatherings.cancel(organiser_of(gathering), gathering, "Flooded.", now=utcnow())
    db.session.commit()
    html = page(client, gathering)
    assert shown in html and 'name="option_id"' not in html
    assert refused(client, gathering, option_id=option.id) == shown


# --- registering ----------------------------------------------------------------------------


def test_a_free_registration_is_confirmed_at_once(client, gathering, person):
    option = make_option(gathering)
    db.session.commit()
    response = post(client, gathering, option_id=option.id)
    registration = mine(person)
    assert response.status_code == 302
    assert response.location == f"/registrations/{registration.id}"
    assert registration.status == "confirmed"
    html = client.get(response.location).get_data(as_text=True)
    assert "You&#39;re coming" in html and "your place is confirmed" in html
    assert len(sent("registration_confirmed", person.email)) == 1


def test_answers_role_and_code_are_stored(client, gathering, person):
    option = make_option(gathering, "door")
    badge = make_question(gathering, "Your name badge", required=True)
    sessions = make_question(gathering, "Sessions", "multiple", ["Morning", "Evening"])
    first = make_question(gathering, "First time?", "yes_no")
    role = make_role(gathering, "Partner B")
    make_code(gathering, "FRIEND", "amount", 500)
    db.session.commit()
    response = post(
        client,
        gathering,
        option_id=option.id,
        code="friend",
        role_id=role.id,
        **{
            f"answer_{badge.id}": "Sam",
            f"answer_{sessions.id}": ["Evening", "Morning"],
            f"answer_{first.id}": "yes",
        },
    )
    assert response.status_code == 302
    registration = mine(person)
    assert (registration.status, registration.role_id) == ("confirmed", role.id)
    assert registration.amount_minor == 1500 and registration.pay_at_door_due_minor == 1500
    answers = dict(
        db.session.execute(
            sa.select(RegistrationAnswer.question_id, RegistrationAnswer.value)
        ).all()
    )
    assert answers == {badge.id: "Sam", sessions.id: '["Morning", "Evening"]', first.id: "yes"}


def test_an_application_waits_for_the_facilitators(client, gathering, person):
    option = make_option(gathering)
    make_settings(gathering, requires_approval=True)
    db.session.commit()
    assert "Send my application" in page(client, gathering)
    post(client, gathering, option_id=option.id)
    assert mine(person).status == "applied"


def test_a_card_payment_with_stripe_down_keeps_the_seat_held(client, gathering, person, cards_on):
    option = make_option(gathering, "sliding")
    db.session.commit()
    response = post(client, gathering, option_id=option.id, **{f"amount_{option.id}": "12.50"})
    registration = mine(person)
    assert (registration.status, registration.amount_minor) == ("held", 1250)
    assert registration.payment_intent_id is None
    html = client.get(response.location).get_data(as_text=True)
    assert "Card payments are unavailable right now; your seat stays held until" in html
    assert "Pay EUR 12.50 by card" in html and 'data-hold-ends="' in html


def test_unsigned_agreements_do_not_block_registering_but_are_asked_for(client, gathering, person):
    option = make_option(gathering)
    agreement = make_agreement(organiser_of(gathering))
    consent.set_required(organiser_of(gathering), gathering, [agreement.id])
    db.session.commit()
    response = post(client, gathering, option_id=option.id)
    assert mine(person).status == "confirmed"
    html = client.get(response.location).get_data(as_text=True)
    assert "Before you come: please sign" in html
    assert f"/agreements/{agreement.id}/sign?gathering={gathering.id}" in html


# --- bad input: a clear message on the field, nothing written ------------------------------


def test_an_amount_below_the_minimum(client, gathering, person, cards_on):
    option = make_option(gathering, "sliding")
    field = f"amount_{option.id}"
    message = refused(client, gathering, field, option_id=option.id, **{field: "9.99"})
    assert message == "That is below the minimum for this option."


def test_an_amount_that_is_not_a_number(client, gathering, person, cards_on):
    option = make_option(gathering, "sliding")
    field = f"amount_{option.id}"
    message = refused(client, gathering, field, option_id=option.id, **{field: "ten"})
    assert message == "Give the amount as a number, like 12.50."


def test_a_used_up_code(client, gathering, person):
    option = make_option(gathering, "door")
    make_code(gathering, "ONCE", "amount", 500, max_uses=1)
    register(make_user(), gathering, option, code="ONCE", now=utcnow())
    message = refused(client, gathering, "code", option_id=option.id, code="once")
    assert message == "That code has been used up."


def test_no_option_chosen(client, gathering, person):
    make_option(gathering)
    make_option(gathering, "door")
    assert refused(client, gathering, "option_id") == "Choose one of the ticket options."


def test_a_required_answer_missing(client, gathering, person):
    option = make_option(gathering)
    question = make_question(gathering, "Your name badge", required=True)
    message = refused(client, gathering, f"answer_{question.id}", option_id=option.id)
    assert message == "Please answer “Your name badge”."


def test_a_role_missing(client, gathering, person):
    option = make_option(gathering)
    make_role(gathering, "Partner A")
    assert refused(client, gathering, "role_id", option_id=option.id) == (
        "Choose the group you will be in."
    )


def test_a_second_registration(client, gathering, person):
    option = make_option(gathering)
    register(person, gathering, option, now=utcnow())
    message = refused(client, gathering, option_id=option.id)
    assert message == "You are already registered for this gathering. Your place is confirmed."


def test_a_banned_person_gets_a_neutral_answer(client, gathering, person):
    option = make_option(gathering)
    safety.ban(organiser_of(gathering), person, "Crossed boundaries.", now=utcnow())
    message = refused(client, gathering, option_id=option.id)
    assert message.startswith("Registration is not available for this account.")
    assert "ban" not in message.lower()


def test_a_draft_is_not_open(client, organiser, auth):
    draft = make_gathering(organiser, publish=False)
    option = make_option(draft)
    db.session.commit()
    auth.login(organiser)
    assert "Registration for this gathering is not open." in page(client, draft)
    assert refused(client, draft, option_id=option.id) == (
        "Registration for this gathering is not open."
    )


def test_posting_for_an_unknown_gathering_is_404(client, person):
    assert post(client, type("G", (), {"id": 999})(), option_id=1).status_code == 404

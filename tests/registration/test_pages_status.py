"""A registration's own page in every state, cancelling with the refund the policy gives, and
the participant's list of gatherings. Only the person themselves may see any of it."""

from __future__ import annotations

from datetime import timedelta

import pytest

from facilitation.core.clock import utcnow
from facilitation.extensions import db
from facilitation.registration import cancellation, ledger, services
from facilitation.registration.emails import local_time
from facilitation.registration.states import RefundPolicy
from tests.factories import make_gathering, make_user
from tests.registration.factories import (
    make_code,
    make_option,
    make_settings,
    organiser_of,
    register,
)
from tests.registration.helpers import sent, statuses
from tests.registration.test_pages_register import STRIPE_DOWN


def show(client, registration) -> str:
    db.session.commit()
    response = client.get(f"/registrations/{registration.id}")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def paid(person, gathering, amount=2000):
    """Give a confirmed registration paid by card (the payment recorded as Stripe reported it)."""
    registration = register(person, gathering, make_option(gathering, "fixed"), now=utcnow())
    ledger.record_payment(registration.id, "pi_test_paid", amount, "eur", now=utcnow())
    return registration


# --- every state ----------------------------------------------------------------------------


def test_an_application(client, gathering, person):
    make_settings(gathering, requires_approval=True)
    registration = register(person, gathering, make_option(gathering, "fixed"), now=utcnow())
    html = show(client, registration)
    assert "Application received" in html and "You pay only once approved." in html


def test_an_offer_shows_its_deadline_in_the_gathering_time_zone(client, organiser, person):
    gathering = make_gathering(organiser, capacity=1, timezone="America/New_York")
    option = make_option(gathering)
    seated = register(make_user(), gathering, option, now=utcnow())
    registration = register(person, gathering, option, now=utcnow())
    cancellation.cancel_by_participant(seated.user, seated, now=utcnow())
    html = show(client, registration)
    deadline = local_time(registration.offer_expires_at, gathering)
    assert "A seat is offered to you" in html and f"Accept by <strong>{deadline}</strong>" in html
    assert "EST" in deadline or "EDT" in deadline
    response = client.post(f"/registrations/{registration.id}/accept")
    assert response.status_code == 302 and statuses(registration) == ["confirmed"]
    assert len(sent("registration_confirmed", person.email)) == 1


def test_a_held_seat_counts_down_to_the_end_of_the_hold(client, app, gathering, person):
    app.config.update(STRIPE_DOWN)
    registration = register(person, gathering, make_option(gathering, "fixed"), now=utcnow())
    html = show(client, registration)
    assert "Pay to confirm your seat" in html
    assert f'data-hold-ends="{registration.hold_expires_at.isoformat()}"' in html
    assert "Pay EUR 20.00 by card" in html and "js/registration/hold.js" in html


def test_a_held_seat_without_card_payments_says_so(client, gathering, person):
    registration = register(person, gathering, make_option(gathering, "fixed"), now=utcnow())
    html = show(client, registration)
    assert "Card payments are not available here right now" in html
    assert "by card</button>" not in html


def test_a_lapsed_hold_offers_to_try_again(client, app, gathering, person):
    app.config.update(STRIPE_DOWN)
    option = make_option(gathering, "fixed")
    registration = register(person, gathering, option, now=utcnow() - timedelta(minutes=30))
    html = show(client, registration)
    assert "The time to pay ran out" in html and "Try to pay EUR 20.00 now" in html


def test_a_confirmed_receipt(client, gathering, person):
    option = make_option(gathering, "door", name="Supporter", price_minor=3000)
    make_code(gathering, "KIND", "amount", 500, is_scholarship=True)
    registration = register(person, gathering, option, code="KIND", now=utcnow())
    html = show(client, registration)
    assert "You&#39;re coming" in html and "Receipt" in html
    assert "Supporter" in html and "KIND (scholarship)" in html
    assert "<dt>Pay at the door</dt><dd>EUR 25.00</dd>" in html
    assert f"/gatherings/{gathering.id}.ics" in html


def test_a_paid_receipt_lists_the_payment(client, gathering, person):
    html = show(client, paid(person, gathering))
    assert "<dt>Paid</dt><dd>EUR 20.00</dd>" in html and "Payment (card)" in html


def test_the_waitlist_shows_ones_place(client, organiser, person):
    gathering = make_gathering(organiser, capacity=1)
    option = make_option(gathering)
    register(make_user(), gathering, option, now=utcnow())
    register(make_user(), gathering, option, now=utcnow())
    registration = register(person, gathering, option, now=utcnow() + timedelta(seconds=1))
    assert "On the waitlist (number 2)" in show(client, registration)


def test_a_declined_application_shows_the_message(client, gathering, person):
    make_settings(gathering, requires_approval=True)
    registration = register(person, gathering, make_option(gathering), now=utcnow())
    services.decline(organiser_of(gathering), registration, "Full of beginners.", now=utcnow())
    html = show(client, registration)
    assert "Application declined" in html and "Full of beginners." in html
    assert "Cancel my registration" not in html


def test_only_the_person_sees_their_registration(client, gathering, auth):
    registration = register(make_user(), gathering, make_option(gathering), now=utcnow())
    db.session.commit()
    assert client.get(f"/registrations/{registration.id}").status_code == 302  # log in first
    auth.login(organiser_of(gathering))
    for path in ("", "/cancel", "/pay", "/return?payment_intent=pi_x"):
        assert client.get(f"/registrations/{registration.id}{path}").status_code == 404
    for path in ("/cancel", "/pay", "/accept"):
        assert client.post(f"/registrations/{registration.id}{path}").status_code == 404
    assert statuses(registration) == ["confirmed"]


# --- cancelling -----------------------------------------------------------------------------


def test_cancelling_a_free_place_frees_it_for_the_waitlist(client, organiser, person):
    gathering = make_gathering(organiser, capacity=1)
    option = make_option(gathering)
    registration = register(person, gathering, option, now=utcnow())
    waiting = register(make_user(), gathering, option, now=utcnow())
    db.session.commit()
    page = client.get(f"/registrations/{registration.id}/cancel").get_data(as_text=True)
    assert "You have paid nothing by card, so there is nothing to refund." in page
    response = client.post(f"/registrations/{registration.id}/cancel")
    html = client.get(response.location).get_data(as_text=True)
    assert "Your registration is cancelled." in html and "Registration cancelled" in html
    assert statuses(registration, waiting) == ["cancelled", "offered"]


def test_cancelling_before_the_deadline_refunds_in_full(client, gathering, person):
    registration = paid(person, gathering)
    db.session.commit()
    page = client.get(f"/registrations/{registration.id}/cancel").get_data(as_text=True)
    assert "You will get back EUR 20.00 in full" in page
    response = client.post(f"/registrations/{registration.id}/cancel")
    html = client.get(response.location).get_data(as_text=True)
    # Card payments are off in this app, so the refund stays owed (the card flow sends it).
    assert "Your refund of EUR 20.00 could not be sent just now" in html
    db.session.refresh(registration)
    assert registration.status == "cancelled" and registration.refund_owed_minor == 2000


@pytest.mark.parametrize(
    "policy, hours, shown",
    [
        (RefundPolicy.ORGANISER_DECIDES, 48, "The organisers decide about refunds"),
        (RefundPolicy.NONE, 48, "This gathering's policy gives no refund on cancelling"),
        (RefundPolicy.FULL_BEFORE_DEADLINE, 24 * 30, "Full refunds ended"),
    ],
)
def test_the_confirmation_states_what_the_policy_gives(
    client, gathering, person, policy, hours, shown
):
    make_settings(gathering, refund_policy=policy, refund_deadline_hours=hours)
    registration = paid(person, gathering)
    db.session.commit()
    page = client.get(f"/registrations/{registration.id}/cancel").get_data(as_text=True)
    assert shown in page.replace("&#39;", "'")
    client.post(f"/registrations/{registration.id}/cancel")
    db.session.refresh(registration)
    assert registration.status == "cancelled" and registration.refund_owed_minor == 0


def test_a_cancelled_registration_cannot_be_cancelled_again(client, gathering, person):
    registration = register(person, gathering, make_option(gathering), now=utcnow())
    cancellation.cancel_by_participant(person, registration, now=utcnow())
    db.session.commit()
    response = client.post(f"/registrations/{registration.id}/cancel")
    html = client.get(response.location).get_data(as_text=True)
    assert "This registration is cancelled; nothing to cancel." in html
    assert client.get(f"/registrations/{registration.id}/cancel").status_code == 302


# --- my gatherings --------------------------------------------------------------------------


def test_my_gatherings_lists_upcoming_and_past(client, organiser, person):
    soon = make_gathering(organiser, title="Soon")
    gone = make_gathering(organiser, title="Gone")
    upcoming = paid(person, soon)
    past = register(person, gone, make_option(gone), now=utcnow())
    gone.starts_at, gone.ends_at = utcnow() - timedelta(days=2), utcnow() - timedelta(days=1)
    db.session.commit()
    html = client.get("/me/gatherings").get_data(as_text=True)
    upcoming_part, past_part = html.split('id="past-title"')
    assert "Soon" in upcoming_part and "EUR 20.00" in upcoming_part
    assert f"/registrations/{upcoming.id}/cancel" in upcoming_part
    assert "Gone" in past_part and f"/registrations/{past.id}" in past_part
    assert f"/registrations/{past.id}/cancel" not in past_part
    assert "Receipt" in upcoming_part and "Confirmed" in past_part
    assert "My gatherings</a>" in html

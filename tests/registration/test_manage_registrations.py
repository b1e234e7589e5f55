"""The registrations page: counts, filters, answers, the actions on one registration, CSV."""

import csv
import io

import pytest

from facilitation.accounts.models import Role
from facilitation.extensions import db
from facilitation.registration import ledger
from facilitation.registration.models import Payment
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
from tests.registration.helpers import row_counts, sent, statuses
from tests.registration.manage_helpers import act, base, log_in, text, value_of


@pytest.fixture
def manager(auth, organiser):
    return log_in(auth, organiser)


def person(name):
    return make_user(name=name, email=f"{name.split()[0].lower()}@example.org")


def paid(gathering, who, amount=2000):
    """Register ``who`` for a fixed price and record their (pretend) card payment."""
    registration = register(who, gathering, make_option(gathering, "fixed", price_minor=amount))
    ledger.record_payment(
        registration.id, f"pi_{registration.id}", amount, "eur", now=before_start(gathering)
    )
    return registration


def test_the_page_shows_counts_seats_and_each_registration(client, gathering, manager):
    question = make_question(gathering, "What brings you?")
    role = make_role(gathering, "Partner A")
    make_code(gathering, "GIFT", value=100, is_scholarship=True)
    door = make_option(gathering, "door", name="At the door")
    register(
        person("Ada Lovelace"), gathering, door, role_id=role.id, code="gift",
        answers={question.id: "Curiosity"},
    )  # fmt: skip
    register(person("Ben Okri"), gathering, door, role_id=role.id)
    register(person("Cy Twombly"), gathering, door, role_id=role.id)  # full: waitlisted
    db.session.commit()
    page = text(client.get(f"{base(gathering)}/registrations"))
    assert "Seats left</dt><dd>0 of 2" in page
    assert "Confirmed</dt><dd>2" in page and "Waitlisted</dt><dd>1" in page
    assert "Ada Lovelace" in page and "ada@example.org" in page
    assert "Code <code>GIFT</code>" in page and "Scholarship" in page and "Role: Partner A" in page
    assert "What brings you?" in page and "Curiosity" in page
    assert "Due at the door</dt><dd>EUR 20.00" in page  # Ben pays at the door
    assert "No. 1 in line" in page
    assert page.count('class="badge badge-confirmed"') == 2


def test_filter_by_status_and_search_by_name_or_email(client, gathering, manager):
    option = make_option(gathering)
    for name in ("Ada Lovelace", "Ben Okri", "Cy Twombly"):
        register(person(name), gathering, option)
    db.session.commit()
    waiting = text(client.get(f"{base(gathering)}/registrations?status=waitlisted"))
    assert "Cy Twombly" in waiting and "Ada Lovelace" not in waiting
    by_email = text(client.get(f"{base(gathering)}/registrations?q=BEN@"))
    assert "Ben Okri" in by_email and "Ada Lovelace" not in by_email
    by_name = text(client.get(f"{base(gathering)}/registrations?q=love&status=confirmed"))
    assert "Ada Lovelace" in by_name and "Ben Okri" not in by_name
    nobody = text(client.get(f"{base(gathering)}/registrations?q=%25_"))
    assert "Nobody matches." in nobody


def test_an_unknown_status_filter_is_explained(client, gathering, manager):
    response = client.get(f"{base(gathering)}/registrations?status=vip")
    assert response.status_code == 400
    assert "Choose one of the statuses listed." in text(response)


def test_approve_and_decline_with_a_message(client, gathering, manager):
    make_settings(gathering, requires_approval=True)
    option = make_option(gathering)
    yes = register(person("Ada Lovelace"), gathering, option)
    no = register(person("Ben Okri"), gathering, option)
    db.session.commit()
    approved = act(client, yes, "approve", message="Welcome!")
    assert approved.status_code == 302
    assert "Approved: Ada Lovelace is confirmed" in text(client.get(approved.headers["Location"]))
    act(client, no, "decline", message="This one is for people who have come before.")
    assert statuses(yes, no) == ["confirmed", "declined"]
    assert "Welcome!" in sent("registration_approved", "ada@example.org")[0].body_text
    [email] = sent("registration_declined", "ben@example.org")
    assert "people who have come before" in email.body_text


def test_deciding_twice_is_refused_and_changes_nothing(client, gathering, manager):
    registration = register(person("Ada Lovelace"), gathering, make_option(gathering))
    db.session.commit()
    before = row_counts()
    response = act(client, registration, "approve")
    assert response.status_code == 302
    page = text(client.get(response.headers["Location"]))
    assert "That is not possible for this registration now" in page
    assert row_counts() == before and statuses(registration) == ["confirmed"]


def test_offer_a_seat_now_to_someone_waiting(client, gathering, manager):
    option = make_option(gathering)
    first = register(person("Ada Lovelace"), gathering, option)
    register(person("Ben Okri"), gathering, option)
    waiting = register(person("Cy Twombly"), gathering, option)
    db.session.commit()
    full = act(client, waiting, "offer")
    assert full.status_code == 400 and "Every seat" in text(full)
    assert statuses(waiting) == ["waitlisted"]
    act(client, first, "cancel", reason="Double booked.")
    # The cancellation offered the freed seat to Cy already, in waitlist order.
    assert statuses(first, waiting) == ["cancelled", "offered"]
    assert "Double booked." in sent("registration_cancelled", "ada@example.org")[0].body_text


def test_offer_now_passes_over_the_waitlist_order(client, gathering, manager):
    gathering.capacity = 1
    option = make_option(gathering)
    register(person("Ada Lovelace"), gathering, option)
    register(person("Ben Okri"), gathering, option)
    later = register(person("Cy Twombly"), gathering, option)
    gathering.capacity = 2  # raised without a sweep: one seat free, two waiting
    db.session.commit()
    response = act(client, later, "offer")
    assert response.status_code == 302
    assert statuses(later) == ["offered"]
    assert len(sent("waitlist_offer", "cy@example.org")) == 1


def test_cancel_with_a_refund_while_card_payments_are_off_leaves_it_owed(
    client, gathering, manager
):
    registration = paid(gathering, person("Ada Lovelace"))
    db.session.commit()
    response = act(client, registration, "cancel", refund="y")
    page = text(client.get(response.headers["Location"]))
    assert "Ada Lovelace is still owed EUR 20.00. Card payments are off here" in page
    assert "Owed back, not sent yet" in page and 'class="owed-amount">EUR 20.00' in page
    db.session.refresh(registration)
    assert (registration.status, registration.refund_outstanding_minor) == ("cancelled", 2000)


def test_cancel_without_a_refund(client, gathering, manager):
    registration = paid(gathering, person("Ada Lovelace"))
    db.session.commit()
    act(client, registration, "cancel")
    db.session.refresh(registration)
    assert (registration.status, registration.refund_owed_minor) == ("cancelled", 0)


@pytest.mark.parametrize(
    ("amount", "message"),
    [
        ("", "Give the amount."),
        ("twenty", "Give the amount as a number, like 12.50."),
        ("0", "at most what is left to refund (EUR 20.00)"),
        ("20.01", "at most what is left to refund (EUR 20.00)"),
        ("1e999999", "That amount is too high; check it."),
    ],
)
def test_a_bad_refund_amount_is_explained_on_its_row_and_changes_nothing(
    client, gathering, manager, amount, message
):
    registration = paid(gathering, person("Ada Lovelace"))
    db.session.commit()
    response = act(client, registration, "refund", amount=amount)
    assert response.status_code == 400
    page = text(response)
    assert message in page and 'class="row-failed"' in page
    assert f'id="refund-{registration.id}-amount"' in page
    db.session.refresh(registration)
    assert registration.refund_owed_minor == 0


def test_grant_part_of_a_refund_then_record_paying_it_back_by_hand(client, gathering, manager):
    registration = paid(gathering, person("Ada Lovelace"))
    db.session.commit()
    page = text(client.get(f"{base(gathering)}/registrations"))
    assert value_of(page, f"refund-{registration.id}-amount") == "20.00"
    act(client, registration, "refund", amount="5")
    db.session.refresh(registration)
    assert registration.refund_outstanding_minor == 500
    nonce = "cd" * 16
    for _ in range(2):  # a form sent twice records the refund once
        act(client, registration, "manual-refund", amount="5", note="Cash", nonce=nonce)
    db.session.refresh(registration)
    assert (registration.amount_refunded_minor, registration.refund_outstanding_minor) == (500, 0)
    refund = db.session.query(Payment).filter_by(kind="refund").one()
    assert (refund.provider, refund.note, refund.amount_minor) == ("manual", "Cash", 500)
    assert len(sent("registration_refunded", "ada@example.org")) == 1


def test_a_refund_by_hand_cannot_exceed_what_was_paid(client, gathering, manager):
    registration = paid(gathering, person("Ada Lovelace"))
    db.session.commit()
    response = act(client, registration, "manual-refund", amount="25")
    assert response.status_code == 400
    assert "That is more than this registration paid." in text(response)
    assert db.session.query(Payment).filter_by(kind="refund").count() == 0


def test_record_a_payment_at_the_door(client, gathering, manager):
    registration = register(person("Ada Lovelace"), gathering, make_option(gathering, "door"))
    db.session.commit()
    page = text(client.get(f"{base(gathering)}/registrations"))
    assert value_of(page, f"door-payment-{registration.id}-amount") == "20.00"
    response = act(client, registration, "door-payment", amount="20", note="Cash")
    assert "Recorded EUR 20.00 paid at the door by Ada Lovelace" in text(
        client.get(response.headers["Location"])
    )
    db.session.refresh(registration)
    assert (registration.amount_paid_minor, registration.pay_at_door_due_minor) == (2000, 0)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"amount": "-3"}, "Give the amount received."),
        ({"amount": "3", "nonce": "not-a-nonce"}, "Reload the page and try again."),
        ({"amount": "3", "note": "x" * 1001}, "Field cannot be longer than 1000 characters."),
    ],
)
def test_a_bad_door_payment_is_explained_and_changes_nothing(
    client, gathering, manager, fields, message
):
    registration = register(person("Ada Lovelace"), gathering, make_option(gathering, "door"))
    db.session.commit()
    before = row_counts()
    response = act(client, registration, "door-payment", **fields)
    assert response.status_code == 400 and message in text(response)
    assert row_counts() == before


def test_a_facilitator_of_the_gathering_sees_answers_and_may_act(client, auth, organiser):
    from tests.factories import make_gathering

    facilitator = make_user(Role.FACILITATOR)
    gathering = make_gathering(organiser, capacity=2, facilitator_ids=[facilitator.id])
    make_settings(gathering, requires_approval=True)
    question = make_question(gathering, "Experience with eye-gazing?")
    registration = register(
        person("Ada Lovelace"), gathering, make_option(gathering), answers={question.id: "None"}
    )
    log_in(auth, facilitator)
    page = text(client.get(f"{base(gathering)}/registrations"))
    assert "Experience with eye-gazing?" in page and "Edit gathering" not in page
    act(client, registration, "approve")
    assert statuses(registration) == ["confirmed"]


def test_the_page_is_not_cached(client, gathering, manager):
    response = client.get(f"{base(gathering)}/registrations")
    assert response.headers["Cache-Control"] == "no-store"


# --- CSV ---------------------------------------------------------------------------------


def test_export_is_csv_with_answers_and_no_formulas(client, gathering, manager):
    gathering.title = "Eye-gazing: évening / deep"
    question = make_question(gathering, "=Why come?")
    register(
        make_user(name='=HYPERLINK("http://x")', email="h@example.org"),
        gathering,
        make_option(gathering, "door", name="At the door"),
        answers={question.id: "+1 because"},
    )
    db.session.commit()
    response = client.get(f"{base(gathering)}/registrations.csv")
    assert response.status_code == 200
    assert response.content_type == "text/csv; charset=utf-8"
    disposition = response.headers["Content-Disposition"]
    day = gathering.starts_at.astimezone(__import__("zoneinfo").ZoneInfo("Europe/London")).date()
    assert disposition == f'attachment; filename="registrations-{day}-eye-gazing-vening-deep.csv"'
    rows = list(csv.reader(io.StringIO(response.get_data().decode("utf-8-sig"))))
    assert rows[0][:3] == ["Name", "Email", "Status"] and rows[0][-1] == "'=Why come?"
    [row] = rows[1:]
    assert row[0] == '\'=HYPERLINK("http://x")' and row[1] == "h@example.org"
    assert row[2:4] == ["confirmed", "At the door"] and row[-1] == "'+1 because"


def test_row_forms_carry_their_own_csrf_tokens(app, client, gathering, manager):
    make_settings(gathering, requires_approval=True)
    registration = register(person("Ada Lovelace"), gathering, make_option(gathering))
    db.session.commit()
    app.config["WTF_CSRF_ENABLED"] = True
    page = text(client.get(f"{base(gathering)}/registrations"))
    token = value_of(page, f"approve-{registration.id}-csrf_token")
    url = f"{base(gathering)}/registrations/{registration.id}/approve"
    refused = client.post(url, data={f"approve-{registration.id}-message": "Hi"})
    assert refused.status_code == 400 and statuses(registration) == ["applied"]
    data = {f"approve-{registration.id}-csrf_token": token}
    assert client.post(url, data=data).status_code == 302
    assert statuses(registration) == ["confirmed"]


@pytest.mark.parametrize(
    ("action", "fields", "message"),
    [
        ("approve", {"message": "x" * 5001}, "Field cannot be longer than 5000 characters."),
        ("decline", {"message": "x" * 5001}, "Field cannot be longer than 5000 characters."),
        ("cancel", {"reason": "x" * 2001}, "Field cannot be longer than 2000 characters."),
    ],
)
def test_overlong_messages_are_refused_and_change_nothing(
    client, gathering, manager, action, fields, message
):
    make_settings(gathering, requires_approval=True)
    registration = register(person("Ada Lovelace"), gathering, make_option(gathering))
    db.session.commit()
    before = row_counts()
    response = act(client, registration, action, **fields)
    assert response.status_code == 400 and message in text(response)
    assert row_counts() == before and statuses(registration) == ["applied"]

"""Organisers set up registration: settings, ticket options, codes, questions, pairing roles.

Every form refuses bad input with the message next to the field and writes nothing.
"""

from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from facilitation.extensions import db
from facilitation.registration import options
from facilitation.registration.models import (
    DiscountCode,
    PairingRole,
    RegistrationQuestion,
    RegistrationSettings,
    TicketOption,
)
from tests.factories import make_user
from tests.registration.factories import (
    make_code,
    make_option,
    make_question,
    make_role,
    make_settings,
    register,
)
from tests.registration.manage_helpers import base, log_in, text


@pytest.fixture
def manager(auth, organiser):
    return log_in(auth, organiser)


def count(model):
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def settings_data(**overrides):
    data = {
        "hold_minutes": "20",
        "offer_hours": "12",
        "refund_policy": "full_before_deadline",
        "refund_deadline_hours": "72",
        "currency": "gbp",
        "registration_closes_local": "",
    }
    data.update(overrides)
    return data


# --- settings ----------------------------------------------------------------------------


def test_settings_are_saved_with_the_closing_time_in_the_gatherings_zone(
    client, manager, gathering
):
    response = client.post(
        f"{base(gathering)}/registration-setup",
        data=settings_data(requires_approval="y", registration_closes_local="2031-07-01T18:00"),
    )
    assert response.status_code == 302
    saved = options.read_settings(gathering)
    assert (saved.requires_approval, saved.hold_minutes, saved.offer_hours) == (True, 20, 12)
    assert (saved.refund_deadline_hours, saved.currency) == (72, "GBP")
    # 18:00 in London in July is 17:00 UTC.
    assert saved.registration_closes_at == datetime(2031, 7, 1, 17, 0, tzinfo=UTC)
    page = text(client.get(f"{base(gathering)}/registration-setup"))
    assert 'value="2031-07-01T18:00"' in page and 'value="GBP"' in page


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"hold_minutes": "0"}, "Hold a seat for 1 minute to 24 hours"),
        ({"hold_minutes": "soon"}, "Not a valid integer value."),
        ({"hold_minutes": "99999999999999999999"}, "Hold a seat for 1 minute to 24 hours"),
        ({"refund_deadline_hours": "99999999999999999999"}, "Give the refund deadline in hours"),
        ({"offer_hours": "721"}, "Keep offers open for 1 hour to 30 days."),
        ({"refund_deadline_hours": "-1"}, "Give the refund deadline in hours"),
        ({"refund_policy": "whatever"}, "Not a valid choice."),
        ({"currency": "EURO"}, "Give the currency as a three-letter code"),
        ({"currency": ""}, "Give the currency."),
        ({"registration_closes_local": "tomorrow"}, "Not a valid datetime value."),
    ],
)
def test_bad_settings_are_explained_and_nothing_is_saved(
    client, manager, gathering, overrides, message
):
    response = client.post(f"{base(gathering)}/registration-setup", data=settings_data(**overrides))
    assert response.status_code == 400
    assert message in text(response)
    assert count(RegistrationSettings) == 0


def test_the_currency_cannot_change_once_people_owe_money(client, manager, gathering):
    register(make_user(), gathering, make_option(gathering, "door"))
    db.session.commit()
    response = client.post(
        f"{base(gathering)}/registration-setup", data=settings_data(currency="USD")
    )
    assert response.status_code == 400
    assert "it cannot change now" in text(response)
    db.session.expire_all()
    assert options.read_settings(gathering).currency == "EUR"


def test_card_payments_off_is_said_clearly_and_card_options_are_marked(
    app, client, manager, gathering
):
    make_option(gathering, "fixed", name="Standard")
    make_option(gathering, "door", name="At the door")
    db.session.commit()
    page = text(client.get(f"{base(gathering)}/registration-setup"))
    assert "Card payments are off: free and pay-at-door options still work" in page
    assert page.count("Not payable yet") == 1
    app.config.update(STRIPE_SECRET_KEY="sk_test_x", STRIPE_PUBLISHABLE_KEY="pk_test_x")
    page = text(client.get(f"{base(gathering)}/registration-setup"))
    assert "Card payments are off" not in page and "Not payable yet" not in page


# --- ticket options ----------------------------------------------------------------------


def option_data(**overrides):
    data = {"name": "Standard", "kind": "fixed", "price": "12.50", "is_active": "y"}
    data.update(overrides)
    return data


@pytest.mark.parametrize(
    ("data", "stored"),
    [
        ({"kind": "free", "price": "99"}, ("free", 0, 0, 0, 0)),
        ({"kind": "fixed", "price": "12.50"}, ("fixed", 1250, 0, 0, 0)),
        ({"kind": "door", "price": "15"}, ("door", 1500, 0, 0, 0)),
        (
            {"kind": "sliding", "minimum": "", "suggested": "20", "maximum": "35,5"},
            ("sliding", 0, 0, 2000, 3550),
        ),
    ],
)
def test_add_each_kind_of_ticket_option(client, manager, gathering, data, stored):
    response = client.post(
        f"{base(gathering)}/ticket-options/new",
        data=option_data(**data, guidance="Pay what you can."),
    )
    assert response.status_code == 302
    option = db.session.scalar(sa.select(TicketOption))
    prices = (option.price_minor, option.min_minor, option.suggested_minor, option.max_minor)
    assert (option.kind, *prices) == stored
    assert option.guidance == "Pay what you can." and option.is_active


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"name": "  "}, "Give the option a name."),
        ({"kind": "barter"}, "Not a valid choice."),
        ({"price": ""}, "Give an amount."),
        ({"price": "0"}, "A fixed price must be above zero; choose Free."),
        ({"price": "twelve"}, "Give the amount as a number, like 12.50."),
        ({"price": "12.505"}, "Give the amount as a number, like 12.50."),
        ({"price": "1e999999"}, "That amount is too high; check it."),
        ({"price": "-5"}, "The price cannot be below zero."),
        (
            {"kind": "sliding", "minimum": "30", "suggested": "20", "maximum": "40"},
            "The minimum must not be above the suggested amount",
        ),
        ({"kind": "sliding", "suggested": "", "maximum": "40"}, "Give an amount."),
        ({"kind": "sliding", "suggested": "0", "maximum": "0"}, "needs a maximum above zero"),
        ({"guidance": "x" * 1001}, "Field cannot be longer than 1000 characters."),
    ],
)
def test_bad_ticket_options_are_explained_and_nothing_is_saved(
    client, manager, gathering, data, message
):
    response = client.post(f"{base(gathering)}/ticket-options/new", data=option_data(**data))
    assert response.status_code == 400
    body = text(response)
    assert message in body and 'class="error"' in body
    assert count(TicketOption) == 0


def test_an_option_is_shown_in_major_units_and_edited(client, manager, gathering):
    option = make_option(gathering, "sliding", min_minor=500, suggested_minor=1500, max_minor=3000)
    db.session.commit()
    url = f"{base(gathering)}/ticket-options/{option.id}"
    page = text(client.get(url))
    assert 'value="5.00"' in page and 'value="15.00"' in page and "Minimum (EUR)" in page
    data = option_data(kind="sliding", minimum="5", suggested="10", maximum="30", name="Sliding")
    assert client.post(url, data=data).status_code == 302
    db.session.refresh(option)
    assert (option.name, option.suggested_minor) == ("Sliding", 1000)


def test_a_failed_edit_changes_nothing(client, manager, gathering):
    option = make_option(gathering, "fixed", name="Standard")
    db.session.commit()
    url = f"{base(gathering)}/ticket-options/{option.id}"
    response = client.post(url, data=option_data(name="Renamed", price="0"))
    assert response.status_code == 400
    db.session.expire_all()
    assert (option.name, option.price_minor) == ("Standard", 2000)


def test_an_unused_option_is_removed_and_a_used_one_switched_off(client, manager, gathering):
    unused = make_option(gathering, "free", name="Unused")
    used = make_option(gathering, "free", name="Used")
    register(make_user(), gathering, used)
    db.session.commit()
    first = client.post(f"{base(gathering)}/ticket-options/{unused.id}/remove")
    second = client.post(
        f"{base(gathering)}/ticket-options/{used.id}/remove", follow_redirects=True
    )
    assert first.status_code == 302
    assert "people already registered with it keep it" in text(second)
    db.session.expire_all()
    assert db.session.get(TicketOption, unused.id) is None
    assert db.session.get(TicketOption, used.id).is_active is False


# --- codes -------------------------------------------------------------------------------


def code_data(**overrides):
    data = {"code": "spring-25", "kind": "percent", "value": "25", "max_uses": "", "is_active": "y"}
    data.update(overrides)
    return data


def test_add_a_scholarship_code_with_a_limit_and_an_expiry(client, manager, gathering):
    response = client.post(
        f"{base(gathering)}/codes/new",
        data=code_data(
            code="gift", value="100%", max_uses="3", expires_local="2031-01-10T12:00",
            is_scholarship="y",
        ),
    )  # fmt: skip
    assert response.status_code == 302
    code = db.session.scalar(sa.select(DiscountCode))
    assert (code.code, code.kind, code.value, code.max_uses) == ("GIFT", "percent", 100, 3)
    assert code.is_scholarship and code.expires_at == datetime(2031, 1, 10, 12, 0, tzinfo=UTC)


def test_an_amount_code_is_typed_in_major_units_and_its_uses_are_shown(client, manager, gathering):
    response = client.post(
        f"{base(gathering)}/codes/new", data=code_data(kind="amount", value="7.50", max_uses="2")
    )
    assert response.status_code == 302
    code = db.session.scalar(sa.select(DiscountCode))
    assert code.value == 750
    register(make_user(), gathering, make_option(gathering, "door"), code="SPRING-25")
    db.session.commit()
    page = text(client.get(f"{base(gathering)}/registration-setup"))
    assert "SPRING-25" in page and "EUR 7.50" in page and "1 of 2" in page
    assert 'value="7.50"' in text(client.get(f"{base(gathering)}/codes/{code.id}"))


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"code": "a b"}, "Use 3 to 40 letters, digits, dashes or underscores"),
        ({"code": ""}, "Give the code people will type."),
        ({"value": "150"}, "A percentage off must be from 1 to 100."),
        ({"value": "12.5"}, "Give a whole percentage from 1 to 100."),
        ({"value": "0"}, "A percentage off must be from 1 to 100."),
        ({"kind": "amount", "value": "-1"}, "The amount off must be above zero."),
        ({"kind": "amount", "value": "lots"}, "Give the amount as a number"),
        ({"max_uses": "0"}, "Allow at least one use, or leave the limit empty."),
        ({"max_uses": "many"}, "Not a valid integer value."),
        ({"max_uses": "99999999999999999999"}, "more people than any gathering holds"),
        ({"expires_local": "someday"}, "Not a valid datetime value."),
    ],
)
def test_bad_codes_are_explained_and_nothing_is_saved(client, manager, gathering, data, message):
    response = client.post(f"{base(gathering)}/codes/new", data=code_data(**data))
    assert response.status_code == 400
    assert message in text(response)
    assert count(DiscountCode) == 0


def test_a_code_cannot_be_added_twice_and_is_switched_off_not_deleted(client, manager, gathering):
    code = make_code(gathering, "SPRING-25")
    db.session.commit()
    again = client.post(f"{base(gathering)}/codes/new", data=code_data(code="Spring-25"))
    assert again.status_code == 400 and "already has that code" in text(again)
    off = client.post(f"{base(gathering)}/codes/{code.id}/remove", follow_redirects=True)
    assert "nobody can use it from now on" in text(off)
    db.session.expire_all()
    assert count(DiscountCode) == 1 and code.is_active is False and code.value == 50


# --- questions ---------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["short_text", "long_text", "single", "multiple", "yes_no"])
def test_add_each_kind_of_question(client, manager, gathering, kind):
    response = client.post(
        f"{base(gathering)}/questions/new",
        data={"label": "How do you feel?", "kind": kind, "choices": "Calm\n\nCurious\n"},
    )
    assert response.status_code == 302
    question = db.session.scalar(sa.select(RegistrationQuestion))
    assert (question.kind, question.required) == (kind, False)
    assert question.choices == (["Calm", "Curious"] if kind in ("single", "multiple") else [])


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"label": ""}, "Write the question."),
        ({"kind": "essay"}, "Not a valid choice."),
        ({"kind": "single", "choices": "Only one"}, "Give at least two choices."),
        ({"kind": "multiple", "choices": "A\nA"}, "Give up to 30 different choices."),
    ],
)
def test_bad_questions_are_explained_and_nothing_is_saved(
    client, manager, gathering, data, message
):
    form = {"label": "Why?", "kind": "short_text", "choices": "", "required": "y", **data}
    response = client.post(f"{base(gathering)}/questions/new", data=form)
    assert response.status_code == 400
    assert message in text(response)
    assert count(RegistrationQuestion) == 0


def test_an_answered_question_keeps_its_choices_and_is_switched_off_on_removal(
    client, manager, gathering
):
    question = make_question(gathering, "Group?", "single", ["Morning", "Evening"])
    register(make_user(), gathering, make_option(gathering), answers={question.id: "Morning"})
    db.session.commit()
    url = f"{base(gathering)}/questions/{question.id}"
    assert "Morning\nEvening" in text(client.get(url))
    shrunk = client.post(
        url, data={"label": "Group?", "kind": "single", "choices": "Evening\nLate"}
    )
    assert shrunk.status_code == 400 and "not remove choices" in text(shrunk)
    removed = client.post(f"{url}/remove", follow_redirects=True)
    assert "the answers already given are kept" in text(removed)
    db.session.expire_all()
    assert question.is_active is False and question.choices == ["Morning", "Evening"]


# --- pairing roles -----------------------------------------------------------------------


def test_roles_are_added_with_caps_and_shown_with_seats_taken(client, manager, gathering):
    response = client.post(f"{base(gathering)}/roles/new", data={"name": "Partner A", "cap": "1"})
    assert response.status_code == 302
    role = db.session.scalar(sa.select(PairingRole))
    assert (role.name, role.cap) == ("Partner A", 1)
    register(make_user(), gathering, make_option(gathering), role_id=role.id)
    db.session.commit()
    page = text(client.get(f"{base(gathering)}/registration-setup"))
    assert "<td>Partner A</td><td>1</td><td>1</td>" in page


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"name": ""}, "Give the role a name."),
        ({"cap": "-1"}, "A cap cannot be below zero"),
        ({"cap": "half"}, "Not a valid integer value."),
        ({"cap": "99999999999999999999"}, "more people than any gathering holds"),
        ({"name": "Partner B"}, "already has a role with that name"),
    ],
)
def test_bad_roles_are_explained_and_nothing_is_saved(client, manager, gathering, data, message):
    make_role(gathering, "Partner B")
    db.session.commit()
    response = client.post(f"{base(gathering)}/roles/new", data={"name": "Partner A", **data})
    assert response.status_code == 400
    assert message in text(response)
    assert count(PairingRole) == 1


def test_a_chosen_role_cannot_be_removed(client, manager, gathering):
    role = make_role(gathering, "Partner A")
    register(make_user(), gathering, make_option(gathering), role_id=role.id)
    unused = make_role(gathering, "Partner B")
    db.session.commit()
    refused = client.post(f"{base(gathering)}/roles/{role.id}/remove", follow_redirects=True)
    assert "People have chosen this role" in text(refused)
    assert client.post(f"{base(gathering)}/roles/{unused.id}/remove").status_code == 302
    db.session.expire_all()
    assert [r.name for r in db.session.scalars(sa.select(PairingRole))] == ["Partner A"]


def test_setup_page_lists_what_the_gathering_offers(client, manager, gathering):
    make_settings(gathering, currency="GBP")
    make_option(gathering, "sliding", name="Sliding scale", guidance="Choose freely.")
    make_question(gathering, "Anything we should know?", "long_text", required=True)
    db.session.commit()
    page = text(client.get(f"{base(gathering)}/registration-setup"))
    assert "GBP 10.00 to GBP 30.00, suggested GBP 20.00, by card" in page
    assert "Choose freely." in page and "Anything we should know?" in page

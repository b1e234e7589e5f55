"""A ban asks for confirmation, cancels the person's upcoming registrations with refunds by each
gathering's policy (card refunds really go through localstripe), and the desk refuses them."""

import pytest
import sqlalchemy as sa

from facilitation.accounts.models import Role
from facilitation.attendance import rules
from facilitation.attendance import services as desk
from facilitation.attendance.desk import DeskRefusal
from facilitation.consent import banning, safety
from facilitation.consent.models import Ban
from facilitation.core.clock import utcnow
from facilitation.core.errors import DomainError
from facilitation.extensions import db
from facilitation.registration.models import Registration
from tests.factories import make_gathering, make_user
from tests.registration.factories import make_option, make_settings, register
from tests.registration.helpers import sent
from tests.registration.manage_helpers import log_in, text
from tests.registration.test_manage_refunds import pay_by_card, sdk, stripe_refunds  # noqa: F401

REASON = "Touched people after they said no."


def _setup(organiser):
    ada = make_user(name="Ada Lovelace", email="ada@example.org")
    other = make_user(name="Ben Okri", email="ben@example.org")
    refundable = make_gathering(organiser, title="Refundable evening")
    kept = make_gathering(organiser, title="No-refund evening")
    make_settings(kept, refund_policy="none")
    paid = register(ada, refundable, make_option(refundable, "fixed"))
    unrefunded = register(ada, kept, make_option(kept, "fixed"))
    stays = register(other, refundable, make_option(refundable, "free"))
    return ada, refundable, paid, unrefunded, stays


def test_a_ban_without_confirmation_changes_nothing(client, sdk, organiser, auth):  # noqa: F811
    ada, _, paid, unrefunded, _ = _setup(organiser)
    pay_by_card(sdk, paid)
    pay_by_card(sdk, unrefunded)
    log_in(auth, organiser)
    page = text(client.get(f"/manage/people/{ada.id}/ban"))
    assert "Ban Ada Lovelace?" in page and "2 upcoming registration(s)" in page
    assert "Refundable evening" in page and "EUR 20.00" in page and "No-refund evening" in page
    # The people page's one click lands on this page; it bans nobody.
    response = client.post(f"/manage/people/{ada.id}/ban", data={"reason": REASON})
    assert response.status_code == 200 and "Ban Ada Lovelace?" in text(response)
    assert db.session.scalars(sa.select(Ban)).all() == []
    db.session.expire_all()
    assert {r.status for r in db.session.scalars(sa.select(Registration))} == {"confirmed"}
    with pytest.raises(DomainError) as caught:
        banning.ban_person(organiser, ada, REASON, confirmed=False, now=utcnow())
    assert caught.value.code == "confirm_ban"


def test_a_confirmed_ban_cancels_refunds_by_policy_and_the_desk_refuses(
    client,
    sdk,  # noqa: F811
    organiser,
    auth,
):
    ada, refundable, paid, unrefunded, stays = _setup(organiser)
    pay_by_card(sdk, paid)
    pay_by_card(sdk, unrefunded)
    log_in(auth, organiser)
    response = client.post(f"/manage/people/{ada.id}/ban", data={"reason": REASON, "confirm": "y"})
    assert response.status_code == 302
    page = text(client.get(response.headers["Location"]))
    assert "2 upcoming registration(s) are cancelled. 1 card refund(s) sent." in page
    db.session.expire_all()
    assert safety.active_ban(user_id=ada.id) is not None
    paid, unrefunded, stays = (
        db.session.get(Registration, r.id) for r in (paid, unrefunded, stays)
    )
    assert (paid.status, paid.amount_refunded_minor, paid.refund_outstanding_minor) == (
        "cancelled",
        2000,
        0,
    )
    [refund] = stripe_refunds(paid)
    assert sdk.v1.refunds.retrieve(refund.provider_ref).amount == 2000
    assert (unrefunded.status, unrefunded.amount_refunded_minor) == ("cancelled", 0)
    assert stripe_refunds(unrefunded) == []
    assert stays.status == "confirmed"
    emails = sent("registration_cancelled", "ada@example.org")
    assert len(emails) == 2 and all(REASON not in e.body_text for e in emails)

    # The desk finds her and refuses, clearly for the desk and neutrally for her.
    (card,) = desk.search(organiser, refundable, "Ada", utcnow())
    assert card.decision.code == "ask_organiser"
    assert card.decision.detail == rules.BAN_DETAIL
    with pytest.raises(DeskRefusal) as refused:
        desk.check_in(organiser, refundable, paid.id, "ban-test-request-0001", utcnow())
    assert refused.value.decision.detail == rules.BAN_DETAIL


@pytest.mark.parametrize("role", [Role.PARTICIPANT, Role.DOOR, Role.FACILITATOR])
def test_only_organisers_reach_the_ban_page(client, auth, role):
    viewer, person = make_user(role), make_user()
    log_in(auth, viewer)
    assert client.get(f"/manage/people/{person.id}/ban").status_code == 403
    assert client.post(f"/manage/people/{person.id}/ban", data={"confirm": "y"}).status_code == 403
    assert safety.active_ban(user_id=person.id) is None


def test_a_ban_page_for_an_id_beyond_the_database_is_not_found(client, auth, organiser):
    log_in(auth, organiser)
    for method in (client.get, client.post):
        assert method(f"/manage/people/{2**31}/ban", data={"confirm": "y"}).status_code == 404
    assert client.get(f"/manage/reports/{2**31}").status_code == 404

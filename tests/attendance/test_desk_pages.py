"""The check-in desk through its pages: every answer in large type, nothing half-written."""

from __future__ import annotations

import base64

import pytest
import sqlalchemy as sa

from facilitation.accounts.models import Role
from facilitation.attendance import tickets
from facilitation.attendance.models import CheckIn, WalkIn
from facilitation.consent import safety
from facilitation.core.clock import utcnow
from facilitation.exercises import snapshots
from facilitation.extensions import db
from facilitation.registration import cancellation
from facilitation.registration.models import Payment, Registration
from tests.attendance.factories import coming, door_volunteer, request_id, require_agreement
from tests.consent.signatures import signed
from tests.factories import make_gathering, make_user
from tests.registration.factories import make_option

PNG = "data:image/png;base64," + base64.b64encode(signed()).decode()


def rows(model=CheckIn) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def standing() -> int:
    return db.session.scalar(
        sa.select(sa.func.count()).select_from(CheckIn).where(CheckIn.undone_at.is_(None))
    )


def code_of(registration: Registration) -> str:
    return tickets.qr_content(tickets.ticket_for(registration, utcnow()).token)


@pytest.fixture
def desk(client, auth, gathering):
    """Log a door volunteer in; return a poster for the desk's forms."""
    volunteer = door_volunteer()
    db.session.commit()
    auth.login(volunteer)

    def post(action: str, **data):
        return client.post(f"/desk/{gathering.id}/{action}", data=data)

    return post


def text(response) -> str:
    return response.get_data(as_text=True)


def admit(desk, registration, nonce=None, **data):
    nonce = nonce or request_id()
    return desk("check-in", registration_id=registration.id, request_id=nonce, **data)


def test_the_desk_shows_the_headcount_scanner_search_and_walk_in(client, desk, gathering):
    coming(gathering)
    db.session.commit()
    page = text(client.get(f"/desk/{gathering.id}"))
    assert 'data-count="checked_in">0<' in page and 'data-count="expected">1<' in page
    assert "data-scanner" in page and 'name="q"' in page and "Walk-in" in page
    assert "<script>" not in page  # no inline scripts


def test_a_scanned_ticket_shows_the_person_and_admit_checks_them_in(client, desk, gathering):
    registration = coming(gathering, person=make_user(name="Ada Lovelace"))
    code = code_of(registration)
    db.session.commit()
    shown = desk("lookup", code=code)
    assert shown.status_code == 200 and "Ada Lovelace" in text(shown)
    assert 'data-decision="admit"' in text(shown) and rows() == 0
    assert "Nobody found." not in text(shown)
    admitted = admit(desk, registration, method="scan")
    assert "Checked in: Ada Lovelace" in text(admitted)
    assert rows() == 1 and db.session.scalar(sa.select(CheckIn.method)) == "scan"
    assert client.get(f"/desk/{gathering.id}/headcount").get_json()["checked_in"] == 1


def test_a_second_scan_says_when_they_were_checked_in(desk, gathering):
    registration = coming(gathering)
    code = code_of(registration)
    db.session.commit()
    admit(desk, registration)
    again = text(desk("lookup", code=code))
    assert "Already checked in at" in again and "Undo check-in" in again
    second = admit(desk, registration)
    assert "Already checked in at" in text(second) and rows() == 1


def test_a_double_tap_with_the_same_request_id_counts_once(desk, gathering):
    registration = coming(gathering)
    db.session.commit()
    nonce = request_id()
    first, second = admit(desk, registration, nonce), admit(desk, registration, nonce)
    assert first.status_code == second.status_code == 200
    assert "Checked in" in text(second) and rows() == 1


def test_undo_frees_the_person_to_check_in_again(desk, gathering):
    registration = coming(gathering)
    db.session.commit()
    admit(desk, registration)
    row = db.session.scalar(sa.select(CheckIn))
    undone = desk(f"check-ins/{row.id}/undo")
    assert "Check-in undone" in text(undone) and standing() == 0
    assert "Checked in" in text(admit(desk, registration)) and standing() == 1


def test_a_ticket_for_another_gathering_is_refused_with_its_name(desk, gathering, organiser):
    other = make_gathering(organiser, title="Saturday dance")
    code = code_of(coming(other))
    db.session.commit()
    refused = text(desk("lookup", code=code))
    assert "This ticket is for Saturday dance" in refused and "Admit</button>" not in refused


@pytest.mark.parametrize(
    ("scanned", "message"),
    [
        ("hello world", "This is not a ticket code."),
        ("GW1:" + "A" * 24, "This code is not one of our tickets."),
        ("", "Nothing was scanned. Try again."),
    ],
)
def test_unreadable_and_forged_codes_are_answered_in_large_type(desk, scanned, message):
    refused = desk("lookup", code=scanned)
    assert refused.status_code == 400
    assert f'<p class="desk-big">{message}</p>' in text(refused)


def test_unsigned_agreements_are_signed_on_the_desk_then_admitted(client, desk, gathering):
    registration = coming(gathering, person=make_user(name="Bo Reed"))
    agreement = require_agreement(gathering)
    db.session.commit()
    refused = admit(desk, registration)
    assert refused.status_code == 409 and "Please sign first." in text(refused)
    sign_path = f"/desk/{gathering.id}/people/{registration.id}/agreements/{agreement.id}/sign"
    assert f'href="{sign_path}"' in text(refused) and rows() == 0
    form = client.get(sign_path)
    assert form.status_code == 200 and "signature-pad" in text(form)
    html = text(form)
    hidden = {
        name: html.split(f'name="{name}" type="hidden" value="')[1].split('"')[0]
        for name in ("version_id", "shown_sha256", "viewed_token")
    }
    signed = client.post(
        sign_path, data={**hidden, "typed_name": "Bo Reed", "signature": PNG, "consent": "y"}
    )
    assert signed.status_code == 302, text(signed)
    assert "Checked in: Bo Reed" in text(admit(desk, registration))


def test_signing_without_drawing_writes_nothing(client, desk, gathering):
    registration = coming(gathering)
    agreement = require_agreement(gathering)
    db.session.commit()
    path = f"/desk/{gathering.id}/people/{registration.id}/agreements/{agreement.id}/sign"
    refused = client.post(path, data={"typed_name": "X", "consent": "y"})
    assert refused.status_code == 400


def test_pay_at_the_door_asks_for_the_money_then_takes_it(desk, gathering):
    registration = coming(gathering, option=make_option(gathering, "door", price_minor=1500))
    db.session.commit()
    asked = admit(desk, registration)
    assert asked.status_code == 409 and "Take EUR 15.00 first." in text(asked)
    wrong = admit(desk, registration, amount="10")
    assert "Take exactly EUR 15.00." in text(wrong) and rows(Payment) == 0
    taken = admit(desk, registration, amount="15.00")
    assert "EUR 15.00 taken at the door." in text(taken)
    assert rows(Payment) == 1 and rows() == 1


def test_an_unpaid_card_hold_is_refused(desk, gathering):
    registration = coming(gathering, option=make_option(gathering, "fixed"))
    db.session.commit()
    refused = admit(desk, registration)
    assert refused.status_code == 409 and rows() == 0
    assert "Card payment not finished." in text(refused) or "lapsed" in text(refused)


def test_a_ban_is_answered_in_neutral_words(desk, gathering, organiser):
    registration = coming(gathering)
    safety.ban(organiser, registration.user, "reason kept private", now=utcnow())
    db.session.commit()
    refused = text(admit(desk, registration))
    assert "Please ask the organiser to come to the door." in refused
    assert "reason kept private" not in refused and "ban" not in refused.lower().split("desk")[0]
    assert rows() == 0


def test_a_cancelled_registration_is_refused(desk, gathering):
    registration = coming(gathering)
    code = code_of(registration)
    cancellation.cancel_by_participant(registration.user, registration, now=utcnow())
    db.session.commit()
    assert "This registration was cancelled." in text(desk("lookup", code=code))
    assert admit(desk, registration).status_code == 409 and rows() == 0


def test_search_finds_people_by_name(client, desk, gathering):
    registration = coming(gathering, person=make_user(name="Cleo Park"))
    db.session.commit()
    page = text(client.get(f"/desk/{gathering.id}?q=cleo"))
    assert f"/desk/{gathering.id}/people/{registration.id}" in page
    assert "Nobody found." in text(client.get(f"/desk/{gathering.id}?q=zzzz"))
    card = text(client.get(f"/desk/{gathering.id}/people/{registration.id}"))
    assert "Cleo Park" in card and "Admit</button>" in card


def test_a_walk_in_is_registered_and_checked_in_on_one_screen(desk, gathering):
    option = make_option(gathering, "door", price_minor=1000)
    db.session.commit()
    data = {"name": "Dee Walker", "email": "dee@example.org", "option_id": option.id}
    done = desk("walk-in", **data, amount="10.00", request_id=request_id())
    assert "Walk-in checked in: Dee Walker" in text(done)
    assert (rows(WalkIn), rows(Payment), rows()) == (1, 1, 1)


def test_a_walk_in_with_the_wrong_amount_writes_nothing(desk, gathering):
    option = make_option(gathering, "door", price_minor=1000)
    db.session.commit()
    data = {"name": "Dee Walker", "email": "dee@example.org", "option_id": option.id}
    refused = desk("walk-in", **data, amount="5", request_id=request_id())
    assert refused.status_code == 400 and "Take exactly EUR 10.00." in text(refused)
    assert 'value="Dee Walker"' in text(refused)
    assert (rows(WalkIn), rows(Payment), rows(Registration)) == (0, 0, 0)


def test_a_walk_in_double_submit_counts_once(desk, gathering):
    option = make_option(gathering, "free")
    db.session.commit()
    data = {"name": "Eve", "email": "eve@example.org", "option_id": option.id}
    nonce = request_id()
    desk("walk-in", **data, request_id=nonce)
    again = desk("walk-in", **data, request_id=nonce)
    assert again.status_code == 200 and (rows(WalkIn), rows()) == (1, 1)


def test_the_door_role_sees_only_the_desk(client, desk, gathering):
    assert client.get(f"/desk/{gathering.id}").status_code == 200
    assert client.get("/desk").status_code == 200
    for path in ("/me/gatherings", f"/gatherings/{gathering.id}", "/manage/gatherings"):
        assert client.get(path).status_code == 403, path
    assert client.get("/").status_code == 302
    page = client.get(f"/desk/{gathering.id}").get_data(as_text=True)
    nav = page.split('<nav aria-label="Main">')[1].split("</nav>")[0]
    assert "/desk" in nav and "Log out" in nav
    for hidden in ("/me/gatherings", "/join", "/manage", "Report a concern"):
        assert hidden not in nav and hidden not in page.split("</main>")[1], hidden


@pytest.mark.parametrize("role", [Role.PARTICIPANT, Role.FACILITATOR])
def test_others_may_not_work_the_desk(client, auth, gathering, role):
    registration = coming(gathering)
    db.session.commit()
    auth.login(make_user(role))
    assert client.get(f"/desk/{gathering.id}").status_code == 403
    posted = client.post(
        f"/desk/{gathering.id}/check-in",
        data={"registration_id": registration.id, "request_id": request_id()},
    )
    assert posted.status_code == 403 and rows() == 0


def test_an_organiser_works_the_desk(client, auth, gathering, organiser):
    db.session.commit()
    auth.login(organiser)
    assert client.get(f"/desk/{gathering.id}").status_code == 200


def test_the_facilitator_console_gets_the_headcount(desk, gathering):
    registration = coming(gathering)
    coming(gathering)
    db.session.commit()
    admit(desk, registration)
    assert snapshots.headcount_payload(gathering.id) == {"checked_in": 1, "expected": 2}

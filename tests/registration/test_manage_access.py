"""Who may use the organisers' registration pages: organisers and the gathering's facilitators.

``permissions.may_manage`` lets every organiser manage every gathering (organisers run the whole
organisation) and a facilitator only the gatherings they facilitate.
"""

import pytest

from facilitation.accounts.models import Role
from facilitation.extensions import db
from facilitation.registration.models import TicketOption
from tests.factories import make_gathering, make_user
from tests.registration.factories import make_option, make_settings, register
from tests.registration.manage_helpers import act, base, log_in

PAGES = [
    "/registrations",
    "/registrations.csv",
    "/registration-setup",
    "/ticket-options/new",
    "/codes/new",
    "/questions/new",
    "/roles/new",
]


@pytest.fixture
def facilitator(app):
    return make_user(Role.FACILITATOR)


@pytest.fixture
def facilitated(organiser, facilitator):
    """Give a gathering that ``facilitator`` facilitates."""
    return make_gathering(organiser, capacity=2, facilitator_ids=[facilitator.id])


@pytest.mark.parametrize("page", PAGES)
def test_logged_out_people_are_sent_to_log_in(client, gathering, page):
    db.session.commit()
    response = client.get(base(gathering) + page)
    assert response.status_code == 302
    assert "/log-in" in response.headers["Location"]


@pytest.mark.parametrize("page", PAGES)
def test_participants_are_refused(client, auth, gathering, page):
    log_in(auth, make_user())
    assert client.get(base(gathering) + page).status_code == 403


@pytest.mark.parametrize("page", PAGES)
def test_a_facilitator_of_another_gathering_is_refused(client, auth, facilitated, page):
    other = make_gathering(capacity=5)
    log_in(auth, facilitated.facilitators[0])
    assert client.get(base(other) + page).status_code == 403


@pytest.mark.parametrize("page", PAGES)
def test_the_gatherings_facilitator_gets_in(client, auth, facilitated, page):
    log_in(auth, facilitated.facilitators[0])
    assert client.get(base(facilitated) + page).status_code == 200


@pytest.mark.parametrize("page", PAGES)
def test_any_organiser_gets_in(client, auth, gathering, page):
    log_in(auth, make_user(Role.ORGANISER))  # not the one who created it
    assert client.get(base(gathering) + page).status_code == 200


def test_unknown_gatherings_and_items_are_404(client, auth, gathering):
    mine = make_option(gathering, "free")
    other = make_gathering(capacity=5)
    log_in(auth, make_user(Role.ORGANISER))
    assert client.get("/manage/gatherings/999999/registrations").status_code == 404
    assert client.get(f"{base(gathering)}/ticket-options/999999").status_code == 404
    # An option is reached only through its own gathering.
    assert client.get(f"{base(other)}/ticket-options/{mine.id}").status_code == 404
    assert client.post(f"{base(other)}/ticket-options/{mine.id}/remove").status_code == 404
    assert db.session.get(TicketOption, mine.id) is not None


def test_actions_are_refused_to_participants_and_change_nothing(client, auth, gathering):
    make_settings(gathering, requires_approval=True)
    registration = register(make_user(), gathering, make_option(gathering, "free"))
    log_in(auth, make_user())
    for action in ("approve", "decline", "cancel"):
        assert act(client, registration, action).status_code == 403
    other = make_gathering(capacity=5)
    db.session.commit()
    log_in(auth, make_user(Role.ORGANISER))
    # A registration is reached only through its own gathering.
    wrong = client.post(f"{base(other)}/registrations/{registration.id}/approve")
    assert wrong.status_code == 404
    db.session.refresh(registration)
    assert registration.status == "applied"


def test_logged_out_actions_go_to_log_in(client, gathering):
    registration = register(make_user(), gathering, make_option(gathering, "free"))
    db.session.commit()
    response = act(client, registration, "cancel")
    assert response.status_code == 302 and "/log-in" in response.headers["Location"]
    db.session.refresh(registration)
    assert registration.status == "confirmed"


def test_the_organiser_and_facilitator_pages_link_here(client, auth, facilitated):
    log_in(auth, make_user(Role.ORGANISER))
    registrations = f'href="{base(facilitated)}/registrations"'
    edit = client.get(f"{base(facilitated)}/edit").get_data(as_text=True)
    assert registrations in edit and f'href="{base(facilitated)}/registration-setup"' in edit
    assert registrations in client.get("/manage/gatherings").get_data(as_text=True)
    auth.logout()
    log_in(auth, facilitated.facilitators[0])
    participants = client.get(f"{base(facilitated)}/participants").get_data(as_text=True)
    assert registrations in participants

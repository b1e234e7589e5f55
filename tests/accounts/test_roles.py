"""Roles: participant, door, facilitator, organiser; only organisers manage."""

import pytest

from facilitation.accounts.models import Role
from facilitation.extensions import db
from tests.factories import make_gathering, make_user

ORGANISER_PAGES = ["/manage/gatherings", "/manage/gatherings/new", "/manage/series/new",
                   "/manage/people", "/manage/outbox/"]  # fmt: skip


@pytest.mark.parametrize("path", ORGANISER_PAGES)
def test_anonymous_is_sent_to_log_in(client, path):
    response = client.get(path)
    assert response.status_code == 302
    assert "/log-in" in response.headers["Location"]


@pytest.mark.parametrize("role", [Role.PARTICIPANT, Role.DOOR, Role.FACILITATOR])
@pytest.mark.parametrize("path", ORGANISER_PAGES)
def test_non_organisers_are_refused(client, auth, role, path):
    auth.login(make_user(role))
    db.session.commit()
    assert client.get(path).status_code == 403


@pytest.mark.parametrize("path", ORGANISER_PAGES)
def test_organisers_get_in(client, auth, path):
    auth.login(make_user(Role.ORGANISER))
    assert client.get(path).status_code == 200


#: Pages of one gathering: organisers, and facilitators of that gathering only (see
#: tests/registration/test_manage_access.py for the facilitator who does facilitate it).
GATHERING_PAGES = ["registrations", "registrations.csv", "registration-setup"]


@pytest.mark.parametrize("page", GATHERING_PAGES)
def test_gathering_pages_follow_the_same_rule(client, auth, page):
    path = f"/manage/gatherings/{make_gathering().id}/{page}"
    db.session.commit()
    assert "/log-in" in client.get(path).headers["Location"]
    for role, status in [(Role.PARTICIPANT, 403), (Role.FACILITATOR, 403), (Role.ORGANISER, 200)]:
        auth.login(make_user(role))
        db.session.commit()
        assert client.get(path).status_code == status, role
        auth.logout()


def test_organiser_makes_someone_a_facilitator(client, auth):
    organiser, person = make_user(Role.ORGANISER), make_user()
    db.session.commit()
    auth.login(organiser)
    response = client.post(f"/manage/people/{person.id}/role", data={"role": "facilitator"})
    assert response.status_code == 302
    db.session.refresh(person)
    assert person.role == "facilitator"


def test_organiser_makes_someone_a_door_volunteer(client, auth):
    organiser, person = make_user(Role.ORGANISER), make_user()
    db.session.commit()
    auth.login(organiser)
    assert client.get("/manage/people").get_data(as_text=True).count("Door (check-in desk") >= 1
    client.post(f"/manage/people/{person.id}/role", data={"role": "door"})
    db.session.refresh(person)
    assert person.role == "door" and person.is_door and not person.is_facilitator


def test_unknown_role_and_own_role_are_refused(client, auth):
    organiser, person = make_user(Role.ORGANISER), make_user()
    db.session.commit()
    auth.login(organiser)
    client.post(f"/manage/people/{person.id}/role", data={"role": "god"})
    client.post(f"/manage/people/{organiser.id}/role", data={"role": "participant"})
    db.session.refresh(person)
    db.session.refresh(organiser)
    assert (person.role, organiser.role) == ("participant", "organiser")


def test_participant_cannot_change_roles(client, auth):
    participant, other = make_user(), make_user()
    db.session.commit()
    auth.login(participant)
    response = client.post(f"/manage/people/{other.id}/role", data={"role": "organiser"})
    assert response.status_code == 403
    db.session.refresh(other)
    assert other.role == "participant"

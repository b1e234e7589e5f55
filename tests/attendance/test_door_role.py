"""The door role: the check-in desk of any gathering, and nothing a facilitator may do."""

import pytest

from facilitation.accounts.models import Role
from facilitation.consent import safety
from facilitation.core.errors import Forbidden
from facilitation.extensions import db
from facilitation.gatherings import permissions
from facilitation.registration import cancellation, ledger, queries
from facilitation.registration import services as registration_services
from tests.attendance.factories import at_door, check_in, coming, door_volunteer
from tests.factories import make_gathering, make_user
from tests.registration.factories import make_option, make_settings

#: Who may do what at a gathering: (may work its desk, may manage its registrations).
MATRIX = {
    "participant": (False, False),
    "door": (True, False),
    "other facilitator": (False, False),
    "its facilitator": (True, True),
    "organiser": (True, True),
}


@pytest.fixture
def people(gathering):
    facilitator = make_user(Role.FACILITATOR)
    gathering.facilitators.append(facilitator)
    return {
        "participant": make_user(),
        "door": door_volunteer(),
        "other facilitator": make_user(Role.FACILITATOR),
        "its facilitator": facilitator,
        "organiser": make_user(Role.ORGANISER),
    }


def test_the_door_role_is_stored_on_every_database(app):
    person = door_volunteer()
    db.session.commit()
    db.session.expire_all()
    assert person.role == "door" and person.is_door
    assert person.has_role(Role.PARTICIPANT) and person.has_role(Role.DOOR)
    assert not person.has_role(Role.FACILITATOR) and not person.is_facilitator
    assert make_user(Role.FACILITATOR).has_role(Role.DOOR)


@pytest.mark.parametrize("who", list(MATRIX))
def test_who_may_work_the_desk_and_who_may_manage(gathering, people, who):
    desk, manage = MATRIX[who]
    person = people[who]
    assert permissions.may_work_desk(person, gathering) is desk
    assert permissions.may_manage(person, gathering) is manage


def test_a_door_volunteer_cannot_manage_registrations_or_money(gathering):
    door = door_volunteer()
    make_settings(gathering, requires_approval=True)
    application = coming(gathering)
    confirmed_elsewhere = coming(make_gathering(capacity=3))
    with pytest.raises(Forbidden):
        registration_services.approve(door, application, "", now=at_door(gathering))
    with pytest.raises(Forbidden):
        registration_services.decline(door, application, "", now=at_door(gathering))
    with pytest.raises(Forbidden):
        queries.registrations_for(door, gathering)
    with pytest.raises(Forbidden):
        cancellation.cancel_by_organiser(door, application, "", False, now=at_door(gathering))
    with pytest.raises(Forbidden):
        ledger.record_door_payment(door, confirmed_elsewhere, 100, now=at_door(gathering))
    with pytest.raises(Forbidden):
        ledger.grant_refund(door, confirmed_elsewhere, 100, now=at_door(gathering))


def test_a_door_volunteer_takes_money_only_through_the_desk(gathering):
    door = door_volunteer()
    registration = coming(gathering, option=make_option(gathering, "door"))
    outcome = check_in(door, gathering, registration, door_payment_minor=2000)
    assert outcome.payment.recorded_by_id == door.id


def test_a_door_volunteer_never_sees_private_notes(gathering):
    registration, door = coming(gathering), door_volunteer()
    safety.save_sensitive(registration.user, "Sister", "Asthma", now=at_door(gathering, 600))
    check_in(door, gathering, registration)
    assert not permissions.may_read_private(door, registration.user_id, gathering)
    with pytest.raises(Forbidden):
        safety.read_sensitive(door, registration.user_id, gathering, now=at_door(gathering))


def test_checked_in_counts_as_attending_even_if_the_registration_is_cancelled_later(gathering):
    registration = coming(gathering)
    check_in(door_volunteer(), gathering, registration)
    cancellation.cancel_by_participant(registration.user, registration, now=at_door(gathering, 1))
    assert permissions.takes_part(registration.user_id, gathering)
    assert not permissions.takes_part(make_user().id, gathering)


def test_door_volunteers_are_refused_on_organiser_pages(client, auth, app):
    door = door_volunteer()
    db.session.commit()
    auth.login(door)
    for path in ("/manage/gatherings", "/manage/people", "/manage/outbox/"):
        assert client.get(path).status_code == 403

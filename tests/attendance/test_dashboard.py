"""The organiser's dashboard data: fill, waitlist, check-in progress, safety, newest."""

from datetime import timedelta

import pytest

from facilitation.accounts.models import Role
from facilitation.attendance import dashboard
from facilitation.consent import safety
from facilitation.core.errors import Forbidden
from tests.attendance.factories import at_door, check_in, coming, door_volunteer
from tests.factories import make_gathering, make_user
from tests.registration.factories import make_option


def test_upcoming_gatherings_show_fill_waitlist_and_arrivals(organiser):
    small = make_gathering(organiser, capacity=2, title="Small")
    option = make_option(small, "free")
    first, _ = coming(small, option=option), coming(small, option=option)
    coming(small, option=option)  # waitlisted
    check_in(door_volunteer(), small, first)
    later = (small.starts_at + timedelta(days=3)).replace(tzinfo=None)
    empty = make_gathering(organiser, capacity=10, title="Empty", starts_local=later)
    make_gathering(organiser, capacity=10, title="Draft", publish=False)
    board = dashboard.organiser_dashboard(organiser, at_door(small, 60))
    assert [u.gathering.title for u in board.upcoming] == ["Small", "Empty"]
    row = board.upcoming[0]
    assert (row.capacity, row.seats_taken, row.waitlist, row.expected, row.checked_in) == (
        2, 2, 1, 2, 1,
    )  # fmt: skip
    assert (row.fill, row.check_in_progress) == (1.0, 0.5)
    assert (board.upcoming[1].fill, board.upcoming[1].check_in_progress) == (0.0, 0.0)
    assert board.upcoming[1].gathering.id == empty.id
    assert len(board.recent_registrations) == 3
    assert board.recent_registrations[0].id > board.recent_registrations[-1].id


def test_ended_gatherings_leave_the_dashboard(organiser):
    gathering = make_gathering(organiser, capacity=2)
    board = dashboard.organiser_dashboard(organiser, gathering.ends_at)
    assert board.upcoming == ()


def test_open_safety_reports_are_counted_for_organisers_only(organiser):
    gathering = make_gathering(organiser, capacity=2)
    facilitator = make_user(Role.FACILITATOR)
    gathering.facilitators.append(facilitator)
    now = at_door(gathering, 600)
    safety.report_incident(None, "Someone ignored a no twice.", now=now)
    done = safety.report_incident(None, "A loud argument at the door.", now=now)
    safety.triage(organiser, done, "resolved", "", now=now)
    assert dashboard.organiser_dashboard(organiser, now).open_safety_reports == 1
    mine = dashboard.organiser_dashboard(facilitator, now)
    assert mine.open_safety_reports is None and [u.gathering.id for u in mine.upcoming] == [
        gathering.id
    ]
    other = dashboard.organiser_dashboard(make_user(Role.FACILITATOR), now)
    assert other.upcoming == () and other.recent_registrations == ()


@pytest.mark.parametrize("role", [Role.PARTICIPANT, Role.DOOR])
def test_participants_and_door_volunteers_have_no_dashboard(app, role):
    with pytest.raises(Forbidden):
        dashboard.organiser_dashboard(make_user(role), at_door(make_gathering(capacity=1)))

"""The organiser's dashboard page: what it shows, and who may open it."""

from __future__ import annotations

import re
from typing import Any

import pytest

from facilitation.accounts.models import Role
from facilitation.attendance import report_views
from facilitation.consent import safety
from facilitation.extensions import db
from tests.attendance.factories import at_door, check_in, coming, door_volunteer
from tests.factories import make_gathering, make_user
from tests.registration.factories import make_option


def text(response: Any) -> str:
    """Return a response's body as text."""
    return response.get_data(as_text=True)


def row_of(page: str, gathering_id: int) -> str:
    """Return the dashboard's table row of one gathering."""
    found = re.search(rf'<tr data-gathering="{gathering_id}">(.*?)</tr>', page, re.S)
    assert found
    return found.group(1)


def figure(row: str, name: str) -> str:
    """Return the value a row shows for one marked figure."""
    found = re.search(rf'data-figure="{name}">([^<]*)<', row)
    assert found, name
    return found.group(1)


@pytest.fixture
def small(organiser, monkeypatch):
    """Give a gathering of two seats, full, one waiting, one checked in; read an hour before."""
    gathering = make_gathering(organiser, capacity=2, title="Small circle")
    option = make_option(gathering, "free")
    first = coming(gathering, option=option, person=make_user(name="Ada Early"))
    coming(gathering, option=option)
    coming(gathering, option=option)  # waitlisted
    check_in(door_volunteer(), gathering, first)
    now = at_door(gathering, 60)
    safety.report_incident(None, "Someone ignored a no twice.", now=now)
    db.session.commit()
    monkeypatch.setattr(report_views, "utcnow", lambda: now)
    return gathering


def test_the_dashboard_shows_fill_waitlist_and_check_ins(client, auth, organiser, small):
    auth.login(organiser)
    page = text(client.get("/dashboard"))
    row = row_of(page, small.id)
    assert "Small circle" in row
    assert figure(row, "fill") == "2 of 2"
    assert figure(row, "waitlist") == "1"
    assert figure(row, "checked-in") == "1 of 2"
    assert f"/manage/gatherings/{small.id}/report" in row


def test_the_dashboard_counts_open_safety_reports_and_links_triage(client, auth, organiser, small):
    auth.login(organiser)
    page = text(client.get("/dashboard"))
    assert figure(page, "open-safety-reports") == "1"
    assert 'href="/manage/reports"' in page


def test_the_dashboard_lists_recent_registrations(client, auth, organiser, small):
    auth.login(organiser)
    page = text(client.get("/dashboard"))
    recent = page.split("Recent registrations", 1)[1]
    assert recent.count("<li>") == 3 and "Ada Early" in recent


def test_organisers_see_the_dashboard_in_the_menu(client, auth, organiser, small):
    auth.login(organiser)
    assert 'href="/dashboard"' in text(client.get("/dashboard"))


def test_a_facilitator_sees_their_gatherings_without_safety(client, auth, small):
    facilitator = make_user(Role.FACILITATOR)
    small.facilitators.append(facilitator)
    db.session.commit()
    auth.login(facilitator)
    response = client.get("/dashboard")
    assert response.status_code == 200
    page = text(response)
    assert row_of(page, small.id) and 'data-figure="open-safety-reports"' not in page


@pytest.mark.parametrize("role", [Role.PARTICIPANT, Role.DOOR])
def test_participants_and_door_volunteers_are_refused(client, auth, app, role):
    person = make_user(role)
    db.session.commit()
    auth.login(person)
    assert client.get("/dashboard").status_code == 403


def test_logged_out_people_are_sent_to_log_in(client, app):
    response = client.get("/dashboard")
    assert response.status_code == 302 and "/log-in" in response.headers["Location"]

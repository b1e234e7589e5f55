"""Organisers create, edit, publish, cancel and duplicate gatherings; bad input changes nothing."""

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from facilitation.accounts.models import Role
from facilitation.extensions import db
from facilitation.gatherings.models import Gathering
from tests.factories import make_gathering, make_user


def next_week(hour=19):
    day = (datetime.now(UTC) + timedelta(days=7)).date()
    return datetime(day.year, day.month, day.day, hour, 0)


def form_data(**overrides):
    start = next_week()
    data = {
        "title": "Men's circle",
        "kind": "mens_group",
        "description_md": "A circle for men. **Bring water.**",
        "timezone": "Europe/London",
        "starts_local": start.strftime("%Y-%m-%dT%H:%M"),
        "ends_local": (start + timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M"),
        "venue_name": "Oak Hall",
        "venue_address": "1 Oak Road",
        "online_url": "",
        "capacity": "12",
        "accessibility_notes": "Step-free.",
    }
    data.update(overrides)
    return data


@pytest.fixture
def organiser(auth):
    user = make_user(Role.ORGANISER)
    db.session.commit()
    auth.login(user)
    return user


def gathering_count():
    return db.session.scalar(sa.select(sa.func.count(Gathering.id)))


def test_create_a_draft_with_facilitators(client, organiser):
    facilitator = make_user(Role.FACILITATOR)
    db.session.commit()
    response = client.post(
        "/manage/gatherings/new", data={**form_data(), "facilitator_ids": [str(facilitator.id)]}
    )
    assert response.status_code == 302
    gathering = db.session.scalar(sa.select(Gathering))
    assert gathering.status == "draft"
    assert [f.id for f in gathering.facilitators] == [facilitator.id]
    # 19:00 London in the stored UTC instant (GMT or BST, whichever applies next week).
    local = gathering.starts_at.astimezone(__import__("zoneinfo").ZoneInfo("Europe/London"))
    assert (local.hour, local.minute) == (19, 0)
    assert gathering.ends_at - gathering.starts_at == timedelta(hours=2)


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"ends_local": next_week(18).strftime("%Y-%m-%dT%H:%M")}, "must end after it starts"),
        ({"capacity": "-1"}, "Capacity cannot be below zero."),
        ({"timezone": "Mars/Olympus_Mons"}, "Choose a time zone from the list"),
        ({"title": "   "}, "Give it a title."),
        ({"starts_local": "next tuesday"}, "Not a valid datetime value"),
        ({"online_url": "javascript:alert(1)"}, "starting with https://"),
        ({"kind": "rave"}, "Not a valid choice"),
    ],
)
def test_bad_input_is_explained_and_nothing_is_saved(client, organiser, overrides, message):
    response = client.post("/manage/gatherings/new", data=form_data(**overrides))
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert gathering_count() == 0


def test_a_participant_cannot_be_made_a_facilitator(client, organiser):
    participant = make_user()
    db.session.commit()
    response = client.post(
        "/manage/gatherings/new", data={**form_data(), "facilitator_ids": [str(participant.id)]}
    )
    assert response.status_code == 400
    assert "Only people with the facilitator or organiser role" in response.get_data(as_text=True)
    assert gathering_count() == 0


def test_edit_changes_the_gathering_and_bumps_its_revision(client, organiser):
    gathering = make_gathering(organiser)
    db.session.commit()
    revision = gathering.revision
    response = client.post(
        f"/manage/gatherings/{gathering.id}/edit", data=form_data(title="Renamed", capacity="30")
    )
    assert response.status_code == 302
    db.session.refresh(gathering)
    assert (gathering.title, gathering.capacity) == ("Renamed", 30)
    assert gathering.revision == revision + 1


def test_failed_edit_changes_nothing(client, organiser):
    gathering = make_gathering(organiser, title="Original")
    db.session.commit()
    response = client.post(
        f"/manage/gatherings/{gathering.id}/edit",
        data=form_data(title="Changed", ends_local=next_week(10).strftime("%Y-%m-%dT%H:%M")),
    )
    assert response.status_code == 400
    db.session.expire_all()
    assert db.session.get(Gathering, gathering.id).title == "Original"


def test_publish_a_draft_puts_it_on_the_public_list(client, organiser):
    gathering = make_gathering(organiser, publish=False, title="Secret draft")
    db.session.commit()
    assert "Secret draft" not in client.get("/").get_data(as_text=True)
    client.post(f"/manage/gatherings/{gathering.id}/publish")
    db.session.refresh(gathering)
    assert gathering.status == "published" and gathering.published_at is not None
    assert "Secret draft" in client.get("/").get_data(as_text=True)


def test_publishing_twice_is_refused(client, organiser):
    gathering = make_gathering(organiser)
    db.session.commit()
    response = client.post(f"/manage/gatherings/{gathering.id}/publish", follow_redirects=True)
    assert "Only a draft can be published." in response.get_data(as_text=True)


def test_cancel_keeps_it_visible_as_cancelled_with_the_note(client, organiser):
    gathering = make_gathering(organiser, title="Rained off")
    db.session.commit()
    client.post(f"/manage/gatherings/{gathering.id}/cancel", data={"note": "The hall flooded."})
    db.session.refresh(gathering)
    assert gathering.status == "cancelled"
    page = client.get(f"/gatherings/{gathering.id}").get_data(as_text=True)
    assert "This gathering is cancelled." in page and "The hall flooded." in page
    assert "Rained off" not in client.get("/").get_data(as_text=True)
    edit = client.post(f"/manage/gatherings/{gathering.id}/edit", data=form_data())
    assert edit.status_code == 400
    assert "A cancelled gathering cannot be changed." in edit.get_data(as_text=True)
    db.session.refresh(gathering)
    assert gathering.title == "Rained off"


def test_duplicate_makes_a_draft_a_week_later(client, organiser):
    gathering = make_gathering(organiser, title="Monthly dyads")
    db.session.commit()
    response = client.post(f"/manage/gatherings/{gathering.id}/duplicate")
    assert response.status_code == 302
    copy = db.session.scalars(sa.select(Gathering).where(Gathering.id != gathering.id)).one()
    assert copy.status == "draft" and copy.title == "Monthly dyads"
    assert copy.starts_at - gathering.starts_at == timedelta(days=7)
    assert response.headers["Location"].endswith(f"/manage/gatherings/{copy.id}/edit")


def test_unknown_gathering_is_a_404(client, organiser):
    assert client.get("/manage/gatherings/999/edit").status_code == 404
    assert client.post("/manage/gatherings/999/publish").status_code == 404

"""A series creates its occurrences; one can be moved or cancelled alone."""

import itertools
from datetime import date, timedelta
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from facilitation.accounts.models import Role
from facilitation.extensions import db
from facilitation.gatherings.models import Gathering, Series
from tests.factories import make_user

LONDON = ZoneInfo("Europe/London")


@pytest.fixture
def organiser(auth):
    user = make_user(Role.ORGANISER)
    db.session.commit()
    auth.login(user)
    return user


def first_tuesday_after(days):
    day = date.today() + timedelta(days=days)
    return day + timedelta(days=(1 - day.weekday()) % 7)


def series_data(**overrides):
    data = {
        "title": "Tuesday circle",
        "kind": "circle",
        "timezone": "Europe/London",
        "capacity": "16",
        "frequency": "weekly",
        "first_date": first_tuesday_after(3).isoformat(),
        "start_time": "19:30",
        "duration_minutes": "90",
        "end_mode": "count",
        "occurrence_count": "6",
        "publish_now": "y",
    }
    data.update(overrides)
    return data


def test_weekly_series_creates_published_occurrences_at_local_time(client, organiser):
    response = client.post("/manage/series/new", data=series_data())
    assert response.status_code == 302
    series = db.session.scalar(sa.select(Series))
    gatherings = series.occurrences
    assert len(gatherings) == 6
    assert all(g.status == "published" for g in gatherings)
    for g in gatherings:
        local = g.starts_at.astimezone(LONDON)
        assert (local.weekday(), local.hour, local.minute) == (1, 19, 30)
        assert g.ends_at - g.starts_at == timedelta(minutes=90)
    days = [g.starts_at.astimezone(LONDON).date() for g in gatherings]
    assert all((b - a).days == 7 for a, b in itertools.pairwise(days))


def test_series_until_a_date(client, organiser):
    first = first_tuesday_after(3)
    data = series_data(
        frequency="fortnightly",
        end_mode="until",
        until_date=(first + timedelta(days=28)).isoformat(),
    )
    client.post("/manage/series/new", data=data)
    assert len(db.session.scalar(sa.select(Series)).occurrences) == 3


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"end_mode": "until", "until_date": "2000-01-01"}, "on or after the first date"),
        ({"occurrence_count": "0"}, "Number must be between 1 and 200"),
        ({"end_mode": "count", "occurrence_count": ""}, "How many gatherings?"),
        ({"timezone": "Nowhere/Special"}, "Choose a time zone from the list"),
        ({"duration_minutes": "0"}, "Between 1 minute and 14 days."),
    ],
)
def test_bad_series_is_explained_and_nothing_is_saved(client, organiser, overrides, message):
    response = client.post("/manage/series/new", data=series_data(**overrides))
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count(Series.id))) == 0
    assert db.session.scalar(sa.select(sa.func.count(Gathering.id))) == 0


def test_moving_one_occurrence_detaches_it_from_series_edits(client, organiser):
    client.post("/manage/series/new", data=series_data())
    series = db.session.scalar(sa.select(Series))
    moved = series.occurrences[2]
    local = moved.starts_at.astimezone(LONDON).replace(tzinfo=None) + timedelta(days=1)
    client.post(
        f"/manage/gatherings/{moved.id}/edit",
        data={
            "title": "Tuesday circle (on Wednesday)",
            "kind": "circle",
            "timezone": "Europe/London",
            "capacity": "16",
            "starts_local": local.strftime("%Y-%m-%dT%H:%M"),
            "ends_local": (local + timedelta(minutes=90)).strftime("%Y-%m-%dT%H:%M"),
        },
    )
    response = client.post(
        f"/manage/series/{series.id}",
        data={
            "title": "Tuesday listening circle",
            "kind": "circle",
            "timezone": "Europe/London",
            "capacity": "20",
        },
    )
    assert response.status_code == 302
    db.session.expire_all()
    series = db.session.get(Series, series.id)
    titles = [g.title for g in series.occurrences]
    assert titles.count("Tuesday listening circle") == 5
    moved = db.session.get(Gathering, moved.id)
    assert moved.is_detached and moved.title == "Tuesday circle (on Wednesday)"
    assert moved.starts_at.astimezone(LONDON).weekday() == 2


def test_cancel_one_occurrence_leaves_the_others(client, organiser):
    client.post("/manage/series/new", data=series_data())
    series = db.session.scalar(sa.select(Series))
    one = series.occurrences[1]
    client.post(f"/manage/gatherings/{one.id}/cancel", data={"note": "Facilitator away"})
    db.session.expire_all()
    statuses = [g.status for g in db.session.get(Series, series.id).occurrences]
    assert statuses == [
        "published",
        "cancelled",
        "published",
        "published",
        "published",
        "published",
    ]


def test_cancel_series_cancels_every_upcoming_date(client, organiser):
    client.post("/manage/series/new", data=series_data())
    series = db.session.scalar(sa.select(Series))
    client.post(f"/manage/series/{series.id}/cancel", data={"note": "Moving city"})
    db.session.expire_all()
    series = db.session.get(Series, series.id)
    assert series.is_cancelled
    assert {g.status for g in series.occurrences} == {"cancelled"}


def test_publish_series_publishes_drafts(client, organiser):
    client.post("/manage/series/new", data=series_data(publish_now=""))
    series = db.session.scalar(sa.select(Series))
    assert {g.status for g in series.occurrences} == {"draft"}
    client.post(f"/manage/series/{series.id}/publish")
    db.session.expire_all()
    assert {g.status for g in db.session.get(Series, series.id).occurrences} == {"published"}

"""One gathering as .ics, and a feed of all of them to subscribe to."""

from datetime import UTC, datetime

from icalendar import Calendar

from facilitation.accounts.models import Role
from facilitation.core.clock import utcnow
from facilitation.extensions import db
from facilitation.gatherings import services
from tests.factories import make_gathering, make_user


def events(response):
    assert response.mimetype == "text/calendar"
    return list(Calendar.from_ical(response.data).walk("VEVENT"))


def test_one_gathering_as_ics(client):
    gathering = make_gathering(
        title="Full moon circle", starts_local=datetime(2031, 7, 1, 19, 0), venue_name="Oak Hall"
    )
    db.session.commit()
    response = client.get(f"/gatherings/{gathering.id}.ics")
    assert "attachment" in response.headers["Content-Disposition"]
    (event,) = events(response)
    assert str(event["summary"]) == "Full moon circle"
    assert event.decoded("dtstart") == datetime(2031, 7, 1, 18, 0, tzinfo=UTC)
    assert "Oak Hall" in str(event["location"])
    assert str(event["status"]) == "CONFIRMED"


def test_feed_lists_published_and_marks_cancelled(client):
    organiser = make_user(Role.ORGANISER)
    live = make_gathering(organiser, title="Live one")
    gone = make_gathering(organiser, title="Gone one")
    make_gathering(organiser, title="Draft one", publish=False)
    services.cancel(organiser, gone, "", now=utcnow())
    db.session.commit()
    found = {str(e["summary"]): e for e in events(client.get("/calendar.ics"))}
    assert set(found) == {"Live one", "Gone one"}
    assert str(found["Gone one"]["status"]) == "CANCELLED"
    assert int(found["Gone one"]["sequence"]) > int(found["Live one"]["sequence"]) - 1
    assert str(found["Live one"]["uid"]).startswith(f"gathering-{live.id}@")


def test_uid_does_not_depend_on_the_host_name(client):
    gathering = make_gathering()
    db.session.commit()
    one = events(client.get(f"/gatherings/{gathering.id}.ics", base_url="http://localhost"))
    two = events(client.get(f"/gatherings/{gathering.id}.ics", base_url="http://192.0.2.7:5000"))
    assert str(one[0]["uid"]) == str(two[0]["uid"])

"""The public sees upcoming published gatherings, in the gathering's time zone with it shown."""

from datetime import datetime

from facilitation.extensions import db
from tests.factories import make_gathering


def test_list_shows_published_upcoming_only(client):
    make_gathering(title="Published one")
    make_gathering(title="Draft one", publish=False)
    db.session.commit()
    body = client.get("/").get_data(as_text=True)
    assert "Published one" in body and "Draft one" not in body


def test_past_gatherings_leave_the_list(client):
    past = make_gathering(title="Last year's circle")
    past.starts_at = past.starts_at.replace(year=past.starts_at.year - 1)
    past.ends_at = past.ends_at.replace(year=past.ends_at.year - 1)
    db.session.commit()
    assert "Last year" not in client.get("/").get_data(as_text=True)


def test_detail_shows_local_time_with_zone_and_machine_readable_instant(client):
    gathering = make_gathering(
        title="Summer dyads", starts_local=datetime(2031, 7, 1, 19, 0), timezone="Europe/London"
    )
    db.session.commit()
    body = client.get(f"/gatherings/{gathering.id}").get_data(as_text=True)
    assert "Tue 1 Jul 2031, 19:00–21:00 BST" in body
    assert 'datetime="2031-07-01T18:00:00+00:00"' in body
    assert 'data-tz="Europe/London"' in body


def test_detail_in_another_zone(client):
    gathering = make_gathering(
        starts_local=datetime(2031, 1, 10, 18, 30), timezone="America/New_York"
    )
    db.session.commit()
    body = client.get(f"/gatherings/{gathering.id}").get_data(as_text=True)
    assert "Fri 10 Jan 2031, 18:30–20:30 EST" in body


def test_drafts_are_not_found_by_the_public(client):
    draft = make_gathering(publish=False)
    db.session.commit()
    assert client.get(f"/gatherings/{draft.id}").status_code == 404
    assert client.get(f"/gatherings/{draft.id}.ics").status_code == 404


def test_description_markdown_is_rendered_and_sanitized(client):
    gathering = make_gathering(
        description_md="**Bold** <script>alert(1)</script> [x](javascript:alert(2)) "
        '<img src=x onerror="alert(3)"> [ok](https://example.org)'
    )
    db.session.commit()
    body = client.get(f"/gatherings/{gathering.id}").get_data(as_text=True)
    assert "<strong>Bold</strong>" in body
    assert "<script>alert(1)" not in body
    assert "javascript:alert" not in body
    assert "onerror" not in body
    assert 'href="https://example.org"' in body


def test_unknown_page_is_a_friendly_404(client):
    response = client.get("/no/such/page")
    assert response.status_code == 404
    assert "We could not find that page." in response.get_data(as_text=True)
    assert client.get("/gatherings/424242").status_code == 404


def test_pages_load_nothing_from_the_internet(client):
    make_gathering()
    db.session.commit()
    for path in ("/", "/gatherings/1", "/log-in", "/sign-up", "/forgot-password"):
        body = client.get(path).get_data(as_text=True)
        assert 'src="http' not in body and 'href="http' not in body.replace(
            'href="http://gatherwell.test', ""
        ), path

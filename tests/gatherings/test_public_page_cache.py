"""Public pages: a fixed number of queries each, and a cache for anonymous visitors only."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import event

from facilitation.core.clock import utcnow
from facilitation.core.page_cache import MAX_ENTRIES, cache_of
from facilitation.extensions import db
from facilitation.gatherings import services as gatherings
from facilitation.registration import options
from tests.factories import make_gathering, make_user

#: Queries an anonymous visitor's page costs when it is rendered (the cache off). A change
#: that adds one (say, a query per gathering in the list) must update this on purpose.
LIST_QUERIES = 1
GATHERING_QUERIES = 5


@contextmanager
def counting() -> Iterator[list[str]]:
    """Collect the SQL statements run meanwhile."""
    statements: list[str] = []

    def record(conn, cursor, statement, *args):  # type: ignore[no-untyped-def]
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(db.engine, "before_cursor_execute", record)


def _open_gathering(title: str = "Open circle"):  # type: ignore[no-untyped-def]
    gathering = make_gathering(title=title)
    organiser = gathering.facilitators[0] if gathering.facilitators else None
    organiser = organiser or make_user_organiser()
    options.add_option(
        organiser, gathering, options.OptionInput("Free place", "free"), now=utcnow()
    )
    return gathering


def make_user_organiser():  # type: ignore[no-untyped-def]
    from facilitation.accounts.models import Role

    return make_user(Role.ORGANISER)


@pytest.fixture
def uncached(app):  # type: ignore[no-untyped-def]
    app.config["PAGE_CACHE_SECONDS"] = 0
    return app


def test_the_list_costs_a_fixed_number_of_queries_however_many_gatherings(client, uncached):
    for n in range(6):
        _open_gathering(f"Circle {n}")
    db.session.commit()
    client.get("/")
    db.session.rollback()  # a fresh request starts a fresh transaction
    db.session.expunge_all()
    with counting() as statements:
        body = client.get("/").get_data(as_text=True)
    assert "Circle 5" in body
    assert len(statements) == LIST_QUERIES, statements


def test_a_gathering_page_costs_a_fixed_number_of_queries(client, uncached):
    gathering = _open_gathering()
    db.session.commit()
    page = f"/gatherings/{gathering.id}"
    client.get(page)
    db.session.rollback()  # a fresh request starts a fresh transaction
    db.session.expunge_all()
    with counting() as statements:
        body = client.get(page).get_data(as_text=True)
    assert "places left" in body
    assert len(statements) == GATHERING_QUERIES, statements


def test_an_anonymous_visitor_is_served_from_the_cache(client, app):
    gathering = _open_gathering()
    db.session.commit()
    first = client.get(f"/gatherings/{gathering.id}")
    with counting() as statements:
        again = client.get(f"/gatherings/{gathering.id}")
        client.get("/")
        listed = client.get("/")
    assert again.get_data() == first.get_data()
    assert "Open circle" in listed.get_data(as_text=True)
    assert len(statements) == LIST_QUERIES  # the list once; the gathering page not at all
    assert again.headers["X-Content-Type-Options"] == "nosniff"  # headers still added


def test_an_edit_shows_at_once(client, app):
    gathering = _open_gathering("Old title")
    db.session.commit()
    assert "Old title" in client.get(f"/gatherings/{gathering.id}").get_data(as_text=True)
    assert "Old title" in client.get("/").get_data(as_text=True)
    organiser = make_user_organiser()
    details = gatherings.Details(
        title="New title",
        timezone=gathering.timezone,
        capacity=gathering.capacity,
        description_md=gathering.description_md,
        kind=gathering.kind,
        venue_name=gathering.venue_name,
        venue_address=gathering.venue_address,
    )
    timing = gatherings.Timing(
        gathering.starts_at.replace(tzinfo=None), gathering.ends_at.replace(tzinfo=None)
    )
    gathering_id = gathering.id
    gatherings.update_gathering(organiser, gathering, details, timing, now=utcnow())
    db.session.commit()
    assert "New title" in client.get(f"/gatherings/{gathering_id}").get_data(as_text=True)
    assert "New title" in client.get("/").get_data(as_text=True)


def test_a_new_ticket_option_shows_at_once(client, app):
    gathering = make_gathering()
    db.session.commit()
    before = client.get(f"/gatherings/{gathering.id}").get_data(as_text=True)
    assert "has not opened yet" in before
    options.add_option(
        make_user_organiser(),
        gathering,
        options.OptionInput("Pay at the door", "door", price_minor=900),
        now=utcnow(),
    )
    db.session.commit()
    after = client.get(f"/gatherings/{gathering.id}").get_data(as_text=True)
    assert "has not opened yet" not in after and "places left" in after


def test_logged_in_pages_are_never_cached_nor_served_from_the_cache(client, auth, app):
    gathering = _open_gathering()
    person = make_user(name="Wren Personal")
    db.session.commit()
    anonymous = client.get(f"/gatherings/{gathering.id}").get_data(as_text=True)
    auth.login(person)
    mine = client.get(f"/gatherings/{gathering.id}").get_data(as_text=True)
    assert "Log out" in mine and "Log out" not in anonymous
    auth.logout()
    client.get("/log-in")  # leaves the session without the person
    again = client.get(f"/gatherings/{gathering.id}").get_data(as_text=True)
    assert "Wren" not in again and "Log out" not in again
    assert "csrf_token" not in again


def test_a_waiting_message_is_shown_not_swallowed_by_the_cache(client, app):
    gathering = _open_gathering()
    db.session.commit()
    client.get(f"/gatherings/{gathering.id}")  # cached
    with client.session_transaction() as sess:
        sess["_flashes"] = [("info", "A message for this visitor only")]
    body = client.get(f"/gatherings/{gathering.id}").get_data(as_text=True)
    assert "A message for this visitor only" in body
    assert "A message for this visitor only" not in client.get(
        f"/gatherings/{gathering.id}"
    ).get_data(as_text=True)


def test_only_successful_pages_are_kept_and_memory_is_bounded(client, app):
    client.get("/gatherings/999999")
    client.get(f"/gatherings/{2**31 + 5}")
    assert cache_of(app).entries == {}
    gathering = _open_gathering()
    db.session.commit()
    client.get(f"/gatherings/{gathering.id}?utm=x")  # a query string is never cached
    assert cache_of(app).entries == {}
    client.get(f"/gatherings/{gathering.id}")
    assert len(cache_of(app).entries) == 1 <= MAX_ENTRIES


def test_seat_counts_follow_within_the_cache_lifetime(client, app, monkeypatch):
    import facilitation.core.page_cache as page_cache

    gathering = _open_gathering()
    db.session.commit()
    clock = [1000.0]
    monkeypatch.setattr(page_cache.time, "monotonic", lambda: clock[0])
    cached = cache_of(app)
    client.get(f"/gatherings/{gathering.id}")
    assert cached.misses == 1
    clock[0] += app.config["PAGE_CACHE_SECONDS"] - 0.5
    client.get(f"/gatherings/{gathering.id}")
    assert cached.hits == 1
    clock[0] += 1
    client.get(f"/gatherings/{gathering.id}")
    assert cached.misses == 2

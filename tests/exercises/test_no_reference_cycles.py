"""A live connection's work leaves no reference cycles behind.

Objects in a reference cycle are freed only by the cyclic collector, and those that lived long
enough to reach its oldest generation wait for a full pass, which is rare. Per phone connecting,
such garbage came to several KB (docs/benchmarks.md, session 6): SQLAlchemy statements built
per call with a literal list in ``in_()`` (run from the statement cache, the copy of the list's
parameter remembers itself) and Werkzeug's URL matcher (a recursive closure), which ran for
every socket event although no page lives under the Socket.IO path.

Each path runs once to warm the caches, then again while the collector keeps what it finds.
Only objects of the libraries concerned are counted: the test client itself may leave cycles.
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator
from typing import Any

from werkzeug.test import create_environ

from facilitation.accounts.models import Role
from facilitation.consent import safety
from facilitation.core.clock import utcnow
from facilitation.exercises import services, snapshots
from facilitation.extensions import SOCKETIO_PATH, db, socketio
from facilitation.gatherings import permissions
from tests.exercises.live_helpers import command, make_run
from tests.factories import PASSWORD, make_user

NS = "/live"
WATCHED = ("sqlalchemy", "werkzeug", "flask", "facilitation")


def _library_objects(found: list[Any]) -> list[str]:
    """Describe the collected objects that belong to the watched libraries."""
    described = []
    for obj in found:
        module = getattr(obj, "__module__", None) or type(obj).__module__ or ""
        if str(module).startswith(WATCHED):
            described.append(f"{type(obj).__name__} {getattr(obj, '__qualname__', '')}".strip())
    return sorted(described)


@contextlib.contextmanager
def cycles_left() -> Iterator[list[str]]:
    """Collect everything unreachable the block leaves behind (kept, then described)."""
    # Freeing garbage can make more (finalizers, weak references): start from none at all.
    for _ in range(10):
        if gc.collect() == 0:
            break
    gc.garbage.clear()
    described: list[str] = []
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        yield described
        gc.collect()
        described.extend(_library_objects(gc.garbage))
    finally:
        gc.set_debug(0)
        gc.garbage.clear()


def test_the_ban_check_leaves_no_cycles(app):
    organiser = make_user(Role.ORGANISER)
    banned, other, fine = make_user(), make_user(), make_user()
    safety.ban(organiser, banned, "", now=utcnow())
    db.session.commit()
    ids = [banned.id, other.id, fine.id]
    assert permissions.banned_user_ids(ids) == {banned.id}
    with cycles_left() as left:
        assert permissions.banned_user_ids(ids) == {banned.id}
        assert permissions.banned_user_ids([fine.id]) == set()
    assert left == []


def test_a_ban_by_email_still_reaches_a_new_account(app):
    organiser = make_user(Role.ORGANISER)
    banned = make_user(email="same.person@example.org")
    safety.ban(organiser, banned, "", now=utcnow())
    banned.email = "gone@example.org"
    db.session.flush()
    again = make_user(email="same.person@example.org")
    db.session.commit()
    assert permissions.banned_user_ids([again.id, banned.id]) == {again.id, banned.id}
    assert permissions.banned_user_ids([]) == set()


def test_a_phones_own_pairing_and_the_table_leave_no_cycles(app):
    run, facilitator, people = make_run(4)
    services.control(run.id, facilitator, "start", command_id=command(), now=utcnow())
    db.session.commit()
    first = snapshots.your_pairing(run, people[0].id)
    snapshots.pairing_table(run)
    with cycles_left() as left:
        assert snapshots.your_pairing(run, people[0].id) == first
        assert len(snapshots.your_pairings(run, [p.id for p in people])) == 4
        assert len(snapshots.pairing_table(run)["groups"]) == 2
    assert left == []
    assert first["state"] == "paired" and first["partners"][0]["name"].startswith("Person")


def test_socket_events_are_not_routed_but_pages_are(app):
    from flask import request

    for path in (SOCKETIO_PATH, f"{SOCKETIO_PATH}/"):
        with app.request_context(create_environ(path, query_string="EIO=4")):
            assert request.url_rule is None and request.routing_exception is None
    with app.request_context(create_environ("/")):
        assert request.url_rule is not None and request.url_rule.rule == "/"
    for path in ("/no-such-page", f"{SOCKETIO_PATH}-not-socket-io"):
        with app.request_context(create_environ(path)):
            assert request.routing_exception is not None
            assert request.routing_exception.code == 404


def test_a_phone_connecting_and_asking_again_leaves_no_cycles(app):
    run, _, people = make_run(3)
    clients = []
    for person in people:
        flask_client = app.test_client()
        response = flask_client.post("/log-in", data={"email": person.email, "password": PASSWORD})
        assert response.status_code == 302
        clients.append(flask_client)
    # Warm every cache on the first phone.
    first = socketio.test_client(
        app, namespace=NS, auth={"run_id": run.id}, flask_test_client=clients[0]
    )
    assert first.is_connected(NS)
    first.emit("request_snapshot", {}, namespace=NS)
    with cycles_left() as left:
        for flask_client in clients[1:]:
            phone = socketio.test_client(
                app, namespace=NS, auth={"run_id": run.id}, flask_test_client=flask_client
            )
            assert phone.is_connected(NS)
            phone.emit("request_snapshot", {}, namespace=NS)
            received = {e["name"] for e in phone.get_received(NS)}
            assert {"run_state", "your_pairing"} <= received
            phone.disconnect(namespace=NS)
    assert left == []

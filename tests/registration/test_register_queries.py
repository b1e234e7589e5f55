"""A registration costs a fixed number of database round trips (they are its cost in a rush)."""

from __future__ import annotations

import sqlalchemy as sa

from facilitation.extensions import db
from facilitation.registration.models import Registration
from tests.gatherings.test_public_page_cache import counting
from tests.registration.factories import make_option

#: Statements of one registration POST for a free ticket, from the log-in check to the
#: commit, on a gathering with no questions or groups (before issue 16: 25 on PostgreSQL),
#: and of those, how many run while the gathering's row is locked (the lock, own
#: registrations, seats and waitlist, the registration, its ticket, its email; before issue
#: 16: 10). SQLite takes its lock with one statement more.
EXPECTED = {"postgresql": (14, 6), "sqlite": (15, 7)}


def test_a_registration_costs_a_fixed_number_of_statements(client, person, gathering):
    option = make_option(gathering, "free")
    db.session.commit()
    option_id, gathering_id = option.id, gathering.id
    db.session.rollback()  # a fresh request starts a fresh transaction
    with counting() as statements:
        response = client.post(
            f"/gatherings/{gathering_id}/register", data={"option_id": option_id}
        )
    assert response.status_code == 302
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Registration)) == 1
    # Outbox delivery runs after the commit (in its own greenlet when served): not counted.
    statements = [s for s in statements if "FROM outbox_messages" not in s]
    lock = next(
        i
        for i, s in enumerate(statements)
        if "FOR NO KEY UPDATE" in s or s.startswith("UPDATE gatherings")
    )
    found = (len(statements), len(statements) - lock)
    assert found == EXPECTED[db.engine.dialect.name], "\n".join(statements)

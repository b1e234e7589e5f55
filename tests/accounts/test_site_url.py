"""Links in emails and feeds are built on SITE_URL, never on the request's Host header."""

from __future__ import annotations

import contextlib
import re

import pytest
import sqlalchemy as sa

from facilitation import create_app
from facilitation.extensions import db
from facilitation.messaging.models import OutboxMessage
from tests.conftest import _test_config
from tests.factories import make_gathering, make_user

SITE = "https://circles.example.org"
EVIL = "evil.example"


@pytest.fixture
def site_app(app, database_uri, instance_dir):
    """Give an app as production runs it: no SERVER_NAME, any Host accepted, SITE_URL set."""
    with contextlib.ExitStack() as stack:
        config = {**_test_config(database_uri, instance_dir), "SERVER_NAME": None}
        made = create_app({**config, "SITE_URL": SITE})
        stack.enter_context(made.app_context())
        stack.callback(db.engine.dispose)
        stack.callback(db.session.remove)
        yield made


def test_a_poisoned_host_does_not_reach_the_reset_link(site_app):
    user = make_user()
    db.session.commit()
    client = site_app.test_client()
    response = client.post("/forgot-password", data={"email": user.email}, headers={"Host": EVIL})
    assert response.status_code == 302
    message = db.session.scalars(sa.select(OutboxMessage)).one()
    links = re.findall(r"https?://\S+", message.body_text)
    assert links and all(link.startswith(f"{SITE}/reset-password/") for link in links)
    assert EVIL not in message.body_text


def test_a_poisoned_host_does_not_reach_the_calendar_feed(site_app):
    make_gathering()
    db.session.commit()
    feed = site_app.test_client().get("/calendar.ics", headers={"Host": EVIL})
    body = feed.get_data(as_text=True).replace("\r\n ", "")
    assert f"{SITE}/gatherings/" in body
    assert EVIL not in body

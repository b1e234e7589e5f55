"""Email goes to the outbox and the log without MAIL_URL, and by real SMTP with it."""

import logging
import socket

import pytest
import sqlalchemy as sa
from aiosmtpd.controller import Controller
from aiosmtpd.handlers import Message

from facilitation.accounts.models import Role
from facilitation.extensions import db
from facilitation.messaging import services as mail
from facilitation.messaging.models import OutboxMessage
from tests.factories import make_user


class Collect(Message):
    def __init__(self):
        super().__init__()
        self.messages = []

    def handle_message(self, message):
        self.messages.append(message)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def smtp_server(app):
    handler = Collect()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    app.config["MAIL_URL"] = f"smtp://127.0.0.1:{controller.port}"
    yield handler
    controller.stop()


def test_without_mail_url_the_email_is_kept_and_logged(client, caplog):
    user = make_user()
    db.session.commit()
    with caplog.at_level(logging.INFO, logger=mail.OUTBOX_LOGGER):
        client.post("/forgot-password", data={"email": user.email})
    message = db.session.scalar(sa.select(OutboxMessage))
    assert message.to_email == user.email and message.sent_at is None
    assert "Reset your password" in caplog.text and "/reset-password/" in caplog.text


def test_emails_stay_out_of_a_failing_tests_report(client, caplog):
    user = make_user()
    db.session.commit()
    client.post("/forgot-password", data={"email": user.email})  # caplog as a failure shows it
    assert db.session.scalar(sa.select(OutboxMessage)) is not None
    assert "Reset your password" not in caplog.text


def test_with_mail_url_smtp_delivers_after_commit(client, smtp_server):
    user = make_user()
    db.session.commit()
    client.post("/forgot-password", data={"email": user.email})
    (received,) = smtp_server.messages
    assert received["To"] == user.email
    assert received["Subject"] == "Reset your password"
    assert "/reset-password/" in received.get_payload()
    db.session.expire_all()
    assert db.session.scalar(sa.select(OutboxMessage)).sent_at is not None


def test_delivery_waits_until_the_session_has_given_its_connection_back(app, monkeypatch):
    # Delivery opens a connection of its own; holding two at once exhausted a busy pool.
    checked_out = []
    monkeypatch.setattr(
        mail, "deliver", lambda ids: checked_out.append(db.engine.pool.checkedout())
    )
    mail.queue("a@example.org", "Hello", "Body", kind="test")
    db.session.commit()
    assert checked_out == [0]


def test_rolled_back_work_sends_nothing(app, smtp_server):
    mail.queue("a@example.org", "Hello", "Body", kind="test")
    db.session.rollback()
    mail.queue("b@example.org", "Second", "Body", kind="test")
    db.session.commit()
    assert [m["To"] for m in smtp_server.messages] == ["b@example.org"]


def test_smtp_failure_is_recorded_and_retried(app):
    app.config["MAIL_URL"] = f"smtp://127.0.0.1:{free_port()}"  # nobody listens there
    mail.queue("c@example.org", "Hello", "Body", kind="test")
    db.session.commit()
    db.session.expire_all()
    message = db.session.scalar(sa.select(OutboxMessage))
    assert message.sent_at is None and message.error
    handler = Collect()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        app.config["MAIL_URL"] = f"smtp://127.0.0.1:{controller.port}"
        assert mail.retry_unsent() == 1
    finally:
        controller.stop()
    assert [m["To"] for m in handler.messages] == ["c@example.org"]


def test_calendar_attachment_travels_with_the_email(app, smtp_server):
    mail.queue(
        "d@example.org",
        "Confirmed",
        "See you",
        kind="test",
        ics="BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n",
    )
    db.session.commit()
    (received,) = smtp_server.messages
    parts = [p.get_content_type() for p in received.walk()]
    assert "text/calendar" in parts


def test_organiser_reads_the_outbox(client, auth):
    organiser = make_user(Role.ORGANISER)
    mail.queue("e@example.org", "Welcome to the circle", "Body text here", kind="test")
    db.session.commit()
    auth.login(organiser)
    listing = client.get("/manage/outbox/").get_data(as_text=True)
    assert "Welcome to the circle" in listing and "No mail server is configured" in listing
    message_id = db.session.scalar(sa.select(OutboxMessage.id))
    assert "Body text here" in client.get(f"/manage/outbox/{message_id}").get_data(as_text=True)
    assert client.get("/manage/outbox/999").status_code == 404


def test_under_gevent_the_request_does_not_wait_for_delivery(app, monkeypatch, smtp_server):
    # Served by wsgi.py (gevent), sending runs in a greenlet of its own after the commit.
    import gevent
    from gevent import monkey

    spawned = []
    monkeypatch.setattr(monkey, "is_module_patched", lambda name: name == "threading")
    monkeypatch.setattr(gevent, "spawn", lambda fn, *args: spawned.append((fn, args)))
    mail.queue("d@example.org", "Hello", "Body", kind="test")
    db.session.commit()
    assert smtp_server.messages == [] and len(spawned) == 1  # nothing sent in the request
    fn, args = spawned[0]
    fn(*args)
    assert [m["To"] for m in smtp_server.messages] == ["d@example.org"]


def test_a_failing_background_delivery_is_logged(app, monkeypatch, caplog):
    def broken(ids):  # type: ignore[no-untyped-def]
        raise RuntimeError("mail server exploded")

    monkeypatch.setattr(mail, "deliver", broken)
    with caplog.at_level(logging.ERROR, logger="facilitation.messaging.services"):
        mail._deliver_in(app, {1})
    assert "delivering outbox messages [1] failed" in caplog.text

"""Queue emails with the change that causes them; deliver them only after it commits."""

from __future__ import annotations

import logging
import smtplib
import ssl
from email.message import EmailMessage
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import sqlalchemy as sa
from flask import current_app
from sqlalchemy import event
from sqlalchemy.orm import Session

from facilitation.core.clock import utcnow
from facilitation.extensions import db
from facilitation.messaging.models import OutboxMessage

logger = logging.getLogger(__name__)
#: Without MAIL_URL each email is logged whole here (the log is the outbox on a laptop); its
#: own logger so that the test suite can keep thousands of emails out of its reports.
OUTBOX_LOGGER = "facilitation.messaging.outbox"
outbox_logger = logging.getLogger(OUTBOX_LOGGER)

_PENDING_KEY = "outbox_pending_ids"
_COMMITTED_KEY = "outbox_committed_ids"


def queue(
    to_email: str, subject: str, body: str, kind: str, ics: str | None = None
) -> OutboxMessage:
    """Add an email to the outbox in the current transaction (sent after commit)."""
    message = OutboxMessage(
        to_email=to_email,
        subject=subject,
        body_text=body,
        kind=kind,
        ics=ics,
        created_at=utcnow(),
    )
    db.session.add(message)
    db.session.flush()
    db.session.info.setdefault(_PENDING_KEY, set()).add(message.id)
    return message


def build_email(message: Any, sender: str) -> EmailMessage:
    """Turn an outbox row into a MIME message."""
    email = EmailMessage()
    email["From"] = sender
    email["To"] = message.to_email
    email["Subject"] = message.subject
    email.set_content(message.body_text)
    if message.ics:
        email.add_attachment(
            message.ics.encode(),
            maintype="text",
            subtype="calendar",
            filename="gathering.ics",
            params={"method": "PUBLISH"},
        )
    return email


class SmtpTransport:
    """Send through the server named by ``MAIL_URL`` (smtp:// or smtps://, ?starttls=1)."""

    def __init__(self, url: str, timeout: float = 10.0) -> None:
        parts = urlsplit(url)
        self.secure = parts.scheme == "smtps"
        self.host = parts.hostname or "localhost"
        self.port = parts.port or (465 if self.secure else 25)
        self.username = unquote(parts.username) if parts.username else None
        self.password = unquote(parts.password) if parts.password else None
        self.starttls = parse_qs(parts.query).get("starttls", ["0"])[0] in {"1", "true", "yes"}
        self.timeout = timeout

    def send(self, emails: list[EmailMessage]) -> None:
        """Deliver the messages over one connection."""
        context = ssl.create_default_context()
        smtp: smtplib.SMTP
        if self.secure:
            smtp = smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout, context=context)
        else:
            smtp = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
        with smtp:
            if self.starttls:
                smtp.starttls(context=context)
            if self.username:
                smtp.login(self.username, self.password or "")
            for email in emails:
                smtp.send_message(email)


def deliver(ids: set[int] | list[int]) -> None:
    """Send the given outbox rows by SMTP, or log them when no MAIL_URL is set."""
    if not ids:
        return
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    with db.engine.begin() as conn:
        rows = conn.execute(
            sa.select(OutboxMessage.__table__).where(
                OutboxMessage.id.in_(ids), OutboxMessage.sent_at.is_(None)
            )
        ).all()
    messages: list[Any] = list(rows)
    url = app.config.get("MAIL_URL")
    if not url:
        for m in messages:
            outbox_logger.info("outbox #%s to %s: %s\n%s", m.id, m.to_email, m.subject, m.body_text)
        return
    transport = SmtpTransport(url)
    try:
        transport.send([build_email(m, app.config["MAIL_FROM"]) for m in messages])
    except (OSError, smtplib.SMTPException) as exc:
        logger.warning("SMTP delivery of %d message(s) failed: %s", len(messages), exc)
        _mark(ids, error=str(exc)[:500])
        return
    _mark(ids, sent=True)


def _mark(ids: set[int] | list[int], sent: bool = False, error: str | None = None) -> None:
    values: dict[str, Any] = {"error": error}
    if sent:
        values["sent_at"] = utcnow()
    with db.engine.begin() as conn:
        conn.execute(sa.update(OutboxMessage).where(OutboxMessage.id.in_(ids)).values(**values))


def retry_unsent() -> int:
    """Try again to send every message that SMTP has not accepted yet; return how many."""
    ids = list(
        db.session.scalars(sa.select(OutboxMessage.id).where(OutboxMessage.sent_at.is_(None)))
    )
    deliver(ids)
    return len(ids)


def deliver_after_commit(ids: set[int]) -> None:
    """Deliver committed messages: in a greenlet of their own under gevent, else right here.

    Under gevent (``wsgi.py``) the request that queued them answers at once instead of
    waiting for the mail server; a message the process never gets to send stays unsent in
    the outbox, where ``flask send-unsent-mail`` finds it.
    """
    from gevent import monkey

    if not monkey.is_module_patched("threading"):
        deliver(ids)
        return
    import gevent

    app = current_app._get_current_object()  # type: ignore[attr-defined]
    gevent.spawn(_deliver_in, app, set(ids))


def _deliver_in(app: Any, ids: set[int]) -> None:
    with app.app_context():
        try:
            deliver(ids)
        except Exception:  # a background task has nobody to report to but the log
            logger.exception("delivering outbox messages %s failed", sorted(ids))


def install_session_hooks() -> None:
    """Deliver queued messages after their transaction commits; forget them on rollback."""

    @event.listens_for(Session, "after_commit")
    def _after_commit(session: Session) -> None:
        pending = session.info.pop(_PENDING_KEY, None)
        if pending:
            session.info.setdefault(_COMMITTED_KEY, set()).update(pending)

    @event.listens_for(Session, "after_transaction_end")
    def _after_transaction_end(session: Session, transaction: Any) -> None:
        # Only now has the session given its connection back to the pool. Delivering opens a
        # connection of its own; doing that while still holding one let busy processes (every
        # pooled connection in a commit, each waiting for a second) deadlock until time-out.
        if transaction.parent is None:
            committed = session.info.pop(_COMMITTED_KEY, None)
            if committed:
                deliver_after_commit(committed)

    @event.listens_for(Session, "after_soft_rollback")
    def _after_rollback(session: Session, previous_transaction: Any) -> None:
        session.info.pop(_PENDING_KEY, None)

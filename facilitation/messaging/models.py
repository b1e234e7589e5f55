"""The outbox: every email the platform sends is a row here first."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from facilitation.core.db import UTCDateTime
from facilitation.extensions import db


class OutboxMessage(db.Model):  # type: ignore[name-defined]
    """An email, queued in the same transaction as the change that caused it."""

    __tablename__ = "outbox_messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    to_email: Mapped[str] = mapped_column(sa.String(320), index=True)
    subject: Mapped[str] = mapped_column(sa.String(300))
    body_text: Mapped[str] = mapped_column(sa.Text)
    #: What caused it, e.g. ``password_reset``; lets an organiser filter the outbox.
    kind: Mapped[str] = mapped_column(sa.String(40))
    #: Optional iCalendar attachment (text/calendar) sent with the message.
    ics: Mapped[str | None] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    #: When SMTP accepted it; stays empty in outbox-only mode.
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: The last delivery error, if any.
    error: Mapped[str | None] = mapped_column(sa.Text)

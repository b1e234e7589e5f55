"""Gatherings and the series that create them."""

from __future__ import annotations

import enum
from datetime import date, datetime, time

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from facilitation.accounts.models import User
from facilitation.core.db import UTCDateTime, check_in
from facilitation.extensions import db
from facilitation.gatherings.schedule import Frequency


class GatheringKind(enum.StrEnum):
    """What sort of gathering it is; shown to the public and used in reports."""

    CIRCLE = "circle"
    WORKSHOP = "workshop"
    RETREAT = "retreat"
    MENS_GROUP = "mens_group"
    WOMENS_GROUP = "womens_group"
    TALK = "talk"
    OTHER = "other"


KIND_LABELS = {
    GatheringKind.CIRCLE: "Circle",
    GatheringKind.WORKSHOP: "Workshop",
    GatheringKind.RETREAT: "Retreat",
    GatheringKind.MENS_GROUP: "Men's group",
    GatheringKind.WOMENS_GROUP: "Women's group",
    GatheringKind.TALK: "Talk",
    GatheringKind.OTHER: "Other",
}


class GatheringStatus(enum.StrEnum):
    """Where a gathering is in its life."""

    DRAFT = "draft"
    PUBLISHED = "published"
    CANCELLED = "cancelled"


gathering_facilitators = sa.Table(
    "gathering_facilitators",
    db.metadata,
    sa.Column("gathering_id", sa.ForeignKey("gatherings.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("user_id", sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
)

series_facilitators = sa.Table(
    "series_facilitators",
    db.metadata,
    sa.Column("series_id", sa.ForeignKey("series.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("user_id", sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
)


class GatheringDetails:
    """Columns a gathering and a series template share."""

    title: Mapped[str] = mapped_column(sa.String(200))
    #: Markdown as the organiser wrote it; rendered and sanitized on display.
    description_md: Mapped[str] = mapped_column(sa.Text, default="")
    kind: Mapped[str] = mapped_column(sa.String(20), default=GatheringKind.CIRCLE)
    #: IANA name, e.g. Europe/London; times are shown in it.
    timezone: Mapped[str] = mapped_column(sa.String(64))
    venue_name: Mapped[str] = mapped_column(sa.String(200), default="")
    venue_address: Mapped[str] = mapped_column(sa.Text, default="")
    online_url: Mapped[str] = mapped_column(sa.String(500), default="")
    #: Number of participants; 0 means registration is closed from the start.
    capacity: Mapped[int] = mapped_column(sa.Integer)
    accessibility_notes: Mapped[str] = mapped_column(sa.Text, default="")


class Series(GatheringDetails, db.Model):  # type: ignore[name-defined]
    """A recurring gathering (weekly, fortnightly, monthly) that creates its occurrences."""

    __tablename__ = "series"
    __table_args__ = (
        check_in("frequency", Frequency),
        check_in("kind", GatheringKind),
        sa.CheckConstraint("capacity >= 0", name="capacity_not_negative"),
        sa.CheckConstraint("(until_date IS NULL) <> (occurrence_count IS NULL)", name="one_end"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    frequency: Mapped[str] = mapped_column(sa.String(20))
    first_date: Mapped[date] = mapped_column(sa.Date)
    #: Local wall-clock start time, kept across daylight-saving changes.
    start_time: Mapped[time] = mapped_column(sa.Time)
    duration_minutes: Mapped[int] = mapped_column(sa.Integer)
    until_date: Mapped[date | None] = mapped_column(sa.Date)
    occurrence_count: Mapped[int | None] = mapped_column(sa.Integer)
    is_cancelled: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    created_by_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    facilitators: Mapped[list[User]] = relationship(
        secondary=series_facilitators, order_by=User.name
    )
    occurrences: Mapped[list[Gathering]] = relationship(
        back_populates="series", order_by="Gathering.starts_at"
    )


class Gathering(GatheringDetails, db.Model):  # type: ignore[name-defined]
    """One gathering on one date: what people register for and attend."""

    __tablename__ = "gatherings"
    __table_args__ = (
        check_in("status", GatheringStatus),
        check_in("kind", GatheringKind),
        sa.CheckConstraint("capacity >= 0", name="capacity_not_negative"),
        sa.CheckConstraint("ends_at > starts_at", name="ends_after_start"),
        sa.Index("ix_gatherings_status_starts_at", "status", "starts_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(sa.String(20), default=GatheringStatus.DRAFT)
    #: Why it was cancelled, shown to the public and in the email to registrants.
    cancellation_note: Mapped[str] = mapped_column(sa.Text, default="")
    series_id: Mapped[int | None] = mapped_column(sa.ForeignKey("series.id"), index=True)
    #: Position in its series, from 0.
    series_index: Mapped[int | None] = mapped_column(sa.Integer)
    #: Edited on its own (moved, retitled); series-wide edits leave it alone.
    is_detached: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    #: Bumped on every change a calendar should notice (iCalendar SEQUENCE).
    revision: Mapped[int] = mapped_column(sa.Integer, default=0)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_by_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)

    series: Mapped[Series | None] = relationship(back_populates="occurrences")
    facilitators: Mapped[list[User]] = relationship(
        secondary=gathering_facilitators, order_by=User.name
    )

    @property
    def is_published(self) -> bool:
        """Return whether the public can see it."""
        return self.status == GatheringStatus.PUBLISHED

    @property
    def is_cancelled(self) -> bool:
        """Return whether it was cancelled."""
        return self.status == GatheringStatus.CANCELLED

    def __repr__(self) -> str:
        return f"<Gathering {self.id} {self.status}>"

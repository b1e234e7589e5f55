"""Create, change, publish, cancel and duplicate gatherings and series."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from urllib.parse import urlsplit

import sqlalchemy as sa

from facilitation.accounts.models import Role, User
from facilitation.core.errors import DomainError, Forbidden, NotFound
from facilitation.extensions import db
from facilitation.gatherings import schedule
from facilitation.gatherings.models import (
    Frequency,
    Gathering,
    GatheringKind,
    GatheringStatus,
    Series,
)
from facilitation.registration import cancellation as registration_cancellation
from facilitation.registration import waitlist

logger = logging.getLogger(__name__)

MAX_CAPACITY = 10_000


@dataclass
class Details:
    """What an organiser says about a gathering or a series, before any check."""

    title: str
    timezone: str
    capacity: int
    description_md: str = ""
    kind: str = GatheringKind.CIRCLE
    venue_name: str = ""
    venue_address: str = ""
    online_url: str = ""
    accessibility_notes: str = ""
    facilitator_ids: list[int] = field(default_factory=list)


@dataclass
class Timing:
    """Start and end of one gathering, as local wall-clock times in ``Details.timezone``."""

    starts_local: datetime
    ends_local: datetime


@dataclass
class Recurrence:
    """When a series meets."""

    frequency: str
    first_date: date
    start_time: time
    duration_minutes: int
    until_date: date | None = None
    occurrence_count: int | None = None


SCHEDULE_MESSAGES = {
    "invalid_count": ("occurrence_count", "Give a number of gatherings, at least 1."),
    "too_many_occurrences": (
        "occurrence_count",
        f"A series can have at most {schedule.MAX_OCCURRENCES} gatherings; choose an earlier end.",
    ),
    "until_before_start": ("until_date", "The last date must be on or after the first date."),
    "invalid_end": ("until_date", "Choose either a number of gatherings or a last date."),
    "out_of_range": ("until_date", "That series runs too far into the future."),
    "invalid_duration": ("duration_minutes", "Give a length of at least 1 minute."),
}


def _is_time_zone(name: str) -> bool:
    try:
        schedule.zone(name)
    except schedule.ScheduleError:
        return False
    return "/" in name or name == "UTC"


def _require_organiser(actor: User) -> None:
    if not actor.is_organiser:
        raise Forbidden("forbidden", "Only organisers can change gatherings.")


def _check_details(details: Details) -> list[User]:
    """Validate details and return the facilitators they name."""
    details.title = " ".join(details.title.split())
    if not details.title:
        raise DomainError("title_required", "Give the gathering a title.", field="title")
    if len(details.title) > 200:
        raise DomainError("title_too_long", "Keep the title under 200 characters.", field="title")
    if details.kind not in set(GatheringKind):
        raise DomainError("unknown_kind", "Choose one of the kinds listed.", field="kind")
    if not _is_time_zone(details.timezone):
        raise DomainError(
            "unknown_time_zone",
            "Choose a time zone from the list, such as Europe/London.",
            field="timezone",
        )
    if details.capacity < 0:
        raise DomainError("capacity_negative", "Capacity cannot be below zero.", field="capacity")
    if details.capacity > MAX_CAPACITY:
        raise DomainError(
            "capacity_too_large", f"Capacity can be at most {MAX_CAPACITY}.", field="capacity"
        )
    url = details.online_url.strip()
    if url:
        parts = urlsplit(url)
        if parts.scheme not in {"http", "https"} or not parts.netloc:
            raise DomainError(
                "bad_online_url",
                "Give the online link as a full address starting with https://",
                field="online_url",
            )
    details.online_url = url
    ids = sorted(set(details.facilitator_ids))
    if not ids:
        return []
    people = db.session.scalars(sa.select(User).where(User.id.in_(ids))).all()
    if len(people) != len(ids) or not all(p.is_facilitator for p in people):
        raise DomainError(
            "not_a_facilitator",
            "Only people with the facilitator or organiser role can facilitate.",
            field="facilitator_ids",
        )
    return list(people)


def _apply_details(target: Gathering | Series, details: Details, facilitators: list[User]) -> None:
    target.title = details.title
    target.description_md = details.description_md
    target.kind = details.kind
    target.timezone = details.timezone
    target.venue_name = details.venue_name.strip()
    target.venue_address = details.venue_address.strip()
    target.online_url = details.online_url
    target.capacity = details.capacity
    target.accessibility_notes = details.accessibility_notes.strip()
    target.facilitators = facilitators


def _utc_range(timing: Timing, tz: str) -> tuple[datetime, datetime]:
    try:
        starts = schedule.to_utc(timing.starts_local, tz)
        ends = schedule.to_utc(timing.ends_local, tz)
        schedule.validate_time_range(starts, ends)
    except schedule.ScheduleError as err:
        raise DomainError(
            err.code, "The gathering must end after it starts.", field="ends_local"
        ) from None
    return starts, ends


def create_gathering(actor: User, details: Details, timing: Timing, *, now: datetime) -> Gathering:
    """Create a draft gathering."""
    _require_organiser(actor)
    facilitators = _check_details(details)
    starts, ends = _utc_range(timing, details.timezone)
    gathering = Gathering(
        starts_at=starts,
        ends_at=ends,
        status=GatheringStatus.DRAFT,
        created_by_id=actor.id,
        created_at=now,
        updated_at=now,
        revision=0,
        is_detached=False,
    )
    _apply_details(gathering, details, facilitators)
    db.session.add(gathering)
    db.session.flush()
    logger.info("gathering %s created by %s", gathering.id, actor.id)
    return gathering


def update_gathering(
    actor: User, gathering: Gathering, details: Details, timing: Timing, *, now: datetime
) -> Gathering:
    """Change a gathering; an occurrence edited alone leaves its series' later edits."""
    _require_organiser(actor)
    if gathering.is_cancelled:
        raise DomainError("cancelled", "A cancelled gathering cannot be changed.")
    facilitators = _check_details(details)
    starts, ends = _utc_range(timing, details.timezone)
    _apply_details(gathering, details, facilitators)
    gathering.starts_at, gathering.ends_at = starts, ends
    if gathering.series_id is not None:
        gathering.is_detached = True
    gathering.revision += 1
    gathering.updated_at = now
    waitlist.promote(gathering, now=now)  # a raised capacity offers seats to those waiting
    logger.info("gathering %s updated by %s", gathering.id, actor.id)
    return gathering


def publish(actor: User, gathering: Gathering, *, now: datetime) -> Gathering:
    """Make a draft gathering visible to the public."""
    _require_organiser(actor)
    if gathering.status != GatheringStatus.DRAFT:
        raise DomainError("not_draft", "Only a draft can be published.")
    if gathering.ends_at <= now:
        raise DomainError("in_the_past", "This gathering is over; change its date first.")
    gathering.status = GatheringStatus.PUBLISHED
    gathering.published_at = gathering.published_at or now
    gathering.revision += 1
    gathering.updated_at = now
    logger.info("gathering %s published by %s", gathering.id, actor.id)
    return gathering


def cancel(actor: User, gathering: Gathering, note: str, *, now: datetime) -> Gathering:
    """Cancel a gathering, keeping it visible as cancelled if it was ever published."""
    _require_organiser(actor)
    if gathering.is_cancelled:
        raise DomainError("already_cancelled", "This gathering is already cancelled.")
    gathering.status = GatheringStatus.CANCELLED
    gathering.cancellation_note = note.strip()[:2000]
    gathering.revision += 1
    gathering.updated_at = now
    registration_cancellation.cancel_gathering_registrations(actor, gathering, now=now)
    logger.info("gathering %s cancelled by %s", gathering.id, actor.id)
    return gathering


def duplicate(actor: User, gathering: Gathering, *, now: datetime) -> Gathering:
    """Copy a gathering into a new draft one week later, outside any series."""
    _require_organiser(actor)
    copy = Gathering(
        starts_at=gathering.starts_at + timedelta(days=7),
        ends_at=gathering.ends_at + timedelta(days=7),
        status=GatheringStatus.DRAFT,
        created_by_id=actor.id,
        created_at=now,
        updated_at=now,
        revision=0,
        is_detached=False,
    )
    details = details_of(gathering)
    _apply_details(copy, details, list(gathering.facilitators))
    db.session.add(copy)
    db.session.flush()
    logger.info("gathering %s duplicated into %s by %s", gathering.id, copy.id, actor.id)
    return copy


def details_of(source: Gathering | Series) -> Details:
    """Return the editable details of a gathering or series."""
    return Details(
        title=source.title,
        timezone=source.timezone,
        capacity=source.capacity,
        description_md=source.description_md,
        kind=source.kind,
        venue_name=source.venue_name,
        venue_address=source.venue_address,
        online_url=source.online_url,
        accessibility_notes=source.accessibility_notes,
        facilitator_ids=[f.id for f in source.facilitators],
    )


def _occurrences(details: Details, recurrence: Recurrence) -> list[schedule.Occurrence]:
    if recurrence.frequency not in set(Frequency):
        raise DomainError("unknown_frequency", "Choose how often it meets.", field="frequency")
    if recurrence.duration_minutes <= 0 or recurrence.duration_minutes > 60 * 24 * 14:
        raise DomainError(
            "bad_duration",
            "Give a duration between 1 minute and 14 days.",
            field="duration_minutes",
        )
    try:
        rule = schedule.SeriesRule(
            first_start_local=datetime.combine(recurrence.first_date, recurrence.start_time),
            duration=timedelta(minutes=recurrence.duration_minutes),
            tz_name=details.timezone,
            frequency=schedule.Frequency(recurrence.frequency),
            until=recurrence.until_date,
            count=recurrence.occurrence_count,
        )
        return schedule.occurrences(rule)
    except schedule.ScheduleError as err:
        field_name, message = SCHEDULE_MESSAGES.get(
            err.code, ("first_date", "Those dates do not make a series; check them.")
        )
        raise DomainError(err.code, message, field=field_name) from None


def create_series(
    actor: User, details: Details, recurrence: Recurrence, *, publish_now: bool, now: datetime
) -> Series:
    """Create a series and all its occurrences (as drafts, or published at once)."""
    _require_organiser(actor)
    facilitators = _check_details(details)
    planned = _occurrences(details, recurrence)
    series = Series(
        frequency=recurrence.frequency,
        first_date=recurrence.first_date,
        start_time=recurrence.start_time,
        duration_minutes=recurrence.duration_minutes,
        until_date=recurrence.until_date,
        occurrence_count=recurrence.occurrence_count,
        is_cancelled=False,
        created_by_id=actor.id,
        created_at=now,
    )
    _apply_details(series, details, facilitators)
    db.session.add(series)
    for occ in planned:
        published = publish_now and occ.ends_at_utc > now
        gathering = Gathering(
            starts_at=occ.starts_at_utc,
            ends_at=occ.ends_at_utc,
            status=GatheringStatus.PUBLISHED if published else GatheringStatus.DRAFT,
            published_at=now if published else None,
            series=series,
            series_index=occ.index,
            is_detached=False,
            revision=0,
            created_by_id=actor.id,
            created_at=now,
            updated_at=now,
        )
        _apply_details(gathering, details, facilitators)
        db.session.add(gathering)
    db.session.flush()
    logger.info("series %s created with %d occurrences by %s", series.id, len(planned), actor.id)
    return series


def future_occurrences(series: Series, now: datetime) -> list[Gathering]:
    """Return the occurrences of a series that have not started yet and are not cancelled."""
    return [g for g in series.occurrences if g.starts_at > now and not g.is_cancelled]


def update_series(actor: User, series: Series, details: Details, *, now: datetime) -> int:
    """Change a series and every future occurrence not edited on its own; return how many."""
    _require_organiser(actor)
    if series.is_cancelled:
        raise DomainError("cancelled", "A cancelled series cannot be changed.")
    previous_tz = series.timezone
    if details.timezone != previous_tz:
        raise DomainError(
            "timezone_fixed",
            "A series keeps its time zone; move single occurrences instead.",
            field="timezone",
        )
    facilitators = _check_details(details)
    _apply_details(series, details, facilitators)
    changed = 0
    for gathering in future_occurrences(series, now):
        if gathering.is_detached:
            continue
        _apply_details(gathering, details, facilitators)
        gathering.revision += 1
        gathering.updated_at = now
        waitlist.promote(gathering, now=now)
        changed += 1
    logger.info("series %s updated by %s (%d occurrences)", series.id, actor.id, changed)
    return changed


def publish_series(actor: User, series: Series, *, now: datetime) -> int:
    """Publish every future draft occurrence of a series; return how many."""
    _require_organiser(actor)
    count = 0
    for gathering in future_occurrences(series, now):
        if gathering.status == GatheringStatus.DRAFT:
            publish(actor, gathering, now=now)
            count += 1
    return count


def cancel_series(actor: User, series: Series, note: str, *, now: datetime) -> int:
    """Cancel a series and every occurrence still to come; return how many."""
    _require_organiser(actor)
    if series.is_cancelled:
        raise DomainError("already_cancelled", "This series is already cancelled.")
    series.is_cancelled = True
    occurrences = future_occurrences(series, now)
    for gathering in occurrences:
        cancel(actor, gathering, note, now=now)
    return len(occurrences)


def upcoming_published(now: datetime, limit: int = 200) -> list[Gathering]:
    """Return published gatherings that have not ended, soonest first."""
    stmt = (
        sa.select(Gathering)
        .where(Gathering.status == GatheringStatus.PUBLISHED, Gathering.ends_at > now)
        .order_by(Gathering.starts_at)
        .limit(limit)
    )
    return list(db.session.scalars(stmt))


def calendar_feed(now: datetime, days_back: int = 60) -> list[Gathering]:
    """Return what the public calendar feed lists: published or cancelled after publishing."""
    stmt = (
        sa.select(Gathering)
        .where(
            Gathering.published_at.is_not(None),
            Gathering.status.in_([GatheringStatus.PUBLISHED, GatheringStatus.CANCELLED]),
            Gathering.ends_at > now - timedelta(days=days_back),
        )
        .order_by(Gathering.starts_at)
        .limit(1000)
    )
    return list(db.session.scalars(stmt))


def get_for_viewer(gathering_id: int, viewer: User | None) -> Gathering:
    """Return a gathering the viewer may see: the public sees only published or cancelled."""
    gathering = db.session.get(Gathering, gathering_id)
    if gathering is None:
        raise NotFound("not_found", "No such gathering.")
    if gathering.published_at is None and not (
        viewer is not None and (viewer.is_organiser or gathering.is_facilitated_by(viewer))
    ):
        raise NotFound("not_found", "No such gathering.")
    return gathering


def facilitator_choices() -> list[User]:
    """Return everyone who may facilitate."""
    stmt = (
        sa.select(User)
        .where(User.role.in_([Role.FACILITATOR.value, Role.ORGANISER.value]))
        .order_by(User.name)
    )
    return list(db.session.scalars(stmt))

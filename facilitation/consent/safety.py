"""Boundaries, do-not-pair, sensitive notes (every read logged), incident reports, bans."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from facilitation.accounts.models import User
from facilitation.accounts.services import end_sessions
from facilitation.consent import incidents, rules
from facilitation.consent.models import (
    Ban,
    BoundaryProfile,
    DoNotPairRequest,
    SensitiveAccess,
    SensitiveNote,
)
from facilitation.core.errors import DomainError, Forbidden, NotFound
from facilitation.exercises.models import Run, RunParticipant
from facilitation.extensions import db
from facilitation.gatherings import permissions
from facilitation.gatherings.models import Gathering

logger = logging.getLogger(__name__)

GENDERS = ("woman", "man", "non_binary")


# --- reads are logged ------------------------------------------------------------------


def _log(
    viewer: User, subject_id: int, field: str, gathering_id: int | None, now: datetime
) -> None:
    db.session.add(
        SensitiveAccess(
            subject_user_id=subject_id,
            viewer_id=viewer.id,
            field=field,
            gathering_id=gathering_id,
            viewed_at=now,
        )
    )


# --- boundaries ------------------------------------------------------------------------


@dataclass
class BoundaryInput:
    """A boundaries profile as typed into the form."""

    touch: int
    eye_contact: int
    partner_preference: str
    gender: str | None
    pairing_role: str | None
    note: str | None


def save_boundaries(
    user: User, data: BoundaryInput, *, now: datetime, gathering_id: int | None = None
) -> BoundaryProfile:
    """Save a person's general boundaries, or an override for one gathering."""
    if data.touch not in (0, 1, 2) or data.eye_contact not in (0, 1, 2):
        raise DomainError("bad_boundary", "Choose one of the options listed.", "touch")
    if not rules.valid_preference(data.partner_preference):
        raise DomainError("bad_preference", "Choose a partner preference.", "partner_preference")
    if data.gender is not None and data.gender not in GENDERS:
        raise DomainError("bad_gender", "Choose one of the options, or leave it empty.", "gender")
    if data.partner_preference == "same_gender" and not data.gender:
        raise DomainError(
            "gender_needed", "To be paired with your own gender, say your gender.", "gender"
        )
    profile = db.session.scalar(
        sa.select(BoundaryProfile).where(
            BoundaryProfile.user_id == user.id,
            BoundaryProfile.gathering_id.is_(None)
            if gathering_id is None
            else BoundaryProfile.gathering_id == gathering_id,
        )
    )
    if profile is None:
        profile = BoundaryProfile(user_id=user.id, gathering_id=gathering_id)
        db.session.add(profile)
    profile.touch, profile.eye_contact = data.touch, data.eye_contact
    profile.partner_preference = data.partner_preference
    profile.gender = data.gender or None
    profile.pairing_role = (data.pairing_role or "").strip().lower()[:40] or None
    profile.note = (data.note or "").strip()[:2000] or None
    profile.updated_at = now
    db.session.flush()
    return profile


def effective_boundaries(user_ids: list[int], gathering_id: int) -> dict[int, BoundaryProfile]:
    """Return each person's boundaries for a gathering: the override, else their general ones."""
    rows = db.session.scalars(
        sa.select(BoundaryProfile).where(
            BoundaryProfile.user_id.in_(user_ids),
            sa.or_(
                BoundaryProfile.gathering_id.is_(None), BoundaryProfile.gathering_id == gathering_id
            ),
        )
    ).all()
    chosen: dict[int, BoundaryProfile] = {}
    for row in rows:
        if row.gathering_id is not None or row.user_id not in chosen:
            chosen[row.user_id] = row
    return chosen


def boundary_notes_for(
    viewer: User, gathering: Gathering, user_ids: list[int], *, now: datetime
) -> dict[int, str]:
    """Return facilitators the boundary notes of those present, logging each read."""
    notes: dict[int, str] = {}
    for user_id, profile in effective_boundaries(user_ids, gathering.id).items():
        if profile.note and permissions.may_read_private(viewer, user_id, gathering):
            notes[user_id] = profile.note
            _log(viewer, user_id, "boundary_note", gathering.id, now)
    return notes


# --- do-not-pair -----------------------------------------------------------------------


def add_do_not_pair(
    requester: User, subject_email: str, *, now: datetime, gathering_id: int | None = None,
    reason: str | None = None,
) -> DoNotPairRequest:  # fmt: skip
    """Record privately that someone does not want to be paired with a person (by email)."""
    email = subject_email.strip().lower()
    if "@" not in email or len(email) > 320:
        raise DomainError("bad_email", "Give the person's email address.", "email")
    if email == requester.email:
        raise DomainError("self", "That is your own address.", "email")
    request = DoNotPairRequest(
        requester_id=requester.id,
        subject_ref=f"email:{email}",
        gathering_id=gathering_id,
        reason=(reason or "").strip()[:1000] or None,
        created_at=now,
    )
    db.session.add(request)
    db.session.flush()
    logger.info("do-not-pair request %s recorded for %s", request.id, requester.id)
    return request


def withdraw_do_not_pair(requester: User, request_id: int, *, now: datetime) -> None:
    """Withdraw one's own do-not-pair request."""
    request = db.session.get(DoNotPairRequest, request_id)
    if request is None or request.requester_id != requester.id:
        raise NotFound("not_found", "No such request.")
    request.withdrawn_at = now


def _subject_ids(requests: list[DoNotPairRequest]) -> dict[int, int | None]:
    emails = {r.id: r.subject_ref.removeprefix("email:") for r in requests}
    found = dict(
        db.session.execute(
            sa.select(User.email, User.id).where(User.email.in_(set(emails.values())))
        ).all()
    )
    return {rid: found.get(email) for rid, email in emails.items()}


def do_not_pair_pairs(user_ids: list[int], gathering_id: int) -> list[tuple[int, int]]:
    """Return the (asker, other) pairs among these people that must never be paired."""
    requests = list(
        db.session.scalars(
            sa.select(DoNotPairRequest).where(
                DoNotPairRequest.requester_id.in_(user_ids),
                DoNotPairRequest.withdrawn_at.is_(None),
                sa.or_(
                    DoNotPairRequest.gathering_id.is_(None),
                    DoNotPairRequest.gathering_id == gathering_id,
                ),
            )
        )
    )
    present = set(user_ids)
    subjects = _subject_ids(requests)
    return [
        (r.requester_id, subjects[r.id])  # type: ignore[misc]
        for r in requests
        if subjects[r.id] in present
    ]


def do_not_pair_for(
    viewer: User, gathering: Gathering, *, now: datetime
) -> list[dict[str, object]]:
    """Return a gathering's do-not-pair requests to its facilitators, logging each read."""
    if not permissions.may_facilitate(viewer, gathering):
        raise Forbidden("forbidden", "Only this gathering's facilitators can see this.")
    attendee_ids = list(
        db.session.scalars(
            sa.select(RunParticipant.user_id)
            .join(Run, Run.id == RunParticipant.run_id)
            .where(Run.gathering_id == gathering.id)
            .distinct()
        )
    )
    pairs = do_not_pair_pairs(attendee_ids, gathering.id)
    names = dict(
        db.session.execute(sa.select(User.id, User.name).where(User.id.in_(attendee_ids))).all()
    )
    for asker, _ in pairs:
        _log(viewer, asker, "do_not_pair", gathering.id, now)
    return [{"asker": names.get(a), "other": names.get(b)} for a, b in pairs]


# --- sensitive notes -------------------------------------------------------------------


def save_sensitive(
    user: User, emergency_contact: str, health_note: str, *, now: datetime
) -> SensitiveNote:
    """Save a person's emergency contact and health or trauma notes (encrypted)."""
    note = db.session.scalar(sa.select(SensitiveNote).where(SensitiveNote.user_id == user.id))
    if note is None:
        note = SensitiveNote(user_id=user.id)
        db.session.add(note)
    note.emergency_contact = emergency_contact.strip()[:1000] or None
    note.health_note = health_note.strip()[:4000] or None
    note.updated_at = now
    db.session.flush()
    return note


def read_sensitive(
    viewer: User, subject_id: int, gathering: Gathering, *, now: datetime
) -> dict[str, str | None]:
    """Show a participant's sensitive notes to someone entitled to them; log every field read."""
    if not permissions.may_read_private(viewer, subject_id, gathering):
        raise Forbidden("forbidden", "You cannot see this person's notes.")
    note = db.session.scalar(sa.select(SensitiveNote).where(SensitiveNote.user_id == subject_id))
    shown: dict[str, str | None] = {"emergency_contact": None, "health_note": None}
    if note is None:
        return shown
    for field in shown:
        value = getattr(note, field)
        if value:
            shown[field] = value
            _log(viewer, subject_id, field, gathering.id, now)
    return shown


def access_log_for(user: User) -> list[SensitiveAccess]:
    """Return every logged read of a person's sensitive data, newest first."""
    return list(
        db.session.scalars(
            sa.select(SensitiveAccess)
            .where(SensitiveAccess.subject_user_id == user.id)
            .order_by(SensitiveAccess.viewed_at.desc())
        )
    )


# --- incidents ---------------------------------------------------------------------------

# Filing, reading and triage live in ``incidents`` (with the safeguarding route); these names
# stay for the callers that know them here.
report_incident = incidents.report_incident
triage = incidents.triage


# --- bans ------------------------------------------------------------------------------


def active_ban(email: str | None = None, user_id: int | None = None) -> Ban | None:
    """Return the ban that applies to an address or account, if any."""
    conditions = []
    if email:
        conditions.append(Ban.email == email.strip().lower())
    if user_id is not None:
        conditions.append(Ban.user_id == user_id)
    if not conditions:
        return None
    return db.session.scalars(
        sa.select(Ban).where(sa.or_(*conditions), Ban.lifted_at.is_(None)).limit(1)
    ).first()


def check_bannable(actor: User, person: User) -> None:
    """Refuse a ban the actor may not make: not an organiser, or of themselves."""
    if not actor.is_organiser:
        raise Forbidden("forbidden", "Only organisers can ban.")
    if person.id == actor.id:
        raise DomainError("self", "You cannot ban yourself.")


def ban(actor: User, person: User, reason: str, *, now: datetime) -> Ban:
    """Ban a person (account and email) from the community."""
    check_bannable(actor, person)
    existing = active_ban(person.email, person.id)
    if existing is not None:
        return existing
    record = Ban(
        user_id=person.id,
        email=person.email,
        reason=reason.strip()[:2000] or None,
        created_by_id=actor.id,
        created_at=now,
    )
    db.session.add(record)
    end_sessions(person)  # the caller closes their live sockets after the commit
    logger.info("account %s banned by %s", person.id, actor.id)
    return record


def lift_ban(actor: User, record: Ban, *, now: datetime) -> Ban:
    """Lift a ban."""
    if not actor.is_organiser:
        raise Forbidden("forbidden", "Only organisers can lift bans.")
    record.lifted_at = record.lifted_at or now
    return record

"""Incident reports: filing, who reads them, triage, and who is told of a new one.

A report about an organiser or a facilitator (chosen on the form, or detected because the
person it names has that role) goes to the community's safeguarding contact alone: only they
read it and only they are told of it. The person it is about never reads a report about them,
whatever their role. With no safeguarding contact named (or when the report is about the
contact), the organisers other than its subject read it.
"""

from __future__ import annotations

import logging
from datetime import datetime

import sqlalchemy as sa

from facilitation.accounts.models import Role, User
from facilitation.consent import community
from facilitation.consent.models import IncidentReport, IncidentStatus
from facilitation.core.errors import DomainError, Forbidden, NotFound
from facilitation.extensions import db

logger = logging.getLogger(__name__)

#: Largest row id the databases hold (a 32-bit integer column).
MAX_ID = 2**31 - 1


def leaders() -> list[User]:
    """Return the people a report can be "about an organiser or facilitator" (active ones)."""
    return list(
        db.session.scalars(
            sa.select(User)
            .where(
                User.role.in_([Role.FACILITATOR.value, Role.ORGANISER.value]),
                User.is_active_account.is_(True),
            )
            .order_by(User.name)
        )
    )


def _contact_for(subject_id: int | None) -> User | None:
    contact = community.safeguarding_contact()
    if contact is None or contact.id == subject_id:
        return None
    return contact


def report_incident(
    reporter: User | None, body: str, *, now: datetime, gathering_id: int | None = None,
    subject_user_id: int | None = None,
) -> IncidentReport:  # fmt: skip
    """File a concern (``reporter`` None keeps it anonymous) and route it to its readers."""
    body = body.strip()
    if len(body) < 10:
        raise DomainError(
            "body_too_short", "Tell us a little more (at least 10 characters).", "body"
        )
    subject = None
    if subject_user_id is not None:
        subject = db.session.get(User, subject_user_id) if 0 < subject_user_id <= MAX_ID else None
        if subject is None:
            raise DomainError("no_such_person", "Choose a person from the list.", "about_leader")
    about_leader = subject is not None and subject.is_facilitator
    contact = _contact_for(subject_user_id) if about_leader else None
    report = IncidentReport(
        reporter_id=reporter.id if reporter else None,
        gathering_id=gathering_id,
        subject_user_id=subject_user_id,
        body=body[:10_000],
        status=IncidentStatus.NEW,
        about_leader=about_leader,
        routed_to_id=contact.id if contact is not None else None,
        created_at=now,
        updated_at=now,
    )
    db.session.add(report)
    db.session.flush()
    logger.info("incident report %s filed (about a leader: %s)", report.id, about_leader)
    return report


def may_read(viewer: User, report: IncidentReport) -> bool:
    """Return whether ``viewer`` may read (and triage) this report."""
    if report.subject_user_id is not None and viewer.id == report.subject_user_id:
        return False
    if report.about_leader:
        contact = _contact_for(report.subject_user_id)
        if contact is not None:
            return viewer.id == contact.id
    return viewer.is_organiser


def readable(viewer: User) -> sa.ColumnElement[bool]:
    """Return the SQL condition for the reports ``viewer`` may read (``may_read`` in SQL)."""
    not_subject = sa.or_(
        IncidentReport.subject_user_id.is_(None), IncidentReport.subject_user_id != viewer.id
    )
    contact = community.safeguarding_contact()
    # Reports about a leader that the contact reads: all but those about the contact.
    contact_reads = IncidentReport.about_leader.is_(True)
    if contact is not None:
        contact_reads = sa.and_(
            contact_reads,
            sa.or_(
                IncidentReport.subject_user_id.is_(None),
                IncidentReport.subject_user_id != contact.id,
            ),
        )
    else:
        contact_reads = sa.false()
    if contact is not None and viewer.id == contact.id:
        mine = sa.or_(contact_reads, sa.true() if viewer.is_organiser else sa.false())
    elif viewer.is_organiser:
        mine = sa.not_(contact_reads)
    else:
        mine = sa.false()
    return sa.and_(not_subject, mine)


def may_open_reports(viewer: User) -> bool:
    """Return whether ``viewer`` has a reports page at all (organisers and the contact)."""
    contact = community.safeguarding_contact()
    return viewer.is_organiser or (contact is not None and contact.id == viewer.id)


def get_for(viewer: User, report_id: int) -> IncidentReport:
    """Return a report ``viewer`` may read; any other is not found (its existence hidden)."""
    if not may_open_reports(viewer):
        raise Forbidden("forbidden", "Only organisers and the safeguarding contact read reports.")
    report = db.session.get(IncidentReport, report_id) if 0 < report_id <= MAX_ID else None
    if report is None or not may_read(viewer, report):
        raise NotFound("not_found", "No such report.")
    return report


def list_for(viewer: User, status: str = "", limit: int = 500) -> list[IncidentReport]:
    """Return the reports ``viewer`` may read, newest first, optionally of one status."""
    stmt = sa.select(IncidentReport).where(readable(viewer))
    if status in set(IncidentStatus):
        stmt = stmt.where(IncidentReport.status == status)
    return list(db.session.scalars(stmt.order_by(IncidentReport.created_at.desc()).limit(limit)))


def open_count(viewer: User) -> int:
    """Return how many reports ``viewer`` may read are not resolved yet."""
    stmt = sa.select(sa.func.count()).where(
        readable(viewer), IncidentReport.status != IncidentStatus.RESOLVED
    )
    return int(db.session.scalar(stmt) or 0)


def to_tell(report: IncidentReport) -> list[User]:
    """Return who is told of a new report: the safeguarding contact alone, or the organisers."""
    if report.routed_to_id is not None:
        contact = db.session.get(User, report.routed_to_id)
        return [contact] if contact is not None else []
    organisers = db.session.scalars(
        sa.select(User)
        .where(User.role == Role.ORGANISER.value, User.is_active_account.is_(True))
        .order_by(User.id)
    )
    return [o for o in organisers if may_read(o, report)]


def triage(
    actor: User, report: IncidentReport, status: str, notes: str, *, now: datetime
) -> IncidentReport:
    """Move a report along (new, in progress, resolved) with private notes."""
    if not may_read(actor, report):
        raise Forbidden("forbidden", "Only those who read this report can triage it.")
    if status not in set(IncidentStatus):
        raise DomainError("bad_status", "Choose new, in progress or resolved.", "status")
    report.status = status
    report.private_notes = notes.strip()[:10_000] or None
    report.updated_at = now
    return report

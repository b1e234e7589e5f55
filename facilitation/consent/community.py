"""Community-wide settings: the default agreement every new gathering requires, and the
safeguarding contact who alone receives reports about organisers and facilitators.

An installation serves one community (its name is ``ORG_NAME``): every organiser manages
every gathering, and a ban holds everywhere. So "community-wide" means the whole installation,
and the settings are one row.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from facilitation.accounts.models import User
from facilitation.consent.models import (
    Agreement,
    CommunitySettings,
    DefaultAgreementRemoval,
    gathering_agreements,
)
from facilitation.core.errors import DomainError, Forbidden
from facilitation.extensions import db
from facilitation.gatherings.models import Gathering
from facilitation.messaging import services as mail

logger = logging.getLogger(__name__)

SETTINGS_ID = 1
#: Largest row id the databases hold (a 32-bit integer column).
MAX_ID = 2**31 - 1


def _row(model: type[Any], row_id: int | None) -> Any:
    return db.session.get(model, row_id) if row_id is not None and 0 < row_id <= MAX_ID else None


def read() -> CommunitySettings:
    """Return the community's settings (unsaved defaults when never set)."""
    found = db.session.get(CommunitySettings, SETTINGS_ID)
    return found if found is not None else CommunitySettings(id=SETTINGS_ID)


def _for_update() -> CommunitySettings:
    found = db.session.get(CommunitySettings, SETTINGS_ID)
    if found is None:
        found = CommunitySettings(id=SETTINGS_ID)
        db.session.add(found)
    return found


def _require_organiser(actor: User) -> None:
    if not actor.is_organiser:
        raise Forbidden("forbidden", "Only organisers can change the community's settings.")


def update(
    actor: User, *, default_agreement_id: int | None, safeguarding_contact_id: int | None,
    now: datetime,
) -> CommunitySettings:  # fmt: skip
    """Set the default agreement and the safeguarding contact (None clears either)."""
    _require_organiser(actor)
    if default_agreement_id is not None and _row(Agreement, default_agreement_id) is None:
        raise DomainError(
            "no_such_agreement", "Choose an agreement from the list.", "default_agreement_id"
        )
    if safeguarding_contact_id is not None:
        contact = _row(User, safeguarding_contact_id)
        if contact is None or not contact.is_active_account:
            raise DomainError(
                "no_such_person", "Choose a person from the list.", "safeguarding_contact_id"
            )
    settings = _for_update()
    previous = settings.safeguarding_contact_id
    settings.default_agreement_id = default_agreement_id
    settings.safeguarding_contact_id = safeguarding_contact_id
    settings.updated_at = now
    db.session.flush()
    if previous is not None and previous != safeguarding_contact_id:
        _tell_former_contact(previous, actor)
    logger.info("community settings changed by %s", actor.id)
    return settings


def _tell_former_contact(former_id: int, actor: User) -> None:
    """Tell the former safeguarding contact who replaced them, so a change is never silent."""
    former = db.session.get(User, former_id)
    if former is None or not former.is_active_account:
        return
    mail.queue(
        former.email,
        "You are no longer the safeguarding contact",
        f"Hello {former.display_name},\n\n{actor.name} changed the community's safeguarding "
        "contact, so reports about organisers and facilitators no longer reach you. If you "
        "did not expect this, please raise it with the community.\n",
        kind="safeguarding_contact_changed",
    )


def default_agreement_id() -> int | None:
    """Return the id of the agreement every new gathering requires, if one is set."""
    return read().default_agreement_id


def safeguarding_contact() -> User | None:
    """Return the named safeguarding contact, if there is one with an active account."""
    contact_id = read().safeguarding_contact_id
    contact = db.session.get(User, contact_id) if contact_id is not None else None
    return contact if contact is not None and contact.is_active_account else None


def _required_ids(gathering_id: int) -> set[int]:
    return set(
        db.session.scalars(
            sa.select(gathering_agreements.c.agreement_id).where(
                gathering_agreements.c.gathering_id == gathering_id
            )
        )
    )


def removed_on_purpose(gathering_id: int, agreement_id: int) -> bool:
    """Return whether an organiser took this default agreement off this gathering."""
    return db.session.get(DefaultAgreementRemoval, (gathering_id, agreement_id)) is not None


def attach_default(gathering: Gathering) -> bool:
    """Make a new gathering require the default agreement, unless removed on purpose."""
    agreement_id = default_agreement_id()
    if agreement_id is None or removed_on_purpose(gathering.id, agreement_id):
        return False
    if agreement_id in _required_ids(gathering.id):
        return False
    db.session.execute(
        gathering_agreements.insert().values(gathering_id=gathering.id, agreement_id=agreement_id)
    )
    return True


def copy_requirements(source: Gathering, copy: Gathering) -> None:
    """Give a copy the agreements its source requires and its on-purpose removals."""
    for agreement_id in sorted(_required_ids(source.id)):
        db.session.execute(
            gathering_agreements.insert().values(gathering_id=copy.id, agreement_id=agreement_id)
        )
    removals = db.session.scalars(
        sa.select(DefaultAgreementRemoval).where(DefaultAgreementRemoval.gathering_id == source.id)
    ).all()
    for removal in removals:
        db.session.add(
            DefaultAgreementRemoval(
                gathering_id=copy.id,
                agreement_id=removal.agreement_id,
                removed_by_id=removal.removed_by_id,
                removed_at=removal.removed_at,
            )
        )
    db.session.flush()


def note_change(
    actor: User, gathering: Gathering, new_ids: set[int], *, remove_default: bool, now: datetime
) -> None:
    """Refuse dropping the default agreement by accident; record an on-purpose removal."""
    agreement_id = default_agreement_id()
    if agreement_id is None:
        return
    removal = db.session.get(DefaultAgreementRemoval, (gathering.id, agreement_id))
    if agreement_id in new_ids:
        if removal is not None:
            db.session.delete(removal)
        return
    if agreement_id not in _required_ids(gathering.id):
        return
    if not remove_default:
        raise DomainError(
            "default_agreement_kept",
            "This is the community's default agreement: tick the box to remove it on purpose.",
            "remove_default",
        )
    if removal is None:
        db.session.add(
            DefaultAgreementRemoval(
                gathering_id=gathering.id,
                agreement_id=agreement_id,
                removed_by_id=actor.id,
                removed_at=now,
            )
        )
    logger.info(
        "default agreement %s removed from gathering %s by %s", agreement_id, gathering.id, actor.id
    )

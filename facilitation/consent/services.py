"""Agreements, their versions, signatures and withdrawals of consent."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from facilitation.accounts.models import User
from facilitation.consent import community, rules, seals
from facilitation.consent.models import (
    Agreement,
    AgreementKind,
    AgreementVersion,
    ChangeKind,
    ConsentWithdrawal,
    Signature,
    gathering_agreements,
)
from facilitation.core.clock import utcnow
from facilitation.core.errors import DomainError, Forbidden, NotFound
from facilitation.extensions import db
from facilitation.gatherings.models import Gathering

logger = logging.getLogger(__name__)


def _require_organiser(actor: User) -> None:
    if not actor.is_organiser:
        raise Forbidden("forbidden", "Only organisers can change agreements.")


def _check_text(title: str, body_md: str) -> tuple[str, str]:
    title = " ".join(title.split())
    if not title:
        raise DomainError("title_required", "Give the agreement a title.", "title")
    if not body_md.strip():
        raise DomainError("body_required", "Write the text people will agree to.", "body_md")
    if len(body_md) > 50_000:
        raise DomainError("body_too_long", "Keep the text under 50,000 characters.", "body_md")
    return title, body_md


def create_agreement(
    actor: User, title: str, kind: str, body_md: str, *, now: datetime
) -> Agreement:
    """Create an agreement with its first version."""
    _require_organiser(actor)
    title, body_md = _check_text(title, body_md)
    if kind not in set(AgreementKind):
        raise DomainError("bad_kind", "Choose what the agreement is about.", "kind")
    agreement = Agreement(title=title, kind=kind, created_by_id=actor.id, created_at=now)
    agreement.versions.append(
        AgreementVersion(
            number=1,
            body_md=body_md,
            sha256=rules.text_sha256(body_md),
            change_kind=ChangeKind.INITIAL,
            change_note="",
            created_by_id=actor.id,
            created_at=now,
        )
    )
    db.session.add(agreement)
    db.session.flush()
    logger.info("agreement %s created by %s", agreement.id, actor.id)
    return agreement


def latest_version(agreement: Agreement) -> AgreementVersion:
    """Return the newest version of an agreement."""
    return agreement.versions[-1]


def binding_version(agreement: Agreement) -> AgreementVersion:
    """Return the newest version that a signature must be at least as new as (material)."""
    for version in reversed(agreement.versions):
        if version.change_kind in (ChangeKind.INITIAL, ChangeKind.MATERIAL):
            return version
    return agreement.versions[0]


@dataclass
class EditResult:
    """What an edit did."""

    version: AgreementVersion
    new_version: bool
    resign_user_ids: list[int]


def edit_agreement(
    actor: User,
    agreement: Agreement,
    title: str,
    body_md: str,
    change_kind: str,
    change_note: str,
    *,
    now: datetime,
) -> EditResult:
    """Change an agreement: in place while unsigned, else as a new minor or material version."""
    _require_organiser(actor)
    title, body_md = _check_text(title, body_md)
    agreement.title = title
    current = latest_version(agreement)
    if current.frozen_at is None and current.number == 1:
        current.body_md = body_md
        current.sha256 = rules.text_sha256(body_md)
        return EditResult(current, False, [])
    if current.frozen_at is not None and body_md == current.body_md:
        return EditResult(current, False, [])
    if change_kind not in (ChangeKind.MINOR, ChangeKind.MATERIAL):
        raise DomainError(
            "change_kind_required",
            "People have signed this text. Say whether the change is minor (wording) or "
            "material (everyone signs again).",
            "change_kind",
        )
    if change_kind == ChangeKind.MATERIAL and not change_note.strip():
        raise DomainError(
            "change_note_required", "Explain what changed: signers will read this.", "change_note"
        )
    if current.frozen_at is None:
        # An unsigned later version is still a draft: it takes the text and the kind of change
        # the organiser declares now, so a material change can never hide behind a minor one.
        current.body_md = body_md
        current.sha256 = rules.text_sha256(body_md)
        current.change_kind = change_kind
        current.change_note = change_note.strip()
        db.session.flush()
        resign = signers_to_ask_again(agreement, now) if change_kind == ChangeKind.MATERIAL else []
        return EditResult(current, False, resign)
    version = AgreementVersion(
        number=current.number + 1,
        body_md=body_md,
        sha256=rules.text_sha256(body_md),
        change_kind=change_kind,
        change_note=change_note.strip(),
        created_by_id=actor.id,
        created_at=now,
    )
    agreement.versions.append(version)
    db.session.flush()
    resign = signers_to_ask_again(agreement, now) if change_kind == ChangeKind.MATERIAL else []
    logger.info("agreement %s version %s (%s)", agreement.id, version.number, change_kind)
    return EditResult(version, True, resign)


def signers_to_ask_again(agreement: Agreement, now: datetime) -> list[int]:
    """Return who signed an earlier version and has an upcoming gathering requiring it."""
    signed = (
        sa.select(Signature.user_id)
        .join(AgreementVersion)
        .where(AgreementVersion.agreement_id == agreement.id, Signature.user_id.is_not(None))
    )
    upcoming = (
        sa.select(gathering_agreements.c.gathering_id)
        .join(Gathering, Gathering.id == gathering_agreements.c.gathering_id)
        .where(
            gathering_agreements.c.agreement_id == agreement.id,
            Gathering.ends_at > now,
            Gathering.status != "cancelled",
        )
    )
    if db.session.scalar(sa.select(sa.func.count()).select_from(upcoming.subquery())) == 0:
        return []
    return sorted({uid for uid in db.session.scalars(signed.distinct()) if uid is not None})


def set_required(
    actor: User, gathering: Gathering, agreement_ids: list[int], *, remove_default: bool = False,
    now: datetime | None = None,
) -> None:  # fmt: skip
    """Set which agreements a gathering requires; dropping the community default needs intent."""
    _require_organiser(actor)
    ids = sorted(set(agreement_ids))
    found = db.session.scalars(sa.select(Agreement.id).where(Agreement.id.in_(ids))).all()
    if len(found) != len(ids):
        raise DomainError("no_such_agreement", "Choose agreements from the list.", "agreement_ids")
    community.note_change(
        actor, gathering, set(ids), remove_default=remove_default, now=now or utcnow()
    )
    db.session.execute(
        gathering_agreements.delete().where(gathering_agreements.c.gathering_id == gathering.id)
    )
    for agreement_id in ids:
        db.session.execute(
            gathering_agreements.insert().values(
                gathering_id=gathering.id, agreement_id=agreement_id
            )
        )


def required_agreements(gathering_id: int) -> list[Agreement]:
    """Return the agreements a gathering requires."""
    return list(
        db.session.scalars(
            sa.select(Agreement)
            .join(gathering_agreements, gathering_agreements.c.agreement_id == Agreement.id)
            .where(gathering_agreements.c.gathering_id == gathering_id)
            .order_by(Agreement.id)
        )
    )


def _last_withdrawal(user_id: int, agreement_id: int) -> datetime | None:
    return db.session.scalar(
        sa.select(sa.func.max(ConsentWithdrawal.created_at)).where(
            ConsentWithdrawal.user_id == user_id, ConsentWithdrawal.agreement_id == agreement_id
        )
    )


def valid_signature(user_id: int, agreement: Agreement) -> Signature | None:
    """Return the signature that covers the agreement now, if any (current material version)."""
    binding = binding_version(agreement)
    signature = db.session.scalars(
        sa.select(Signature)
        .join(AgreementVersion)
        .where(
            Signature.user_id == user_id,
            AgreementVersion.agreement_id == agreement.id,
            AgreementVersion.number >= binding.number,
        )
        .order_by(Signature.signed_at.desc())
        .limit(1)
    ).first()
    if signature is None:
        return None
    withdrawn = _last_withdrawal(user_id, agreement.id)
    if withdrawn is not None and withdrawn >= signature.signed_at:
        return None
    return signature


def missing_agreements(user_id: int, gathering_id: int) -> list[Agreement]:
    """Return the required agreements a person has not (validly) signed for a gathering."""
    return [a for a in required_agreements(gathering_id) if valid_signature(user_id, a) is None]


def has_withdrawn(user_id: int, gathering_id: int) -> bool:
    """Return whether the person's consent to a required agreement is withdrawn right now."""
    for agreement in required_agreements(gathering_id):
        withdrawn = _last_withdrawal(user_id, agreement.id)
        if withdrawn is None:
            continue
        latest = db.session.scalar(
            sa.select(sa.func.max(Signature.signed_at))
            .join(AgreementVersion)
            .where(Signature.user_id == user_id, AgreementVersion.agreement_id == agreement.id)
        )
        if latest is None or withdrawn >= latest:
            return True
    return False


@dataclass
class SignInput:
    """What the signing page sends."""

    version_id: int
    shown_sha256: str
    typed_name: str
    signature_png: bytes
    consented_electronic: bool
    viewed_at: datetime
    ip: str
    user_agent: str
    gathering_id: int | None = None
    name_confirmed: bool = False


def sign(user: User, data: SignInput, *, now: datetime) -> Signature:
    """Record a signature of one exact version; a repeated submit returns the first one."""
    version = db.session.get(AgreementVersion, data.version_id)
    if version is None:
        raise NotFound("no_such_version", "That agreement does not exist.")
    agreement = version.agreement
    if latest_version(agreement).id != version.id:
        raise DomainError(
            "stale_version", "This agreement has changed since you opened it. Read it again below."
        )
    if data.shown_sha256 != version.sha256:
        raise DomainError(
            "text_changed", "The text you read is not the current one. Read it again below."
        )
    existing = db.session.scalar(
        sa.select(Signature).where(
            Signature.user_id == user.id, Signature.agreement_version_id == version.id
        )
    )
    withdrawn = _last_withdrawal(user.id, agreement.id)
    if existing is not None and (withdrawn is None or withdrawn < existing.signed_at):
        return existing
    if not data.consented_electronic:
        raise DomainError(
            "consent_required", "Tick the box to agree to sign electronically.", "consent"
        )
    typed = " ".join(data.typed_name.split())
    if not typed:
        raise DomainError("name_required", "Type your full name.", "typed_name")
    if not data.name_confirmed and not rules.names_match(typed, user.name):
        raise DomainError(
            "name_mismatch",
            f"The name you typed differs from your account name ({user.name}). If it is right, "
            "tick “This is my name” and sign again.",
            "typed_name",
        )
    try:
        rules.check_signature_image(data.signature_png)
    except rules.SignatureImageError as err:
        raise DomainError(err.code, str(err), "signature") from None
    viewed_at = min(data.viewed_at, now)
    signature = Signature(
        user_id=user.id,
        agreement_version_id=version.id,
        gathering_id=data.gathering_id,
        sha256=version.sha256,
        typed_name=typed[:200],
        signature_png=data.signature_png,
        consented_electronic=True,
        viewed_at=viewed_at,
        signed_at=now if now > viewed_at else viewed_at,
        ip=data.ip[:45],
        user_agent=data.user_agent[:400],
        signer_email=user.email,
    )
    db.session.add(signature)
    if version.frozen_at is None:
        version.frozen_at = now
    db.session.flush()
    seals.seal(signature)  # over every field, the id included, so after the flush
    db.session.flush()
    logger.info("signature %s of version %s by %s", signature.id, version.id, user.id)
    return signature


def withdraw(
    user: User, agreement: Agreement, *, now: datetime, gathering_id: int | None = None
) -> ConsentWithdrawal:
    """Record that a person withdraws consent given in an agreement."""
    withdrawal = ConsentWithdrawal(
        user_id=user.id, agreement_id=agreement.id, gathering_id=gathering_id, created_at=now
    )
    db.session.add(withdrawal)
    db.session.flush()
    logger.info("consent to agreement %s withdrawn by %s", agreement.id, user.id)
    return withdrawal


def verify(signature: Signature) -> bool:
    """Return whether the text and every field of the record are as they were signed."""
    return seals.check(signature) == seals.VERIFIED


def ineligibility(user_ids: list[int], gathering_id: int) -> dict[int, str]:
    """Return, for a whole room at once, who may not be paired and why.

    Reasons: ``banned``, ``consent_withdrawn`` (a required agreement's consent was
    withdrawn after the last signature) or ``agreements_missing``.
    """
    from facilitation.gatherings.permissions import banned_user_ids

    reasons: dict[int, str] = dict.fromkeys(banned_user_ids(user_ids), "banned")
    for agreement in required_agreements(gathering_id):
        binding = binding_version(agreement)
        signed = dict(
            db.session.execute(
                sa.select(Signature.user_id, sa.func.max(Signature.signed_at))
                .join(AgreementVersion)
                .where(
                    AgreementVersion.agreement_id == agreement.id,
                    AgreementVersion.number >= binding.number,
                    Signature.user_id.in_(user_ids),
                )
                .group_by(Signature.user_id)
            ).all()
        )
        withdrawn = dict(
            db.session.execute(
                sa.select(ConsentWithdrawal.user_id, sa.func.max(ConsentWithdrawal.created_at))
                .where(
                    ConsentWithdrawal.agreement_id == agreement.id,
                    ConsentWithdrawal.user_id.in_(user_ids),
                )
                .group_by(ConsentWithdrawal.user_id)
            ).all()
        )
        for user_id in user_ids:
            if user_id in reasons:
                continue
            last_signed, last_withdrawn = signed.get(user_id), withdrawn.get(user_id)
            if last_withdrawn is not None and (
                last_signed is None or last_withdrawn >= last_signed
            ):
                reasons[user_id] = "consent_withdrawn"
            elif last_signed is None:
                reasons[user_id] = "agreements_missing"
    return reasons

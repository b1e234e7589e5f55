"""Agreements and signatures, boundaries, do-not-pair, sensitive notes, incidents, bans."""

from __future__ import annotations

import enum
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from facilitation.accounts.models import User
from facilitation.core.crypto import EncryptedText
from facilitation.core.db import UTCDateTime, check_in
from facilitation.extensions import db


class AgreementKind(enum.StrEnum):
    """What an agreement is about."""

    CODE_OF_CONDUCT = "code_of_conduct"
    CONSENT_SAFETY = "consent_safety"
    PHOTO_RECORDING = "photo_recording"
    HEALTH_LIABILITY = "health_liability"
    OTHER = "other"


class ChangeKind(enum.StrEnum):
    """How a new version differs from the one before."""

    INITIAL = "initial"
    MINOR = "minor"  #: wording only: earlier signatures still stand
    MATERIAL = "material"  #: substance: everyone must sign again


class Agreement(db.Model):  # type: ignore[name-defined]
    """An agreement template; its text lives in immutable versions."""

    __tablename__ = "agreements"
    __table_args__ = (check_in("kind", AgreementKind),)

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(sa.String(200))
    kind: Mapped[str] = mapped_column(sa.String(30))
    created_by_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    versions: Mapped[list[AgreementVersion]] = relationship(
        back_populates="agreement", order_by="AgreementVersion.number"
    )


class AgreementVersion(db.Model):  # type: ignore[name-defined]
    """One exact text of an agreement; frozen from its first signature on."""

    __tablename__ = "agreement_versions"
    __table_args__ = (
        sa.UniqueConstraint("agreement_id", "number", name="uq_agreement_versions_number"),
        check_in("change_kind", ChangeKind),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    agreement_id: Mapped[int] = mapped_column(sa.ForeignKey("agreements.id"), index=True)
    number: Mapped[int] = mapped_column(sa.Integer)
    body_md: Mapped[str] = mapped_column(sa.Text)
    #: SHA-256 (hex) of the UTF-8 text exactly as shown to signers.
    sha256: Mapped[str] = mapped_column(sa.String(64))
    change_kind: Mapped[str] = mapped_column(sa.String(10))
    #: What changed and why, shown to those asked to sign again.
    change_note: Mapped[str] = mapped_column(sa.Text, default="")
    created_by_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    #: Set by the first signature; a frozen version is never edited again.
    frozen_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    agreement: Mapped[Agreement] = relationship(back_populates="versions")


gathering_agreements = sa.Table(
    "gathering_agreements",
    db.metadata,
    sa.Column("gathering_id", sa.ForeignKey("gatherings.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("agreement_id", sa.ForeignKey("agreements.id"), primary_key=True),
)


class Signature(db.Model):  # type: ignore[name-defined]
    """An append-only record that a person signed one exact version."""

    __tablename__ = "signatures"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Kept when an account is erased (retention), so it is nullable.
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"), index=True)
    agreement_version_id: Mapped[int] = mapped_column(
        sa.ForeignKey("agreement_versions.id"), index=True
    )
    #: The gathering they were signing for, if any.
    gathering_id: Mapped[int | None] = mapped_column(sa.ForeignKey("gatherings.id"))
    #: SHA-256 of the text as it was shown on the signing page.
    sha256: Mapped[str] = mapped_column(sa.String(64))
    typed_name: Mapped[str] = mapped_column(sa.String(200))
    #: The drawn signature, a PNG image.
    signature_png: Mapped[bytes] = mapped_column(sa.LargeBinary)
    consented_electronic: Mapped[bool] = mapped_column(sa.Boolean)
    viewed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    signed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ip: Mapped[str] = mapped_column(sa.String(45))
    user_agent: Mapped[str] = mapped_column(sa.String(400))
    #: Contact email at signing time, kept for the retention period after erasure.
    signer_email: Mapped[str] = mapped_column(sa.String(320))
    #: Keyed HMAC-SHA256 over every field above (``consent.seals``); None on rows signed
    #: before seals existed, which can only have their text checked.
    seal: Mapped[str | None] = mapped_column(sa.String(64))

    version: Mapped[AgreementVersion] = relationship()


class ConsentWithdrawal(db.Model):  # type: ignore[name-defined]
    """An append-only record that a person withdrew consent given in an agreement."""

    __tablename__ = "consent_withdrawals"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"), index=True)
    agreement_id: Mapped[int] = mapped_column(sa.ForeignKey("agreements.id"))
    gathering_id: Mapped[int | None] = mapped_column(sa.ForeignKey("gatherings.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class BoundaryProfile(db.Model):  # type: ignore[name-defined]
    """A person's boundaries, general (no gathering) or for one gathering."""

    __tablename__ = "boundary_profiles"
    __table_args__ = (
        sa.UniqueConstraint("user_id", "gathering_id", name="uq_boundary_profiles_scope"),
        sa.CheckConstraint("touch >= 0 AND touch <= 2", name="touch_range"),
        sa.CheckConstraint("eye_contact >= 0 AND eye_contact <= 2", name="eye_contact_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    gathering_id: Mapped[int | None] = mapped_column(sa.ForeignKey("gatherings.id"))
    #: Touch they are open to: 0 none, 1 hands, 2 hugs.
    touch: Mapped[int] = mapped_column(sa.SmallInteger, default=0)
    #: Eye contact they are comfortable with: 0 avoid, 1 soft, 2 sustained.
    eye_contact: Mapped[int] = mapped_column(sa.SmallInteger, default=1)
    #: ``any``, ``same_gender`` or ``role:<name>``.
    partner_preference: Mapped[str] = mapped_column(sa.String(60), default="any")
    gender: Mapped[str | None] = mapped_column(sa.String(40))
    pairing_role: Mapped[str | None] = mapped_column(sa.String(40))
    #: A free note to facilitators; encrypted, every read logged.
    note: Mapped[str | None] = mapped_column(EncryptedText)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class DoNotPairRequest(db.Model):  # type: ignore[name-defined]
    """A private request never to be paired with someone; the other person is never told."""

    __tablename__ = "do_not_pair_requests"

    id: Mapped[int] = mapped_column(primary_key=True)
    requester_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    #: Encrypted like the rest: who someone wants to avoid is itself sensitive.
    subject_ref: Mapped[str] = mapped_column(EncryptedText)
    #: None means every gathering.
    gathering_id: Mapped[int | None] = mapped_column(sa.ForeignKey("gatherings.id"))
    reason: Mapped[str | None] = mapped_column(EncryptedText)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class SensitiveNote(db.Model):  # type: ignore[name-defined]
    """Emergency contact and health or trauma notes a person chooses to share."""

    __tablename__ = "sensitive_notes"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), unique=True)
    emergency_contact: Mapped[str | None] = mapped_column(EncryptedText)
    health_note: Mapped[str | None] = mapped_column(EncryptedText)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class SensitiveAccess(db.Model):  # type: ignore[name-defined]
    """An append-only log row: who read which sensitive field of whom, and when."""

    __tablename__ = "sensitive_access_logs"

    id: Mapped[int] = mapped_column(primary_key=True)
    subject_user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"), index=True)
    viewer_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    #: e.g. ``health_note``, ``emergency_contact``, ``boundary_note``, ``do_not_pair``.
    field: Mapped[str] = mapped_column(sa.String(40))
    gathering_id: Mapped[int | None] = mapped_column(sa.ForeignKey("gatherings.id"))
    viewed_at: Mapped[datetime] = mapped_column(UTCDateTime)

    viewer: Mapped[User | None] = relationship(foreign_keys=[viewer_id])


class IncidentStatus(enum.StrEnum):
    """Where an organiser's triage of a report stands."""

    NEW = "new"
    IN_PROGRESS = "in_progress"
    RESOLVED = "resolved"


class IncidentReport(db.Model):  # type: ignore[name-defined]
    """A concern about a gathering or a person, optionally anonymous."""

    __tablename__ = "incident_reports"
    __table_args__ = (check_in("status", IncidentStatus),)

    id: Mapped[int] = mapped_column(primary_key=True)
    gathering_id: Mapped[int | None] = mapped_column(sa.ForeignKey("gatherings.id"))
    subject_user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    #: None when the report was made anonymously.
    reporter_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"), index=True)
    body: Mapped[str] = mapped_column(EncryptedText)
    status: Mapped[str] = mapped_column(sa.String(20), default=IncidentStatus.NEW)
    private_notes: Mapped[str | None] = mapped_column(EncryptedText)
    #: About an organiser or facilitator: only ``routed_to_id`` reads it (the safeguarding
    #: contact named when it was filed), or, with no contact, organisers other than the subject.
    about_leader: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    routed_to_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Ban(db.Model):  # type: ignore[name-defined]
    """A person (account and email) banned from the community until lifted."""

    __tablename__ = "bans"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"), index=True)
    #: Lower-cased; also stops a new account with the same address.
    email: Mapped[str] = mapped_column(sa.String(320), index=True)
    reason: Mapped[str | None] = mapped_column(EncryptedText)
    created_by_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    lifted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class CommunitySettings(db.Model):  # type: ignore[name-defined]
    """Settings of the one community an installation serves; a single row, id 1."""

    __tablename__ = "community_settings"
    __table_args__ = (sa.CheckConstraint("id = 1", name="single_row"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Every new gathering requires it unless an organiser removes it on purpose.
    default_agreement_id: Mapped[int | None] = mapped_column(sa.ForeignKey("agreements.id"))
    #: Reads reports about organisers and facilitators, and is the only one told of them.
    safeguarding_contact_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class DefaultAgreementRemoval(db.Model):  # type: ignore[name-defined]
    """A record that an organiser took the community's default agreement off a gathering."""

    __tablename__ = "default_agreement_removals"

    gathering_id: Mapped[int] = mapped_column(
        sa.ForeignKey("gatherings.id", ondelete="CASCADE"), primary_key=True
    )
    agreement_id: Mapped[int] = mapped_column(sa.ForeignKey("agreements.id"), primary_key=True)
    removed_by_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    removed_at: Mapped[datetime] = mapped_column(UTCDateTime)

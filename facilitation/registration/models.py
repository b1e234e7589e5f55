"""Registrations, what a gathering offers (options, codes, questions, roles) and payments."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from facilitation.accounts.models import User
from facilitation.core.crypto import EncryptedText
from facilitation.core.db import UTCDateTime, check_in
from facilitation.extensions import db
from facilitation.gatherings.models import Gathering
from facilitation.registration.answers import QuestionKind
from facilitation.registration.pricing import DEFAULT_CURRENCY, DiscountKind, OptionKind
from facilitation.registration.states import LIVE, RefundPolicy, Status


def _gathering_fk() -> sa.ForeignKey:
    return sa.ForeignKey("gatherings.id", ondelete="CASCADE")


#: SQL condition for "this registration is live" (one per person and gathering).
LIVE_SQL = "status IN ({})".format(", ".join(f"'{s.value}'" for s in sorted(LIVE)))


class PaymentKind(enum.StrEnum):
    """Which way money moved."""

    CHARGE = "charge"
    REFUND = "refund"


class PaymentProvider(enum.StrEnum):
    """Where the money moved."""

    STRIPE = "stripe"
    DOOR = "door"
    MANUAL = "manual"


class RegistrationSettings(db.Model):  # type: ignore[name-defined]
    """How a gathering takes registrations; created with defaults when first changed."""

    __tablename__ = "registration_settings"
    __table_args__ = (
        check_in("refund_policy", RefundPolicy),
        sa.CheckConstraint("hold_minutes BETWEEN 1 AND 1440", name="hold_minutes_range"),
        sa.CheckConstraint("offer_hours BETWEEN 1 AND 720", name="offer_hours_range"),
        sa.CheckConstraint("refund_deadline_hours >= 0", name="refund_deadline_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    gathering_id: Mapped[int] = mapped_column(_gathering_fk(), unique=True)
    #: Registrations are applications the facilitators approve or decline.
    requires_approval: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    #: How long a seat is held while the participant pays by card.
    hold_minutes: Mapped[int] = mapped_column(sa.Integer, default=15)
    #: How long a waitlist or approval offer stays open.
    offer_hours: Mapped[int] = mapped_column(sa.Integer, default=24)
    refund_policy: Mapped[str] = mapped_column(
        sa.String(30), default=RefundPolicy.FULL_BEFORE_DEADLINE
    )
    #: Full refunds end this many hours before the start (policy full_before_deadline).
    refund_deadline_hours: Mapped[int] = mapped_column(sa.Integer, default=48)
    #: ISO 4217; every amount of the gathering is in its minor unit.
    currency: Mapped[str] = mapped_column(sa.String(3), default=DEFAULT_CURRENCY)
    #: No new registrations from then on; None means until the start.
    registration_closes_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class TicketOption(db.Model):  # type: ignore[name-defined]
    """One way to come to a gathering and what it costs (free, fixed, sliding, at the door)."""

    __tablename__ = "ticket_options"
    __table_args__ = (
        check_in("kind", OptionKind),
        sa.CheckConstraint(
            "price_minor >= 0 AND min_minor >= 0 AND min_minor <= suggested_minor "
            "AND suggested_minor <= max_minor",
            name="prices_valid",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    gathering_id: Mapped[int] = mapped_column(_gathering_fk(), index=True)
    name: Mapped[str] = mapped_column(sa.String(100))
    kind: Mapped[str] = mapped_column(sa.String(10))
    #: Price of a fixed or pay-at-the-door option.
    price_minor: Mapped[int] = mapped_column(sa.Integer, default=0)
    min_minor: Mapped[int] = mapped_column(sa.Integer, default=0)
    suggested_minor: Mapped[int] = mapped_column(sa.Integer, default=0)
    max_minor: Mapped[int] = mapped_column(sa.Integer, default=0)
    #: The organiser's sentence on how to choose (sliding scale, concession).
    guidance: Mapped[str] = mapped_column(sa.Text, default="")
    position: Mapped[int] = mapped_column(sa.Integer, default=0)
    is_active: Mapped[bool] = mapped_column(sa.Boolean, default=True)


class DiscountCode(db.Model):  # type: ignore[name-defined]
    """A discount or scholarship code of one gathering."""

    __tablename__ = "discount_codes"
    __table_args__ = (
        sa.UniqueConstraint("gathering_id", "code", name="uq_discount_codes_gathering_code"),
        check_in("kind", DiscountKind),
        sa.CheckConstraint("value > 0 AND (kind <> 'percent' OR value <= 100)", name="value_valid"),
        sa.CheckConstraint("max_uses IS NULL OR max_uses > 0", name="max_uses_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    gathering_id: Mapped[int] = mapped_column(_gathering_fk(), index=True)
    #: Stored upper-case; typed codes are upper-cased before lookup.
    code: Mapped[str] = mapped_column(sa.String(40))
    kind: Mapped[str] = mapped_column(sa.String(10))
    #: Minor units off (amount) or per cent off (percent).
    value: Mapped[int] = mapped_column(sa.Integer)
    #: None: unlimited. Uses are the registrations holding, offered or confirmed with it.
    max_uses: Mapped[int | None] = mapped_column(sa.Integer)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: Labels it as a scholarship in lists and exports.
    is_scholarship: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    is_active: Mapped[bool] = mapped_column(sa.Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class RegistrationQuestion(db.Model):  # type: ignore[name-defined]
    """A question on a gathering's registration form."""

    __tablename__ = "registration_questions"
    __table_args__ = (check_in("kind", QuestionKind),)

    id: Mapped[int] = mapped_column(primary_key=True)
    gathering_id: Mapped[int] = mapped_column(_gathering_fk(), index=True)
    position: Mapped[int] = mapped_column(sa.Integer, default=0)
    label: Mapped[str] = mapped_column(sa.Text)
    kind: Mapped[str] = mapped_column(sa.String(20))
    #: The options of a single or multiple choice question.
    choices: Mapped[list[Any]] = mapped_column(sa.JSON, default=list)
    required: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    #: Removed questions stay (switched off) so earlier answers keep their question.
    is_active: Mapped[bool] = mapped_column(sa.Boolean, default=True)


class PairingRole(db.Model):  # type: ignore[name-defined]
    """A role participants choose for themselves (e.g. Partner A group), optionally capped."""

    __tablename__ = "pairing_roles"
    __table_args__ = (
        sa.UniqueConstraint("gathering_id", "name", name="uq_pairing_roles_gathering_name"),
        sa.CheckConstraint("cap IS NULL OR cap >= 0", name="cap_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    gathering_id: Mapped[int] = mapped_column(_gathering_fk(), index=True)
    name: Mapped[str] = mapped_column(sa.String(60))
    #: Most seats people in this role may take; None: no cap.
    cap: Mapped[int | None] = mapped_column(sa.Integer)
    position: Mapped[int] = mapped_column(sa.Integer, default=0)


class Registration(db.Model):  # type: ignore[name-defined]
    """One person's registration for one gathering; its status is written by the services."""

    __tablename__ = "registrations"
    __table_args__ = (
        check_in("status", Status),
        sa.CheckConstraint(
            "amount_minor >= 0 AND amount_paid_minor >= 0 AND amount_refunded_minor >= 0 "
            "AND pay_at_door_due_minor >= 0 AND refund_owed_minor >= 0",
            name="amounts_not_negative",
        ),
        sa.CheckConstraint(
            "amount_refunded_minor <= amount_paid_minor", name="refunds_within_payments"
        ),
        sa.Index("ix_registrations_gathering_id_status", "gathering_id", "status"),
        # At most one live registration per person and gathering, on SQLite and PostgreSQL.
        sa.Index(
            "uq_registrations_live_per_person",
            "gathering_id",
            "user_id",
            unique=True,
            sqlite_where=sa.text(LIVE_SQL),
            postgresql_where=sa.text(LIVE_SQL),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    gathering_id: Mapped[int] = mapped_column(sa.ForeignKey("gatherings.id"))
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    ticket_option_id: Mapped[int] = mapped_column(sa.ForeignKey("ticket_options.id"))
    role_id: Mapped[int | None] = mapped_column(sa.ForeignKey("pairing_roles.id"))
    status: Mapped[str] = mapped_column(sa.String(20))
    #: What they owe after any code, in the minor unit of ``currency``.
    amount_minor: Mapped[int] = mapped_column(sa.Integer, default=0)
    currency: Mapped[str] = mapped_column(sa.String(3))
    discount_code_id: Mapped[int | None] = mapped_column(sa.ForeignKey("discount_codes.id"))
    hold_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    offer_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: Place in the waitlist: earlier first.
    waitlisted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: The facilitators' message with an approval or a decline, sent to the applicant.
    decision_message: Mapped[str] = mapped_column(sa.Text, default="")
    decided_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cancelled_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    cancel_reason: Mapped[str] = mapped_column(sa.Text, default="")
    #: Stripe PaymentIntent (pi_...) of the latest card payment attempt.
    payment_intent_id: Mapped[str | None] = mapped_column(sa.String(255))
    #: Cached sums of the payments ledger, kept by the one service that writes it.
    amount_paid_minor: Mapped[int] = mapped_column(sa.Integer, default=0)
    amount_refunded_minor: Mapped[int] = mapped_column(sa.Integer, default=0)
    #: What they will pay at the door.
    pay_at_door_due_minor: Mapped[int] = mapped_column(sa.Integer, default=0)
    #: What we decided to pay back; ``refund_owed - refunded`` is still to be sent.
    refund_owed_minor: Mapped[int] = mapped_column(sa.Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    #: Bumped on every write; a write from a stale copy fails instead of losing a change.
    version: Mapped[int] = mapped_column(sa.Integer, default=1)

    __mapper_args__ = {"version_id_col": version}

    user: Mapped[User] = relationship(foreign_keys=[user_id])
    gathering: Mapped[Gathering] = relationship()
    ticket_option: Mapped[TicketOption] = relationship()
    role: Mapped[PairingRole | None] = relationship()
    discount_code: Mapped[DiscountCode | None] = relationship()
    answers: Mapped[list[RegistrationAnswer]] = relationship(
        back_populates="registration", cascade="all, delete-orphan"
    )

    @property
    def refund_outstanding_minor(self) -> int:
        """Return what we decided to pay back and have not sent yet."""
        return max(self.refund_owed_minor - self.amount_refunded_minor, 0)

    def __repr__(self) -> str:
        return f"<Registration {self.id} {self.status}>"


class RegistrationAnswer(db.Model):  # type: ignore[name-defined]
    """A participant's answer to one question; JSON list text for multiple choice."""

    __tablename__ = "registration_answers"
    __table_args__ = (
        sa.UniqueConstraint(
            "registration_id", "question_id", name="uq_registration_answers_question"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    registration_id: Mapped[int] = mapped_column(
        sa.ForeignKey("registrations.id", ondelete="CASCADE"), index=True
    )
    question_id: Mapped[int] = mapped_column(sa.ForeignKey("registration_questions.id"))
    #: Encrypted at rest: screening answers often speak of health, history or fears.
    value: Mapped[str] = mapped_column(EncryptedText)

    registration: Mapped[Registration] = relationship(back_populates="answers")
    question: Mapped[RegistrationQuestion] = relationship()


class Payment(db.Model):  # type: ignore[name-defined]
    """An append-only ledger row: money received for, or paid back on, a registration."""

    __tablename__ = "payments"
    __table_args__ = (
        check_in("kind", PaymentKind),
        check_in("provider", PaymentProvider),
        sa.CheckConstraint("amount_minor > 0", name="amount_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    registration_id: Mapped[int] = mapped_column(sa.ForeignKey("registrations.id"), index=True)
    kind: Mapped[str] = mapped_column(sa.String(10))
    provider: Mapped[str] = mapped_column(sa.String(10))
    #: Stripe PaymentIntent (pi_...) or refund (re_...) id; a retried call cannot add it twice.
    provider_ref: Mapped[str | None] = mapped_column(sa.String(255), unique=True)
    amount_minor: Mapped[int] = mapped_column(sa.Integer)
    currency: Mapped[str] = mapped_column(sa.String(3))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    #: Who recorded a door or manual payment.
    recorded_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    note: Mapped[str] = mapped_column(sa.Text, default="")


class StripeEvent(db.Model):  # type: ignore[name-defined]
    """A webhook event from Stripe, stored once by its id so a replay changes nothing."""

    __tablename__ = "stripe_events"

    #: Stripe's event id (evt_...).
    id: Mapped[str] = mapped_column(sa.String(255), primary_key=True)
    type: Mapped[str] = mapped_column(sa.String(100))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
    processed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: What handling it did, for the operator: ``confirmed 12``, ``refund 12``, ``ignored``.
    outcome: Mapped[str] = mapped_column(sa.Text, default="")

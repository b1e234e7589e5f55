"""Exercises (templates of timed phases) and their live runs, rounds and pairings."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from facilitation.accounts.models import User
from facilitation.core.db import UTCDateTime, check_in
from facilitation.exercises.engine.pairing_types import Grouping, OddPolicy, RestReason
from facilitation.exercises.engine.rounds import ActiveRole, RunStatus
from facilitation.extensions import db


class Exercise(db.Model):  # type: ignore[name-defined]
    """A template of ordered, timed phases done in pairs or trios for some rounds."""

    __tablename__ = "exercises"
    __table_args__ = (
        check_in("grouping", Grouping),
        sa.CheckConstraint("rounds >= 1 AND rounds <= 100", name="rounds_range"),
        sa.CheckConstraint("contact >= 0 AND contact <= 2", name="contact_range"),
        sa.CheckConstraint("eye_contact >= 0 AND eye_contact <= 2", name="eye_contact_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(sa.String(120))
    description: Mapped[str] = mapped_column(sa.Text, default="")
    grouping: Mapped[str] = mapped_column(sa.String(10), default=Grouping.PAIRS)
    #: Touch it involves: 0 none, 1 hands, 2 hugs (engine ``Contact``).
    contact: Mapped[int] = mapped_column(sa.SmallInteger, default=0)
    #: Eye contact it asks for: 0 none, 1 soft, 2 full (engine ``EyeContact``).
    eye_contact: Mapped[int] = mapped_column(sa.SmallInteger, default=0)
    rounds: Mapped[int] = mapped_column(sa.Integer, default=1)
    #: Set for the built-in exercises, which are kept in step with the code.
    builtin_key: Mapped[str | None] = mapped_column(sa.String(40), unique=True)
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    phases: Mapped[list[ExercisePhase]] = relationship(
        order_by="ExercisePhase.position", cascade="all, delete-orphan"
    )


class ExercisePhase(db.Model):  # type: ignore[name-defined]
    """One timed step of an exercise."""

    __tablename__ = "exercise_phases"
    __table_args__ = (
        sa.UniqueConstraint("exercise_id", "position", name="uq_exercise_phases_position"),
        check_in("active", ActiveRole),
        sa.CheckConstraint("duration_s >= 5 AND duration_s <= 7200", name="duration_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    exercise_id: Mapped[int] = mapped_column(sa.ForeignKey("exercises.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(sa.Integer)
    name: Mapped[str] = mapped_column(sa.String(80))
    duration_s: Mapped[int] = mapped_column(sa.Integer)
    instruction: Mapped[str] = mapped_column(sa.Text, default="")
    #: Who is active: everyone, partner A or partner B.
    active: Mapped[str] = mapped_column(sa.String(10), default=ActiveRole.EVERYONE)


class Run(db.Model):  # type: ignore[name-defined]
    """One live run of an exercise in a gathering; its state columns mirror ``RunState``."""

    __tablename__ = "runs"
    __table_args__ = (
        check_in("status", RunStatus),
        check_in("odd_policy", OddPolicy),
        check_in("grouping", Grouping),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    gathering_id: Mapped[int] = mapped_column(sa.ForeignKey("gatherings.id"), index=True)
    exercise_id: Mapped[int | None] = mapped_column(sa.ForeignKey("exercises.id"))
    title: Mapped[str] = mapped_column(sa.String(120))
    #: The phases and rounds frozen at creation (JSON), so editing the exercise later
    #: cannot change a run in progress.
    plan_json: Mapped[str] = mapped_column(sa.Text)
    grouping: Mapped[str] = mapped_column(sa.String(10))
    contact: Mapped[int] = mapped_column(sa.SmallInteger)
    eye_contact: Mapped[int] = mapped_column(sa.SmallInteger)
    odd_policy: Mapped[str] = mapped_column(sa.String(12), default=OddPolicy.REST)
    #: Pairing seed: with the round number it reproduces every pairing of this run.
    seed: Mapped[int] = mapped_column(sa.BigInteger)
    #: Also avoid partners from earlier runs of the same gathering.
    avoid_repeats_across_runs: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    #: Lets a projector watch without a log-in; read-only.
    projector_token: Mapped[str] = mapped_column(sa.String(64), unique=True)
    #: Short code typed on phones to find the run.
    join_code: Mapped[str] = mapped_column(sa.String(12), unique=True)
    #: The facilitator who steps in under the "facilitator" odd policy.
    stand_in_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    status: Mapped[str] = mapped_column(sa.String(20), default=RunStatus.NOT_STARTED)
    round_index: Mapped[int] = mapped_column(sa.Integer, default=0)
    phase_index: Mapped[int] = mapped_column(sa.Integer, default=0)
    phase_deadline: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    remaining_when_paused: Mapped[float | None] = mapped_column(sa.Float)
    #: Grows with every change; clients drop older snapshots, commands record it.
    version: Mapped[int] = mapped_column(sa.Integer, default=0)
    created_by_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    participants: Mapped[list[RunParticipant]] = relationship(
        back_populates="run", order_by="RunParticipant.id"
    )


class RunParticipant(db.Model):  # type: ignore[name-defined]
    """A person present in a run (joined from a phone or added by a facilitator)."""

    __tablename__ = "run_participants"
    __table_args__ = (sa.UniqueConstraint("run_id", "user_id", name="uq_run_participants_person"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(sa.ForeignKey("runs.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    joined_at: Mapped[datetime] = mapped_column(UTCDateTime)
    #: Set while they are gone; cleared when they join again.
    left_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: Resting by their own choice until they come back; nobody is told why.
    sitting_out: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    added_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))

    run: Mapped[Run] = relationship(back_populates="participants")
    user: Mapped[User] = relationship(foreign_keys=[user_id])


class RunRound(db.Model):  # type: ignore[name-defined]
    """The pairing of one round; a re-pair adds a newer attempt for the same round."""

    __tablename__ = "run_rounds"
    __table_args__ = (
        sa.UniqueConstraint("run_id", "round_index", "attempt", name="uq_run_rounds_attempt"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(sa.ForeignKey("runs.id", ondelete="CASCADE"), index=True)
    round_index: Mapped[int] = mapped_column(sa.Integer)
    attempt: Mapped[int] = mapped_column(sa.Integer, default=0)
    #: The engine's round number for this attempt (seeded randomness depends on it).
    engine_round: Mapped[int] = mapped_column(sa.Integer)
    method: Mapped[str] = mapped_column(sa.String(20))
    repeats: Mapped[int] = mapped_column(sa.Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    members: Mapped[list[RunGroupMember]] = relationship(
        order_by="(RunGroupMember.spot, RunGroupMember.role)", cascade="all, delete-orphan"
    )
    rests: Mapped[list[RunRest]] = relationship(cascade="all, delete-orphan")


class RunGroupMember(db.Model):  # type: ignore[name-defined]
    """One person at one spot in a round, with their role (A, B or C)."""

    __tablename__ = "run_group_members"
    __table_args__ = (
        sa.UniqueConstraint("round_id", "user_id", name="uq_run_group_members_person"),
        check_in("role", ["A", "B", "C"]),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(sa.ForeignKey("run_rounds.id", ondelete="CASCADE"))
    spot: Mapped[int] = mapped_column(sa.Integer)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    role: Mapped[str] = mapped_column(sa.String(1))


class RunRest(db.Model):  # type: ignore[name-defined]
    """Someone not in a group in a round, and why (facilitators only)."""

    __tablename__ = "run_rests"
    __table_args__ = (
        sa.UniqueConstraint("round_id", "user_id", name="uq_run_rests_person"),
        check_in("reason", RestReason),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(sa.ForeignKey("run_rounds.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    reason: Mapped[str] = mapped_column(sa.String(40))


class SupportSignal(db.Model):  # type: ignore[name-defined]
    """A silent "I need support" from a participant, until a facilitator acknowledges it."""

    __tablename__ = "support_signals"

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(sa.ForeignKey("runs.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    raised_at: Mapped[datetime] = mapped_column(UTCDateTime)
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    acknowledged_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))

    user: Mapped[User] = relationship(foreign_keys=[user_id])


class RunCommand(db.Model):  # type: ignore[name-defined]
    """A facilitator command applied once, so a retried command is not applied twice."""

    __tablename__ = "run_commands"
    __table_args__ = (sa.UniqueConstraint("run_id", "command_id", name="uq_run_commands_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(sa.ForeignKey("runs.id", ondelete="CASCADE"))
    command_id: Mapped[str] = mapped_column(sa.String(64))
    action: Mapped[str] = mapped_column(sa.String(20))
    actor_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    #: The run's version after the command, returned again to a retry.
    result_version: Mapped[int] = mapped_column(sa.Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

"""Who may do what in a gathering: the one place these questions are answered.

Services call these functions to enforce; views, templates and socket handlers ask them and
never re-derive a rule. Every answer is a fresh look at the account (its role now, whether it
is active or banned) and at the gathering (its facilitators now), so a demotion, a removal from
the facilitators or a ban takes effect on the next question.

Actions:

- ``manage``: change registrations, ticket options, questions and requirements;
- ``facilitate``: run live exercises and open the console;
- ``work_desk``: check people in at the door;
- ``read_private``: read one person's private notes (health note, emergency contact, boundary
  note, do-not-pair) -- only of someone the gathering admits;
- ``join_run``: be present in one of the gathering's live runs.

Who the gathering *admits*: a registration that is confirmed, or approved and not yet paid
(offered or held after the facilitators' decision); never one that is applied, waitlisted,
declined, cancelled or expired; or a standing check-in at the door. Once the door checks
people in, its runs admit only those checked in.
"""

from __future__ import annotations

import enum
from typing import Any

import sqlalchemy as sa

from facilitation.accounts.models import Role, User
from facilitation.attendance.models import CheckIn
from facilitation.consent.models import Ban
from facilitation.exercises.models import Run, RunParticipant
from facilitation.extensions import db
from facilitation.gatherings.models import Gathering, Series, gathering_facilitators
from facilitation.registration.models import Registration
from facilitation.registration.states import Status


class Action(enum.StrEnum):
    """What someone may ask to do in a gathering."""

    MANAGE = "manage"
    FACILITATE = "facilitate"
    WORK_DESK = "work_desk"
    READ_PRIVATE = "read_private"
    JOIN_RUN = "join_run"


class Refusal(enum.StrEnum):
    """Why someone may not join a run (the console is told; the phone gets a neutral code)."""

    NOT_LOGGED_IN = "not_logged_in"
    BANNED = "banned"
    NOT_REGISTERED = "not_registered"
    NOT_CHECKED_IN = "not_checked_in"


#: What the console shows for each refusal.
REFUSAL_LABELS = {
    Refusal.NOT_LOGGED_IN: "not logged in",
    Refusal.BANNED: "may not take part",
    Refusal.NOT_REGISTERED: "not registered for this gathering",
    Refusal.NOT_CHECKED_IN: "registered but not checked in at the door",
}


def _is_person(user: Any) -> bool:
    """Return whether ``user`` is a logged-in, active account (not anonymous, not deactivated)."""
    return (
        user is not None
        and getattr(user, "is_authenticated", False)
        and bool(getattr(user, "is_active", False))
        and getattr(user, "id", None) is not None
    )


def is_banned(user: Any) -> bool:
    """Return whether this account, or its email address, is banned now."""
    if user is None or getattr(user, "id", None) is None:
        return False
    condition = Ban.user_id == user.id
    if getattr(user, "email", None):
        condition = sa.or_(condition, Ban.email == user.email)
    found = sa.select(Ban.id).where(condition, Ban.lifted_at.is_(None))
    return db.session.scalar(sa.select(found.exists())) is True


def _names_as_facilitator(gathering: Gathering, user_id: int) -> bool:
    return any(f.id == user_id for f in gathering.facilitators)


def may_facilitate(user: Any, gathering: Gathering) -> bool:
    """Return whether ``user`` may run this gathering's live exercises and open its console.

    Organisers may, and those who hold the facilitator role *and* are named among its
    facilitators; a facilitator demoted to another role, or taken off the gathering, may not.
    """
    if not _is_person(user):
        return False
    named = user.has_role(Role.FACILITATOR) and _names_as_facilitator(gathering, user.id)
    # The role first: most who ask are participants, and they need no look at the bans.
    return bool(user.has_role(Role.ORGANISER) or named) and not is_banned(user)


def may_facilitate_series(user: Any, series: Series) -> bool:
    """Return whether ``user`` facilitates a whole series (organisers, its named facilitators)."""
    if not _is_person(user):
        return False
    named = user.has_role(Role.FACILITATOR) and any(f.id == user.id for f in series.facilitators)
    return bool(user.has_role(Role.ORGANISER) or named) and not is_banned(user)


def may_manage(user: Any, gathering: Gathering) -> bool:
    """Return whether ``user`` may manage this gathering's registrations and requirements."""
    return may_facilitate(user, gathering)


def may_work_desk(user: Any, gathering: Gathering) -> bool:
    """Return whether ``user`` may work this gathering's check-in desk (door role or managers)."""
    if _is_person(user) and user.role == Role.DOOR:
        return not is_banned(user)
    return may_manage(user, gathering)


def _admitted_registration(gathering_id: int) -> Any:
    """Return the condition on ``Registration`` of a registration the gathering admits."""
    # No literal list in ``in_()``: run from the statement cache it leaves a reference cycle
    # behind per call (tests/exercises/test_no_reference_cycles.py); every phone connect asks.
    approved = sa.and_(
        sa.or_(Registration.status == Status.OFFERED, Registration.status == Status.HELD),
        Registration.decided_at.is_not(None),
    )
    return sa.and_(
        Registration.gathering_id == gathering_id,
        sa.or_(Registration.status == Status.CONFIRMED, approved),
    )


def uses_check_in(gathering_id: int) -> bool:
    """Return whether the door has checked anyone in at this gathering (undone or not)."""
    any_row = sa.select(CheckIn.id).where(CheckIn.gathering_id == gathering_id)
    return db.session.scalar(sa.select(any_row.exists())) is True


def _checked_in(gathering_id: int) -> Any:
    return sa.select(CheckIn.user_id).where(
        CheckIn.gathering_id == gathering_id, CheckIn.undone_at.is_(None)
    )


def _takes_part(gathering_id: int) -> Any:
    """Return the condition on ``User.id`` of the gathering's people.

    Admitted by their registration, or checked in at the door (a person checked in whose
    registration is cancelled later still took part).
    """
    registered = sa.select(Registration.user_id).where(_admitted_registration(gathering_id))
    return sa.or_(User.id.in_(registered), User.id.in_(_checked_in(gathering_id)))


def takes_part(user_id: int, gathering: Gathering) -> bool:
    """Return whether a person is one of the gathering's people (registered or checked in)."""
    found = sa.select(User.id).where(User.id == user_id, _takes_part(gathering.id))
    return db.session.scalar(sa.select(found.exists())) is True


def _admitted(gathering_id: int) -> Any:
    """Return the condition on ``User.id`` of those the gathering admits to its runs now."""
    condition = _takes_part(gathering_id)
    if uses_check_in(gathering_id):
        condition = User.id.in_(_checked_in(gathering_id))
    return condition


def admitted_people(gathering: Gathering, *, limit: int = 1000) -> list[User]:
    """Return the people the gathering admits to its runs now, by name."""
    stmt = sa.select(User).where(_admitted(gathering.id), User.is_active_account.is_(True))
    return list(db.session.scalars(stmt.order_by(User.name, User.id).limit(limit)))


def admission_refusal(user: Any, gathering: Gathering) -> Refusal | None:
    """Return why the gathering does not admit ``user`` now, or None when it does."""
    if not _is_person(user):
        return Refusal.NOT_LOGGED_IN
    if is_banned(user):
        return Refusal.BANNED
    if not takes_part(user.id, gathering):
        return Refusal.NOT_REGISTERED
    if uses_check_in(gathering.id):
        here = _checked_in(gathering.id).where(CheckIn.user_id == user.id)
        if not db.session.scalar(sa.select(here.exists())):
            return Refusal.NOT_CHECKED_IN
    return None


def is_admitted(user: Any, gathering: Gathering) -> bool:
    """Return whether the gathering admits ``user`` (see the module's docstring)."""
    return admission_refusal(user, gathering) is None


def join_refusal(user: Any, run: Run, gathering: Gathering) -> Refusal | None:
    """Return why ``user`` may not be present in ``run``, or None when they may.

    Those the gathering admits may join, and so may its facilitators (who may step in), and
    anyone a facilitator added to this run by hand.
    """
    refusal = admission_refusal(user, gathering)
    if refusal is None or refusal in (Refusal.NOT_LOGGED_IN, Refusal.BANNED):
        return refusal
    if may_facilitate(user, gathering):
        return None
    added = sa.select(RunParticipant.id).where(
        RunParticipant.run_id == run.id,
        RunParticipant.user_id == user.id,
        RunParticipant.added_by_id.is_not(None),
    )
    if db.session.scalar(sa.select(added.exists())):
        return None
    return refusal


def may_join_run(user: Any, run: Run, gathering: Gathering) -> bool:
    """Return whether ``user`` may be present in this run of ``gathering``."""
    return join_refusal(user, run, gathering) is None


def may_read_private(viewer: Any, subject_id: int, gathering: Gathering) -> bool:
    """Return whether ``viewer`` may read a person's private notes for this gathering.

    Only its facilitators (and organisers), and only of someone registered for it: being put
    into one of its runs gives no one access to a person's notes.
    """
    return may_facilitate(viewer, gathering) and takes_part(subject_id, gathering)


def may(user: Any, action: Action | str, gathering: Gathering, **about: Any) -> bool:
    """Return whether ``user`` may do ``action`` in ``gathering`` (``subject_id=``, ``run=``)."""
    match Action(action):
        case Action.MANAGE:
            return may_manage(user, gathering)
        case Action.FACILITATE:
            return may_facilitate(user, gathering)
        case Action.WORK_DESK:
            return may_work_desk(user, gathering)
        case Action.READ_PRIVATE:
            return may_read_private(user, int(about["subject_id"]), gathering)
        case Action.JOIN_RUN:
            return may_join_run(user, about["run"], gathering)
    raise ValueError(action)  # pragma: no cover


# Built once: every live connection asks this. A statement built per call with a literal list in
# ``in_()`` leaves a reference cycle behind each time it runs from SQLAlchemy's cache (the copy
# of the list's parameter remembers itself), which only the collector's rare full passes free;
# a prebuilt statement with an expanding parameter leaves none (docs/benchmarks.md, session 6).
_EMAILS_OF = sa.select(User.email, User.id).where(
    User.id.in_(sa.bindparam("user_ids", expanding=True))
)
_BANS_OF = sa.select(Ban.user_id, Ban.email).where(
    Ban.lifted_at.is_(None),
    sa.or_(
        Ban.user_id.in_(sa.bindparam("user_ids", expanding=True)),
        Ban.email.in_(sa.bindparam("emails", expanding=True)),
    ),
)


def banned_user_ids(user_ids: list[int]) -> set[int]:
    """Return which of these accounts are banned (by account or by email)."""
    if not user_ids:
        return set()
    ids = list(user_ids)
    emails = dict(db.session.execute(_EMAILS_OF, {"user_ids": ids}).all())
    rows = db.session.execute(_BANS_OF, {"user_ids": ids, "emails": list(emails)}).all()
    wanted = set(ids)
    found = {uid for uid, _ in rows if uid in wanted}
    found |= {emails[email] for _, email in rows if email in emails}
    return found


def facilitator_ids(gathering: Gathering) -> set[int]:
    """Return every account that may facilitate this gathering now (for private broadcasts)."""
    named = sa.select(gathering_facilitators.c.user_id).where(
        gathering_facilitators.c.gathering_id == gathering.id
    )
    rows = db.session.execute(
        sa.select(User.id, User.email).where(
            User.is_active_account.is_(True),
            sa.or_(
                User.role == Role.ORGANISER,
                sa.and_(User.role == Role.FACILITATOR, User.id.in_(named)),
            ),
        )
    ).all()
    ids = {r.id for r in rows}
    return ids - banned_user_ids(list(ids))

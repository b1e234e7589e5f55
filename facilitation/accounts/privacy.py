"""My data: export everything held about a person, erase an account, purge expired signatures.

Both export and erasure walk the schema rather than a hand-kept list of tables, so a new
table that points at ``users.id`` is exported at once, and erasure refuses to run until
someone has decided (in ``ERASURE``) what happens to it.
"""

from __future__ import annotations

import base64
import enum
import logging
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from flask import current_app

from facilitation.accounts import attempts
from facilitation.accounts.models import Role, User
from facilitation.accounts.passwords import verify_password
from facilitation.accounts.services import _hasher, end_sessions
from facilitation.consent import seals
from facilitation.consent.models import DoNotPairRequest, Signature
from facilitation.core.clock import utcnow
from facilitation.core.errors import DomainError
from facilitation.extensions import db

logger = logging.getLogger(__name__)

CONFIRM_WORD = "ERASE"
#: Password checks on the erasure page per account; config ``RATELIMIT_ERASE_PER_ACCOUNT``.
ERASE_PER_ACCOUNT = "5 per 15 minutes;20 per day"
#: Not a valid argon2 hash, so no password can ever match it.
UNUSABLE_PASSWORD = "!erased"

#: Columns that name a person by email address rather than by account.
EMAIL_COLUMNS = {"outbox_messages": "to_email", "bans": "email", "signatures": "signer_email"}

#: What a desk worker's export shows of a check-in they made or undid (the same for both, so
#: a check-in they made and undid is one row): not whose it was.
_DESK_WORK = ("id", "gathering_id", "checked_in_at", "method", "undone_at")
#: Columns where a match means the person acted on someone else's row as staff; such rows
#: are exported with only these columns, so the other person's details stay out.
ACTOR_COLUMNS: dict[tuple[str, str], tuple[str, ...]] = {
    ("sensitive_access_logs", "viewer_id"): ("field", "viewed_at", "gathering_id"),
    ("bans", "created_by_id"): ("id", "created_at", "lifted_at"),
    ("support_signals", "acknowledged_by_id"): ("id", "run_id", "acknowledged_at"),
    ("run_participants", "added_by_id"): ("id", "run_id", "joined_at"),
    ("registrations", "decided_by_id"): ("id", "gathering_id", "status", "decided_at"),
    ("registrations", "cancelled_by_id"): ("id", "gathering_id", "cancelled_at"),
    ("payments", "recorded_by_id"): ("id", "registration_id", "kind", "created_at"),
    ("check_ins", "by_id"): _DESK_WORK,
    ("check_ins", "undone_by_id"): _DESK_WORK,
    ("walk_ins", "registered_by_id"): ("id", "gathering_id", "created_at"),
}
#: Columns where a match alone never puts a row in the export.
NOT_EXPORTED = {("incident_reports", "subject_user_id"), ("incident_reports", "routed_to_id")}
#: Columns left out of every exported row.
REDACTED = {
    ("users", "password_hash"),
    ("bans", "reason"),
    ("incident_reports", "private_notes"),
    ("api_tokens", "token_hash"),
}

WITHHELD = [
    "Do-not-pair requests other people may have made about you are not included: whoever "
    "asks is promised that the other person is never told.",
    "Incident reports other people made about you are not included, to protect whoever "
    "raised the concern.",
    "Organisers' private triage notes on reports you made are not included; they may "
    "concern other people.",
    "The reason recorded for a ban is not included.",
    "Where you read someone's private notes as a facilitator or organiser, only which "
    "field, when and in which gathering is included, not whose notes they were.",
    "On records you handled for someone else (bans you made, support signals you "
    "acknowledged, people you added to an exercise, checked in or registered at the door), "
    "the other person's details are left out.",
    "Your password is not included: it is stored only as a one-way hash.",
]

KEEP, DELETE, NULL = "keep", "delete", "null"
REGISTRATIONS = "registrations"

#: What erasure does with every column that points at ``users.id``. ``keep`` leaves the
#: reference, which names nobody once the account row is anonymised; ``null`` cuts it;
#: ``delete`` removes the row. A test fails when a column is missing here.
ERASURE: dict[str, dict[str, str]] = {
    "agreements": {"created_by_id": KEEP},
    "agreement_versions": {"created_by_id": KEEP},
    "bans": {"user_id": KEEP, "created_by_id": KEEP},
    "exercises": {"created_by_id": KEEP},
    "series": {"created_by_id": KEEP},
    "gatherings": {"created_by_id": KEEP},
    "series_facilitators": {"user_id": DELETE},
    "gathering_facilitators": {"user_id": DELETE},
    "boundary_profiles": {"user_id": DELETE},
    "sensitive_notes": {"user_id": DELETE},
    "do_not_pair_requests": {"requester_id": DELETE},
    "sensitive_access_logs": {"subject_user_id": DELETE, "viewer_id": KEEP},
    "incident_reports": {"reporter_id": NULL, "subject_user_id": KEEP, "routed_to_id": KEEP},
    # An erased account can no longer be the safeguarding contact.
    "community_settings": {"safeguarding_contact_id": NULL},
    "default_agreement_removals": {"removed_by_id": KEEP},
    "signatures": {"user_id": NULL},
    "consent_withdrawals": {"user_id": NULL},
    "runs": {"stand_in_id": KEEP, "created_by_id": KEEP},
    "run_commands": {"actor_id": KEEP},
    "run_participants": {"user_id": DELETE, "added_by_id": KEEP},
    "run_group_members": {"user_id": KEEP},
    "run_rests": {"user_id": DELETE},
    "support_signals": {"user_id": DELETE, "acknowledged_by_id": KEEP},
    # Kept for the accounts (what was paid and refunded); answers and messages are wiped.
    "registrations": {"user_id": KEEP, "decided_by_id": KEEP, "cancelled_by_id": KEEP},
    "payments": {"recorded_by_id": KEEP},
    # Attendance is kept like the registrations it counts; the account row names nobody.
    "check_ins": {"user_id": KEEP, "by_id": KEEP, "undone_by_id": KEEP},
    "walk_ins": {"registered_by_id": KEEP},
    # Personal API tokens die with the account.
    "api_tokens": {"user_id": DELETE},
}


# --- the schema -------------------------------------------------------------------------


def user_columns(table: sa.Table) -> list[sa.Column[Any]]:
    """Return the columns of a table that point at ``users.id``."""
    return [
        column
        for column in table.columns
        if any(
            fk.column.table.name == User.__tablename__ and fk.column.name == "id"
            for fk in column.foreign_keys
        )
    ]


def registration_columns(table: sa.Table) -> list[sa.Column[Any]]:
    """Return the columns of a table that point at ``registrations.id``."""
    return [
        column
        for column in table.columns
        if any(
            fk.column.table.name == REGISTRATIONS and fk.column.name == "id"
            for fk in column.foreign_keys
        )
    ]


def person_tables() -> list[sa.Table]:
    """Return every table that can hold a row about a person: by account, email or registration.

    Rows that belong to one of the person's registrations (answers, tickets, payments) are
    theirs even though they do not name the account.
    """
    return [
        t
        for t in db.metadata.sorted_tables
        if user_columns(t) or t.name in EMAIL_COLUMNS or registration_columns(t)
    ]


def _mapped_classes() -> dict[str, Any]:
    return {
        m.local_table.name: m.class_
        for m in db.Model.registry.mappers
        if isinstance(m.local_table, sa.Table)
    }


def unplanned_columns() -> list[str]:
    """Return ``table.column`` for every user reference erasure has no decision for."""
    return [
        f"{t.name}.{c.name}"
        for t in db.metadata.sorted_tables
        for c in user_columns(t)
        if c.name not in ERASURE.get(t.name, {})
    ]


# --- export -----------------------------------------------------------------------------


def _json_value(value: Any) -> Any:
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, bytes | bytearray | memoryview):
        return base64.b64encode(bytes(value)).decode("ascii")
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, Decimal):
        return str(value)
    return value


def _rows(table: sa.Table, where: sa.ColumnElement[bool], cls: Any) -> list[dict[str, Any]]:
    """Load rows as {column name: value}, through the ORM when mapped (decrypting)."""
    order = list(table.primary_key.columns)
    if cls is None:
        result = db.session.execute(sa.select(table).where(where).order_by(*order))
        return [{c.name: row[c] for c in table.columns} for row in result.mappings()]
    mapper = sa.inspect(cls)
    keys = {c.name: mapper.get_property_by_column(c).key for c in table.columns}
    objects = db.session.scalars(sa.select(cls).where(where).order_by(*order))
    return [{name: getattr(obj, key) for name, key in keys.items()} for obj in objects]


def _table_rows(
    table: sa.Table, user: User, cls: Any, registration_ids: set[int]
) -> list[dict[str, Any]]:
    matched = [c.name for c in user_columns(table) if (table.name, c.name) not in NOT_EXPORTED]
    actor = [n for n in matched if (table.name, n) in ACTOR_COLUMNS]
    own = [n for n in matched if n not in actor]
    conditions = [table.c[n] == user.id for n in matched]
    email_column = EMAIL_COLUMNS.get(table.name)
    if email_column:
        conditions.append(sa.func.lower(table.c[email_column]) == user.email.lower())
    through = [c.name for c in registration_columns(table)] if registration_ids else []
    conditions += [table.c[n].in_(sorted(registration_ids)) for n in through]
    if not conditions:
        return []
    exported = []
    for row in _rows(table, sa.or_(*conditions), cls):
        is_own = (
            any(row[n] == user.id for n in own)
            or (email_column is not None and str(row[email_column]).lower() == user.email.lower())
            or any(row[n] in registration_ids for n in through)
        )
        if is_own:
            names = [c.name for c in table.columns if (table.name, c.name) not in REDACTED]
        else:
            acted = [n for n in actor if row[n] == user.id]
            names = sorted({k for n in acted for k in ACTOR_COLUMNS[(table.name, n)]})
        exported.append({name: _json_value(row[name]) for name in names})
    return exported


def export_person(user: User, *, now: datetime | None = None) -> dict[str, Any]:
    """Return everything held about a person, as JSON-ready data."""
    classes = _mapped_classes()
    users = User.__table__
    person = {
        c.name: _json_value(getattr(user, c.name))
        for c in users.columns
        if (users.name, c.name) not in REDACTED
    }
    registrations = db.metadata.tables[REGISTRATIONS]
    registration_ids = set(
        db.session.scalars(sa.select(registrations.c.id).where(registrations.c.user_id == user.id))
    )
    tables = {
        t.name: _table_rows(t, user, classes.get(t.name), registration_ids) for t in person_tables()
    }
    _name_the_questions(tables.get("registration_answers", []))
    logger.info("data export made for account %s", user.id)
    return {
        "exported_at": _json_value(now or utcnow()),
        "person": person,
        "tables": tables,
        "withheld": list(WITHHELD),
    }


def _name_the_questions(answers: list[dict[str, Any]]) -> None:
    """Put each question's wording beside the answer, which alone holds only its id."""
    questions = db.metadata.tables["registration_questions"]
    ids = {a["question_id"] for a in answers}
    if not ids:
        return
    rows = db.session.execute(sa.select(questions).where(questions.c.id.in_(sorted(ids))))
    wording = {row.id: row.label for row in rows}
    for answer in answers:
        answer["question"] = wording.get(answer["question_id"])


# --- erasure ----------------------------------------------------------------------------


def retention_days() -> int:
    """Return how long signatures of erased accounts are kept, in days."""
    return int(current_app.config.get("SIGNATURE_RETENTION_DAYS", 2555))


def retention_text(days: int) -> str:
    """Say a retention period the way people say it: "7 years", "90 days"."""
    if days >= 365 and days % 365 == 0:
        years = days // 365
        return f"{years} year{'s' if years != 1 else ''}"
    return f"{days} day{'s' if days != 1 else ''}"


def erased_email(user: User) -> str:
    """Return the address an erased account is left with."""
    return f"erased-{user.id}@erased.invalid"


def count_erase_check(user: User, *, now: datetime) -> attempts.Attempt:
    """Count an erasure's password check before it is made; refuse one over the limit.

    The caller commits the count before :func:`check_erase_request`. Someone at an unlocked,
    logged-in browser could otherwise guess the password here without the log-in's limit.
    """
    spec = str(current_app.config.get("RATELIMIT_ERASE_PER_ACCOUNT") or ERASE_PER_ACCOUNT)
    message = "There have been too many attempts. Wait a while, then try again."
    return attempts.count("erase", str(user.id), spec, now=now, message=message)


def check_erase_request(
    user: User, password: str, confirmation: str, *, attempt: attempts.Attempt
) -> None:
    """Fail unless the person re-entered their password and typed the confirmation word.

    ``attempt`` is the count :func:`count_erase_check` made first.
    """
    if not verify_password(_hasher(), user.password_hash, password):
        raise DomainError("wrong_password", "That is not your password.", "password")
    if confirmation.strip() != CONFIRM_WORD:
        raise DomainError(
            "not_confirmed", f"Type {CONFIRM_WORD} in capital letters to confirm.", "confirm"
        )


def _require_another_organiser(user: User) -> None:
    if not user.is_organiser:
        return
    others = db.session.scalar(
        sa.select(sa.func.count(User.id)).where(
            User.id != user.id, User.role == Role.ORGANISER, User.is_active_account.is_(True)
        )
    )
    if not others:
        raise DomainError(
            "last_organiser",
            "You are the only organiser. Make someone else an organiser before erasing "
            "your account.",
        )


def _forget_as_subject(user: User) -> None:
    """Point do-not-pair requests that name the person at the erased address instead.

    The requests belong to whoever asked, so they stay, but no longer hold this address.
    ``subject_ref`` is encrypted, so the rows are read and compared in Python.
    """
    old, new = f"email:{user.email}", f"email:{erased_email(user)}"
    for request in db.session.scalars(sa.select(DoNotPairRequest)):
        if request.subject_ref == old:
            request.subject_ref = new


def _forget_registration_texts(user: User) -> None:
    """Wipe the person's answers and the messages on their registrations, which stay as records."""
    registrations = db.metadata.tables["registrations"]
    answers = db.metadata.tables["registration_answers"]
    theirs = sa.select(registrations.c.id).where(registrations.c.user_id == user.id)
    db.session.execute(sa.delete(answers).where(answers.c.registration_id.in_(theirs)))
    db.session.execute(
        sa.update(registrations)
        .where(registrations.c.user_id == user.id)
        .values(decision_message="", cancel_reason="")
    )


def erase_person(user: User, *, now: datetime) -> None:
    """Erase an account: remove personal data, keep only the retention set, flush."""
    missing = unplanned_columns()
    if missing:
        raise RuntimeError(f"erasure has no plan for {', '.join(missing)}")
    _require_another_organiser(user)
    intact = seals.intact_ids(user.id)  # re-sealed once user_id is cut below
    _forget_as_subject(user)
    _forget_registration_texts(user)
    outbox = db.metadata.tables["outbox_messages"]
    db.session.execute(
        sa.delete(outbox).where(sa.func.lower(outbox.c.to_email) == user.email.lower())
    )
    classes = _mapped_classes()
    for table in reversed(db.metadata.sorted_tables):
        target = classes.get(table.name, table)
        for column in user_columns(table):
            action = ERASURE[table.name][column.name]
            if action == DELETE:
                db.session.execute(sa.delete(target).where(column == user.id))
            elif action == NULL:
                db.session.execute(
                    sa.update(target).where(column == user.id).values({column.name: None})
                )
    db.session.expire_all()
    seals.reseal(intact)
    user.email = erased_email(user)
    user.name = "Erased person"
    user.display_name = "Erased"
    user.password_hash = UNUSABLE_PASSWORD
    user.is_active_account = False
    user.last_login_at = None
    end_sessions(user)
    logger.info("account %s erased at %s", user.id, now.isoformat())


def purge_expired_signatures(now: datetime, retention_days: int) -> int:
    """Delete signatures of erased accounts signed longer ago than the retention period."""
    cutoff = now - timedelta(days=retention_days)
    result = db.session.execute(
        sa.delete(Signature).where(Signature.user_id.is_(None), Signature.signed_at < cutoff)
    )
    db.session.flush()
    count = int(getattr(result, "rowcount", 0) or 0)
    logger.info("%s expired signatures of erased accounts purged", count)
    return count

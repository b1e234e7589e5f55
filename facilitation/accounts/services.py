"""Sign-up, log-in, password reset and roles; every door calls these."""

from __future__ import annotations

import hashlib
import logging
from datetime import datetime

import sqlalchemy as sa
from argon2 import PasswordHasher
from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from facilitation.accounts import attempts
from facilitation.accounts.models import Role, User
from facilitation.accounts.passwords import hash_password, hasher, password_problem, verify_password
from facilitation.core.errors import DomainError, NotFound
from facilitation.core.links import site_url_for
from facilitation.extensions import db
from facilitation.messaging import services as mail

logger = logging.getLogger(__name__)

RESET_SALT = "password-reset"
#: Password checks per account (the email typed); config ``RATELIMIT_LOG_IN_PER_ACCOUNT``.
LOG_IN_PER_ACCOUNT = "10 per 15 minutes;50 per day"


def _hasher() -> PasswordHasher:
    cfg = current_app.config
    return hasher(cfg["ARGON2_TIME_COST"], cfg["ARGON2_MEMORY_COST"])


def normalise_email(email: str) -> str:
    """Return the canonical form of an email address used for look-ups."""
    return email.strip().lower()


def find_by_email(email: str) -> User | None:
    """Return the account with this address, if any."""
    return db.session.scalar(sa.select(User).where(User.email == normalise_email(email)))


def default_display_name(name: str) -> str:
    """Return the first name, used in the room unless the person picks another."""
    return name.strip().split()[0][:60] if name.strip() else "Guest"


def sign_up(
    email: str,
    name: str,
    password: str,
    *,
    now: datetime,
    role: Role = Role.PARTICIPANT,
    display_name: str | None = None,
) -> User:
    """Create an account; fail if the address is taken or the password is weak."""
    email = normalise_email(email)
    name = " ".join(name.split())
    if not name:
        raise DomainError("name_required", "Tell us your name.", field="name")
    if find_by_email(email) is not None:
        raise DomainError(
            "email_taken",
            "An account with this email already exists. Log in, or reset your password.",
            field="email",
        )
    problem = password_problem(password, email, name)
    if problem:
        raise DomainError("weak_password", problem, field="password")
    user = User(
        email=email,
        name=name,
        display_name=(display_name or "").strip()[:60] or default_display_name(name),
        password_hash=hash_password(_hasher(), password),
        role=role.value,
        created_at=now,
    )
    db.session.add(user)
    db.session.flush()
    logger.info("account %s created with role %s", user.id, user.role)
    return user


LOG_IN_REFUSED = (
    "There have been too many log-in attempts for this account. Wait a while, then try again. "
    "If you have forgotten your password, you can ask for a reset link."
)


def count_log_in(email: str, *, now: datetime) -> attempts.Attempt:
    """Count a log-in before its password is checked; refuse one over the account's limit.

    Keyed by the email typed (known or not, so a refusal reveals no account). The caller
    commits the count before :func:`authenticate`, so it stands whatever the check says.
    """
    spec = str(current_app.config.get("RATELIMIT_LOG_IN_PER_ACCOUNT") or LOG_IN_PER_ACCOUNT)
    return attempts.count("log_in", normalise_email(email), spec, now=now, message=LOG_IN_REFUSED)


def authenticate(email: str, password: str, *, now: datetime, attempt: attempts.Attempt) -> User:
    """Return the account for these credentials or fail with one neutral message.

    ``attempt`` is the count :func:`count_log_in` made; a successful log-in gives it back.
    """
    user = find_by_email(email)
    ph = _hasher()
    if user is None:
        # Spend the same time as a real check so response time does not reveal accounts.
        verify_password(ph, _dummy_hash(ph), password)
        raise DomainError("bad_credentials", "That email and password do not match.")
    if not verify_password(ph, user.password_hash, password):
        raise DomainError("bad_credentials", "That email and password do not match.")
    if not user.is_active:
        raise DomainError("account_inactive", "This account is deactivated.")
    if ph.check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(ph, password)
    user.last_login_at = now
    attempts.give_back(attempt)
    return user


_DUMMY: dict[tuple[int, int], str] = {}


def _dummy_hash(ph: PasswordHasher) -> str:
    key = (ph.time_cost, ph.memory_cost)
    if key not in _DUMMY:
        _DUMMY[key] = ph.hash("not-a-real-password")
    return _DUMMY[key]


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=RESET_SALT)


def _password_fingerprint(user: User) -> str:
    # Binding the token to the current hash makes it single-use: a new password voids it.
    return hashlib.sha256(user.password_hash.encode()).hexdigest()[:16]


def make_reset_token(user: User) -> str:
    """Return a signed token that lets this person set a new password once."""
    return _serializer().dumps({"uid": user.id, "pw": _password_fingerprint(user)})


def request_password_reset(email: str) -> None:
    """Email a reset link if the address has an account; say nothing either way."""
    user = find_by_email(email)
    if user is None or not user.is_active:
        logger.info("password reset asked for an unknown address")
        return
    token = make_reset_token(user)
    link = site_url_for("accounts.reset_password", token=token)
    minutes = current_app.config["PASSWORD_RESET_MAX_AGE"] // 60
    mail.queue(
        user.email,
        "Reset your password",
        f"Hello {user.display_name},\n\nSomeone (hopefully you) asked to reset the password of "
        f"your account. Open this link within {minutes} minutes to choose a new one:\n\n"
        f"{link}\n\nIf it was not you, ignore this email; your password stays the same.\n",
        kind="password_reset",
    )
    logger.info("password reset sent to account %s", user.id)


def user_for_reset_token(token: str) -> User:
    """Return the account a reset token is for; fail if it is expired, forged or used."""
    try:
        data = _serializer().loads(token, max_age=current_app.config["PASSWORD_RESET_MAX_AGE"])
    except SignatureExpired:
        raise DomainError(
            "token_expired", "This reset link has expired. Ask for a new one below."
        ) from None
    except BadSignature:
        raise DomainError(
            "token_invalid", "This reset link is not valid. Ask for a new one below."
        ) from None
    user = db.session.get(User, data.get("uid")) if isinstance(data, dict) else None
    if user is None or data.get("pw") != _password_fingerprint(user):
        raise DomainError(
            "token_used", "This reset link has already been used. Ask for a new one below."
        )
    return user


def reset_password(token: str, new_password: str) -> User:
    """Set a new password using a reset token."""
    user = user_for_reset_token(token)
    problem = password_problem(new_password, user.email, user.name)
    if problem:
        raise DomainError("weak_password", problem, field="password")
    user.password_hash = hash_password(_hasher(), new_password)
    end_sessions(user)
    logger.info("password reset for account %s", user.id)
    return user


def end_sessions(user: User) -> None:
    """End every session of an account: cookies made before this no longer log anyone in.

    The caller closes the person's live sockets after the commit
    (``exercises.removal.disconnect_user``).
    """
    user.session_generation = (user.session_generation or 0) + 1
    db.session.flush()
    logger.info("every session of account %s ended", user.id)


def load_session_user(session_id: str) -> User | None:
    """Return the account a session's ``<id>.<generation>`` names, if that session still holds.

    A bare id (a cookie made before generations existed) counts as generation 0.
    """
    user_part, _, generation_part = session_id.partition(".")
    generation = generation_part or "0"
    if not (user_part.isdigit() and generation.isdigit()) or len(user_part) > 18:
        return None
    user = db.session.get(User, int(user_part))
    if user is None or (user.session_generation or 0) != int(generation):
        return None
    return user


def set_role(actor: User, user_id: int, role: str) -> User:
    """Change someone's role; only organisers may, and not their own."""
    if not actor.is_organiser:
        raise DomainError("forbidden", "Only organisers can change roles.")
    try:
        new_role = Role(role)
    except ValueError:
        raise DomainError(
            "unknown_role", "Choose participant, door, facilitator or organiser."
        ) from None
    user = db.session.get(User, user_id)
    if user is None:
        raise NotFound("user_not_found", "No such person.")
    if user.id == actor.id:
        raise DomainError("own_role", "Ask another organiser to change your own role.")
    if user.role != new_role.value:
        end_sessions(user)
    user.role = new_role.value
    logger.info("account %s role set to %s by %s", user.id, user.role, actor.id)
    return user


def update_profile(user: User, name: str, display_name: str) -> User:
    """Change a person's name and the name shown in the room."""
    name = " ".join(name.split())
    if not name:
        raise DomainError("name_required", "Tell us your name.", field="name")
    user.name = name[:120]
    user.display_name = display_name.strip()[:60] or default_display_name(name)
    return user

"""Forms and small readers of the check-in desk's posts."""

from __future__ import annotations

import uuid
from datetime import datetime

from flask import Request, abort

from facilitation.accounts.models import User
from facilitation.attendance import services
from facilitation.consent import services as consent
from facilitation.consent import signing
from facilitation.consent.forms import SignForm
from facilitation.consent.models import AgreementVersion, Signature
from facilitation.core import web
from facilitation.core.errors import DomainError
from facilitation.gatherings.models import Gathering
from facilitation.registration.models import Registration
from facilitation.registration.pricing import parse_money

#: Salt of the token that pins when the desk showed the text (not valid on the own page).
VIEWED_SALT = "desk-agreement-viewed"

#: The desk signs with the participant's own signing form.
DeskSignForm = SignForm


def new_request_id() -> str:
    """Return a fresh request id for a desk form (the page's script may replace it)."""
    return uuid.uuid4().hex


def amount(text: str | None, currency: str, field: str = "amount") -> int | None:
    """Read money typed at the desk; None when the field was left empty."""
    text = (text or "").strip()
    if not text:
        return None
    value = parse_money(text, currency, field)
    if value < 0:
        raise DomainError("bad_amount", "Give the amount as a number, like 12.50.", field)
    return value


def integer(text: str | None) -> int | None:
    """Read an id posted by the desk; None when it is missing or not a number."""
    try:
        return int(text or "")
    except ValueError:
        return None


def version_to_sign(gathering: Gathering, agreement_id: int) -> AgreementVersion:
    """Return the latest version of one of the gathering's required agreements, or 404."""
    required = {a.id: a for a in consent.required_agreements(gathering.id)}
    agreement = required.get(agreement_id)
    if agreement is None:
        abort(404)
    return consent.latest_version(agreement)


def prepare(form: DeskSignForm, version: AgreementVersion, now: datetime) -> None:
    """Fill the hidden fields that pin the exact text shown and when it was shown."""
    form.version_id.data = str(version.id)
    form.shown_sha256.data = version.sha256
    form.viewed_token.data = signing.viewed_token(version.id, now, VIEWED_SALT)


def sign_at_desk(
    actor: User,
    gathering: Gathering,
    registration: Registration,
    form: DeskSignForm,
    request: Request,
    now: datetime,
) -> Signature:
    """Record the person's signature made on the desk's device."""
    version_id = integer(form.version_id.data) or 0
    data = consent.SignInput(
        version_id=version_id,
        shown_sha256=form.shown_sha256.data or "",
        typed_name=form.typed_name.data or "",
        signature_png=signing.decode_signature(form.signature.data or ""),
        consented_electronic=bool(form.consent.data),
        viewed_at=signing.viewed_at(form.viewed_token.data or "", version_id, VIEWED_SALT),
        ip=request.remote_addr or "",
        user_agent=request.headers.get("User-Agent", "")[:400],
        name_confirmed=bool(form.name_confirmed.data),
    )
    return services.desk_sign(actor, gathering, registration.id, data, now=now)


def show_error(form: DeskSignForm, error: DomainError) -> None:
    """Put a signing error next to its field or at the top of the form."""
    web.show_error(form, error)

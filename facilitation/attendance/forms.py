"""Forms and small readers of the check-in desk's posts."""

from __future__ import annotations

import base64
import binascii
import uuid
from datetime import datetime

from flask import Request, abort, current_app
from flask_wtf import FlaskForm
from itsdangerous import BadSignature, URLSafeTimedSerializer
from wtforms import BooleanField, HiddenField, StringField
from wtforms.validators import DataRequired, Length

from facilitation.accounts.models import User
from facilitation.attendance import services
from facilitation.consent import services as consent
from facilitation.consent.models import AgreementVersion, Signature
from facilitation.core import web
from facilitation.core.errors import DomainError
from facilitation.gatherings.models import Gathering
from facilitation.registration.models import Registration
from facilitation.registration.pricing import parse_money

#: Longest drawn signature accepted, as a data URL.
MAX_DATA_URL = 300_000


class DeskSignForm(FlaskForm):
    """A person signs one agreement on the desk's device."""

    version_id = HiddenField()
    shown_sha256 = HiddenField()
    viewed_token = HiddenField()
    typed_name = StringField(
        "Type your full name", validators=[DataRequired("Type your full name."), Length(max=200)]
    )
    signature = HiddenField("Signature")
    name_confirmed = BooleanField("This is my name")
    consent = BooleanField(
        "I agree to sign this electronically, and that it binds me like a signature on paper"
    )


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


def _viewed_serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="desk-agreement-viewed")


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
    form.viewed_token.data = _viewed_serializer().dumps({"v": version.id, "t": now.isoformat()})


def _viewed_at(token: str, version_id: int) -> datetime:
    try:
        data = _viewed_serializer().loads(token, max_age=60 * 60 * 24)
    except BadSignature:
        data = None
    if not isinstance(data, dict) or data.get("v") != version_id:
        raise DomainError("expired", "This page expired. Read the text again and sign.")
    return datetime.fromisoformat(data["t"])


def _png(data_url: str) -> bytes:
    prefix = "data:image/png;base64,"
    if not data_url:
        raise DomainError("empty_signature", "Draw your signature in the box.", "signature")
    if len(data_url) > MAX_DATA_URL or not data_url.startswith(prefix):
        raise DomainError("not_png", "The signature must be drawn in the box.", "signature")
    try:
        return base64.b64decode(data_url[len(prefix) :], validate=True)
    except (binascii.Error, ValueError):
        raise DomainError(
            "not_png", "The signature must be drawn in the box.", "signature"
        ) from None


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
        signature_png=_png(form.signature.data or ""),
        consented_electronic=bool(form.consent.data),
        viewed_at=_viewed_at(form.viewed_token.data or "", version_id),
        ip=request.remote_addr or "",
        user_agent=request.headers.get("User-Agent", "")[:400],
        name_confirmed=bool(form.name_confirmed.data),
    )
    return services.desk_sign(actor, gathering, registration.id, data, now=now)


def show_error(form: DeskSignForm, error: DomainError) -> None:
    """Put a signing error next to its field or at the top of the form."""
    web.show_error(form, error)

"""API endpoints of registrations: a gathering's list, one's own, register, cancel."""

from __future__ import annotations

import sqlalchemy as sa
from flask import jsonify, request

from facilitation.api import access, serialize
from facilitation.api.gathering_views import GATHERING, load_visible
from facilitation.api.views import bp
from facilitation.core.clock import utcnow
from facilitation.core.errors import DomainError, NotFound
from facilitation.extensions import db
from facilitation.gatherings import permissions
from facilitation.gatherings.models import Gathering
from facilitation.registration import cancellation, options, refunds, services
from facilitation.registration.models import Registration
from facilitation.registration.states import Status

REGISTRATION = "/v1/registrations/<int:registration_id>"
CARD_ONLY = (
    "This option is paid by card, which only the web page takes: register on the gathering's "
    "page instead."
)


def _visible_registration(registration_id: int) -> Registration:
    """Return a registration its owner or its gathering's managers may see; others get 404."""
    user = access.actor()
    registration = db.session.get(Registration, registration_id)
    if registration is None or not (
        registration.user_id == user.id or permissions.may_manage(user, registration.gathering)
    ):
        raise NotFound("not_found", "No such registration.")
    return registration


def _shown(registration: Registration) -> dict[str, object]:
    user = access.actor()
    manager = permissions.may_manage(user, registration.gathering)
    return serialize.registration(registration, with_person=manager)


@bp.route(GATHERING + "/registrations")
@access.endpoint(query=(*access.PAGING, "status"))
def list_registrations(gathering_id: int):  # type: ignore[no-untyped-def]
    """List a gathering's registrations (organisers and its facilitators)."""
    gathering = load_visible(gathering_id)
    options.require_manager(access.actor(), gathering)
    at = access.page()
    status = request.args.get("status")
    if status is not None and status not in set(Status):
        raise access.Invalid("invalid", "Choose one of the statuses listed.", "status")
    stmt = sa.select(Registration).where(Registration.gathering_id == gathering.id)
    if status:
        stmt = stmt.where(Registration.status == status)
    total = db.session.scalar(sa.select(sa.func.count()).select_from(stmt.subquery()))
    rows = db.session.scalars(
        stmt.order_by(Registration.created_at, Registration.id).limit(at.limit).offset(at.offset)
    ).all()
    items = [serialize.registration(r, with_person=True) for r in rows]
    return jsonify(access.paged(items, int(total or 0), at))


@bp.route("/v1/me/registrations")
@access.endpoint(query=access.PAGING)
def my_registrations():  # type: ignore[no-untyped-def]
    """List one's own registrations, soonest gathering first."""
    at = access.page()
    stmt = (
        sa.select(Registration)
        .join(Gathering, Gathering.id == Registration.gathering_id)
        .where(Registration.user_id == access.actor().id)
    )
    total = db.session.scalar(sa.select(sa.func.count()).select_from(stmt.subquery()))
    rows = db.session.scalars(
        stmt.order_by(Gathering.starts_at, Registration.id).limit(at.limit).offset(at.offset)
    ).all()
    items = [serialize.registration(r, with_person=False) for r in rows]
    return jsonify(access.paged(items, int(total or 0), at))


@bp.route(REGISTRATION)
@access.endpoint()
def get_registration(registration_id: int):  # type: ignore[no-untyped-def]
    """Return one registration to its owner or its gathering's managers."""
    return jsonify(_shown(_visible_registration(registration_id)))


def _input(data: dict[str, object]) -> services.RegistrationInput:
    answers = data.get("answers") or {}
    assert isinstance(answers, dict)
    return services.RegistrationInput(
        option_id=data["option_id"],  # type: ignore[arg-type]
        amount_minor=data.get("amount_minor"),  # type: ignore[arg-type]
        code=str(data.get("code", "")),
        answers={int(k): v for k, v in answers.items()},
        role_id=data.get("role_id"),  # type: ignore[arg-type]
    )


@bp.route(GATHERING + "/registrations", methods=["POST"])
@access.endpoint(write=True)
def create_registration(gathering_id: int):  # type: ignore[no-untyped-def]
    """Register oneself: confirmed, an application or the waitlist; never a card payment."""
    user = access.actor()
    gathering = load_visible(gathering_id)
    data = access.body("RegistrationCreate")
    registration = services.register(user, gathering, _input(data), now=utcnow())
    if serialize.paid_by_card(registration):
        raise DomainError("card_payment_on_page", CARD_ONLY, "option_id")
    db.session.commit()
    response = jsonify(_shown(registration))
    response.status_code = 201
    return response


@bp.route(REGISTRATION + "/cancel", methods=["POST"])
@access.endpoint(write=True)
def cancel_registration(registration_id: int):  # type: ignore[no-untyped-def]
    """Cancel a registration: its owner by the refund policy; its managers with a reason."""
    user = access.actor()
    registration = _visible_registration(registration_id)
    data = access.body("RegistrationCancel", required=False)
    now = utcnow()
    if registration.user_id == user.id:
        if "reason" in data or "refund" in data:
            raise DomainError(
                "owner_cancel", "Cancelling your own registration takes no reason or refund."
            )
        cancellation.cancel_by_participant(user, registration, now=now)
    else:
        cancellation.cancel_by_organiser(
            user,
            registration,
            str(data.get("reason", "")),
            bool(data.get("refund", False)),
            now=now,
        )
    db.session.commit()
    if registration.refund_outstanding_minor:
        refunds.send_owed([registration.id])
    return jsonify(_shown(registration))

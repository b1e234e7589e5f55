"""The check-in desk and the ticket page: load, authorise, act, answer in large type.

Every action runs one service and commits at the request boundary; on a ``DomainError`` the
view rolls back first, so a refusal leaves nothing half-written.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from flask import Blueprint, abort, flash, jsonify, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from facilitation.attendance import forms, services, tickets
from facilitation.attendance.models import CheckIn, CheckInMethod, Ticket
from facilitation.core.clock import utcnow
from facilitation.core.errors import DomainError
from facilitation.core.web import PostForm
from facilitation.extensions import db
from facilitation.gatherings import permissions
from facilitation.gatherings.models import Gathering
from facilitation.registration import options, pages
from facilitation.registration.models import Registration, TicketOption
from facilitation.registration.pricing import OptionKind

bp = Blueprint("attendance", __name__)

#: What a door volunteer may open besides the desk.
DOOR_ENDPOINTS = {
    "static",
    "accounts.log_in",
    "accounts.log_out",
    "favicon",
    # Their API tokens, for a desk app that checks people in through /api/v1.
    "api_tokens.list_tokens",
    "api_tokens.revoke_token",
}


@bp.before_app_request
def _door_sees_only_the_desk():  # type: ignore[no-untyped-def]
    """Keep door volunteers on the desk pages: everything else answers 403."""
    if not current_user.is_authenticated or not current_user.is_door:
        return None
    endpoint = request.endpoint or ""
    if endpoint.startswith("attendance.") or endpoint in DOOR_ENDPOINTS or not endpoint:
        return None
    if endpoint.startswith("api."):
        return None  # the API ignores the session and applies the door rule per token itself
    if endpoint == "gatherings.list_gatherings":
        return redirect(url_for("attendance.desk_index"))
    abort(403)


@bp.app_context_processor
def _ticket_helpers() -> dict[str, object]:
    return {"ticket_token": _ticket_token, "ticket_qr": tickets.qr_svg}


def _ticket_token(registration: Registration) -> str:
    """Return a confirmed registration's ticket token, issuing (and saving) it if need be."""
    if registration.status != "confirmed":
        return ""
    ticket = db.session.scalar(sa.select(Ticket).where(Ticket.registration_id == registration.id))
    if ticket is None:
        ticket = tickets.ticket_for(registration, utcnow())
        db.session.commit()  # a page view issuing the ticket keeps it
    return ticket.token


@bp.context_processor
def _helpers() -> dict[str, object]:
    return {"money": pages.money, "clock": pages.clock}


def _desk_gathering(gathering_id: int) -> Gathering:
    gathering = db.session.get(Gathering, gathering_id)
    if gathering is None:
        abort(404)
    if not permissions.may_work_desk(current_user, gathering):
        abort(403)
    return gathering


def _door_options(gathering: Gathering) -> list[TicketOption]:
    return list(
        db.session.scalars(
            sa.select(TicketOption)
            .where(
                TicketOption.gathering_id == gathering.id,
                TicketOption.kind.in_([OptionKind.FREE, OptionKind.DOOR]),
            )
            .order_by(TicketOption.id)
        )
    )


def _desk(gathering: Gathering, status: int = 200, **shown: Any):  # type: ignore[no-untyped-def]
    """Render the desk with whatever the last action has to show."""
    shown.setdefault("walk_in", {})
    shown.setdefault("results", None)
    return render_template(
        "attendance/desk.html",
        gathering=gathering,
        headcount=services.headcount(gathering),
        options=[o for o in _door_options(gathering) if o.is_active],
        request_id=forms.new_request_id(),
        currency=options.read_settings(gathering).currency,
        form=PostForm(),
        **shown,
    ), status


def _card(gathering: Gathering, registration_id: int | None):  # type: ignore[no-untyped-def]
    registration = db.session.get(Registration, registration_id) if registration_id else None
    if registration is None:
        return None
    return services.view_of(registration, gathering, utcnow())


def _posted() -> None:
    if not PostForm().validate_on_submit():
        abort(400)


@bp.route("/desk")
@login_required
def desk_index():  # type: ignore[no-untyped-def]
    """List the gatherings of today and the coming days whose desk one may work."""
    now = utcnow()
    upcoming = db.session.scalars(
        sa.select(Gathering)
        .where(Gathering.ends_at >= now - timedelta(hours=12), Gathering.published_at.is_not(None))
        .order_by(Gathering.starts_at)
        .limit(50)
    ).all()
    mine = [g for g in upcoming if permissions.may_work_desk(current_user, g)]
    if not mine and not current_user.is_door and not current_user.is_facilitator:
        abort(403)
    return render_template("attendance/desk_index.html", gatherings=mine)


@bp.route("/desk/<int:gathering_id>")
@login_required
def show_desk(gathering_id: int):  # type: ignore[no-untyped-def]
    """Show the desk: headcount, scanner, search, walk-in; a search's results when asked."""
    gathering = _desk_gathering(gathering_id)
    query = request.args.get("q", "").strip()
    results = services.search(current_user, gathering, query, utcnow()) if query else None
    return _desk(gathering, query=query, results=results)


@bp.route("/desk/<int:gathering_id>/people/<int:registration_id>")
@login_required
def show_person(gathering_id: int, registration_id: int):  # type: ignore[no-untyped-def]
    """Show one person's card, found by search or after signing at the desk."""
    gathering = _desk_gathering(gathering_id)
    card = _card(gathering, registration_id)
    if card is None or card.gathering_id != gathering.id:
        abort(404)
    return _desk(gathering, card=card, method=CheckInMethod.SEARCH)


@bp.route("/desk/<int:gathering_id>/headcount")
@login_required
def show_headcount(gathering_id: int):  # type: ignore[no-untyped-def]
    """Return the headcount as JSON, for the desk to refresh."""
    count = services.headcount(_desk_gathering(gathering_id))
    return jsonify(
        checked_in=count.checked_in,
        expected=count.expected,
        walk_ins=count.walk_ins,
        not_arrived=count.not_arrived,
    )


@bp.route("/desk/<int:gathering_id>/lookup", methods=["POST"])
@login_required
def lookup(gathering_id: int):  # type: ignore[no-untyped-def]
    """Read a scanned or typed ticket code and show the person, or say why not."""
    gathering = _desk_gathering(gathering_id)
    _posted()
    try:
        card = services.lookup_ticket(
            current_user, gathering, request.form.get("code", ""), utcnow()
        )
    except DomainError as err:
        db.session.rollback()
        return _desk(gathering, 400, refusal=err.message, code=err.code)
    return _desk(gathering, card=card, method=CheckInMethod.SCAN)


@bp.route("/desk/<int:gathering_id>/check-in", methods=["POST"])
@login_required
def check_in(gathering_id: int):  # type: ignore[no-untyped-def]
    """Admit a person; a retried request (same request id) changes nothing."""
    gathering = _desk_gathering(gathering_id)
    _posted()
    registration_id = forms.integer(request.form.get("registration_id"))
    method = request.form.get("method") or CheckInMethod.SEARCH
    try:
        card = _card(gathering, registration_id)
        currency = card.currency if card else "EUR"
        taken = forms.amount(request.form.get("amount"), currency)
        outcome = services.check_in(
            current_user,
            gathering,
            registration_id or 0,
            request.form.get("request_id", ""),
            utcnow(),
            taken,
            method=method,
        )
    except DomainError as err:
        db.session.rollback()
        refusal = getattr(err, "decision", None)
        card = _card(gathering, registration_id)
        return _desk(
            gathering,
            409 if refusal else 400,
            card=card,
            method=method,
            refusal=err.message,
            detail=refusal.detail if refusal else "",
            code=err.code,
        )
    db.session.commit()
    card = _card(gathering, registration_id)
    if outcome.result == "already_checked_in":
        return _desk(gathering, card=card, refusal=outcome.decision.headline, code=outcome.result)
    assert card is not None
    return _desk(
        gathering,
        card=card,
        admitted=f"Checked in: {card.name}",
        warnings=outcome.decision.warnings,
    )


@bp.route("/desk/<int:gathering_id>/check-ins/<int:check_in_id>/undo", methods=["POST"])
@login_required
def undo(gathering_id: int, check_in_id: int):  # type: ignore[no-untyped-def]
    """Undo a check-in made by mistake."""
    gathering = _desk_gathering(gathering_id)
    _posted()
    row = db.session.get(CheckIn, check_in_id)
    if row is None or row.gathering_id != gathering.id:
        abort(404)
    try:
        services.undo_check_in(current_user, check_in_id, utcnow())
    except DomainError as err:
        db.session.rollback()
        return _desk(gathering, 400, refusal=err.message, code=err.code)
    db.session.commit()
    card = _card(gathering, row.registration_id)
    return _desk(gathering, card=card, undone=f"Check-in undone: {card.name if card else ''}")


@bp.route("/desk/<int:gathering_id>/walk-in", methods=["POST"])
@login_required
def walk_in(gathering_id: int):  # type: ignore[no-untyped-def]
    """Register someone at the door, take their money and check them in, on one screen."""
    gathering = _desk_gathering(gathering_id)
    _posted()
    values = {k: request.form.get(k, "") for k in ("name", "email", "option_id", "amount")}
    try:
        currency = options.read_settings(gathering).currency
        data = services.WalkInInput(
            name=values["name"],
            email=values["email"],
            option_id=forms.integer(values["option_id"]),
            amount_minor=forms.amount(values["amount"], currency, "amount_minor"),
            request_id=request.form.get("request_id", ""),
        )
        outcome = services.walk_in(current_user, gathering, data, utcnow())
    except DomainError as err:
        db.session.rollback()
        return _desk(gathering, 400, refusal=err.message, code=err.code, walk_in=values)
    db.session.commit()
    card = _card(gathering, outcome.registration.id)
    if outcome.check_in is None:
        return _desk(gathering, card=card, refusal=outcome.decision.headline, code="walk_in_sign")
    assert card is not None
    return _desk(gathering, card=card, admitted=f"Walk-in checked in: {card.name}")


@bp.route(
    "/desk/<int:gathering_id>/people/<int:registration_id>/agreements/<int:agreement_id>/sign",
    methods=["GET", "POST"],
)
@login_required
def sign(gathering_id: int, registration_id: int, agreement_id: int):  # type: ignore[no-untyped-def]
    """Let the person at the desk read and sign a missing agreement on the desk's device."""
    gathering = _desk_gathering(gathering_id)
    registration = db.session.get(Registration, registration_id)
    if registration is None or registration.gathering_id != gathering.id:
        abort(404)
    form = forms.DeskSignForm()
    version = forms.version_to_sign(gathering, agreement_id)
    if form.validate_on_submit():
        try:
            forms.sign_at_desk(current_user, gathering, registration, form, request, utcnow())
        except DomainError as err:
            db.session.rollback()
            forms.show_error(form, err)
        else:
            db.session.commit()
            flash("Signed. Thank you.", "success")
            return redirect(
                url_for(".show_person", gathering_id=gathering.id, registration_id=registration.id)
            )
    forms.prepare(form, version, utcnow())
    return render_template(
        "attendance/desk_sign.html",
        gathering=gathering,
        registration=registration,
        version=version,
        form=form,
    ), (400 if form.errors or form.form_errors else 200)


@bp.route("/t/<token>")
@login_required
def show_ticket(token: str):  # type: ignore[no-untyped-def]
    """Show a ticket with its QR code to its owner or to the desk; others get 404."""
    ticket = tickets.find_ticket(token)
    if ticket is None:
        abort(404)
    registration = ticket.registration
    gathering = registration.gathering
    if registration.user_id != current_user.id and not permissions.may_work_desk(
        current_user, gathering
    ):
        abort(404)
    return render_template(
        "attendance/ticket.html",
        ticket=ticket,
        registration=registration,
        gathering=gathering,
        qr=tickets.qr_svg(ticket.token),
        status=pages.status_text(registration, utcnow()),
    )

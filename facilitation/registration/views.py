"""Participants' registration pages: register, a registration's page, cancel, my gatherings."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_login import current_user, login_required

from facilitation.consent import services as consent
from facilitation.core import limits
from facilitation.core.clock import utcnow
from facilitation.core.errors import DomainError, NotFound
from facilitation.core.web import PostForm
from facilitation.extensions import db
from facilitation.gatherings import services as gatherings
from facilitation.gatherings.models import Gathering
from facilitation.registration import (
    cancellation,
    forms,
    pages,
    pricing,
    queries,
    refunds,
    services,
)
from facilitation.registration.emails import local_time
from facilitation.registration.models import Registration
from facilitation.registration.payment_views import open_payment, owned_registration
from facilitation.registration.states import LIVE, RefundDecision, Status

bp = Blueprint("registration", __name__)

REGISTERED = {
    Status.CONFIRMED: "You are registered: your place is confirmed. A confirmation is on its way "
    "by email.",
    Status.APPLIED: "Your application is in. The facilitators will reply by email.",
    Status.WAITLISTED: "The gathering is full, so you are on the waitlist. We will email you if "
    "a seat frees up.",
}


@bp.context_processor
def _helpers() -> dict[str, object]:
    return {"money": pages.money, "status_text": pages.status_text}


def _gathering(gathering_id: int) -> Gathering:
    try:
        return gatherings.get_for_viewer(gathering_id, current_user)
    except NotFound:
        abort(404)


def _gathering_page(panel: pages.Panel, status: int = 200):  # type: ignore[no-untyped-def]
    return render_template(
        "gatherings/detail.html", gathering=panel.gathering, now=utcnow(), registration=panel
    ), status


def _refuse_cards_when_off(registration: Registration) -> None:
    """Refuse, before the commit, a registration that would have to be paid by card."""
    if pages.cards_enabled():
        return
    if pricing.pays_by_card(registration.ticket_option.kind, registration.amount_minor):
        raise DomainError("cards_off", pages.CARDS_OFF, "option_id")


@bp.route("/gatherings/<int:gathering_id>/register", methods=["POST"])
@login_required
@limits.register
def create_registration(gathering_id: int):  # type: ignore[no-untyped-def]
    """Register for a gathering: confirmed, an application, the waitlist, or a seat to pay."""
    gathering = _gathering(gathering_id)
    now = utcnow()
    # Only the form before it is checked; the whole panel only for a page with errors.
    form, asked, currency = pages.registration_form_for(gathering)
    if not form.validate_on_submit():
        return _gathering_page(pages.gathering_panel(gathering, current_user, now, form=form), 400)
    try:
        data = forms.registration_input(form, asked, currency)
        registration = services.register(current_user, gathering, data, now=now)
        _refuse_cards_when_off(registration)
    except DomainError as err:
        db.session.rollback()
        forms.show_registration_error(form, err)
        return _gathering_page(pages.gathering_panel(gathering, current_user, now, form=form), 400)
    status, registration_id = Status(registration.status), registration.id
    db.session.commit()
    if status is Status.HELD:
        return open_payment(registration)
    flash(REGISTERED.get(status, "You are registered."), "success")
    return redirect(url_for(".show_registration", registration_id=registration_id))


@bp.route("/registrations/<int:registration_id>")
@login_required
def show_registration(registration_id: int):  # type: ignore[no-untyped-def]
    """Show where one's registration stands, and what to do next."""
    registration = owned_registration(registration_id)
    gathering = registration.gathering
    now = utcnow()
    live = registration.status in LIVE
    missing = consent.missing_agreements(current_user.id, gathering.id) if live else []
    return render_template(
        "registration/show.html",
        registration=registration,
        gathering=gathering,
        now=now,
        lapsed=pages.lapsed(registration, now),
        cards_enabled=pages.cards_enabled(),
        pays_by_card=pricing.pays_by_card(
            registration.ticket_option.kind, registration.amount_minor
        ),
        missing=missing,
        payments=queries.payments_of(registration),
        cancellable=live and now < gathering.ends_at,
        offer_deadline=(
            local_time(registration.offer_expires_at, gathering)
            if registration.offer_expires_at
            else ""
        ),
        form=PostForm(),
    )


@bp.route("/registrations/<int:registration_id>/accept", methods=["POST"])
@login_required
def accept_offer(registration_id: int):  # type: ignore[no-untyped-def]
    """Accept an offered seat: confirmed, or held while paying by card."""
    registration = owned_registration(registration_id)
    if not PostForm().validate_on_submit():
        abort(400)
    try:
        services.accept_offer(current_user, registration, now=utcnow())
    except DomainError as err:
        db.session.rollback()
        flash(err.message, "error")
        return redirect(url_for(".show_registration", registration_id=registration.id))
    db.session.commit()
    if registration.status == Status.HELD:
        return open_payment(registration)
    flash(REGISTERED[Status.CONFIRMED], "success")
    return redirect(url_for(".show_registration", registration_id=registration.id))


@bp.route("/registrations/<int:registration_id>/cancel", methods=["GET", "POST"])
@login_required
def cancel_registration(registration_id: int):  # type: ignore[no-untyped-def]
    """Ask for confirmation, saying what the refund policy gives; then cancel."""
    registration = owned_registration(registration_id)
    form = PostForm()
    back = url_for(".show_registration", registration_id=registration.id)
    if not form.validate_on_submit():
        if registration.status not in LIVE:
            return redirect(back)
        preview = pages.refund_preview(registration, utcnow())
        return render_template(
            "registration/cancel.html", registration=registration, preview=preview, form=form
        )
    try:
        outcome = cancellation.cancel_by_participant(current_user, registration, now=utcnow())
    except DomainError as err:
        db.session.rollback()
        flash(err.message, "error")
        return redirect(back)
    db.session.commit()
    flash(_cancelled_message(outcome), "success")
    return redirect(back)


def _cancelled_message(outcome: cancellation.CancelOutcome) -> str:
    registration = outcome.registration
    if outcome.refund_minor:
        report = refunds.send_owed([registration.id])
        amount = pages.money(outcome.refund_minor, registration.currency)
        if report.sent and registration.id not in report.failed:
            return f"Your registration is cancelled. We have refunded {amount} to your card."
        return (
            f"Your registration is cancelled. Your refund of {amount} could not be sent just "
            "now; we will try again and email you when it is on its way."
        )
    if outcome.decision is RefundDecision.ORGANISER:
        return (
            "Your registration is cancelled. The organisers decide about refunds for this "
            "gathering; they will be in touch."
        )
    return "Your registration is cancelled."


@bp.route("/me/gatherings")
@login_required
def my_gatherings():  # type: ignore[no-untyped-def]
    """List one's registrations: upcoming and past, with status, payment and receipt."""
    now = utcnow()
    mine = queries.my_registrations(current_user, now)
    return render_template(
        "registration/my_gatherings.html", upcoming=mine.upcoming, past=mine.past, now=now
    )

"""Stripe's webhook and the card payment pages.

The page confirms the card with Stripe.js; the seat is confirmed only by what Stripe itself
says when we read the PaymentIntent back (on the return page and in the webhook), never by
the browser's word.
"""

from __future__ import annotations

import logging
from datetime import datetime

import sqlalchemy as sa
from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user, login_required

from facilitation.core.clock import utcnow
from facilitation.core.display import local
from facilitation.core.errors import DomainError
from facilitation.core.web import PostForm
from facilitation.extensions import csrf, db
from facilitation.registration import ledger, pages, payments, refunds, services, stripe_events
from facilitation.registration.models import Payment, Registration
from facilitation.registration.payments import (
    PaymentError,
    PaymentIntentInfo,
    StripeEvent,
    StripeGateway,
)
from facilitation.registration.states import Status

bp = Blueprint("payments", __name__)
logger = logging.getLogger(__name__)

#: PaymentIntent statuses that can still be paid; others need a new intent.
REUSABLE = frozenset(
    {"requires_payment_method", "requires_confirmation", "requires_action", "processing"}
)


@bp.context_processor
def _helpers() -> dict[str, object]:
    return {"money": pages.money}


def owned_registration(registration_id: int) -> Registration:
    """Return the current person's registration, or 404 (others' look like no registration)."""
    registration = db.session.get(Registration, registration_id)
    if registration is None or registration.user_id != current_user.id:
        abort(404)
    return registration


def _registration_page(registration: Registration) -> Response:
    return redirect(url_for("registration.show_registration", registration_id=registration.id))


def _held_until(registration: Registration) -> datetime | None:
    until = registration.hold_expires_at
    return local(until, registration.gathering.timezone) if until is not None else None


def _intent_for(
    registration: Registration, gateway: StripeGateway, now: datetime
) -> PaymentIntentInfo:
    """Return the PaymentIntent to pay a held registration: the stored one while usable, else new.

    Reusing the stored intent (rather than counting on Stripe's idempotency, which localstripe
    lacks) keeps a reload or a second tab from making a second charge possible.
    """
    stored = registration.payment_intent_id
    if stored:
        try:
            intent = gateway.retrieve_payment_intent(stored)
        except PaymentError as err:
            if err.code != "payment_not_found":
                raise
        else:
            matches = (intent.amount, intent.currency) == (
                registration.amount_minor,
                registration.currency.lower(),
            )
            if matches and intent.status in REUSABLE:
                return intent
            if intent.status == "succeeded" and not _recorded(intent.id):
                return intent  # paid, and not yet recorded: the return page records it
    hold = registration.hold_expires_at
    intent = gateway.create_payment_intent(
        registration.amount_minor,
        registration.currency.lower(),
        registration_id=registration.id,
        idempotency_key=f"pay-{registration.id}-{hold.timestamp() if hold else 0:.0f}-{stored}",
        description=f"{registration.gathering.title}: {registration.ticket_option.name}",
        held_until=_held_until(registration),
    )
    services.attach_payment_intent(registration, intent.id, now=now)
    db.session.commit()
    return intent


def _recorded(payment_intent_id: str) -> bool:
    stmt = sa.select(Payment.id).where(Payment.provider_ref == payment_intent_id)
    return db.session.scalar(stmt) is not None


def open_payment(registration: Registration) -> Response:
    """Get a held registration's PaymentIntent ready and send the person to the card page."""
    if not pages.cards_enabled():
        flash(pages.CARDS_OFF, "error")
        return _registration_page(registration)
    try:
        intent = _intent_for(registration, payments.gateway(), utcnow())
    except PaymentError as err:
        return _stripe_said_no(registration, err)
    if intent.status == "succeeded":
        return redirect(_return_url(registration, intent.id))
    return redirect(url_for("payments.show_payment", registration_id=registration.id))


def _stripe_said_no(registration: Registration, err: PaymentError) -> Response:
    """Say why Stripe could not help (with how long the seat stays held) on the person's page."""
    db.session.rollback()
    if err.code == "payments_unavailable":
        err = payments.unavailable(_held_until(registration))
    flash(err.message, "error")
    return _registration_page(registration)


def _return_url(registration: Registration, payment_intent_id: str | None = None) -> str:
    return url_for(
        "payments.finish_payment",
        registration_id=registration.id,
        payment_intent=payment_intent_id,
    )


@bp.route("/registrations/<int:registration_id>/pay", methods=["POST"])
@login_required
def start_card_payment(registration_id: int):  # type: ignore[no-untyped-def]
    """Hold the seat (again, if it lapsed and is free) and open the card payment page."""
    registration = owned_registration(registration_id)
    if not PostForm().validate_on_submit():
        abort(400)
    if not pages.cards_enabled():
        flash(pages.CARDS_OFF, "error")
        return _registration_page(registration)
    try:
        services.start_payment(registration, now=utcnow())
    except DomainError as err:
        db.session.rollback()
        flash(err.message, "error")
        return _registration_page(registration)
    db.session.commit()
    return open_payment(registration)


@bp.route("/registrations/<int:registration_id>/pay")
@login_required
def show_payment(registration_id: int):  # type: ignore[no-untyped-def]
    """Show the card form for a held seat, with the time left on the hold."""
    registration = owned_registration(registration_id)
    now = utcnow()
    usable = (
        registration.status == Status.HELD
        and not pages.lapsed(registration, now)
        and registration.payment_intent_id
        and pages.cards_enabled()
    )
    if not usable:
        return _registration_page(registration)
    try:
        intent = payments.gateway().retrieve_payment_intent(str(registration.payment_intent_id))
    except PaymentError as err:
        return _stripe_said_no(registration, err)
    if intent.status == "succeeded":
        return redirect(_return_url(registration, intent.id))
    if intent.status not in REUSABLE:
        return _registration_page(registration)
    return render_template(
        "registration/pay.html",
        registration=registration,
        gathering=registration.gathering,
        client_secret=intent.client_secret,
        publishable_key=current_app.config["STRIPE_PUBLISHABLE_KEY"],
        stripe_js_url=current_app.config["STRIPE_JS_URL"],
        return_url=_return_url(registration),
        now=now,
    )


@bp.route("/registrations/<int:registration_id>/return")
@login_required
def finish_payment(registration_id: int):  # type: ignore[no-untyped-def]
    """Read the payment back from Stripe and record it; say what happened."""
    registration = owned_registration(registration_id)
    intent_id = request.args.get("payment_intent", "") or registration.payment_intent_id or ""
    if not intent_id.startswith("pi_") or not pages.cards_enabled():
        return _registration_page(registration)
    try:
        intent = payments.gateway().retrieve_payment_intent(intent_id)
    except PaymentError as err:
        return _stripe_said_no(registration, err)
    if intent.registration_id != registration.id:
        abort(404)
    if intent.status != "succeeded":
        flash(_not_paid_message(registration, intent), "error")
        return _registration_page(registration)
    try:
        outcome = stripe_events.record_intent(registration, intent, now=utcnow())
    except DomainError as err:
        db.session.rollback()
        flash(err.message, "error")
        return _registration_page(registration)
    db.session.commit()
    if registration.refund_outstanding_minor:
        report = refunds.send_owed([registration.id])
        flash(_late_message(outcome, report), "error")
    elif registration.status == Status.CONFIRMED:
        flash(
            "Paid, thank you: your place is confirmed. A receipt is on its way by email.", "success"
        )
    return _registration_page(registration)


def _not_paid_message(registration: Registration, intent: PaymentIntentInfo) -> str:
    if intent.status == "processing":
        return "Your bank is still processing the payment; we will email you once it is through."
    reason = f" {intent.last_error}" if intent.last_error else ""
    until = _held_until(registration)
    held = f" Your seat stays held until {until:%H:%M}; you can try again." if until else ""
    return f"The payment did not go through.{reason}{held}"


def _late_message(outcome: ledger.PaymentOutcome, report: refunds.RefundReport) -> str:
    registration = outcome.registration
    amount = pages.money(outcome.refund_minor or report.total_sent, registration.currency)
    why = {
        "seat_gone": "the time to pay ran out and the seat went to someone else",
        "already_paid": "this registration was already paid",
        "amount_mismatch": "the amount did not match your registration",
    }.get(outcome.reason or "", "this registration could no longer be paid")
    if report.sent:
        return f"Your payment reached us, but {why}. We have refunded {amount} to your card."
    return (
        f"Your payment reached us, but {why}. Your refund of {amount} could not be sent just "
        "now; we will try again and email you when it is on its way."
    )


def _text(event: StripeEvent, name: str) -> bool:
    try:
        value = event[name]
    except (KeyError, TypeError):
        return False
    return isinstance(value, str) and bool(value)


def _answer(status: int, **body: object) -> Response:
    response = jsonify(body)
    response.status_code = status
    return response


@bp.route("/payments/stripe/webhook", methods=["POST"])
@csrf.exempt
def receive_webhook():  # type: ignore[no-untyped-def]
    """Take a signed event from Stripe; act on it once, whatever the retries and their order."""
    payload = request.get_data()
    try:
        gateway = payments.gateway()
    except PaymentError:
        return _answer(503, error="payments_off")
    try:
        event = gateway.verify_webhook(payload, request.headers.get("Stripe-Signature"))
    except PaymentError:
        return _answer(400, error="bad_signature")
    except Exception:  # signed, but not an event object (a list, a number): not from Stripe
        logger.warning("refused a signed webhook body that is not an event")
        return _answer(400, error="bad_event")
    if not (_text(event, "id") and _text(event, "type")):
        return _answer(400, error="bad_event")
    try:
        handled = _process(event, gateway)
    except Exception:
        db.session.rollback()
        logger.exception("webhook event %s not handled; Stripe will send it again", event.id)
        return _answer(503, error="retry_later")
    if handled.refund_ids:
        try:
            refunds.send_owed(handled.refund_ids)
        except Exception:  # still owed: the sweeper sends it later
            db.session.rollback()
            logger.exception("refunds after webhook event %s failed", event.id)
    return _answer(200, received=True, outcome=handled.outcome)


def _process(event: StripeEvent, gateway: StripeGateway) -> stripe_events.Handled:
    """Claim the event, act on it and note the outcome, in one transaction."""
    now = utcnow()
    if not ledger.claim_stripe_event(event.id, event.type, now=now):
        db.session.rollback()
        return stripe_events.Handled("duplicate")
    try:
        handled = stripe_events.handle(event, gateway, now=now)
    except PaymentError as err:
        if err.code == "payments_unavailable":
            raise  # not stored: Stripe retries the event
        handled = _refused(event, err, now)
    except DomainError as err:
        handled = _refused(event, err, now)
    if handled.outcome != "duplicate":
        ledger.finish_stripe_event(event.id, handled.outcome, now=now)
    db.session.commit()
    logger.info("webhook event %s (%s): %s", event.id, event.type, handled.outcome)
    return handled


def _refused(event: StripeEvent, err: DomainError, now: datetime) -> stripe_events.Handled:
    """Undo what the event did, keep its claim, and note why (a retry would fare no better)."""
    db.session.rollback()
    logger.warning("webhook event %s refused: %s", event.id, err.code)
    if not ledger.claim_stripe_event(event.id, event.type, now=now):
        return stripe_events.Handled("duplicate")
    return stripe_events.Handled(f"refused ({err.code})")

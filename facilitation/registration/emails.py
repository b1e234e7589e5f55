"""The emails of registration, queued in the outbox with the change that causes them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import current_app, render_template

from facilitation.attendance import tickets
from facilitation.core.display import format_day, format_when, local
from facilitation.core.links import site_url_for
from facilitation.gatherings.calendar import build_calendar, uid_domain
from facilitation.gatherings.models import Gathering
from facilitation.messaging import services as mail
from facilitation.registration.models import Registration
from facilitation.registration.pricing import format_money


def gathering_link(gathering: Gathering) -> str:
    """Return the full address of a gathering's page, or "" where none can be built."""
    return site_url_for("gatherings.show_gathering", gathering_id=gathering.id)


def local_time(moment: datetime, gathering: Gathering) -> str:
    """Format a moment in the gathering's time zone: 'Sat 5 Dec 2026 at 19:00 GMT'."""
    here = local(moment, gathering.timezone)
    return f"{format_day(here)} at {here:%H:%M %Z}"


def _send(
    registration: Registration,
    template: str,
    subject: str,
    kind: str,
    ics: str | None = None,
    **extra: Any,
) -> None:
    gathering = registration.gathering
    person = registration.user
    context = {
        "person": person.display_name,
        "title": gathering.title,
        "when": format_when(gathering.starts_at, gathering.ends_at, gathering.timezone),
        "link": gathering_link(gathering),
        "status": registration.status,
        "amount": _money(registration.amount_minor, registration),
        **extra,
    }
    body = render_template(f"registration/email/{template}.txt", **context)
    mail.queue(person.email, subject, body, kind=kind, ics=ics)


def _money(minor: int, registration: Registration) -> str:
    return format_money(minor, registration.currency) if minor else ""


def calendar_file(gathering: Gathering, now: datetime) -> str:
    """Return the gathering as an iCalendar document (the same UID as the public feed)."""
    link = gathering_link(gathering)
    return build_calendar(
        [gathering],
        org_name=current_app.config["ORG_NAME"],
        uid_domain=uid_domain(current_app.config["SECRET_KEY"]),
        url_for_gathering=lambda g: link,
        now=now,
    ).decode()


def received(registration: Registration) -> None:
    """Tell an applicant their application arrived."""
    title = registration.gathering.title
    _send(registration, "received", f"Application received: {title}", "registration_received")


def approved(registration: Registration) -> None:
    """Tell an applicant they were approved, and what happens next."""
    deadline = registration.offer_expires_at
    _send(
        registration,
        "approved",
        f"Approved: {registration.gathering.title}",
        "registration_approved",
        message=registration.decision_message,
        deadline=local_time(deadline, registration.gathering) if deadline else "",
    )


def declined(registration: Registration) -> None:
    """Tell an applicant they were declined, with the facilitators' message."""
    _send(
        registration,
        "declined",
        f"Your application: {registration.gathering.title}",
        "registration_declined",
        message=registration.decision_message,
    )


def confirmed(registration: Registration, now: datetime) -> None:
    """Confirm a place, with the ticket (issued now if need be) and a calendar attachment."""
    gathering = registration.gathering
    ticket = tickets.ticket_for(registration, now)
    where = ", ".join(p for p in (gathering.venue_name, gathering.venue_address.strip()) if p)
    _send(
        registration,
        "confirmed",
        f"You're coming: {gathering.title}",
        "registration_confirmed",
        ics=calendar_file(gathering, now),
        where=" ".join(where.split()),
        online_url=gathering.online_url,
        option=registration.ticket_option.name,
        paid=_money(registration.amount_paid_minor, registration),
        door_due=_money(registration.pay_at_door_due_minor, registration),
        ticket_link=tickets.ticket_url(ticket.token),
        ticket_code=tickets.qr_content(ticket.token),
    )


def waitlisted(registration: Registration) -> None:
    """Tell someone they are on the waitlist."""
    title = registration.gathering.title
    _send(registration, "waitlisted", f"On the waitlist: {title}", "registration_waitlisted")


def offer(registration: Registration) -> None:
    """Offer a freed seat, with the deadline in the gathering's time zone."""
    assert registration.offer_expires_at is not None
    _send(
        registration,
        "offer",
        f"A seat is yours if you want it: {registration.gathering.title}",
        "waitlist_offer",
        deadline=local_time(registration.offer_expires_at, registration.gathering),
    )


def cancelled(
    registration: Registration,
    *,
    refund_minor: int,
    decision: str,
    by_organiser: bool = False,
    gathering_cancelled: bool = False,
) -> None:
    """Tell someone their registration is cancelled and what happens to their money."""
    _send(
        registration,
        "cancelled",
        f"Cancelled: {registration.gathering.title}",
        "registration_cancelled",
        refund=_money(refund_minor, registration),
        decision=decision,
        paid=registration.amount_paid_minor > registration.amount_refunded_minor,
        by_organiser=by_organiser,
        reason=registration.cancel_reason,
        gathering_cancelled=gathering_cancelled,
        note=registration.gathering.cancellation_note,
    )


def refunded(registration: Registration, amount_minor: int, *, by_card: bool = True) -> None:
    """Tell someone a refund is on its way (to their card, or paid back by hand)."""
    _send(
        registration,
        "refunded",
        f"Refund on its way: {registration.gathering.title}",
        "registration_refunded",
        amount=_money(amount_minor, registration),
        by_card=by_card,
    )


def late_payment(registration: Registration, amount_minor: int, reason: str) -> None:
    """Tell someone a payment we cannot keep will be refunded, and why."""
    _send(
        registration,
        "late_payment",
        f"We are refunding your payment: {registration.gathering.title}",
        "late_payment_refunded",
        amount=format_money(amount_minor, registration.currency),
        reason=reason,
    )

"""What the check-in desk says about one person: admit, admit with notes, or refuse; pure.

The service gathers the facts (``DeskFacts``) and these rules decide, in this order, so the
desk always shows the one thing that matters most:

    situation                code                    the desk says (large type)
    -----------------------  ----------------------  --------------------------
    another gathering        wrong_gathering         This ticket is for <title>, <day>
    gathering cancelled      gathering_cancelled     This gathering was cancelled.
    an active ban            ask_organiser           Please ask the organiser to come to the door.
                                                     (beneath: Do not check them in. ...)
    checked in already       already_checked_in      Already checked in at 19:04 (gathering's zone)
    registration cancelled   registration_cancelled  This registration was cancelled.
    application declined     application_declined    This application was declined.
    hold or offer lapsed     registration_expired    This registration lapsed.
    on the waitlist          waitlisted              On the waitlist: no seat yet.
    not yet approved         awaiting_approval       Waiting for approval.
    card payment unfinished  card_unpaid             Card payment not finished.
    seat offered, not taken  offer_open              A seat is offered but not taken yet.
    agreement unsigned       agreements_missing      Please sign first. (they can sign at the desk)
    money due at the door    payment_due             Take EUR 20.00 first.
    other sum given          wrong_amount            Take exactly EUR 20.00.
    money given, none due    nothing_due             Nothing is due at the door.
    all in order             admit                   Admit (notes: money taken, first visit)

The ban's wording is neutral on purpose: whoever stands at the door, and the person in front
of the desk, learn nothing from it.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from facilitation.registration.pricing import format_money
from facilitation.registration.states import Status

#: Pure core: no framework import, here or in what it imports (tests/core/test_pure_core.py).
__pure__ = True

BAN_MESSAGE = "Please ask the organiser to come to the door."
#: What the desk is told beneath it: clear to whoever works the desk, neutral to the person.
BAN_DETAIL = "Do not check them in. An organiser will speak with them."


class Verdict(enum.StrEnum):
    """What the desk does."""

    ADMIT = "admit"
    ADMIT_WITH_WARNINGS = "admit_with_warnings"
    REFUSE = "refuse"


@dataclass(frozen=True)
class OtherGathering:
    """The gathering a ticket is for, when it is not the one at this desk."""

    title: str
    starts_at: datetime
    timezone: str


@dataclass(frozen=True)
class DeskFacts:
    """What the desk knows about one registration at one gathering's door."""

    status: str
    timezone: str
    #: Set when the ticket (registration) belongs to another gathering.
    other_gathering: OtherGathering | None = None
    gathering_cancelled: bool = False
    #: Titles of the required agreements not validly signed (withdrawn consent included).
    missing_agreements: tuple[str, ...] = ()
    door_due_minor: int = 0
    currency: str = "EUR"
    banned: bool = False
    #: When their standing check-in was made, if they are checked in.
    checked_in_at: datetime | None = None
    #: They have never been checked in at any gathering before.
    first_visit: bool = False
    #: Money the desk says it has just taken; None when none is offered (a look-up).
    payment_taken_minor: int | None = None


@dataclass(frozen=True)
class DeskDecision:
    """The desk's answer: a verdict, a stable code and a short message in large type."""

    verdict: Verdict
    code: str
    headline: str
    #: One more line in smaller type, when there is something to explain.
    detail: str = ""
    warnings: tuple[str, ...] = ()
    #: Agreements the person can sign at the desk before being admitted.
    to_sign: tuple[str, ...] = ()
    #: Money to take at the door before admitting, in minor units.
    to_take_minor: int = 0

    @property
    def admitted(self) -> bool:
        """Return whether the desk may let the person in."""
        return self.verdict is not Verdict.REFUSE


def _refuse(
    code: str,
    headline: str,
    detail: str = "",
    *,
    to_sign: tuple[str, ...] = (),
    to_take_minor: int = 0,
) -> DeskDecision:
    return DeskDecision(
        Verdict.REFUSE, code, headline, detail, to_sign=to_sign, to_take_minor=to_take_minor
    )


def ban_decision() -> DeskDecision:
    """Return the desk's neutral refusal for someone who is banned."""
    return _refuse("ask_organiser", BAN_MESSAGE, BAN_DETAIL)


def clock(moment: datetime, timezone: str) -> str:
    """Return a moment as a wall-clock time in a time zone: '19:04'."""
    return f"{moment.astimezone(ZoneInfo(timezone)):%H:%M}"


def day(moment: datetime, timezone: str) -> str:
    """Return a moment's day in a time zone: 'Sat 5 Dec'."""
    here = moment.astimezone(ZoneInfo(timezone))
    return f"{here:%a} {here.day} {here:%b}"


_STATUS_REFUSALS: dict[str, tuple[str, str, str]] = {
    Status.CANCELLED: ("registration_cancelled", "This registration was cancelled.", ""),
    Status.DECLINED: ("application_declined", "This application was declined.", ""),
    Status.EXPIRED: (
        "registration_expired",
        "This registration lapsed.",
        "The time to pay or accept ran out before it was done.",
    ),
    Status.WAITLISTED: ("waitlisted", "On the waitlist: no seat yet.", ""),
    Status.APPLIED: (
        "awaiting_approval",
        "Waiting for approval.",
        "An organiser or facilitator has to approve the application first.",
    ),
    Status.HELD: (
        "card_unpaid",
        "Card payment not finished.",
        "They can finish paying on their phone, then show the ticket again.",
    ),
    Status.OFFERED: (
        "offer_open",
        "A seat is offered but not taken yet.",
        "They can accept (and pay) on their phone, then show the ticket again.",
    ),
}


def _before_status(facts: DeskFacts) -> DeskDecision | None:
    other = facts.other_gathering
    if other is not None:
        return _refuse(
            "wrong_gathering",
            f"This ticket is for {other.title}, {day(other.starts_at, other.timezone)}",
            "It is not a ticket for this gathering.",
        )
    if facts.gathering_cancelled:
        return _refuse("gathering_cancelled", "This gathering was cancelled.")
    if facts.banned:
        return ban_decision()
    if facts.checked_in_at is not None:
        return _refuse(
            "already_checked_in",
            f"Already checked in at {clock(facts.checked_in_at, facts.timezone)}",
        )
    return None


def _money(facts: DeskFacts) -> DeskDecision | None:
    due, taken = facts.door_due_minor, facts.payment_taken_minor
    if due > 0 and taken is None:
        return _refuse(
            "payment_due",
            f"Take {format_money(due, facts.currency)} first.",
            "Admit once the money is taken.",
            to_take_minor=due,
        )
    if due > 0 and taken != due:
        return _refuse(
            "wrong_amount",
            f"Take exactly {format_money(due, facts.currency)}.",
            to_take_minor=due,
        )
    if due == 0 and taken:
        return _refuse("nothing_due", "Nothing is due at the door.")
    return None


def decide(facts: DeskFacts) -> DeskDecision:
    """Decide what the desk does with this person now."""
    early = _before_status(facts)
    if early is not None:
        return early
    if facts.status != Status.CONFIRMED:
        code, headline, detail = _STATUS_REFUSALS.get(
            facts.status, ("not_registered", "No place at this gathering.", "")
        )
        return _refuse(code, headline, detail)
    if facts.missing_agreements:
        return _refuse(
            "agreements_missing",
            "Please sign first.",
            "Not signed yet: " + ", ".join(facts.missing_agreements) + ".",
            to_sign=facts.missing_agreements,
        )
    money = _money(facts)
    if money is not None:
        return money
    warnings: list[str] = []
    if facts.payment_taken_minor:
        taken = format_money(facts.payment_taken_minor, facts.currency)
        warnings.append(f"{taken} taken at the door.")
    if facts.first_visit:
        warnings.append("First visit: welcome them.")
    if warnings:
        return DeskDecision(Verdict.ADMIT_WITH_WARNINGS, "admit", "Admit", warnings=tuple(warnings))
    return DeskDecision(Verdict.ADMIT, "admit", "Admit")

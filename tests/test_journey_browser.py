"""The whole journey in one real browser (issue #8): a visitor finds a gathering, signs up,
registers on a sliding scale, pays by card through localstripe's fake Stripe.js, signs the
agreement with a drawn signature, sets boundaries and a do-not-pair request; the door scans
the ticket through Chromium's fake camera; the facilitator runs two rounds on the projector
with six phones, and the request is honoured; the organiser sees attendance and revenue.

One Debian Chromium, every origin but the server and localstripe blocked, the real server
process on PostgreSQL. Screenshots of each step go to the test's folder, and to docs/tour/
when ``GATHERWELL_WRITE_TOUR=1``.
"""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from facilitation.attendance.models import CheckIn
from facilitation.consent.models import DoNotPairRequest, Signature
from facilitation.extensions import db
from facilitation.registration import payments
from facilitation.registration.models import Registration
from tests.attendance.test_desk_browser import camera, qr_video
from tests.browser import Offline, chromium_or_skip, launched
from tests.factories import PASSWORD
from tests.journey_helpers import (
    PHONE,
    WIDE,
    Tour,
    choose_revealing_seed,
    context,
    draw_signature,
    groups_by_round,
    log_in,
    rests_of,
    set_the_stage,
)
from tests.live_server import PATIENCE_S
from tests.registration.stripe_helpers import pay, server_process

#: A card that needs 3-D Secure: the only kind the fake Stripe.js can finish in the page.
THREE_D_SECURE = "4000002760003184"
VISITOR = {
    "name": "Sam Rivers",
    "display_name": "Sam",
    "email": "sam@example.org",
    "password": "quiet lantern orchard 42",
}
PHASES = ("Gaze", "A shares", "B shares", "Thank and move")


@pytest.fixture
def server(pg_app, localstripe, tmp_path):
    chromium_or_skip()
    with server_process(pg_app, localstripe, tmp_path) as process:
        yield process


def next_phase(console, name: str) -> None:
    """Press Next on the console and wait until it shows the phase ``name``."""
    console.click('[data-action="next_phase"]')
    console.wait_for_function(
        "n => document.getElementById('phase-name').textContent.startsWith(n)", arg=name
    )


def pairs_key(pairs: list[set[str]]) -> str:
    """Return pairs of names as one comparable string: ``A+B,C+D``."""
    return ",".join(sorted("+".join(sorted(pair)) for pair in pairs))


#: The pairs the projector shows, in the form of ``pairs_key``.
PROJECTOR_PAIRS = """() => [...document.querySelectorAll('.p-pair .p-names')]
    .map(e => e.textContent.split('  ·  ').map(m => m.replace(/ \\([AB]\\)$/, '')).sort().join('+'))
    .sort().join(',')"""


def wait_for_round(projector, phones: dict, round_number: int, pairs: list[set[str]]) -> None:  # type: ignore[type-arg]
    """Wait until the projector and every phone show this round's stored pairs."""
    projector.wait_for_function(
        f"([r, want]) => document.getElementById('round').textContent.includes('Round ' + r)"
        f" && ({PROJECTOR_PAIRS})() === want",
        arg=[round_number, pairs_key(pairs)],
    )
    for name, page in phones.items():
        (partner,) = next(pair - {name} for pair in pairs if name in pair)
        page.wait_for_function(
            "([r, p]) => document.getElementById('round').textContent.startsWith('Round ' + r)"
            " && document.getElementById('partner-card').dataset.state === 'paired'"
            " && document.getElementById('partner').textContent === p",
            arg=[round_number, partner],
        )


def test_the_whole_journey(pg_app, server, localstripe, tmp_path):
    stage = set_the_stage()
    gathering, url = stage.gathering, server.url
    tour = Tour(tmp_path / "tour")
    offline = Offline(url, allow=(localstripe.api_base + "/",))
    # The door's phone camera films the visitor's ticket; the video is written once the
    # ticket exists (Chromium reads the file when the desk opens the camera).
    video = tmp_path / "ticket.y4m"

    with launched(camera(video)) as browser:
        # 1. A visitor finds the gathering and signs up from its page.
        visitor = context(browser, offline, url, **PHONE).new_page()
        visitor.goto(url + "/")
        visitor.wait_for_selector(f"text={gathering.title}")
        tour.shot(visitor, "find-gathering")
        visitor.click(f"text={gathering.title}")
        visitor.wait_for_url(f"**/gatherings/{gathering.id}")
        visitor.locator("#register").scroll_into_view_if_needed()
        tour.shot(visitor, "gathering-page")
        visitor.click("#register a:has-text('sign up')")
        visitor.wait_for_url(re.compile(r"/sign-up\?next="))
        for field in ("name", "display_name", "email", "password"):
            visitor.fill(f"#{field}", VISITOR[field])
        tour.shot(visitor, "sign-up")
        visitor.click("button:has-text('Create account')")
        visitor.wait_for_url(re.compile(rf"/gatherings/{gathering.id}(#register)?$"))

        # 2. Registers on the sliding scale, choosing 15.00 of 10.00-30.00.
        sliding = stage.sliding.id
        assert visitor.input_value(f"#amount_{sliding}") == "20.00"
        visitor.check(f"input[name=option_id][value='{sliding}']")
        visitor.fill(f"#amount_{sliding}", "15.00")
        visitor.locator(f"#amount_{sliding}").scroll_into_view_if_needed()
        tour.shot(visitor, "register-sliding-scale")
        visitor.click("button:has-text('Register')")

        # 3. Pays by card. The fake Stripe.js ignores what is typed: the card is attached on
        # the server, as docs/stripe-testing.md explains; the page then finishes the payment.
        visitor.wait_for_url("**/registrations/*/pay")
        visitor.wait_for_selector("#card-element input[placeholder=number]")
        for name, value in [("number", THREE_D_SECURE), ("exp_month", "12"), ("exp_year", "30"),
                            ("cvc", "123")]:  # fmt: skip
            visitor.fill(f"#card-element input[placeholder={name}]", value)
        db.session.expire_all()
        registration = db.session.scalar(
            sa.select(Registration).where(Registration.ticket_option_id == sliding)
        )
        assert (registration.status, registration.amount_minor) == ("held", 1500)
        waiting = pay(payments.gateway(), localstripe, registration.payment_intent_id,
                      THREE_D_SECURE)  # fmt: skip
        assert waiting.status == "requires_action"
        tour.shot(visitor, "pay-by-card")
        visitor.click("#pay-button")
        visitor.click("text=Complete authentication")
        visitor.wait_for_url(f"**/registrations/{registration.id}")
        visitor.wait_for_selector("text=Paid, thank you: your place is confirmed.")
        assert "EUR 15.00" in visitor.text_content(".receipt")
        visitor.locator(".ticket-code").scroll_into_view_if_needed()
        tour.shot(visitor, "confirmed-with-ticket")
        token = visitor.get_attribute("a:has-text('Open the ticket')", "href").rsplit("/", 1)[-1]

        # 4. Signs the agreement with a drawn signature.
        visitor.click(".to-sign a:has-text('Read and sign')")
        visitor.wait_for_selector("#signature-pad")
        visitor.fill("#typed_name", VISITOR["name"])
        draw_signature(visitor)
        visitor.check("#consent")
        tour.shot(visitor, "sign-agreement")
        visitor.click("button:has-text('Sign')")
        visitor.wait_for_selector("text=Signed. Thank you.")
        assert visitor.locator(".checklist li.done").count() == 1

        # 5. Boundaries for this gathering, then a private do-not-pair request for Dana.
        visitor.click("a:has-text('boundaries for this gathering')")
        visitor.check("input[name=touch][value='0']")
        visitor.check("input[name=eye_contact][value='2']")
        visitor.fill("#note", "First time; I may need a moment to settle.")
        visitor.click("button:has-text('Save')")
        visitor.wait_for_selector("text=Your boundaries are saved.")
        tour.shot(visitor, "boundaries")
        dana = stage.others[0]
        visitor.goto(url + "/account/do-not-pair")
        visitor.fill("#email", dana.email)
        visitor.fill("#reason", "We have history; I would rather not sit across from her.")
        visitor.click("button:has-text('Save')")
        visitor.wait_for_selector("text=You will not be paired with this person")
        tour.shot(visitor, "do-not-pair")

        # 6. At the door: the volunteer logs in and the desk's camera reads the ticket.
        qr_video(f"GW1:{token}", video)
        desk = context(browser, offline, url, **PHONE).new_page()
        log_in(desk, url, stage.door.email, PASSWORD, f"/desk/{gathering.id}")
        desk.wait_for_selector(
            f"#card-name:has-text('{VISITOR['name']}')", timeout=PATIENCE_S * 1000
        )
        assert desk.text_content("[data-decision]").strip() == "Admit"
        desk.click("button.desk-admit-button")
        desk.wait_for_selector(f"text=Checked in: {VISITOR['name']}")
        assert desk.text_content("[data-count=checked_in]").strip() == "6"
        tour.shot(desk, "door-scan")

        # 7. The facilitator prepares two rounds and opens the console and the projector.
        console = context(browser, offline, url, **WIDE).new_page()
        log_in(console, url, stage.facilitator.email, PASSWORD, f"/gatherings/{gathering.id}/live")
        console.select_option("#exercise_id", label="Eye-gazing rotation")
        console.fill("#rounds", "2")
        console.click("button:has-text('Prepare and open the console')")
        console.wait_for_url("**/live/*/console")
        console.wait_for_selector("#conn:text('Connected')")
        run_id = int(console.url.rstrip("/").split("/")[-2])
        projector = context(browser, offline, url, **WIDE).new_page()
        projector.goto(console.get_attribute("#projector-link", "href"))
        projector.wait_for_selector("#join:not([hidden])")
        code = projector.text_content(".p-code").strip()
        tour.shot(projector, "projector-join-code")

        # 8. Six phones join with the code on the projector: the visitor's and five others'.
        phones = {VISITOR["display_name"]: visitor}
        for person in stage.others:
            phones[person.display_name] = context(
                browser, offline, url, pg_app, person, **PHONE
            ).new_page()
        for page in phones.values():
            page.goto(f"{url}/join/{code}")
            page.wait_for_url(f"**/live/{run_id}")
            page.click("#join-btn")
            page.wait_for_selector("#partner-card[data-state=waiting]")
        console.wait_for_function("() => document.querySelectorAll('#present li').length === 6")
        names = {person.id: person.display_name for person in stage.others}
        names[registration.user_id] = VISITOR["display_name"]
        # The control: a seed with which, but for the request, round 1 would pair Sam and Dana.
        choose_revealing_seed(run_id, registration.user, dana)

        # 9. Two rounds: every phone shows its partner; Sam never sits with Dana.
        console.click('[data-action="start"]')
        console.wait_for_selector("#phase-name:text('Arrive')")
        seen = []
        for round_number in (1, 2):
            index, groups = groups_by_round(run_id)[-1]
            assert index == round_number - 1
            stored = [{names[uid] for uid in group} for group in groups]
            assert len(stored) == 3 and set().union(*stored) == set(phones), stored
            # What the screens show: the projector's table and each phone's partner.
            wait_for_round(projector, phones, round_number, stored)
            shown = [
                {m.rsplit(" (", 1)[0] for m in text.split("  ·  ")}
                for text in projector.locator(".p-pair .p-names").all_text_contents()
            ]
            assert pairs_key(shown) == pairs_key(stored)
            assert {"Sam", "Dana"} not in shown
            assert phones["Sam"].text_content("#partner") != "Dana"
            assert phones["Dana"].text_content("#partner") != "Sam"
            seen.append(shown)
            if round_number == 1:
                next_phase(console, "Gaze")
                for screen in (projector, visitor):
                    screen.wait_for_selector("#phase-name:text('Gaze')")
                tour.shot(console, "console-round-1")
                tour.shot(projector, "projector-round-1")
                tour.shot(visitor, "phone-round-1")
                for name in (*PHASES[1:], "Arrive"):
                    next_phase(console, name)
                console.wait_for_selector("#round:text('Round 2 of 2')")
            else:
                tour.shot(projector, "projector-round-2")
                tour.shot(visitor, "phone-round-2")
        assert seen[0] != seen[1]  # the rotation moved people on
        for name in PHASES:
            next_phase(console, name)
        console.click('[data-action="next_phase"]')
        console.wait_for_selector("#round:text('Finished')")
        visitor.wait_for_selector("#spot:text('This exercise has ended.')")

        # 10. Afterwards the organiser reads the attendance report and the registrations.
        office = context(browser, offline, url, **WIDE).new_page()
        report_path = f"/manage/gatherings/{gathering.id}/report"
        log_in(office, url, stage.organiser.email, PASSWORD, report_path)
        assert office.text_content("[data-figure=checked-in]").strip() == "6"
        assert office.text_content("[data-figure=no-shows]").strip() == "0"
        assert office.text_content("[data-revenue='Sliding scale']").strip() == "EUR 15.00"
        sam_row = office.locator(".report-people tr", has_text=VISITOR["email"])
        assert sam_row.locator("td").nth(3).text_content().strip() != "—"
        tour.shot(office, "attendance-report", full_page=True)
        office.click("nav.tabs a:has-text('Registrations')")
        office.wait_for_selector("table.registrations")
        row = office.locator(f"#registration-{registration.id}")
        assert "Paid" in row.text_content() and "EUR 15.00" in row.text_content()
        tour.shot(office, "registrations-and-revenue", full_page=True)

    assert offline.blocked == []
    # The same story, from the database.
    db.session.expire_all()
    registration = db.session.get(Registration, registration.id)
    sam = registration.user
    assert (sam.email, sam.display_name) == (VISITOR["email"], VISITOR["display_name"])
    assert (registration.status, registration.amount_paid_minor) == ("confirmed", 1500)
    assert db.session.scalar(sa.select(Signature.signature_png).where(Signature.user_id == sam.id))
    requests = db.session.scalars(
        sa.select(DoNotPairRequest).where(DoNotPairRequest.requester_id == sam.id)
    ).all()
    assert len(requests) == 1 and requests[0].withdrawn_at is None
    scans = db.session.scalars(sa.select(CheckIn).where(CheckIn.registration_id == registration.id))
    assert [c.method for c in scans] == ["scan"]
    stored = groups_by_round(run_id)
    assert [index for index, _ in stored] == [0, 1]
    for _, groups in stored:
        assert any(sam.id in g for g in groups) and any(dana.id in g for g in groups)
        assert not any({sam.id, dana.id} <= g for g in groups)
    assert rests_of(run_id) == []
    tour.publish()

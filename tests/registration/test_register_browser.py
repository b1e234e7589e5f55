"""Register on a sliding scale and pay by card in a real browser, through localstripe's fake
Stripe.js, with every other origin blocked (the venue may have no internet)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
import sqlalchemy as sa

from facilitation.accounts.models import Role
from facilitation.extensions import db
from facilitation.registration import payments
from facilitation.registration.models import Registration
from tests.browser import ARTIFACTS, Offline, chromium_or_skip, launched
from tests.factories import make_gathering, make_user
from tests.registration.factories import make_option
from tests.registration.helpers import sent
from tests.registration.stripe_helpers import pay, server_process

AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
#: A card that needs 3-D Secure: the fake Stripe.js can only finish such a payment.
THREE_D_SECURE = "4000002760003184"


def axe_violations(page) -> list[str]:
    """Return the ids of the accessibility rules axe-core finds broken on the page."""
    page.evaluate(AXE.read_text())  # not a <script> tag: the CSP refuses inline scripts
    return page.evaluate("async () => (await axe.run()).violations.map(v => v.id)")


def cookie(app, user) -> str:
    """Return a session cookie that logs ``user`` in."""
    serializer = app.session_interface.get_signing_serializer(app)
    return serializer.dumps({"_user_id": str(user.id), "_fresh": False})


@pytest.fixture
def server(browser_app, localstripe, tmp_path):
    chromium_or_skip()
    with server_process(browser_app, localstripe, tmp_path) as process:
        yield process


def test_sliding_scale_registration_and_card_payment(browser_app, server, localstripe):
    organiser = make_user(Role.ORGANISER)
    gathering = make_gathering(organiser, title="Eye-gazing evening", capacity=12)
    make_option(gathering, "free", name="Scholarship place", guidance="If money is tight.")
    sliding = make_option(
        gathering,
        "sliding",
        name="Sliding scale",
        guidance="Pay what fits your means; the suggested amount covers the room.",
    )
    person = make_user(name="Sam Rivers")
    db.session.commit()
    shots = ARTIFACTS / "registration"
    shots.mkdir(parents=True, exist_ok=True)
    offline = Offline(server.url, allow=(localstripe.api_base + "/",))
    with launched() as browser:
        context = browser.new_context(viewport={"width": 900, "height": 1000})  # type: ignore[attr-defined]
        offline.attach(context)
        context.add_cookies(
            [{"name": "session", "value": cookie(browser_app, person), "url": server.url}]
        )
        page = context.new_page()
        page.goto(f"{server.url}/gatherings/{gathering.id}")
        assert page.input_value(f"#amount_{sliding.id}") == "20.00"  # the suggested amount
        page.check(f"input[name=option_id][value='{sliding.id}']")
        page.fill(f"#amount_{sliding.id}", "18.50")
        page.screenshot(path=str(shots / "register.png"), full_page=True)
        assert axe_violations(page) == []
        page.click("button:has-text('Register')")

        page.wait_for_url("**/registrations/*/pay")
        page.wait_for_selector("#card-element input[placeholder=number]")
        page.wait_for_selector(".hold-left:has-text('left')")
        assert page.is_enabled("#pay-button")
        for name, value in [("number", "4000002760003184"), ("exp_month", "12")]:
            page.fill(f"#card-element input[placeholder={name}]", value)
        page.fill("#card-element input[placeholder=exp_year]", "30")
        page.fill("#card-element input[placeholder=cvc]", "123")

        # The fake Stripe.js ignores the typed card: the card needing 3-D Secure is attached on
        # the server, as docs/stripe-testing.md explains; the page then finishes the payment.
        db.session.expire_all()
        registration = db.session.scalar(sa.select(Registration))
        assert (registration.status, registration.amount_minor) == ("held", 1850)
        waiting = pay(
            payments.gateway(), localstripe, registration.payment_intent_id, THREE_D_SECURE
        )
        assert waiting.status == "requires_action"
        page.screenshot(path=str(shots / "pay.png"), full_page=True)

        page.click("#pay-button")
        page.click("text=Complete authentication")
        page.wait_for_url(f"**/registrations/{registration.id}")
        page.wait_for_selector("text=Paid, thank you: your place is confirmed.")
        assert page.text_content("h1") == "You're coming"
        assert "EUR 18.50" in page.text_content(".receipt")
        page.screenshot(path=str(shots / "confirmed.png"), full_page=True)
        assert axe_violations(page) == []

    assert offline.blocked == []
    db.session.expire_all()
    registration = db.session.get(Registration, registration.id)
    assert registration.status == "confirmed" and registration.amount_paid_minor == 1850
    assert len(sent("registration_confirmed", person.email)) == 1
    docs = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
    # Only when asked: a test run must not rewrite tracked files.
    if os.environ.get("GATHERWELL_WRITE_SCREENSHOTS") == "1" and docs.is_dir():
        shutil.copy(shots / "pay.png", docs / "registration-pay.png")

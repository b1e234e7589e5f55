"""The Content-Security-Policy in a real browser: the pages that run scripts work under it and
Chromium reports no violation (card form on localstripe, signing pad, signature image, phone
over a same-origin WebSocket, projector, check-in desk)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from facilitation.accounts.models import Role
from facilitation.core.clock import utcnow
from facilitation.exercises import services as exercises
from facilitation.extensions import db
from facilitation.registration import payments
from facilitation.registration.models import Registration
from tests.browser import Offline, chromium_or_skip, launched
from tests.consent.factories import make_agreement, sign
from tests.exercises.live_helpers import eye_gazing
from tests.factories import make_gathering, make_user
from tests.registration.factories import make_option
from tests.registration.stripe_helpers import pay, server_process

#: Collects every CSP violation the page reports; Playwright adds it outside the page's CSP.
LISTEN = """
window.__csp = [];
document.addEventListener("securitypolicyviolation", function (e) {
  window.__csp.push(e.violatedDirective + " " + (e.blockedURI || "inline"));
});
"""
#: A card that needs 3-D Secure: the fake Stripe.js can only finish such a payment.
THREE_D_SECURE = "4000002760003184"


def cookie(app, user) -> str:
    """Return a session cookie that logs ``user`` in."""
    serializer = app.session_interface.get_signing_serializer(app)
    return serializer.dumps({"_user_id": str(user.id), "_fresh": False})


@pytest.fixture
def server(browser_app, localstripe, tmp_path) -> Iterator[object]:
    """Run the real server on the browser app's database, with cards on localstripe."""
    chromium_or_skip()
    with server_process(browser_app, localstripe, tmp_path) as process:
        yield process


class Screens:
    """Open pages as a given person, collecting CSP violations and console complaints."""

    def __init__(self, browser, app, server, offline) -> None:
        self.browser, self.app, self.server, self.offline = browser, app, server, offline
        self.console: list[str] = []
        self.pages: list[object] = []

    def page_for(self, user):  # type: ignore[no-untyped-def]
        """Return a new page whose context is logged in as ``user``."""
        context = self.browser.new_context()
        self.offline.attach(context)
        context.add_init_script(LISTEN)
        context.add_cookies(
            [{"name": "session", "value": cookie(self.app, user), "url": self.server.url}]
        )
        page = context.new_page()
        page.on(
            "console",
            lambda m: self.console.append(m.text) if "Content Security Policy" in m.text else None,
        )
        self.pages.append(page)
        return page

    def violations(self) -> list[str]:
        """Return what every open page reported."""
        found = [v for page in self.pages for v in page.evaluate("window.__csp || []")]
        return found + self.console


def test_the_listener_sees_a_violation(browser_app, server, localstripe):
    """Negative control: an inline script added to a page is refused and reported."""
    person = make_user()
    db.session.commit()
    with launched() as browser:
        screens = Screens(browser, browser_app, server, Offline(server.url))
        page = screens.page_for(person)
        page.goto(f"{server.url}/account")
        page.evaluate(
            """() => { const s = document.createElement("script");
            s.textContent = "window.ran = 1"; document.body.appendChild(s); }"""
        )
        page.wait_for_function("window.__csp.length > 0")
        assert page.evaluate("window.ran") is None
        assert any(v.startswith("script-src") for v in screens.violations())


def test_pages_with_scripts_work_under_the_policy(browser_app, server, localstripe):
    organiser = make_user(Role.ORGANISER)
    facilitator = make_user(Role.FACILITATOR)
    door = make_user(Role.DOOR)
    person = make_user(name="Sam Rivers")
    gathering = make_gathering(organiser, capacity=10, facilitator_ids=[facilitator.id])
    option = make_option(gathering, "fixed")
    agreement = make_agreement(organiser)
    signed_agreement = make_agreement(organiser, body="I look after myself.")
    signature = sign(person, signed_agreement)
    run = exercises.create_run(facilitator, gathering, eye_gazing(), now=utcnow(), seed=5)
    # The person joins from the phone below, once their paid registration admits them.
    db.session.commit()
    offline = Offline(server.url, allow=(localstripe.api_base + "/",))

    with launched() as browser:
        screens = Screens(browser, browser_app, server, offline)

        # The card page: Stripe.js from localstripe mounts, pays with 3-D Secure, returns.
        page = screens.page_for(person)
        page.goto(f"{server.url}/gatherings/{gathering.id}")
        page.check(f"input[name=option_id][value='{option.id}']")
        page.click("button:has-text('Register')")
        page.wait_for_url("**/registrations/*/pay")
        page.wait_for_selector("#card-element input[placeholder=number]")
        db.session.expire_all()
        registration = db.session.scalar(sa.select(Registration))
        waiting = pay(
            payments.gateway(), localstripe, registration.payment_intent_id, THREE_D_SECURE
        )
        assert waiting.status == "requires_action"
        page.click("#pay-button")
        page.click("text=Complete authentication")
        page.wait_for_selector("text=Paid, thank you: your place is confirmed.")

        # The signing page: the pad draws on a canvas and fills the hidden field.
        page.goto(f"{server.url}/agreements/{agreement.id}/sign")
        box = page.locator("#signature-pad").bounding_box()
        page.mouse.move(box["x"] + 20, box["y"] + 20)
        page.mouse.down()
        page.mouse.move(box["x"] + 200, box["y"] + 80, steps=8)
        page.mouse.up()
        assert page.evaluate(
            "document.getElementById('signature').value.startsWith('data:image/png')"
        )

        # The signed record shows the drawn signature as a data: image.
        page.goto(f"{server.url}/signatures/{signature.id}")
        page.wait_for_load_state("load")  # images have loaded, or failed, by now
        assert page.evaluate("document.querySelector('img.signature-image').naturalWidth") > 0

        # The phone: Socket.IO over a same-origin WebSocket (connect-src 'self').
        phone = screens.page_for(person)
        with phone.expect_websocket() as opened:
            phone.goto(f"{server.url}/live/{run.id}")
        socket = opened.value
        assert socket.url.startswith(server.url.replace("http://", "ws://") + "/socket.io/")
        socket.wait_for_event("framereceived")
        assert not socket.is_closed()

        # The projector (server-side SVG QR code) and the console.
        projector = screens.page_for(facilitator)
        projector.goto(f"{server.url}/live/{run.id}/projector/{run.projector_token}")
        projector.wait_for_selector("svg")
        console = screens.page_for(facilitator)
        console.goto(f"{server.url}/live/{run.id}/console")
        console.wait_for_selector("#conn:text('Connected')")

        # The desk: jsQR and the desk script load.
        desk = screens.page_for(door)
        desk.goto(f"{server.url}/desk/{gathering.id}")
        desk.wait_for_function("typeof window.jsQR === 'function'")

        assert screens.violations() == []
    assert offline.blocked == []

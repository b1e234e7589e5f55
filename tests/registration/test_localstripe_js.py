"""What localstripe's fake Stripe.js does in a real browser: the contract our payment page meets.

See docs/stripe-testing.md. The page is served from another loopback origin, as ours will be.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import stripe

from facilitation.registration.payments import StripeGateway
from tests.browser import launched
from tests.live_server import PATIENCE_S
from tests.stripe_server import PUBLISHABLE_KEY, SECRET_KEY

PAGE = """<!doctype html><html><body><form><div id="card"></div></form>
<script src="{js_url}"></script>
<script>
const stripe = Stripe("{publishable_key}");
const card = stripe.elements().create("card", {{hidePostalCode: true}});
card.mount("#card");
window.result = null;
window.pay = (secret) => {{
  window.result = null;
  stripe.confirmCardPayment(secret, {{payment_method: {{card}}}})
    .then((r) => {{ window.result = r; }});
}};
window.token = () => stripe.createToken(card);
window.paymentMethod = () => stripe.createPaymentMethod({{type: "card", card}});
</script></body></html>"""


@pytest.fixture(scope="module")
def page(localstripe) -> Iterator[object]:
    """Give a browser page that loaded the fake Stripe.js and mounted its card field."""
    html = PAGE.format(js_url=localstripe.js_url, publishable_key=PUBLISHABLE_KEY).encode()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.end_headers()
            self.wfile.write(html)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        with launched() as browser:
            page = browser.new_page()  # type: ignore[attr-defined]
            page.goto(f"http://127.0.0.1:{server.server_address[1]}/")
            yield page
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="module")
def gateway(localstripe) -> StripeGateway:
    """Give a gateway pointed at localstripe."""
    return StripeGateway.from_config(localstripe.app_config())


def waiting_for_3d_secure(gateway: StripeGateway, localstripe, number: str) -> str:
    """Return the client secret of an intent that waits for 3-D Secure in the browser."""
    sdk = stripe.StripeClient(SECRET_KEY, base_addresses={"api": localstripe.api_base})
    details = {"number": number, "exp_month": 12, "exp_year": 2030, "cvc": "123"}
    method = sdk.v1.payment_methods.create(params={"type": "card", "card": details})
    intent = gateway.create_payment_intent(
        1500, "gbp", registration_id=3, idempotency_key=f"js-{method.id}", description="d"
    )
    confirmed = gateway.confirm_payment_intent(intent.id, method.id, idempotency_key=method.id)
    assert confirmed.status == "requires_action"
    return str(intent.client_secret)


def pay(page, secret: str, button: str | None) -> dict:
    """Call confirmCardPayment, answer the fake 3-D Secure dialog, return what it resolved to."""
    page.evaluate("(secret) => pay(secret)", secret)
    if button:
        page.click(f"text={button}")
    page.wait_for_function("window.result !== null", timeout=PATIENCE_S * 1000)
    return page.evaluate("window.result")


def test_card_field_is_five_plain_inputs(page):
    placeholders = page.eval_on_selector_all("#card input", "els => els.map(e => e.placeholder)")
    assert placeholders == ["number", "exp_month", "exp_year", "cvc", "postal_code"]
    for name, value in [("number", "4242424242424242"), ("exp_month", "12"), ("exp_year", "30")]:
        page.fill(f"#card input[placeholder={name}]", value)
    page.fill("#card input[placeholder=cvc]", "123")
    assert page.evaluate("token()")["token"]["id"].startswith("tok_")
    assert page.evaluate("paymentMethod()") is None  # a stub in the fake


def test_confirm_completes_an_intent_waiting_for_3d_secure(page, gateway, localstripe):
    secret = waiting_for_3d_secure(gateway, localstripe, "4000002760003184")
    result = pay(page, secret, "Complete authentication")
    assert result["paymentIntent"]["status"] == "succeeded"


def test_failed_authentication_resolves_without_an_error(page, gateway, localstripe):
    secret = waiting_for_3d_secure(gateway, localstripe, "4000002760003184")
    result = pay(page, secret, "Fail authentication")
    assert "error" not in result
    assert result["paymentIntent"]["status"] == "requires_payment_method"


def test_declined_card_after_3d_secure_is_an_error(page, gateway, localstripe):
    secret = waiting_for_3d_secure(gateway, localstripe, "4000008260003178")
    result = pay(page, secret, "Complete authentication")
    assert result["error"]["code"] == "card_declined"


def test_confirm_ignores_the_card_field(page, gateway):
    """The fake never reads the card: an intent without a payment method cannot be paid."""
    intent = gateway.create_payment_intent(
        1500, "gbp", registration_id=3, idempotency_key="js-no-method", description="d"
    )
    result = pay(page, str(intent.client_secret), "Complete authentication")
    assert result["error"]["message"] == "Bad request"

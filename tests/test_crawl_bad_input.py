"""Send bad input to every route: huge ids, NUL bytes, oversized bodies. None may give a 5xx.

Every rule in ``app.url_map`` is tried with each method it answers (GET, POST, PATCH,
DELETE), as a guest and as the organiser (cookie for pages, bearer token for the API):

- 2**31 and 2**63 in each ``<int:...>`` argument (the other arguments real);
- a NUL byte in the query string and in every form field any form of the app has;
- numbers past the databases' integer range in the same query and form fields;
- a body over ``MAX_CONTENT_LENGTH``.

Each answer must be below 500, JSON under /api and the HTML error page elsewhere (when it
is an error), and carry the security headers.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from flask import Flask
from flask.testing import FlaskClient
from flask_wtf import FlaskForm
from werkzeug.routing import Rule
from werkzeug.routing.converters import AnyConverter, IntegerConverter, PathConverter
from wtforms.fields.core import UnboundField

import facilitation
from tests.test_crawl_headers import (
    HTTP_BASE,
    UNKNOWN_PATH,
    World,
    build_world,
    forget_loaded_user,
    log_in_as,
)

HUGE_IDS = (2**31, 2**63)
NUL = "bad\x00value"
#: Query parameters the app's views read (a NUL or huge number in any of them must be refused).
QUERY_NAMES = (
    "q",
    "status",
    "show",
    "gathering",
    "next",
    "anonymous",
    "payment_intent",
    "limit",
    "offset",
)
#: Form fields read straight from ``request.form`` rather than through a form class.
RAW_FORM_NAMES = ("code", "registration_id", "method", "amount", "request_id", "option_id")
ROLES = ("anonymous", "organiser")
#: A huge id names nothing: 404, or 405 where the API's catch-all rule takes the path.
NOT_THERE = (404, 405)
#: A marker of templates/error.html.
ERROR_PAGE = '<p class="eyebrow">'
#: Answers above 499 that are right; each says why. Keep this list short.
EXPECTED_5XX = {
    ("/payments/stripe/webhook", 503): "card payments are off in the tests: Stripe retries later",
}
SECURITY_HEADERS = (
    "Content-Security-Policy",
    "X-Content-Type-Options",
    "Referrer-Policy",
    "X-Frame-Options",
)


@dataclass(frozen=True)
class Probe:
    """One bad request: what it tries, where, and with what."""

    what: str
    method: str
    url: str
    #: The statuses this probe may get; empty: any below 500 (a 4xx, or input ignored).
    expect: tuple[int, ...] = ()
    query: dict[str, str] | None = None
    form: dict[str, str] | None = None
    body: bytes | None = None


def form_field_names() -> list[str]:
    """Return the name of every field of every form class in the app, and the raw ones."""
    for module in pkgutil.walk_packages(facilitation.__path__, "facilitation."):
        if module.name.endswith(".forms"):
            importlib.import_module(module.name)
    names = set(RAW_FORM_NAMES)
    pending = list(FlaskForm.__subclasses__())
    while pending:
        form = pending.pop()
        pending += form.__subclasses__()
        names |= {n for n in dir(form) if isinstance(getattr(form, n, None), UnboundField)}
    return sorted(names)


def argument_values(rule: Rule, world: World) -> dict[str, object]:
    """Return a real (or harmless) value for each argument of ``rule``."""
    values: dict[str, object] = {}
    for name, converter in sorted(rule._converters.items()):
        if isinstance(converter, AnyConverter):
            values[name] = sorted(converter.items)[0]
        elif isinstance(converter, PathConverter):
            values[name] = UNKNOWN_PATH
        elif isinstance(converter, IntegerConverter):
            values[name] = world.ids.get(name, 1)
        else:
            values[name] = world.tokens.get(rule.endpoint, world.tokens.get(name, "unknown"))
    if "item_id" in values and "kind" in values:
        values["item_id"] = world.kinds[str(values["kind"])]
    return values


def probes_for(rule: Rule, world: World, fields: list[str], oversized: bytes) -> Iterator[Probe]:
    """Yield the bad requests to send to ``rule``."""
    values = argument_values(rule, world)

    def url(**changed: object) -> str:
        return rule.build({**values, **changed}, append_unknown=False)[1]  # type: ignore[index]

    methods = sorted((rule.methods or set()) - {"HEAD", "OPTIONS"})
    ints = [n for n, c in rule._converters.items() if isinstance(c, IntegerConverter)]
    for method in methods:
        for name in ints:
            for huge in HUGE_IDS:
                yield Probe(f"<{name}>={huge}", method, url(**{name: huge}), NOT_THERE)
        nul_query = dict.fromkeys(QUERY_NAMES, NUL)
        yield Probe("NUL in the query", method, url(), (400,), query=nul_query)
        huge_query = dict.fromkeys(QUERY_NAMES, str(2**63))
        yield Probe("huge number in the query", method, url(), query=huge_query)
        if method == "GET":
            continue
        yield Probe("NUL in form fields", method, url(), (400,), form=dict.fromkeys(fields, NUL))
        huge_form = dict.fromkeys(fields, str(2**31))
        yield Probe("huge number in form fields", method, url(), form=huge_form)
        yield Probe("oversized body", method, url(), (413,), body=oversized)


def send(client: FlaskClient, probe: Probe, headers: dict[str, str]) -> object:
    """Send one probe and return the response."""
    forget_loaded_user()
    if probe.body is not None:
        return client.open(
            probe.url,
            method=probe.method,
            data=probe.body,
            content_type="application/x-www-form-urlencoded",
            base_url=HTTP_BASE,
            headers=headers,
        )
    return client.open(
        probe.url,
        method=probe.method,
        query_string=probe.query,
        data=probe.form,
        base_url=HTTP_BASE,
        headers=headers,
    )


def problems_with(response, probe: Probe) -> list[str]:  # type: ignore[no-untyped-def]
    """Return what is wrong with the answer to one probe."""
    found = []
    status = response.status_code
    if (probe.url, status) in EXPECTED_5XX:
        return found
    if status >= 500:
        found.append(f"status {status}")
    elif probe.expect and status not in probe.expect:
        found.append(f"status {status}, not {probe.expect}")
    missing = [h for h in SECURITY_HEADERS if h not in response.headers]
    if missing:
        found.append(f"no {', '.join(missing)}")
    if status < 400:
        return found
    json_error = response.is_json and "error" in (response.get_json(silent=True) or {})
    if probe.url.startswith("/api/"):
        if not json_error:
            found.append(f"not a JSON error but {response.mimetype}")
    elif response.mimetype != "text/html":
        found.append(f"not HTML but {response.mimetype}")
    elif probe.expect and ERROR_PAGE not in response.get_data(as_text=True):
        found.append("not the error page")
    return found


def crawl(app: Flask, world: World, role: str) -> tuple[int, list[str]]:
    """Send every probe to every rule as ``role``; return how many were sent, and failures."""
    fields = form_field_names()
    oversized = b"x=" + b"y" * int(app.config["MAX_CONTENT_LENGTH"])
    client = app.test_client()
    user = world.users.get(role)
    secret = world.api_secrets.get(role)
    sent, failures = 0, []
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        api = rule.rule.startswith("/api/")
        headers = {"Authorization": f"Bearer {secret}"} if api and secret else {}
        for probe in probes_for(rule, world, fields, oversized):
            log_in_as(client, user)  # a probe may have logged out (or erased) the account
            response = send(client, probe, headers)
            sent += 1
            failures += [
                f"{role} {probe.method} {probe.url} ({probe.what}) -> "
                f"{response.status_code}: {problem}"
                for problem in problems_with(response, probe)
            ]
            response.close()
    return sent, failures


@pytest.fixture
def world(app) -> World:
    """Give the crawl's data."""
    return build_world()


@pytest.mark.parametrize("role", ROLES)
def test_bad_input_to_every_route_gets_a_clear_4xx(app, world, role, monkeypatch):
    # Handled as in production: an unexpected error becomes the 500 page, not a test error.
    monkeypatch.setitem(app.config, "PROPAGATE_EXCEPTIONS", False)
    sent, failures = crawl(app, world, role)
    assert not failures, f"{len(failures)} of {sent} probes failed:\n" + "\n".join(failures)
    assert sent > 500  # the crawl really reached the routes


def test_the_crawl_knows_the_forms_fields():
    """Negative control: the field list comes from the form classes, not only the raw names."""
    names = form_field_names()
    assert {"email", "password", "title"} <= set(names)

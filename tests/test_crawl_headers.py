"""Crawl every GET route as a guest and as each role; check the security headers everywhere.

Every rule in ``app.url_map`` that answers GET is visited with real ids. A rule with an
argument this module cannot fill fails the test, so a new route is never skipped silently:
add its argument to ``fill`` below.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import time, timedelta
from typing import Any

import pytest
from flask import Flask, g
from flask.testing import FlaskClient
from werkzeug.routing import Map, Rule
from werkzeug.routing.converters import AnyConverter, PathConverter

from facilitation.accounts import services as accounts
from facilitation.accounts.models import Role, User
from facilitation.attendance import tickets
from facilitation.consent import safety
from facilitation.core.clock import utcnow
from facilitation.core.security import PUBLIC_ENDPOINTS
from facilitation.exercises import exercise_services, participants
from facilitation.exercises import services as exercises
from facilitation.extensions import db
from facilitation.gatherings import services as gatherings
from facilitation.messaging import services as messaging
from tests.attendance.factories import check_in, door_volunteer, require_agreement
from tests.consent.factories import sign
from tests.exercises.live_helpers import eye_gazing
from tests.factories import details, make_gathering, make_user
from tests.registration.factories import (
    make_code,
    make_option,
    make_question,
    make_role,
    register,
)

HTTP_BASE = "http://gatherwell.test"
HTTPS_BASE = "https://gatherwell.test"
INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.IGNORECASE)
EVENT_HANDLER = re.compile(r"<[^>]+\son[a-z]+\s*=", re.IGNORECASE)
STYLE_ATTRIBUTE = re.compile(r"<[^>]+\sstyle\s*=", re.IGNORECASE)
STYLE_ELEMENT = re.compile(r"<style[\s>]", re.IGNORECASE)
#: Rules no role can open with the data below; each says why. Keep this list short.
NEVER_OPEN: dict[str, str] = {
    "/api/<path:rest>": "the API's catch-all: a JSON 404 or 405 by design",
}
#: What fills ``<path:...>`` arguments: a path that names nothing.
UNKNOWN_PATH = "no/such/thing"


@dataclass
class World:
    """The data the crawl needs: one of everything, and who is who."""

    users: dict[str, User]
    ids: dict[str, int]
    tokens: dict[str, str]
    kinds: dict[str, int]
    #: Bearer secrets of the JSON API, per role (empty while the API has no tokens).
    api_secrets: dict[str, str] = field(default_factory=dict)


@dataclass
class Visit:
    """One request of the crawl and what came back."""

    role: str
    rule: str
    url: str
    status: int
    headers: dict[str, str]
    mimetype: str
    body: str = field(repr=False)


def build_world() -> World:
    """Create an organiser, facilitator, door volunteer, participant and what they touch."""
    now = utcnow()
    organiser = make_user(Role.ORGANISER, name="Olive Organiser")
    facilitator = make_user(Role.FACILITATOR, name="Fred Facilitator")
    door = door_volunteer()
    participant = make_user(name="Pat Participant")
    other = make_user(name="Oscar Other")
    gathering = make_gathering(organiser, facilitator_ids=[facilitator.id])
    option = make_option(gathering, "free")
    code = make_code(gathering)
    agreement = require_agreement(gathering)
    signature = sign(participant, agreement)
    registration = register(participant, gathering, option)
    question = make_question(gathering)
    pairing_role = make_role(gathering, "Leader")
    ticket = tickets.ticket_for(registration, now)
    outcome = check_in(door, gathering, registration)
    run = exercises.create_run(facilitator, gathering, eye_gazing(now), now=now, seed=3)
    participants.join_run(run, participant, now=now)
    exercise = exercise_services.copy_exercise(organiser, eye_gazing(now), now=now)
    series = gatherings.create_series(
        organiser,
        details(title="Weekly circle"),
        gatherings.Recurrence("weekly", (now + timedelta(days=14)).date(), time(19), 90, None, 3),
        publish_now=True,
        now=now,
    )
    ban = safety.ban(organiser, other, "Crossed a stated boundary twice.", now=now)
    report = safety.report_incident(
        participant, "Someone did not stop when asked.", now=now, gathering_id=gathering.id
    )
    message = messaging.queue(participant.email, "Hello", "Body", "crawl")
    users = {
        "participant": participant,
        "door": door,
        "facilitator": facilitator,
        "organiser": organiser,
    }
    api_secrets = issue_api_tokens(users, now)
    db.session.commit()
    return World(
        users=users,
        ids={
            "gathering_id": gathering.id,
            "registration_id": registration.id,
            "agreement_id": agreement.id,
            "signature_id": signature.id,
            "run_id": run.id,
            "exercise_id": exercise.id,
            "series_id": series.id,
            "ban_id": ban.id,
            "report_id": report.id,
            "message_id": message.id,
            "user_id": participant.id,
            "check_in_id": outcome.check_in.id,
        },
        tokens={
            "attendance.show_ticket": ticket.token,
            "accounts.reset_password": accounts.make_reset_token(participant),
            "live.projector": run.projector_token,
            "code": run.join_code,
        },
        kinds={
            "ticket-options": option.id,
            "codes": code.id,
            "questions": question.id,
            "roles": pairing_role.id,
        },
        api_secrets=api_secrets,
    )


def issue_api_tokens(users: dict[str, User], now: Any) -> dict[str, str]:
    """Give each role a read-and-write API token, once the API has tokens."""
    try:
        from facilitation.api import tokens as api_tokens
    except ImportError:  # the JSON API of issue #8 is not there yet
        return {}
    return {
        role: api_tokens.issue(user, "crawl", {"read", "write"}, now=now).secret
        for role, user in users.items()
    }


def urls_for(rule: Rule, world: World) -> list[str]:
    """Return the URLs to visit for ``rule``; fail on an argument nobody taught us to fill."""
    choices: list[dict[str, Any]] = [{}]
    for name in sorted(rule.arguments):
        converter = rule._converters[name]
        if isinstance(converter, AnyConverter):
            choices = [{**c, name: item} for c in choices for item in sorted(converter.items)]
            continue
        if isinstance(converter, PathConverter):
            choices = [{**c, name: UNKNOWN_PATH} for c in choices]
            continue
        if name == "token":
            value: Any = world.tokens.get(rule.endpoint)
        elif name == "item_id":
            value = None  # filled from the kind below
        else:
            value = world.ids.get(name, world.tokens.get(name))
        if value is None and name != "item_id":
            pytest.fail(
                f"the crawl cannot fill <{name}> of {rule.rule} ({rule.endpoint}): "
                "teach tests/test_crawl_headers.py a value for it"
            )
        choices = [{**c, name: value} for c in choices]
    urls = []
    for values in choices:
        if "item_id" in rule.arguments:
            values["item_id"] = world.kinds[values["kind"]]
        urls.append(rule.build(values, append_unknown=False)[1])  # type: ignore[index]
    return urls


def get_rules(app: Flask) -> list[Rule]:
    """Return every rule that answers GET, except static files (one is checked apart)."""
    rules = [r for r in app.url_map.iter_rules() if "GET" in (r.methods or ())]
    return sorted((r for r in rules if r.endpoint != "static"), key=lambda r: r.rule)


def forget_loaded_user() -> None:
    """Drop the user Flask-Login cached in ``g``.

    The ``app`` fixture keeps one app context open, and requests reuse it, so without this the
    first request's user (or guest) would answer for every later client.
    """
    g.pop("_login_user", None)


def log_in_as(client: FlaskClient, user: User | None) -> None:
    """Put ``user`` in the client's session as Flask-Login does (no password, no limits)."""
    forget_loaded_user()
    with client.session_transaction(base_url=HTTP_BASE) as session:
        session.clear()
        if user is not None:
            session["_user_id"] = str(user.id)
            session["_fresh"] = True


def crawl(app: Flask, world: World, role: str, base: str) -> list[Visit]:
    """Visit every GET rule as ``role`` (``anonymous`` for a guest) over ``base``."""
    client = app.test_client()
    log_in_as(client, world.users.get(role))
    secret = world.api_secrets.get(role)
    visits = []
    for rule in get_rules(app):
        api = rule.endpoint.startswith("api.")
        headers = {"Authorization": f"Bearer {secret}"} if api and secret else {}
        for url in urls_for(rule, world):
            forget_loaded_user()
            response = client.get(url, base_url=base, headers=headers)
            visits.append(
                Visit(
                    role=role,
                    rule=rule.rule,
                    url=url,
                    status=response.status_code,
                    headers=dict(response.headers),
                    mimetype=response.mimetype or "",
                    body=response.get_data(as_text=True)
                    if response.mimetype == "text/html"
                    else "",
                )
            )
            response.close()
    return visits


def csp_directives(value: str) -> dict[str, list[str]]:
    """Parse a Content-Security-Policy header into its directives."""
    parsed: dict[str, list[str]] = {}
    for part in value.split(";"):
        words = part.split()
        if words:
            parsed[words[0]] = words[1:]
    return parsed


def problems_with(visit: Visit, *, logged_in: bool, secure: bool, endpoint: str) -> list[str]:
    """Return what is wrong with one response's headers (and, for HTML, its markup)."""
    found = []
    headers = visit.headers
    if visit.status >= 500:
        found.append(f"status {visit.status}")
    if headers.get("X-Content-Type-Options") != "nosniff":
        found.append("no nosniff")
    if not headers.get("Referrer-Policy"):
        found.append("no Referrer-Policy")
    if ("Strict-Transport-Security" in headers) != secure:
        found.append(f"HSTS {'missing over TLS' if secure else 'sent over plain HTTP'}")
    personal = logged_in or endpoint not in PUBLIC_ENDPOINTS
    if personal and "no-store" not in headers.get("Cache-Control", ""):
        found.append("personal but no Cache-Control: no-store")
    policy = csp_directives(headers.get("Content-Security-Policy", ""))
    if visit.mimetype == "text/html":
        if policy.get("frame-ancestors") != ["'none'"]:
            found.append("CSP without frame-ancestors 'none'")
        scripts = policy.get("script-src", policy.get("default-src", []))
        if not scripts or any(s in scripts for s in ("'unsafe-inline'", "'unsafe-eval'", "*")):
            found.append(f"CSP script-src {scripts}")
        if "'unsafe-inline'" in policy.get("style-src", []):
            found.append("CSP allows inline style")
        for name, pattern in (
            ("inline <script>", INLINE_SCRIPT),
            ("on*= handler", EVENT_HANDLER),
            ("style= attribute", STYLE_ATTRIBUTE),
            ("<style> element", STYLE_ELEMENT),
        ):
            if pattern.search(visit.body):
                found.append(f"{name} in the page: {pattern.search(visit.body).group(0)[:80]}")
    return found


@pytest.fixture
def world(app) -> World:
    """Give the crawl's data."""
    return build_world()


def test_every_get_route_carries_the_security_headers(app, world):
    endpoints = {r.rule: r.endpoint for r in get_rules(app)}
    roles = [("anonymous", HTTP_BASE), ("participant", HTTPS_BASE)]
    roles += [(role, HTTP_BASE) for role in ("door", "facilitator", "organiser")]
    visits: list[Visit] = []
    for role, base in roles:
        visits += crawl(app, world, role, base)

    failures = []
    for visit in visits:
        problems = problems_with(
            visit,
            logged_in=visit.role != "anonymous",
            secure=visit.url.startswith("https") or visit.role == "participant",
            endpoint=endpoints[visit.rule],
        )
        failures += [f"{visit.role} GET {visit.url} ({visit.status}): {p}" for p in problems]
    assert not failures, "\n".join(failures)

    opened = {v.rule for v in visits if v.status < 400}
    never = sorted(set(endpoints) - opened - set(NEVER_OPEN))
    assert not never, f"no role could open these (is the crawl's data right?): {never}"
    html_pages = [v for v in visits if v.mimetype == "text/html" and v.status == 200]
    assert len({v.rule for v in html_pages}) > 40  # the crawl really saw pages, not errors


def test_the_crawl_checks_each_role_it_claims(app, world):
    """The participant crawl is logged in: its ticket page opens, and a guest's does not."""
    ticket_url = f"/t/{world.tokens['attendance.show_ticket']}"
    guest = app.test_client()
    log_in_as(guest, None)
    assert guest.get("/account", base_url=HTTP_BASE).status_code == 302
    member = app.test_client()
    log_in_as(member, world.users["participant"])
    assert member.get("/account", base_url=HTTP_BASE).status_code == 200
    forget_loaded_user()
    assert member.get(ticket_url, base_url=HTTPS_BASE).status_code == 200


def test_a_static_file_is_nosniff_and_cacheable(client):
    response = client.get("/static/css/app.css")
    assert response.status_code == 200
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "no-store" not in response.headers.get("Cache-Control", "")
    assert "Content-Security-Policy" in response.headers
    response.close()


def test_json_download_of_my_data_is_nosniff_and_no_store(app, world):
    client = app.test_client()
    log_in_as(client, world.users["participant"])
    response = client.get("/account/my-data.json", base_url=HTTP_BASE)
    assert response.status_code == 200 and response.is_json
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "no-store" in response.headers["Cache-Control"]


def test_an_unfillable_route_argument_fails_the_crawl(app, world):
    """A new route with an unknown argument is reported, not skipped."""
    rule = Rule("/new-thing/<int:widget_id>", endpoint="new.thing", methods=["GET"])
    Map([rule])  # binds the rule, as the app's map does
    with pytest.raises(pytest.fail.Exception, match="widget_id"):
        urls_for(rule, world)


def test_the_checks_catch_a_bare_response():
    """Negative control: a page without the headers, and with inline code, is reported."""
    visit = Visit(
        role="participant",
        rule="/x",
        url="https://gatherwell.test/x",
        status=200,
        headers={"Content-Type": "text/html"},
        mimetype="text/html",
        body='<p style="color:red" onclick="x()">Hi</p><script>alert(1)</script><style>p{}</style>',
    )
    problems = problems_with(visit, logged_in=True, secure=True, endpoint="x.page")
    assert len(problems) == 10, problems

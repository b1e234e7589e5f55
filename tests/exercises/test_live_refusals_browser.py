"""Refusals in a real browser: each screen says why, and a database outage heals by itself."""

from __future__ import annotations

import pytest
from sqlalchemy.engine import make_url

from facilitation.accounts.models import Role, User
from facilitation.consent import safety
from facilitation.core.clock import utcnow
from facilitation.exercises.models import Run
from facilitation.extensions import db
from tests.browser import Offline, chromium_or_skip, launched
from tests.exercises.live_helpers import command, make_run, session_cookie
from tests.factories import make_user
from tests.faults.helpers import open_browser_phone, server_env
from tests.live_server import BlackholeProxy, LiveClient, ServerProcess

#: Collect every refusal the page's Live object reports, with the retry it scheduled.
RECORD_REFUSALS = "window.refusals = []; Live.instance.on('refused', d => window.refusals.push(d));"
#: Drop the page's connection as a network blip would; socket.io reconnects by itself.
DROP_CONNECTION = "Live.instance.socket.io.engine.close()"


def refusal_text(page, code: str) -> str:
    return page.evaluate("c => Live.REFUSALS[c]", code)


def logged_in(browser, offline, server, app, user):
    """Return a new page of a browser context logged in as ``user``, off the internet."""
    context = browser.new_context()
    offline.attach(context)
    cookie = {"name": "session", "value": session_cookie(app, user), "url": server.url}
    context.add_cookies([cookie])
    return context.new_page()


@pytest.fixture
def proxied(pg_app, postgres_uri, tmp_path):
    """Start a server whose database connections go through a proxy the test can cut."""
    chromium_or_skip()
    url = make_url(postgres_uri)
    proxy = BlackholeProxy(url.port or 5432)
    through = url.set(port=proxy.port).render_as_string(hide_password=False)
    server = ServerProcess(server_env(pg_app, through, tmp_path), log_dir=tmp_path).start()
    yield server, proxy
    server.stop()
    proxy.close()


def test_a_phone_refused_while_the_database_is_away_retries_and_recovers(pg_app, proxied):
    server, database = proxied
    run, facilitator, people = make_run(2)
    with launched() as browser:
        phone = open_browser_phone(browser, server.url, pg_app, people[0], run.id)
        phone.evaluate(RECORD_REFUSALS)
        database.refuse()
        phone.evaluate(DROP_CONNECTION)
        expected = refusal_text(phone, "database_unavailable")
        # Refused, told so in words, and refused again on its own later tries (backing off).
        phone.wait_for_function(
            """t => document.getElementById('notice').textContent === t
                && !document.getElementById('notice').hidden && window.refusals.length >= 2""",
            arg=expected,
            timeout=30_000,
        )
        delays = phone.evaluate("window.refusals.map(r => r.retryInMs)")
        assert {r["code"] for r in phone.evaluate("window.refusals")} == {"database_unavailable"}
        assert delays[1] > delays[0], delays  # each wait longer than the last, up to a cap

        database.restore()
        phone.wait_for_function(
            "() => Live.instance.connected && document.getElementById('notice').hidden",
            timeout=60_000,
        )
        # Whole again: a command from the console reaches the phone.
        console = LiveClient(
            server.url, run.id, session_cookie(pg_app, facilitator), **{"as": "facilitator"}
        )
        try:
            assert console.call("control_run", {"action": "start", "command_id": command()})["ok"]
            phone.wait_for_selector("#countdown:not(:text('–:––'))")
        finally:
            console.close()


def test_each_screen_says_why_it_was_refused(browser_app, tmp_path):
    chromium_or_skip()
    env = server_env(browser_app, browser_app.config["SQLALCHEMY_DATABASE_URI"], tmp_path)
    server = ServerProcess(env, log_dir=tmp_path).start()
    run, facilitator, people = make_run(3)
    organiser = make_user(Role.ORGANISER)
    db.session.commit()
    offline = Offline(server.url)
    try:
        with launched() as browser:
            # A banned person opening the phone page.
            safety.ban(organiser, people[0], "a reason the page never shows", now=utcnow())
            db.session.commit()
            banned = logged_in(browser, offline, server, browser_app, people[0])
            banned.goto(f"{server.url}/live/{run.id}")
            banned.wait_for_function(
                "t => document.getElementById('notice').textContent === t",
                arg=refusal_text(banned, "banned"),
            )

            # A phone whose log-in has gone when it reconnects.
            phone = open_browser_phone(browser, server.url, browser_app, people[1], run.id)
            phone.wait_for_function("() => Live.instance.connected")
            phone.context.clear_cookies()
            phone.evaluate(DROP_CONNECTION)
            phone.wait_for_function(
                "t => document.getElementById('notice').textContent === t",
                arg=refusal_text(phone, "not_logged_in"),
            )

            # A fourth screen of one account replaces the oldest, which says so and stays shut.
            tabs = [logged_in(browser, offline, server, browser_app, people[2]) for _ in range(4)]
            for tab in tabs:
                tab.goto(f"{server.url}/live/{run.id}")
                tab.wait_for_selector("#partner-card[data-state]")
            tabs[0].wait_for_function(
                "t => document.getElementById('notice').textContent === t"
                " && document.getElementById('conn').textContent === ''"
                " && !Live.instance.connected",
                arg=refusal_text(tabs[0], "replaced"),
            )
            assert all(tab.evaluate("Live.instance.connected") for tab in tabs[1:])

            # A console whose facilitator was demoted meanwhile.
            console = logged_in(browser, offline, server, browser_app, facilitator)
            console.goto(f"{server.url}/live/{run.id}/console")
            console.wait_for_selector("#conn:text('Connected')")
            db.session.get(User, facilitator.id).role = Role.PARTICIPANT
            db.session.commit()
            console.evaluate(DROP_CONNECTION)
            console.wait_for_function(
                "t => document.getElementById('message').textContent === t",
                arg=refusal_text(console, "not_a_facilitator"),
            )

            # A projector whose link was replaced.
            projector_context = browser.new_context()
            offline.attach(projector_context)
            projector = projector_context.new_page()
            projector.goto(f"{server.url}/live/{run.id}/projector/{run.projector_token}")
            projector.wait_for_function("() => Live.instance.connected")
            db.session.get(Run, run.id).projector_token = "replaced-" + run.projector_token[:20]
            db.session.commit()
            projector.evaluate(DROP_CONNECTION)
            projector.wait_for_function(
                "t => document.getElementById('conn').textContent === t",
                arg=refusal_text(projector, "bad_projector_token"),
            )
            assert not offline.blocked
    finally:
        server.stop()

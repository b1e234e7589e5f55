"""The three live screens in a real browser: a console, a projector and five phones."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from facilitation.exercises import pairings
from facilitation.exercises.models import Run
from facilitation.extensions import db
from tests.browser import ARTIFACTS, Offline, chromium_or_skip, launched
from tests.exercises.live_helpers import make_run
from tests.live_server import ServerProcess

AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}


def cookie(app, user) -> str:
    return app.session_interface.get_signing_serializer(app).dumps(
        {"_user_id": str(user.id), "_fresh": False}
    )


@pytest.fixture
def server(browser_app, tmp_path):
    chromium_or_skip()
    env = {
        "DATABASE_URL": browser_app.config["SQLALCHEMY_DATABASE_URI"],
        "SECRET_KEY": browser_app.config["SECRET_KEY"],
        "ENCRYPTION_KEY": browser_app.config["ENCRYPTION_KEY"],
        "FACILITATION_INSTANCE_PATH": str(tmp_path),
        "REDIS_URL": "",
    }
    process = ServerProcess(env, log_dir=tmp_path).start()
    yield process
    process.stop()


def logged_in_page(browser, offline, server, app, user, **options):
    context = browser.new_context(**options)
    offline.attach(context)
    context.add_cookies([{"name": "session", "value": cookie(app, user), "url": server.url}])
    return context.new_page()


def expected_pairing(run_id):
    """Return, from the database, each person's partner names and spot this round."""
    db.session.expire_all()
    run = db.session.get(Run, run_id)
    stored = pairings.current_round(run)
    names = {p.user_id: p.user.display_name for p in run.participants}
    spots = {}
    for m in stored.members:
        spots.setdefault(m.spot, []).append(m.user_id)
    expected = {}
    for spot, members in spots.items():
        for uid in members:
            expected[uid] = (sorted(names[o] for o in members if o != uid), spot)
    return expected, {r.user_id: r.reason for r in stored.rests}


def check_phones(phones, run_id):
    expected, resting = expected_pairing(run_id)
    for user, page in phones:
        if user.id in resting:
            state = "sitting_out" if resting[user.id] == "sitting_out" else "resting"
            page.wait_for_function(
                "s => document.getElementById('partner-card').dataset.state === s", arg=state
            )
            continue
        partners, spot = expected[user.id]
        # Wait for the spot and the partner together: a phone that keeps its spot in the next
        # round shows the old partner until the new snapshot arrives.
        page.wait_for_function(
            """([s, p]) => document.getElementById('spot').textContent.startsWith(s)
                && document.getElementById('partner').textContent === p""",
            arg=[f"Spot {spot} ", " & ".join(partners)],
        )
        assert page.text_content("#partner") == " & ".join(partners)
    return expected, resting


def phase_ends(pages):
    """Return each page's estimate of the current phase's end, in local milliseconds."""
    return [page.evaluate("window.liveDebug && window.liveDebug.endMs") for page in pages]


def click_next(console, phase_name_after):
    console.click('[data-action="next_phase"]')
    console.wait_for_function(
        "n => document.getElementById('phase-name').textContent.startsWith(n)", arg=phase_name_after
    )


def test_two_rounds_on_projector_console_and_five_phones(browser_app, server):
    run, facilitator, people = make_run(5, rounds=2)
    db.session.commit()
    shots = ARTIFACTS / "screens"
    shots.mkdir(parents=True, exist_ok=True)
    offline = Offline(server.url)
    with launched() as browser:
        console = logged_in_page(browser, offline, server, browser_app, facilitator,
                                 viewport={"width": 1280, "height": 860})  # fmt: skip
        console.goto(f"{server.url}/live/{run.id}/console")
        console.wait_for_selector("#conn:text('Connected')")

        projector_context = browser.new_context(viewport={"width": 1600, "height": 900})
        offline.attach(projector_context)
        projector = projector_context.new_page()
        projector.goto(f"{server.url}/live/{run.id}/projector/{run.projector_token}")
        projector.wait_for_selector("#join:not([hidden])")

        phones = []
        for person in people:
            page = logged_in_page(browser, offline, server, browser_app, person, **PHONE)
            page.goto(f"{server.url}/live/{run.id}")
            page.wait_for_selector("#partner-card[data-state]")
            phones.append((person, page))

        # Accessibility of the phone page, before and during the run.
        phones[0][1].evaluate(AXE.read_text())  # the CSP refuses an inline <script>
        before = phones[0][1].evaluate("async () => (await axe.run()).violations.map(v => v.id)")
        assert before == []

        # Round 1.
        console.click('[data-action="start"]')
        console.wait_for_selector("#phase-name:text('Arrive')")
        expected, resting = check_phones(phones, run.id)
        assert len(resting) == 1 and len(expected) == 4
        for _, page in phones:
            page.wait_for_selector("#countdown:not(:text('–:––'))")
        projector.wait_for_selector(".p-pair")
        assert projector.locator(".p-pair").count() == 2

        pages = [console, projector] + [p for _, p in phones]
        ends = phase_ends(pages)
        assert None not in ends and max(ends) - min(ends) < 500, ends

        phones[1][1].evaluate(AXE.read_text())  # the CSP refuses an inline <script>
        during = phones[1][1].evaluate("async () => (await axe.run()).violations.map(v => v.id)")
        assert during == []

        # Keyboard on the console: Space pauses and resumes, "+" adds 30 seconds everywhere.
        console.locator("body").press(" ")
        console.wait_for_selector("#phase-name:text('Arrive (paused)')")
        console.locator("body").press(" ")
        console.wait_for_selector("#phase-name:text-is('Arrive')")
        end_then = phase_ends([phones[0][1]])[0]
        console.locator("body").press("+")
        phones[0][1].wait_for_function("e => window.liveDebug.endMs > e + 25000", arg=end_then)

        # Projector reloaded mid-phase comes back at the right second.
        click_next(console, "Gaze")
        projector.wait_for_selector("#phase-name:text('Gaze')")
        end_before = phase_ends([projector])[0]
        projector.reload()
        projector.wait_for_selector("#phase-name:text('Gaze')")
        projector.wait_for_function("window.liveDebug && window.liveDebug.key === '0:1'")
        assert abs(phase_ends([projector])[0] - end_before) < 500

        # Support and sit-out reach the console; the phone confirms.
        person, page = next((u, p) for u, p in phones if u.id not in resting)
        page.click("#support-btn")
        page.wait_for_selector("#notice:text('Received')")
        console.wait_for_selector(f".c-signal:has-text('{person.display_name}')")
        sitter, sitter_page = next(
            (u, p) for u, p in phones if u.id not in resting and u.id != person.id
        )
        sitter_page.click("#sitout-btn")
        sitter_page.wait_for_selector("#comeback-btn:not([hidden])")
        console.wait_for_selector(
            f"#present li[data-state='sitting_out']:has-text('{sitter.display_name}')"
        )

        console.screenshot(path=str(shots / "console.png"))
        projector.screenshot(path=str(shots / "projector.png"))
        page.screenshot(path=str(shots / "phone.png"))

        for name in ("A shares", "B shares", "Thank and move", "Arrive"):
            click_next(console, name)
        # Round 2: new pairs; the one sitting out rests; every phone still right.
        console.wait_for_selector("#round:text('Round 2 of 2')")
        expected2, resting2 = check_phones(phones, run.id)
        assert resting2[sitter.id] == "sitting_out"
        assert expected2 != expected
        for name in ("Gaze", "A shares", "B shares", "Thank and move"):
            click_next(console, name)
        console.click('[data-action="next_phase"]')
        console.wait_for_selector("#round:text('Finished')")
        for _, page in phones:
            page.wait_for_selector("#spot:text('This exercise has ended.')")

    assert offline.blocked == []
    docs = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
    # Only when asked: a test run must not rewrite tracked files.
    if os.environ.get("GATHERWELL_WRITE_SCREENSHOTS") == "1" and docs.is_dir():
        for name in ("console.png", "projector.png", "phone.png"):
            shutil.copy(shots / name, docs / f"live-{name}")

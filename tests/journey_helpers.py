"""Pieces of the whole-journey browser test: the tour's screenshots, browser contexts, the
organiser's set-up, drawing a signature, and reading a run's pairings back."""

from __future__ import annotations

import dataclasses
import math
import os
import shutil
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa

from facilitation.accounts.models import Role, User
from facilitation.consent import services as consent
from facilitation.core.clock import utcnow
from facilitation.exercises import pairings
from facilitation.exercises.engine.pairing import pair_round
from facilitation.exercises.models import Run, RunGroupMember, RunRest, RunRound
from facilitation.extensions import db
from facilitation.gatherings.models import Gathering
from facilitation.registration.models import TicketOption
from tests.attendance.factories import check_in
from tests.consent.factories import sign
from tests.factories import make_gathering, make_user
from tests.live_server import PATIENCE_S
from tests.registration.factories import make_option, register

TOUR_DOCS = Path(__file__).resolve().parents[1] / "docs" / "tour"
#: A phone, for every participant's step.
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}
#: The facilitator's laptop and the projector.
WIDE = {"viewport": {"width": 1280, "height": 800}}
#: Names shown in the room of the five people already registered (one of them is Dana).
OTHERS = ("Dana", "Eli", "Fern", "Gus", "Hana")

AGREEMENT_TEXT = """\
**Consent in the room**

- Every exercise is an invitation. You may sit out at any moment, without a reason.
- Ask before any touch; "no" and silence both mean no.
- What is shared in the room stays in the room.
"""


class Tour:
    """Number and keep the journey's screenshots; copy them to docs/tour/ only when asked.

    The test always writes into its own folder; ``GATHERWELL_WRITE_TOUR=1`` publishes them, so
    an ordinary test run never changes tracked files.
    """

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.folder.mkdir(parents=True, exist_ok=True)
        self.names: list[str] = []

    def shot(self, page, step: str, *, full_page: bool = False) -> Path:  # type: ignore[no-untyped-def]
        """Save the page as the next numbered step, ``NN-step.png``."""
        self.names.append(f"{len(self.names) + 1:02d}-{step}.png")
        path = self.folder / self.names[-1]
        page.screenshot(path=str(path), full_page=full_page, animations="disabled")
        return path

    def publish(self) -> bool:
        """Copy the screenshots into docs/tour/ when GATHERWELL_WRITE_TOUR=1; say if it did."""
        if os.environ.get("GATHERWELL_WRITE_TOUR") != "1":
            return False
        TOUR_DOCS.mkdir(parents=True, exist_ok=True)
        for old in TOUR_DOCS.glob("[0-9][0-9]-*.png"):
            old.unlink()
        for name in self.names:
            shutil.copy(self.folder / name, TOUR_DOCS / name)
        return True


@dataclass
class Stage:
    """What the organiser set up before the visitor arrived, and who else is coming."""

    gathering: Gathering
    sliding: TicketOption
    organiser: User
    facilitator: User
    door: User
    others: list[User]


def set_the_stage(suggested_minor: int = 2000) -> Stage:
    """Create the organiser's world: staff, a published gathering, options, an agreement.

    Five other people are registered, have signed and are checked in already, as if they had
    come through the door before the visitor.
    """
    organiser = make_user(Role.ORGANISER, name="Olive Organiser", email="olive@example.org")
    facilitator = make_user(Role.FACILITATOR, name="Felix Facilitator", email="felix@example.org")
    door = make_user(Role.DOOR, name="Dora Door", email="dora@example.org")
    gathering = make_gathering(
        organiser,
        title="Thursday eye-gazing circle",
        capacity=16,
        facilitator_ids=[facilitator.id],
        description_md="Pairs, silence and soft eye contact. No experience needed.",
    )
    scholarship = make_option(
        gathering, "free", name="Scholarship place", guidance="If money is tight, come anyway."
    )
    sliding = make_option(
        gathering,
        "sliding",
        name="Sliding scale",
        guidance="Pay what fits your means; the suggested amount covers the room.",
        suggested_minor=suggested_minor,
    )
    agreement = consent.create_agreement(
        organiser, "Consent in the room", "consent_safety", AGREEMENT_TEXT, now=utcnow()
    )
    consent.set_required(organiser, gathering, [agreement.id])
    others = []
    for name in OTHERS:
        person = make_user(name=f"{name} Example", email=f"{name.lower()}@example.org")
        person.display_name = name
        registration = register(person, gathering, scholarship, now=utcnow())
        sign(person, agreement)
        check_in(door, gathering, registration, now=utcnow())
        others.append(person)
    db.session.commit()
    return Stage(gathering, sliding, organiser, facilitator, door, others)


def cookie(app, user: User) -> str:  # type: ignore[no-untyped-def]
    """Return a session cookie that logs ``user`` in (for people prepared, not acted)."""
    serializer = app.session_interface.get_signing_serializer(app)
    return serializer.dumps({"_user_id": str(user.id), "_fresh": False})


def context(browser, offline, url: str, app=None, user: User | None = None, **options):  # type: ignore[no-untyped-def]
    """Open a browser context with every other origin blocked, logged in as ``user`` if given."""
    new = browser.new_context(**options)
    new.set_default_timeout(PATIENCE_S * 1000)
    offline.attach(new)
    if user is not None:
        new.add_cookies([{"name": "session", "value": cookie(app, user), "url": url}])
    return new


def log_in(page, url: str, email: str, password: str, next_path: str) -> None:  # type: ignore[no-untyped-def]
    """Log in through the log-in page and land on ``next_path``."""
    page.goto(f"{url}/log-in?next={next_path}")
    page.fill("#email", email)
    page.fill("#password", password)
    page.click("form button[type=submit]")
    page.wait_for_url(f"{url}{next_path}")


def draw_signature(page) -> None:  # type: ignore[no-untyped-def]
    """Draw a signature on the signing page's canvas with the pointer."""
    pad = page.locator("#signature-pad")
    pad.scroll_into_view_if_needed()
    box = pad.bounding_box()
    left, middle = box["x"] + box["width"] * 0.12, box["y"] + box["height"] * 0.55
    width, height = box["width"] * 0.7, box["height"] * 0.25
    page.mouse.move(left, middle)
    page.mouse.down()
    for step in range(1, 61):  # a looping, cursive-like stroke
        t = step / 60
        x = left + t * width - math.sin(t * 6 * math.pi) * width * 0.05
        y = middle - math.sin(t * 6 * math.pi + math.pi / 2) * height + height * (1 - t) * 0.6
        page.mouse.move(x, y)
    page.mouse.up()


def choose_revealing_seed(run_id: int, requester: User, subject: User) -> int:
    """Give a prepared run a seed with which round 1 would pair the two, but for the request.

    The control that lets the test fail: with this seed the engine, asked the same question
    without the do-not-pair request, puts ``requester`` and ``subject`` together.
    """
    db.session.expire_all()
    run = db.session.get(Run, run_id)
    request = pairings.build_request(run, 0, 0)
    assert tuple(sorted((requester.id, subject.id))) in {
        tuple(sorted(pair)) for pair in request.do_not_pair
    }, request.do_not_pair
    pair = {requester.id, subject.id}
    for seed in range(1, 1000):
        result = pair_round(dataclasses.replace(request, seed=seed, do_not_pair=()))
        if any({m.person_id for m in group.members} == pair for group in result.groups):
            run.seed = seed
            db.session.commit()
            return seed
    raise AssertionError("no seed pairs them without the request")


def groups_by_round(run_id: int) -> list[tuple[int, list[set[int]]]]:
    """Return every pairing stored for the run, in order: (round index, groups as id sets).

    A round paired again (a re-pair) appears once per attempt: each must honour the requests.
    """
    db.session.expire_all()
    rows = db.session.execute(
        sa.select(RunRound.id, RunRound.round_index, RunGroupMember.spot, RunGroupMember.user_id)
        .join(RunGroupMember, RunGroupMember.round_id == RunRound.id)
        .where(RunRound.run_id == run_id)
        .order_by(RunRound.id)
    ).all()
    rounds: dict[int, tuple[int, dict[int, set[int]]]] = {}
    for round_id, round_index, spot, user_id in rows:
        rounds.setdefault(round_id, (round_index, defaultdict(set)))[1][spot].add(user_id)
    return [(index, list(groups.values())) for index, groups in rounds.values()]


def rests_of(run_id: int) -> list[tuple[int, str]]:
    """Return every rest stored in the run, as (user id, reason)."""
    return [
        (user_id, reason)
        for user_id, reason in db.session.execute(
            sa.select(RunRest.user_id, RunRest.reason)
            .join(RunRound, RunRound.id == RunRest.round_id)
            .where(RunRound.run_id == run_id)
        )
    ]

"""The desk in a real browser: a ticket scanned through Chromium's fake camera, and a walk-in
who signs on the desk's screen, with every other origin blocked."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
import segno
import sqlalchemy as sa

from facilitation.attendance import tickets
from facilitation.attendance.models import CheckIn
from facilitation.core.clock import utcnow
from facilitation.extensions import db
from tests.attendance.factories import door_volunteer, require_agreement
from tests.browser import ARTIFACTS, Offline, chromium_or_skip, launched
from tests.factories import make_gathering, make_user
from tests.live_server import PATIENCE_S, ServerProcess
from tests.registration.factories import make_option, register

WIDTH, HEIGHT = 640, 480
DOCS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
VENDOR = Path(__file__).resolve().parents[2] / "static" / "vendor" / "jsQR.js"


def qr_video(text: str, path: Path, frames: int = 5) -> Path:
    """Write a Y4M video whose frames show the QR code of ``text``, black on white."""
    rows = [list(row) for row in segno.make(text, error="m").matrix_iter(scale=10, border=4)]
    size = len(rows)
    top, left = (HEIGHT - size) // 2, (WIDTH - size) // 2
    luma = bytearray([235]) * (WIDTH * HEIGHT)
    for y, row in enumerate(rows):
        for x, dark in enumerate(row):
            if dark:
                luma[(top + y) * WIDTH + left + x] = 16
    chroma = bytes([128]) * (WIDTH // 2 * HEIGHT // 2)
    with path.open("wb") as out:
        out.write(f"YUV4MPEG2 W{WIDTH} H{HEIGHT} F10:1 Ip A1:1 C420jpeg\n".encode())
        for _ in range(frames):
            out.write(b"FRAME\n" + bytes(luma) + chroma + chroma)
    return path


def camera(video: Path) -> tuple[str, ...]:
    return (
        "--use-fake-ui-for-media-stream",
        "--use-fake-device-for-media-stream",
        f"--use-file-for-fake-video-capture={video}",
    )


def cookie(app, user) -> str:
    return app.session_interface.get_signing_serializer(app).dumps(
        {"_user_id": str(user.id), "_fresh": False}
    )


@pytest.fixture
def server(browser_app, tmp_path):
    chromium_or_skip()
    if not VENDOR.exists():
        pytest.skip("static/vendor/jsQR.js is missing: run `make install`")
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


def desk_page(browser, offline, server, app, user):
    context = browser.new_context(viewport={"width": 800, "height": 1100})
    offline.attach(context)
    context.add_cookies([{"name": "session", "value": cookie(app, user), "url": server.url}])
    return context.new_page()


def check_ins() -> int:
    db.session.expire_all()
    return db.session.scalar(
        sa.select(sa.func.count()).select_from(CheckIn).where(CheckIn.undone_at.is_(None))
    )


def test_scanning_a_ticket_with_the_camera_shows_the_person_and_admits_them(
    browser_app, server, tmp_path
):
    gathering = make_gathering(title="Thursday circle", capacity=20)
    person = make_user(name="Ada Lovelace")
    registration = register(person, gathering, make_option(gathering, "free"))
    token = tickets.ticket_for(registration, utcnow()).token
    volunteer = door_volunteer()
    db.session.commit()
    video = qr_video(tickets.qr_content(token), tmp_path / "ticket.y4m")
    shots = ARTIFACTS / "attendance"
    shots.mkdir(parents=True, exist_ok=True)
    offline = Offline(server.url)
    with launched(camera(video)) as browser:
        page = desk_page(browser, offline, server, browser_app, volunteer)
        page.goto(f"{server.url}/desk/{gathering.id}")
        page.wait_for_selector("#card-name:has-text('Ada Lovelace')", timeout=PATIENCE_S * 1000)
        assert page.text_content("[data-decision]").strip() == "Admit"
        page.screenshot(path=str(shots / "check-in-desk.png"), full_page=True)
        assert check_ins() == 0
        page.click("button.desk-admit-button")
        page.wait_for_selector("text=Checked in: Ada Lovelace")
        assert page.text_content("[data-count=checked_in]").strip() == "1"
    assert offline.blocked == []
    assert check_ins() == 1
    assert db.session.scalar(sa.select(CheckIn.method)) == "scan"
    # Only when asked: a test run must not rewrite tracked files.
    if os.environ.get("GATHERWELL_WRITE_SCREENSHOTS") == "1" and DOCS.is_dir():
        shutil.copy(shots / "check-in-desk.png", DOCS / "check-in-desk.png")


def test_a_walk_in_signs_on_the_desk_and_is_checked_in(browser_app, server, tmp_path):
    gathering = make_gathering(title="Thursday circle", capacity=20)
    make_option(gathering, "free", name="Free place")
    require_agreement(gathering)
    volunteer = door_volunteer()
    db.session.commit()
    offline = Offline(server.url)
    with launched() as browser:
        page = desk_page(browser, offline, server, browser_app, volunteer)
        page.goto(f"{server.url}/desk/{gathering.id}")
        page.fill("#walk-in-name", "Wren Walker")
        page.fill("#walk-in-email", "wren@example.org")
        page.click("button:has-text('Register and check in')")
        page.wait_for_selector("#desk-answer:has-text('Please sign first.')")
        assert check_ins() == 0
        page.click("a:has-text('Sign here now')")
        page.wait_for_selector("#signature-pad")
        page.fill("#typed_name", "Wren Walker")
        box = page.locator("#signature-pad").bounding_box()
        page.mouse.move(box["x"] + 40, box["y"] + 100)
        page.mouse.down()
        for step in range(1, 30):
            page.mouse.move(box["x"] + 40 + step * 15, box["y"] + 100 + (step % 5) * 8)
        page.mouse.up()
        page.check("#consent")
        page.click("button:has-text('Sign')")
        page.wait_for_selector("text=Signed. Thank you.")
        assert page.text_content("[data-decision]").strip() == "Admit"
        page.click("button.desk-admit-button")
        page.wait_for_selector("text=Checked in: Wren Walker")
        page.screenshot(path=str(ARTIFACTS / "walk-in-signed.png"), full_page=True)
    assert offline.blocked == []
    assert check_ins() == 1

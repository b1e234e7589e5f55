"""Data for the rush benchmark: a list of published gatherings and one opening for a rush.

Run by ``rush_bench.py`` in its own process (or by hand)::

    python benchmarks/rush_setup.py --dir /tmp/rush --users 3000 --capacity 1000

Re-creates the PostgreSQL database ``gatherwell_rush`` and, through ``live_setup.py``,
migrates it and adds one organiser and ``--users`` people.  Adds ``--gatherings`` published
gatherings with two ticket options each (the public list), the first of which is the one the
rush registers for (``--capacity`` seats).  Writes ``rush.json`` and ``users.tsv`` (per person
a logged-in session cookie holding a CSRF token, and the registration form's body) into
``--dir``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import live_setup

DATABASE = "gatherwell_rush"


def gatherings_for_rush(setup: dict[str, object], count: int, capacity: int) -> dict[str, object]:
    """Add ``count`` published gatherings; return their ids and the first one's free option."""
    from facilitation import create_app
    from facilitation.accounts.models import User
    from facilitation.extensions import db
    from facilitation.gatherings import services as gatherings
    from facilitation.registration import options

    app = create_app(live_setup.app_overrides(setup))  # type: ignore[arg-type]
    with app.app_context():
        now = datetime.now(UTC)
        organiser = db.session.get(User, setup["organiser_id"])
        ids, free_ids = [], []
        for n in range(count):
            starts = (now + timedelta(days=10 + n)).replace(
                tzinfo=None, hour=19, minute=0, second=0, microsecond=0
            )
            details = gatherings.Details(
                title=f"Listening circle number {n + 1}",
                timezone="Europe/London",
                capacity=capacity if n == 0 else 40,
                description_md="An evening of **listening in pairs**. Come as you are.\n\n"
                "- arrive at 18:45\n- bring water\n",
                kind="workshop",
                venue_name="The Quiet Room",
                venue_address="12 Garden Lane",
            )
            g = gatherings.create_gathering(
                organiser, details, gatherings.Timing(starts, starts + timedelta(hours=3)), now=now
            )
            free = options.add_option(
                organiser, g, options.OptionInput("Free place", "free"), now=now
            )
            options.add_option(
                organiser,
                g,
                options.OptionInput("Pay at the door", "door", price_minor=1500, guidance="Cash."),
                now=now,
            )
            gatherings.publish(organiser, g, now=now)
            ids.append(g.id)
            free_ids.append(free.id)
        db.session.commit()
    return {"gathering_ids": ids, "rush_gathering_id": ids[0], "rush_option_id": free_ids[0]}


def registration_requests(setup: dict[str, object], option_id: int, out: Path) -> None:
    """Write one line per person: a session cookie with a CSRF token, and the form's body."""
    from flask import session
    from flask_wtf.csrf import generate_csrf

    from facilitation import create_app

    app = create_app(live_setup.app_overrides(setup))  # type: ignore[arg-type]
    serializer = app.session_interface.get_signing_serializer(app)  # type: ignore[attr-defined]
    name = app.config["SESSION_COOKIE_NAME"]
    lines = []
    for user_id in setup["user_ids"]:  # type: ignore[attr-defined]
        with app.test_request_context("/"):
            token = generate_csrf()
            data = {"_user_id": str(user_id), "_fresh": False, "csrf_token": session["csrf_token"]}
        cookie = f"{name}={serializer.dumps(data)}"
        body = urlencode({"csrf_token": token, "option_id": option_id})
        lines.append(f"{cookie}\t{body}\n")
    out.write_text("".join(lines))


def main(argv: list[str] | None = None) -> int:
    """Prepare everything; print rush.json."""
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--dir", required=True)
    p.add_argument("--users", type=int, default=3000)
    p.add_argument("--capacity", type=int, default=1000)
    p.add_argument("--gatherings", type=int, default=12)
    p.add_argument("--database", default=DATABASE)
    args = p.parse_args(argv)
    out = Path(args.dir)
    out.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("FACILITATION_INSTANCE_PATH", str(out / "instance"))
    setup_path = out / "setup.json"
    live_setup.prepare(
        argparse.Namespace(
            db="postgres", users=args.users, out=str(setup_path), database=args.database
        )
    )
    setup = json.loads(setup_path.read_text())
    info = gatherings_for_rush(setup, args.gatherings, args.capacity)
    info["capacity"] = args.capacity
    registration_requests(setup, int(info["rush_option_id"]), out / "users.tsv")  # type: ignore[call-overload]
    (out / "rush.json").write_text(json.dumps(info))
    print(json.dumps(info), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

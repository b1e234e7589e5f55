"""Data for the load benchmark: a live run with N phones and a gathering open for sign-ups.

Run by ``load_bench.py`` in its own process (or by hand)::

    python benchmarks/load_setup.py --dir /tmp/load --phones 200 --rounds 14 --capacity 400

It re-creates the PostgreSQL database ``gatherwell_load`` (``--database``) on 127.0.0.1:5432
and, through ``live_setup.py``, migrates it and adds one organiser, ``--phones`` participants
with their session cookies and a new run of "Eye-gazing rotation" they have all joined.  Then
it adds the gathering the evening's visitors register for: published, ``--capacity`` seats,
two ticket options (free, and a price paid at the door).  Card payments stay off in the
benchmark, so a sliding scale (paid by card) is not offered; see docs/benchmarks.md.

Writes ``setup.json`` (live_setup's), ``run.json`` (+ ``run.cookies.json``) and
``gathering.json`` into ``--dir``, and prints the last as one JSON line.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import live_setup

DOOR_PRICE_MINOR = 1500


def registration_gathering(setup: dict[str, Any], capacity: int) -> dict[str, Any]:
    """Add the published gathering the visitors register for; return its ids."""
    from facilitation import create_app
    from facilitation.accounts.models import User
    from facilitation.extensions import db
    from facilitation.gatherings import services as gatherings
    from facilitation.registration import options

    app = create_app(live_setup.app_overrides(setup))
    with app.app_context():
        now = datetime.now(UTC)
        organiser = db.session.get(User, setup["organiser_id"])
        assert organiser is not None
        starts = (now + timedelta(days=14)).replace(
            tzinfo=None, hour=19, minute=0, second=0, microsecond=0
        )
        details = gatherings.Details(
            title="Spring listening circle",
            timezone="Europe/London",
            capacity=capacity,
            description_md="An evening of **listening in pairs**. Come as you are.",
            kind="workshop",
            venue_name="The Quiet Room",
            venue_address="12 Garden Lane",
        )
        gathering = gatherings.create_gathering(
            organiser, details, gatherings.Timing(starts, starts + timedelta(hours=3)), now=now
        )
        free = options.add_option(
            organiser, gathering, options.OptionInput("Free place", "free"), now=now
        )
        door = options.add_option(
            organiser,
            gathering,
            options.OptionInput(
                "Pay at the door", "door", price_minor=DOOR_PRICE_MINOR, guidance="Cash or card."
            ),
            now=now,
        )
        gatherings.publish(organiser, gathering, now=now)
        db.session.commit()
        return {
            "gathering_id": gathering.id,
            "capacity": capacity,
            "options": {"free": free.id, "door": door.id},
        }


def main(argv: list[str] | None = None) -> int:
    """Prepare everything; print the registration gathering as JSON."""
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--dir", required=True)
    p.add_argument("--phones", type=int, default=200)
    p.add_argument("--rounds", type=int, default=14)
    p.add_argument("--capacity", type=int, default=400)
    p.add_argument("--database", default="gatherwell_load")
    args = p.parse_args(argv)
    out = Path(args.dir)
    out.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("FACILITATION_INSTANCE_PATH", str(out / "instance"))
    setup_path = out / "setup.json"
    live_setup.prepare(
        argparse.Namespace(
            db="postgres", users=args.phones, out=str(setup_path), database=args.database
        )
    )
    live_setup.new_run(
        argparse.Namespace(
            setup=str(setup_path),
            phones=args.phones,
            rounds=args.rounds,
            seed=7,
            out=str(out / "run.json"),
        )
    )
    setup = json.loads(setup_path.read_text())
    info = registration_gathering(setup, args.capacity)
    (out / "gathering.json").write_text(json.dumps(info))
    print(json.dumps(info), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

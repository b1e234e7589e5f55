"""Data for the fan-out benchmark against the app: people, a gathering, runs, cookies.

Two steps, each run in its own process by ``fanout_bench.py`` (or by hand)::

    # a fresh database: migrations, one organiser, N participants, one gathering
    python benchmarks/live_setup.py prepare --db postgres --users 1000 --out /tmp/b/setup.json
    # a new run of the built-in "Eye-gazing rotation" with the first N participants present
    python benchmarks/live_setup.py new-run --setup /tmp/b/setup.json --phones 500 \
        --out /tmp/b/run.json

``prepare`` writes the database URI, the secret key and one signed Flask session cookie per
person (what a logged-in browser holds), so the light client can open websockets as them.
With ``--db postgres`` it drops and re-creates the database ``gatherwell_bench`` on
127.0.0.1:5432; with ``--db sqlite`` it uses a new file beside ``--out``.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

PG_SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432"
PG_DATABASE = "gatherwell_bench"
PASSWORD = "correct horse battery staple"


def app_overrides(setup: dict[str, Any], mode: str = "threading") -> dict[str, Any]:
    """The configuration the setup and the served app share."""
    return {
        "SQLALCHEMY_DATABASE_URI": setup["db_uri"],
        "SECRET_KEY": setup["secret_key"],
        "ARGON2_MEMORY_COST": 1024,
        "ARGON2_TIME_COST": 1,
        "SOCKETIO_ASYNC_MODE": mode,
        "REDIS_URL": None,
        "MAIL_URL": None,
        "SOCKETIO_CHANNEL": "gatherwell-bench",
        # Required outside tests; the benchmark sends no email, so any local address will do.
        "SITE_URL": "http://127.0.0.1:5000",
        **setup.get("overrides", {}),  # e.g. PAIRING_WORKERS, set by freeze_bench.py
    }


def _fresh_postgres(name: str = PG_DATABASE) -> str:
    """Drop and re-create the database ``name`` on 127.0.0.1:5432; return its URI."""
    import psycopg

    if not name.replace("_", "").isalnum():
        raise SystemExit(f"bad database name {name!r}")
    with psycopg.connect(
        "host=127.0.0.1 port=5432 user=postgres dbname=postgres", autocommit=True
    ) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {name}")
    return f"{PG_SERVER}/{name}"


def prepare(args: argparse.Namespace) -> dict[str, Any]:
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("FACILITATION_INSTANCE_PATH", str(out.parent / "instance"))
    if args.db == "postgres":
        db_uri = _fresh_postgres(getattr(args, "database", PG_DATABASE))
    else:
        path = out.parent / "bench.sqlite3"
        if path.exists():
            path.unlink()
        db_uri = f"sqlite:///{path}"
    setup: dict[str, Any] = {"db_uri": db_uri, "secret_key": secrets.token_urlsafe(32)}

    import flask_migrate

    from facilitation import create_app
    from facilitation.accounts.models import Role
    from facilitation.accounts.services import sign_up
    from facilitation.exercises import services as exercises
    from facilitation.extensions import db
    from facilitation.gatherings import services as gatherings

    app = create_app(app_overrides(setup))
    t0 = time.monotonic()
    with app.app_context():
        flask_migrate.upgrade()
        now = datetime.now(UTC)
        organiser = sign_up(
            "organiser@bench.example.org",
            "Olive Organiser",
            PASSWORD,
            now=now,
            role=Role.ORGANISER,
        )
        starts = (now + timedelta(days=7)).replace(
            tzinfo=None, hour=19, minute=0, second=0, microsecond=0
        )
        details = gatherings.Details(
            title="Fan-out benchmark evening",
            timezone="Europe/London",
            capacity=max(20, args.users),
            description_md="Benchmark data.",
            kind="workshop",
            venue_name="The Quiet Room",
            venue_address="12 Garden Lane",
        )
        gathering = gatherings.create_gathering(
            organiser, details, gatherings.Timing(starts, starts + timedelta(hours=3)), now=now
        )
        gatherings.publish(organiser, gathering, now=now)
        people = [
            sign_up(f"phone{i}@bench.example.org", f"Phone{i} Person", PASSWORD, now=now)
            for i in range(args.users)
        ]
        _register_all(organiser, gathering, people, now)
        exercises.ensure_builtin_exercises(now=now)
        db.session.commit()
        serializer = app.session_interface.get_signing_serializer(app)  # type: ignore[attr-defined]

        def cookie(user_id: int) -> str:
            return str(serializer.dumps({"_user_id": str(user_id), "_fresh": False}))

        setup.update(
            organiser_id=organiser.id,
            gathering_id=gathering.id,
            user_ids=[p.id for p in people],
            cookies={"facilitator": cookie(organiser.id), "users": [cookie(p.id) for p in people]},
        )
    setup["prepare_s"] = round(time.monotonic() - t0, 2)
    out.write_text(json.dumps(setup))
    return {k: setup[k] for k in ("db_uri", "organiser_id", "gathering_id", "prepare_s")}


def _register_all(organiser: Any, gathering: Any, people: list[Any], now: datetime) -> None:
    """Give every phone a confirmed free registration: live runs admit only registered people."""
    import sqlalchemy as sa

    from facilitation.extensions import db
    from facilitation.registration import options
    from facilitation.registration.models import Registration
    from facilitation.registration.pricing import DEFAULT_CURRENCY

    option = options.add_option(
        organiser, gathering, options.OptionInput(name="Free", kind="free"), now=now
    )
    rows = [
        {
            "gathering_id": gathering.id,
            "user_id": person.id,
            "ticket_option_id": option.id,
            "status": "confirmed",
            "currency": DEFAULT_CURRENCY,
            "confirmed_at": now,
            "created_at": now,
            "updated_at": now,
        }
        for person in people
    ]
    if rows:
        db.session.execute(sa.insert(Registration), rows)


def new_run(args: argparse.Namespace) -> dict[str, Any]:
    setup = json.loads(Path(args.setup).read_text())
    if args.phones > len(setup["user_ids"]):
        raise SystemExit(f"only {len(setup['user_ids'])} people prepared; asked {args.phones}")
    os.environ.setdefault("FACILITATION_INSTANCE_PATH", str(Path(args.setup).parent / "instance"))

    import flask_migrate
    import sqlalchemy as sa

    from facilitation import create_app
    from facilitation.accounts.models import User
    from facilitation.exercises import participants
    from facilitation.exercises import services as exercises
    from facilitation.exercises.engine.rounds import RunStatus
    from facilitation.exercises.models import Run
    from facilitation.extensions import db
    from facilitation.gatherings.models import Gathering

    app = create_app(app_overrides(setup))
    with app.app_context():
        # the app's schema may have moved on since ``prepare`` (it is being written)
        flask_migrate.upgrade()
        now = datetime.now(UTC)
        # End any run an earlier measurement left running, so no ticker works on it.
        for old in db.session.scalars(sa.select(Run).where(Run.status != RunStatus.ENDED.value)):
            old.status = RunStatus.ENDED.value
            old.phase_deadline = None
            old.ended_at = now
            old.version += 1
        organiser = db.session.get(User, setup["organiser_id"])
        gathering = db.session.get(Gathering, setup["gathering_id"])
        exercise = next(
            e
            for e in exercises.ensure_builtin_exercises(now=now)
            if e.builtin_key == "eye-gazing-rotation"
        )
        run = exercises.create_run(
            organiser,
            gathering,
            exercise,
            now=now,
            odd_policy="rest",
            seed=args.seed,
            rounds_override=args.rounds,
        )
        ids = setup["user_ids"][: args.phones]
        people = {u.id: u for u in db.session.scalars(sa.select(User).where(User.id.in_(ids)))}
        for user_id in ids:
            participants.join_run(run, people[user_id], now=now)
        db.session.commit()
        cookies = {
            "facilitator": setup["cookies"]["facilitator"],
            "phones": setup["cookies"]["users"][: args.phones],
        }
        result = {"run_id": run.id, "projector_token": run.projector_token, "phones": len(ids)}
    cookies_path = Path(args.out).with_suffix(".cookies.json")
    cookies_path.write_text(json.dumps(cookies))
    result["cookies_file"] = str(cookies_path)
    Path(args.out).write_text(json.dumps(result))
    return result


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = p.add_subparsers(dest="step", required=True)
    a = sub.add_parser("prepare", help="fresh database, people, gathering, cookies")
    a.add_argument("--db", choices=("postgres", "sqlite"), default="postgres")
    a.add_argument("--users", type=int, default=1000)
    a.add_argument("--database", default=PG_DATABASE, help="PostgreSQL database to re-create")
    a.add_argument("--out", required=True)
    b = sub.add_parser("new-run", help="a new run with the first N people present")
    b.add_argument("--setup", required=True)
    b.add_argument("--phones", type=int, required=True)
    b.add_argument("--rounds", type=int, default=None, help="rounds (default: the exercise's)")
    b.add_argument("--seed", type=int, default=7)
    b.add_argument("--out", required=True)
    args = p.parse_args(argv)
    result = prepare(args) if args.step == "prepare" else new_run(args)
    print(json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

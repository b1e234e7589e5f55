"""The bare baseline of the rush benchmark: "hello" and a capacity-checked insert.

One process, the same worker model as the app (gevent, monkey-patched; gevent's WSGI
server), bare Flask:

* ``GET /hello``: a constant text;
* ``POST /register`` (form field ``user``): one transaction on PostgreSQL that locks the
  gathering's row, counts its confirmed registrations, inserts one (confirmed while seats
  are left, else waitlisted) and commits; then a redirect. SQLAlchemy Core, the app's
  default pool (5 + 10). No session, no CSRF, no rules.

``--stock`` serves with gevent's own handler (Nagle's algorithm on, as before the fix);
otherwise with the app's (``facilitation.core.serving``, TCP_NODELAY).

    python benchmarks/rush_bare_server.py --init-db URL --capacity 1000
    python benchmarks/rush_bare_server.py --port 5057 --database-url URL [--stock]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description="bare Flask hello + capacity-checked insert")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int)
    p.add_argument("--database-url")
    p.add_argument("--init-db", metavar="URL", help="create the tables in URL, then exit")
    p.add_argument("--capacity", type=int, default=1000)
    p.add_argument("--stock", action="store_true", help="gevent's handler, Nagle on")
    return p.parse_args(argv)


ARGS = parse_args() if __name__ == "__main__" else None
if ARGS is not None and not ARGS.init_db:
    from gevent import monkey

    monkey.patch_all()

import sqlalchemy as sa  # noqa: E402
from flask import Flask, redirect, request  # noqa: E402

METADATA = sa.MetaData()
GATHERINGS = sa.Table(
    "bare_gatherings",
    METADATA,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("capacity", sa.Integer, nullable=False),
)
REGISTRATIONS = sa.Table(
    "bare_registrations",
    METADATA,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("user_id", sa.Integer, nullable=False),
    sa.Column("gathering_id", sa.Integer, sa.ForeignKey("bare_gatherings.id"), nullable=False),
    sa.Column("status", sa.String(20), nullable=False),
    sa.UniqueConstraint("user_id", "gathering_id"),
)


def make_app(url: str) -> Flask:
    """The bare app."""
    engine = sa.create_engine(url)
    app = Flask(__name__)

    @app.get("/hello")
    def hello():  # type: ignore[no-untyped-def]
        return "Hello, World!"

    @app.post("/register")
    def register():  # type: ignore[no-untyped-def]
        user = int(request.form["user"])
        with engine.begin() as conn:
            capacity = conn.execute(
                sa.select(GATHERINGS.c.capacity).where(GATHERINGS.c.id == 1).with_for_update()
            ).scalar_one()
            taken = conn.execute(
                sa.select(sa.func.count()).where(
                    REGISTRATIONS.c.gathering_id == 1, REGISTRATIONS.c.status == "confirmed"
                )
            ).scalar_one()
            status = "confirmed" if taken < capacity else "waitlisted"
            conn.execute(
                sa.insert(REGISTRATIONS).values(user_id=user, gathering_id=1, status=status)
            )
        return redirect(f"/registrations/{user}")

    return app


def main() -> int:
    """Create the tables, or serve."""
    assert ARGS is not None
    if ARGS.init_db:
        engine = sa.create_engine(ARGS.init_db)
        METADATA.create_all(engine)
        with engine.begin() as conn:
            conn.execute(sa.insert(GATHERINGS).values(id=1, capacity=ARGS.capacity))
        return 0
    from gevent import pywsgi

    app = make_app(ARGS.database_url)
    if ARGS.stock:
        handler = pywsgi.WSGIHandler
    else:
        sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
        from facilitation.core.serving import gevent_handler_class

        handler = gevent_handler_class()
    print(f"bare on {ARGS.port} ({'stock' if ARGS.stock else 'nodelay'})", flush=True)
    pywsgi.WSGIServer((ARGS.host, ARGS.port), app, handler_class=handler, log=None).serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main())

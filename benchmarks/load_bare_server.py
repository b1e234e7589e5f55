"""The bare baseline of the load benchmark: pages, two inserts and a broadcast, nothing more.

One process serves what one app process serves, on one port, with the same worker model
(gevent, monkey-patched; gevent's WSGI server through ``socketio.run``):

* the bare Flask-SocketIO broadcast server of ``live_bare_server.py`` (``/live``, one room,
  ``trigger`` from a control connection), through Redis with ``--message-queue`` so several
  processes share the room as the app's processes do;
* the request shapes a visitor's browser sends to the app, each doing minimal work: the
  gathering page and the sign-up page (a small template with a hidden token), a sign-up
  (one INSERT into ``bare_users``, a signed session cookie, a redirect), a registration (one
  INSERT into ``bare_registrations``, a redirect) and the registration's page (one SELECT),
  with plain SQLAlchemy Core on PostgreSQL.  No CSRF check, no password hash, no rules.

    python benchmarks/load_bare_server.py --init-db postgresql+psycopg://postgres@127.0.0.1/x
    python benchmarks/load_bare_server.py --port 5057 --database-url URL \\
        --message-queue redis://127.0.0.1:6379/0 --channel bare-load
"""

from __future__ import annotations

import argparse
import sys


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description="bare Flask pages + Flask-SocketIO broadcast server")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int)
    p.add_argument("--database-url", help="SQLAlchemy URL of the PostgreSQL database")
    p.add_argument("--init-db", metavar="URL", help="create the two tables in URL, then exit")
    p.add_argument("--payload-bytes", type=int, default=1024, help="JSON size of run_state")
    p.add_argument("--message-queue", help="e.g. redis://127.0.0.1:6379/0")
    p.add_argument("--channel", default="bare-load")
    return p.parse_args(argv)


ARGS = parse_args() if __name__ == "__main__" else None
if ARGS is not None and not ARGS.init_db:
    from live_modes import prepare

    prepare("gevent")

import resource  # noqa: E402
import secrets  # noqa: E402
from datetime import UTC, datetime  # noqa: E402
from typing import Any  # noqa: E402

import sqlalchemy as sa  # noqa: E402
from flask import abort, redirect, render_template_string, request, session  # noqa: E402

METADATA = sa.MetaData()
USERS = sa.Table(
    "bare_users",
    METADATA,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("email", sa.String(320), nullable=False, unique=True),
    sa.Column("name", sa.String(120), nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
)
REGISTRATIONS = sa.Table(
    "bare_registrations",
    METADATA,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("user_id", sa.Integer, sa.ForeignKey("bare_users.id"), nullable=False),
    sa.Column("gathering_id", sa.Integer, nullable=False),
    sa.Column("option_id", sa.Integer, nullable=False),
    sa.Column("amount_minor", sa.Integer, nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.UniqueConstraint("user_id", "gathering_id"),
)

PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{{ title }}</title>
</head><body><header><a href="/">Gatherwell</a></header><main><h1>{{ title }}</h1>
{% if body %}<p>{{ body }}</p>{% endif %}
{% if form %}<form method="post" action="{{ form }}">
<input id="csrf_token" name="csrf_token" type="hidden" value="{{ token }}">
{% for name, label in fields %}<label>{{ label }} <input name="{{ name }}"></label>{% endfor %}
{% for value, label in choices %}<label><input type="radio" name="option_id" value="{{ value }}">
{{ label }}</label>{% endfor %}<button type="submit">Send</button></form>{% endif %}
</main></body></html>"""
SIGN_UP_FIELDS = [("name", "Full name"), ("email", "Email"), ("password", "Password")]
CHOICES = [("1", "Free place"), ("2", "Pay at the door")]


def create_app(database_url: str, payload_bytes: int, queue: str | None, channel: str) -> Any:
    """The bare broadcast server with the visitor's pages added."""
    from live_bare_server import create_server

    app, socketio = create_server("gevent", payload_bytes, queue, channel)
    engine = sa.create_engine(database_url)
    token = secrets.token_urlsafe(32)

    def page(title: str, body: str = "", form: str = "", fields=(), choices=()) -> str:  # type: ignore[no-untyped-def]
        return render_template_string(
            PAGE, title=title, body=body, form=form, token=token, fields=fields, choices=choices
        )

    @app.get("/gatherings/<int:gathering_id>")
    def gathering(gathering_id: int) -> str:
        if "uid" not in session:
            return page("Spring listening circle", "Sign up to register.")
        action = f"/gatherings/{gathering_id}/register"
        return page("Spring listening circle", "Choose a ticket.", action, choices=CHOICES)

    @app.route("/sign-up", methods=["GET", "POST"])
    def sign_up() -> Any:
        if request.method == "GET":
            return page("Sign up", form=request.full_path, fields=SIGN_UP_FIELDS)
        with engine.begin() as conn:
            uid = conn.execute(
                sa.insert(USERS)
                .values(
                    email=request.form["email"],
                    name=request.form["name"],
                    created_at=datetime.now(UTC),
                )
                .returning(USERS.c.id)
            ).scalar_one()
        session["uid"] = uid
        return redirect(request.args.get("next") or "/")

    @app.post("/gatherings/<int:gathering_id>/register")
    def register(gathering_id: int) -> Any:
        if "uid" not in session:
            abort(403)
        with engine.begin() as conn:
            rid = conn.execute(
                sa.insert(REGISTRATIONS)
                .values(
                    user_id=session["uid"],
                    gathering_id=gathering_id,
                    option_id=int(request.form.get("option_id") or 1),
                    amount_minor=0,
                    created_at=datetime.now(UTC),
                )
                .returning(REGISTRATIONS.c.id)
            ).scalar_one()
        return redirect(f"/registrations/{rid}")

    @app.get("/registrations/<int:registration_id>")
    def show_registration(registration_id: int) -> str:
        with engine.connect() as conn:
            row = conn.execute(
                sa.select(REGISTRATIONS).where(
                    REGISTRATIONS.c.id == registration_id,
                    REGISTRATIONS.c.user_id == session.get("uid"),
                )
            ).first()
        if row is None:
            abort(404)
        return page("Your registration", f"Registration {row.id}: confirmed.")

    return app, socketio


def main() -> int:
    """Create the tables (``--init-db``), or serve."""
    assert ARGS is not None
    if ARGS.init_db:
        engine = sa.create_engine(ARGS.init_db)
        METADATA.drop_all(engine)
        METADATA.create_all(engine)
        engine.dispose()
        return 0
    if ARGS.host not in ("127.0.0.1", "localhost") or not ARGS.port or not ARGS.database_url:
        print("need --port and --database-url; loopback only", file=sys.stderr)
        return 2
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard if hard > 0 else soft, hard))
    app, socketio = create_app(
        ARGS.database_url, ARGS.payload_bytes, ARGS.message_queue, ARGS.channel
    )
    print(
        f"bare load server: mode={socketio.async_mode} payload={ARGS.payload_bytes}B "
        f"queue={ARGS.message_queue} on {ARGS.host}:{ARGS.port}",
        file=sys.stderr,
        flush=True,
    )
    socketio.run(app, host=ARGS.host, port=ARGS.port, allow_unsafe_werkzeug=True, log_output=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())

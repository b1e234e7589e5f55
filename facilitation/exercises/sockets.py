"""Socket.IO handlers of the live layer: who is asking, validate, act, commit, broadcast."""

from __future__ import annotations

import contextlib
import hmac
import json
import logging
import threading
from collections.abc import Callable
from typing import Any

from flask import Flask, current_app, request, session
from flask_login import current_user
from flask_socketio import ConnectionRefusedError, disconnect, emit, join_room
from sqlalchemy.exc import InterfaceError, OperationalError

from facilitation.accounts import services as accounts
from facilitation.accounts.models import User
from facilitation.core.bad_input import is_id
from facilitation.core.clock import utcnow
from facilitation.core.db import first_line
from facilitation.core.errors import DomainError
from facilitation.exercises import broadcast, connections, participants, rooms, services, snapshots
from facilitation.exercises.connections import (
    FACILITATOR,
    PARTICIPANT,
    PROJECTOR,
    Connection,
    _connections,
    error_answer,
)
from facilitation.exercises.models import Run
from facilitation.extensions import db, socketio
from facilitation.gatherings import permissions
from facilitation.gatherings.models import Gathering

logger = logging.getLogger(__name__)

MAX_PAYLOAD_BYTES = 2048
#: Largest Engine.IO frame (Socket.IO's max_http_buffer_size): a few events' worth; the
#: transport closes a connection that sends a bigger one before any handler sees it.
MAX_FRAME_BYTES = 16 * 1024
TICK_SECONDS = 0.25


def _refuse(code: str, message: str) -> ConnectionRefusedError:
    """Build a refusal whose ``connect_error`` carries ``{"code", "message"}`` as its data.

    python-socketio sends its first argument as the error's message (as a string) and only a
    second one as ``data``: with the dict alone, the page got no code and could neither say
    why nor retry a passing outage.
    """
    return ConnectionRefusedError(message, {"code": code, "message": message})


def _identify(auth: Any) -> Connection:
    if not isinstance(auth, dict) or not is_id(auth.get("run_id")):
        raise _refuse("bad_request", "Connect with {'run_id': <a run's number>}.")
    run = db.session.get(Run, auth["run_id"])
    if run is None:
        raise _refuse("no_such_run", "There is no such exercise.")
    token = auth.get("projector_token")
    if token is not None:
        if not isinstance(token, str) or not hmac.compare_digest(token, run.projector_token):
            raise _refuse("bad_projector_token", "This projector link is not valid.")
        return Connection(run.id, PROJECTOR, None)
    if not current_user.is_authenticated:
        raise _refuse("not_logged_in", "Log in to join.")
    if auth.get("as") == FACILITATOR:
        gathering = run_gathering(run)
        if not permissions.may_facilitate(current_user, gathering):
            raise _refuse("not_a_facilitator", NOT_A_FACILITATOR)
        return Connection(run.id, FACILITATOR, current_user.id)
    if permissions.banned_user_ids([current_user.id]):
        raise _refuse("banned", participants.BANNED_MESSAGE)
    refusal = permissions.join_refusal(current_user, run, run_gathering(run))
    if refusal is not None:
        refused = participants.JoinRefused(refusal)
        if connections.first_notice(run.id, current_user.id):
            notice = participants.notice_refusal(run, current_user, refusal)
            broadcast.emit_entry_refused(run, notice)
        raise _refuse(refused.code, refused.message)
    return Connection(run.id, PARTICIPANT, current_user.id)


NOT_A_FACILITATOR = "Only this gathering's facilitators can do that."


def _still_facilitates(connection: Connection) -> bool:
    """Return whether a console's person may still facilitate its run's gathering."""
    run = db.session.get(Run, connection.run_id)
    user = db.session.get(User, connection.user_id) if connection.user_id is not None else None
    gathering = run_gathering(run) if run is not None else None
    return gathering is not None and permissions.may_facilitate(user, gathering)


def run_gathering(run: Run):  # type: ignore[no-untyped-def]
    """Return the gathering a run belongs to."""
    return db.session.get(Gathering, run.gathering_id)


def send_snapshots(connection: Connection) -> None:
    """Send a client everything its role may see, to it alone."""
    run = db.session.get(Run, connection.run_id)
    if run is None:
        return
    emit("run_state", snapshots.run_state(run, utcnow()))
    if connection.role == PARTICIPANT and connection.user_id is not None:
        emit("your_pairing", snapshots.your_pairing(run, connection.user_id))
    else:
        emit("pairing_table", snapshots.pairing_table(run))
    if connection.role == FACILITATOR:
        emit("facilitator_view", snapshots.facilitator_view(run))


def install(app: Flask) -> None:
    """Let each socket event's request object go when the event is done."""
    app.teardown_request(_forget_socket_request)


def _forget_socket_request(_error: BaseException | None = None) -> None:
    # Flask-SocketIO runs every event in a request context built on the socket's environ,
    # and Werkzeug caches the request object in that environ: it would live as long as the
    # socket, with whatever the event left on it. Measured in docs/benchmarks.md.
    if getattr(request, "sid", None) is not None:
        request.environ.pop("werkzeug.request", None)


@socketio.on("connect", namespace=rooms.NAMESPACE)
def on_connect(auth: Any = None) -> None:
    """Recognise the client, put it in its rooms and send its snapshots."""
    with connections.connect_gate:
        try:
            _accept(auth)
        except (OperationalError, InterfaceError) as err:  # the database is down or restarting
            _connections.pop(request.sid, None)  # type: ignore[attr-defined]
            with contextlib.suppress(Exception):
                db.session.rollback()
            logger.warning("live connect refused, database not answering: %s", first_line(err))
            raise _refuse("database_unavailable", DATABASE_UNAVAILABLE) from err
    ensure_ticker(current_app._get_current_object())  # type: ignore[attr-defined]


def _accept(auth: Any) -> None:
    connection = _identify(auth)
    join_room(rooms.run_room(connection.run_id))
    if connection.role == PROJECTOR:
        join_room(rooms.projector_room(connection.run_id))
    elif connection.role == FACILITATOR:
        assert connection.user_id is not None
        join_room(rooms.facilitators_room(connection.run_id))
        join_room(rooms.console_room(connection.run_id, connection.user_id))
    else:
        assert connection.user_id is not None
        join_room(rooms.participant_room(connection.run_id, connection.user_id))
    if connection.user_id is not None:
        join_room(rooms.user_room(connection.user_id))
    _connections[request.sid] = connection  # type: ignore[attr-defined]
    send_snapshots(connection)
    connections.make_room_for(connection, request.sid)  # type: ignore[attr-defined]


@socketio.on("disconnect", namespace=rooms.NAMESPACE)
def on_disconnect(*args: Any) -> None:
    """Forget the connection (a dropped phone stays present until it leaves)."""
    connection = _connections.pop(request.sid, None)  # type: ignore[attr-defined]
    user_id = connection.user_id if connection else None
    limits = connections.app_throttle()
    limits.forget(request.sid, user_id, connections.throttle_clock())  # type: ignore[attr-defined]


DATABASE_UNAVAILABLE = "The database is not answering; nothing was changed. Try again in a minute."


Handler = Callable[[Connection, dict[str, Any]], "tuple[services.Outcome | None, dict[str, Any]]"]


def live_event(name: str, *roles: str) -> Callable[[Handler], Handler]:
    """Register a handler: check the sender and payload, run it, commit, then broadcast."""

    def decorator(handler: Handler) -> Handler:
        def wrapped(payload: Any = None) -> dict[str, Any]:
            connection = _connections.get(request.sid)  # type: ignore[attr-defined]
            if connection is None:
                return error_answer("forbidden", "Connect to a run first.")
            refused = connections.flooding(connection)  # before any other work: a few dict look-ups
            if refused is not None:
                return refused
            if connection.role not in roles:
                return error_answer("forbidden", "You may not do that here.")
            payload = {} if payload is None else payload
            if not isinstance(payload, dict):
                return error_answer("bad_request", "Send a JSON object.")
            if len(json.dumps(payload, default=str)) > MAX_PAYLOAD_BYTES:
                return error_answer("bad_request", "That message is too large.")
            try:
                if connection.role == FACILITATOR and not _still_facilitates(connection):
                    # Demoted or taken off the gathering since connecting: drop the console.
                    db.session.rollback()
                    disconnect()
                    return error_answer("not_a_facilitator", NOT_A_FACILITATOR)
                outcome, answer = handler(connection, payload)
                db.session.commit()
            except DomainError as err:
                db.session.rollback()
                return error_answer(err.code, err.message)
            except (OperationalError, InterfaceError) as err:  # the database is down or restarting
                with contextlib.suppress(Exception):
                    db.session.rollback()
                logger.warning("live event %s: database not answering (%s)", name, type(err))
                return error_answer("database_unavailable", DATABASE_UNAVAILABLE)
            except Exception:
                db.session.rollback()
                logger.exception("live event %s failed", name)
                return error_answer("server_error", "Something went wrong; nothing was changed.")
            if outcome is not None:
                broadcast.after_change(outcome)
            return {"ok": True, **answer}

        wrapped.__name__ = f"on_{name}"
        socketio.on_event(name, wrapped, namespace=rooms.NAMESPACE)
        return handler

    return decorator


def _user(connection: Connection) -> User:
    # The session is the cookie the socket connected with: once the person's sessions are
    # ended (log-out elsewhere, password reset, ban, role change) it no longer names them.
    # Read from the session itself, not current_user, which Flask-Login caches on ``g``.
    user = accounts.load_session_user(str(session.get("_user_id") or ""))
    if user is None or user.id != connection.user_id:
        disconnect()
        raise DomainError("session_ended", "Your log-in has ended. Log in again to continue.")
    if not user.is_active:
        raise DomainError("forbidden", "Log in again.")
    return user


def _run(connection: Connection) -> Run:
    return services.load_run(connection.run_id)


@live_event("sync_clock", PARTICIPANT, FACILITATOR, PROJECTOR)
def sync_clock(connection: Connection, payload: dict[str, Any]):  # type: ignore[no-untyped-def]
    """Answer with the server's clock so the client can estimate its offset."""
    t0 = payload.get("t0")
    if t0 is not None and not isinstance(t0, int | float):
        raise DomainError("bad_request", "t0 must be a number.")
    return None, {"t0": t0, "server_time": int(utcnow().timestamp() * 1000)}


@live_event("request_snapshot", PARTICIPANT, FACILITATOR, PROJECTOR)
def request_snapshot(connection: Connection, payload: dict[str, Any]):  # type: ignore[no-untyped-def]
    """Send this client its snapshots again, or only say so when its version is current.

    Clients check every few seconds with ``known_version`` to heal broadcasts lost while the
    Redis queue was away (docs/faults.md); a current client costs one primary-key read.
    """
    known = payload.get("known_version")
    if known is not None and (not isinstance(known, int) or isinstance(known, bool)):
        raise DomainError("bad_request", "known_version must be a whole number.")
    run = db.session.get(Run, connection.run_id)
    if run is not None and known is not None and known == run.version:
        return None, {"version": run.version, "sent": False}
    send_snapshots(connection)
    return None, {"version": run.version if run is not None else None, "sent": True}


def _participant_change(connection: Connection, change: Callable[[Run, User], Any]):  # type: ignore[no-untyped-def]
    run, user = _run(connection), _user(connection)
    change(run, user)
    return services.Outcome(run_id=run.id, support_changed=True, personal_user_ids=[user.id]), {}


@live_event("join_run", PARTICIPANT)
def join_run(connection: Connection, payload: dict[str, Any]):  # type: ignore[no-untyped-def]
    """Become present in the run."""
    return _participant_change(connection, lambda r, u: participants.join_run(r, u, now=utcnow()))


@live_event("sit_out", PARTICIPANT)
def sit_out(connection: Connection, payload: dict[str, Any]):  # type: ignore[no-untyped-def]
    """Rest from the next round on."""
    return _participant_change(connection, lambda r, u: participants.set_sitting_out(r, u, True))


@live_event("come_back", PARTICIPANT)
def come_back(connection: Connection, payload: dict[str, Any]):  # type: ignore[no-untyped-def]
    """Be paired again from the next round."""
    return _participant_change(connection, lambda r, u: participants.set_sitting_out(r, u, False))


@live_event("leave_run", PARTICIPANT)
def leave_run(connection: Connection, payload: dict[str, Any]):  # type: ignore[no-untyped-def]
    """Stop being present."""
    return _participant_change(connection, lambda r, u: participants.leave_run(r, u, now=utcnow()))


@live_event("signal_support", PARTICIPANT)
def signal_support(connection: Connection, payload: dict[str, Any]):  # type: ignore[no-untyped-def]
    """Raise a silent support signal; facilitators are alerted once per open signal.

    The database decides what is a repeat: while the person's signal is open (no facilitator
    has acknowledged it), another press, from any socket and after any number of reconnects,
    is answered ``ok`` with ``already_sent`` (never an error: the person was heard) and alerts
    nobody; the console keeps chiming for the open signal by itself.
    """
    user_id = connection.user_id
    assert user_id is not None
    if not connections.app_throttle().support_allowed(user_id, connections.throttle_clock()):
        found = participants.open_support_signal(connection.run_id, user_id)
        if found is None:
            raise DomainError("slow_down", connections.SLOW_DOWN)
        return None, {"signal_id": found.id, "already_sent": True}
    # The run's row lock makes two presses at once (two sockets, two processes) one signal.
    run = services.load_run(connection.run_id, lock=True)
    already = participants.open_support_signal(run.id, user_id)
    if already is not None:
        return None, {"signal_id": already.id, "already_sent": True}
    signal = participants.signal_support(run, _user(connection), now=utcnow())
    db.session.commit()
    broadcast.emit_support_signal(signal)
    return services.Outcome(run_id=connection.run_id, support_changed=True), {
        "signal_id": signal.id,
        "already_sent": False,
    }


@live_event("control_run", FACILITATOR)
def control_run(connection: Connection, payload: dict[str, Any]):  # type: ignore[no-untyped-def]
    """Apply a facilitator command once (by its command id)."""
    action, command_id = payload.get("action"), payload.get("command_id")
    if not isinstance(action, str) or not isinstance(command_id, str) or not command_id:
        raise DomainError("bad_request", "Send an action and a command_id.")
    if len(command_id) > 64:
        raise DomainError("bad_request", "command_id is at most 64 characters.")
    delta = payload.get("delta_s")
    if delta is not None and (not isinstance(delta, int | float) or isinstance(delta, bool)):
        raise DomainError("bad_request", "delta_s must be a number of seconds.")
    outcome = services.control(
        connection.run_id,
        _user(connection),
        action,
        command_id=command_id,
        now=utcnow(),
        delta_s=float(delta) if delta is not None else None,
        phase=_phase_of(payload.get("phase")),
    )
    return outcome, outcome.result


def _phase_of(value: Any) -> tuple[int, int] | None:
    """Read ``{"round_index": r, "phase_index": p}`` (or nothing) from a command."""
    if value is None:
        return None
    parts = (
        [value.get(k) for k in ("round_index", "phase_index")] if isinstance(value, dict) else []
    )
    if len(parts) != 2 or not all(type(n) is int and 0 <= n < 2**31 for n in parts):
        raise DomainError("bad_request", "phase is {round_index, phase_index}, whole numbers.")
    return parts[0], parts[1]


@live_event("add_participant", FACILITATOR)
def add_participant(connection: Connection, payload: dict[str, Any]):  # type: ignore[no-untyped-def]
    """Mark someone present who has no phone."""
    user_id = payload.get("user_id")
    if not is_id(user_id):
        raise DomainError("bad_request", "Send the user_id to add.")
    person = db.session.get(User, user_id)
    if person is None:
        raise DomainError("no_such_person", "There is no such person.")
    # The service refuses anyone the gathering does not admit (not every account on the site).
    run = _run(connection)
    participants.join_run(run, person, now=utcnow(), added_by=_user(connection))
    return services.Outcome(run_id=run.id, support_changed=True), {}


@live_event("acknowledge_support", FACILITATOR)
def acknowledge_support(connection: Connection, payload: dict[str, Any]):  # type: ignore[no-untyped-def]
    """Clear a support signal."""
    signal_id = payload.get("signal_id")
    if not is_id(signal_id):
        raise DomainError("bad_request", "Send the signal_id.")
    facilitator = _user(connection)
    run = _run(connection)
    if not permissions.may_facilitate(facilitator, run_gathering(run)):
        raise DomainError("forbidden", "Only this run's facilitators can do that.")
    participants.acknowledge_support(run, facilitator, signal_id, now=utcnow())
    return services.Outcome(run_id=run.id, support_changed=True), {}


def tick_once(now: Any = None) -> list[services.Outcome]:
    """Advance every run whose phase is due, committing and broadcasting each."""
    now = now or utcnow()
    outcomes = []
    for run_id in services.due_run_ids(now):
        try:
            outcome = services.tick_run(run_id, now=now)
            db.session.commit()
        except Exception:
            db.session.rollback()
            logger.exception("ticking run %s failed", run_id)
            continue
        if outcome.state_changed:
            broadcast.after_change(outcome)
            outcomes.append(outcome)
    return outcomes


_ticker_lock = threading.Lock()
_ticker_apps: set[int] = set()


def ensure_ticker(app: Flask) -> None:
    """Start this process's phase ticker once."""
    if app.config.get("TESTING") and not app.config.get("LIVE_TICKER_IN_TESTS"):
        return
    with _ticker_lock:
        if id(app) in _ticker_apps:
            return
        _ticker_apps.add(id(app))
    socketio.start_background_task(_ticker_loop, app)


def _ticker_loop(app: Flask) -> None:
    logger.info("live ticker started")
    database_away = False
    while True:
        socketio.sleep(TICK_SECONDS)
        with app.app_context():
            try:
                tick_once()
                if database_away:
                    logger.info("live ticker: the database answers again")
                database_away = False
            except (OperationalError, InterfaceError) as err:
                # Said once per outage, not four times a second (docs/faults.md).
                if not database_away:
                    logger.warning("live ticker: database not answering: %s", first_line(err))
                database_away = True
            except Exception:
                logger.exception("live ticker step failed")
            finally:
                with contextlib.suppress(Exception):
                    db.session.remove()

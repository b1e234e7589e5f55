"""The three live screens: facilitator console, projector, phone; and joining by code."""

from __future__ import annotations

import hmac

import segno
import sqlalchemy as sa
from flask import Blueprint, abort, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from markupsafe import Markup

from facilitation.exercises.models import Run, RunParticipant
from facilitation.extensions import db
from facilitation.gatherings import permissions
from facilitation.gatherings.models import Gathering

bp = Blueprint("live", __name__)


def _run(run_id: int) -> Run:
    run = db.session.get(Run, run_id)
    if run is None:
        abort(404)
    return run


def _join_url(run: Run) -> str:
    return url_for("live.join_with_code", code=run.join_code, _external=True)


def _qr_svg(text: str) -> Markup:
    svg = segno.make(text, error="m").svg_inline(scale=8, dark="#111", light="#fff", border=2)
    return Markup(svg)


@bp.route("/live/<int:run_id>/console")
@login_required
def console(run_id: int):  # type: ignore[no-untyped-def]
    """Show the facilitator console of a run."""
    run = _run(run_id)
    gathering = db.session.get(Gathering, run.gathering_id)
    if gathering is None or not permissions.may_facilitate(current_user, gathering):
        abort(403)
    present = set(
        db.session.scalars(
            sa.select(RunParticipant.user_id).where(
                RunParticipant.run_id == run.id, RunParticipant.left_at.is_(None)
            )
        )
    )
    # Only the gathering's own people: never every account on the site.
    addable = [p for p in permissions.admitted_people(gathering) if p.id not in present]
    return render_template(
        "live/console.html",
        run=run,
        gathering=gathering,
        join_url=_join_url(run),
        projector_url=url_for(
            "live.projector", run_id=run.id, token=run.projector_token, _external=True
        ),
        addable=addable,
    )


@bp.route("/live/<int:run_id>/projector/<token>")
def projector(run_id: int, token: str):  # type: ignore[no-untyped-def]
    """Show the read-only projector screen (the token is the only key)."""
    run = _run(run_id)
    if not hmac.compare_digest(token, run.projector_token):
        abort(404)
    join_url = _join_url(run)
    return render_template(
        "live/projector.html", run=run, join_url=join_url, qr=_qr_svg(join_url), token=token
    )


@bp.route("/live/<int:run_id>")
@login_required
def phone(run_id: int):  # type: ignore[no-untyped-def]
    """Show the participant's phone screen."""
    run = _run(run_id)
    return render_template("live/phone.html", run=run)


@bp.route("/join", methods=["GET", "POST"])
def join():  # type: ignore[no-untyped-def]
    """Let someone type a join code."""
    code = (request.values.get("code") or "").strip().upper().replace(" ", "")
    error = None
    if code:
        run = db.session.scalar(sa.select(Run).where(Run.join_code == code))
        if run is not None:
            return redirect(url_for("live.join_with_code", code=code))
        error = "No exercise has that code. Check the code on the projector and try again."
    return render_template("live/join.html", code=code, error=error), 400 if error else 200


@bp.route("/join/<code>")
def join_with_code(code: str):  # type: ignore[no-untyped-def]
    """Open the phone screen of the run with this code (log in first if needed)."""
    run = db.session.scalar(sa.select(Run).where(Run.join_code == code.strip().upper()))
    if run is None:
        return render_template(
            "live/join.html",
            code=code,
            error="No exercise has that code. Check the code on the projector and try again.",
        ), 404
    target = url_for("live.phone", run_id=run.id)
    if not current_user.is_authenticated:
        return redirect(url_for("accounts.log_in", next=target))
    return redirect(target)

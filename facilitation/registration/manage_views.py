"""Organisers' registration pages: settings, ticket options, codes, questions, roles, and the
registrations of a gathering with what can be done to each.

Organisers and the gathering's own facilitators use them (``permissions.may_manage``); anyone
else gets 403. Each view loads, authorizes, calls a service and commits; refunds go to Stripe
after the commit (``refunds.send_owed``) and what happened is flashed.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user, login_required
from flask_wtf import FlaskForm

from facilitation.config import card_payments_enabled
from facilitation.core.clock import utcnow
from facilitation.core.display import local
from facilitation.core.errors import DomainError
from facilitation.core.web import PostForm
from facilitation.extensions import db
from facilitation.gatherings import permissions
from facilitation.gatherings.models import Gathering
from facilitation.registration import ledger, options, queries, questions, seats
from facilitation.registration.manage_actions import (
    ACTIONS,
    EDITORS,
    Editor,
    send_refunds_and_tell,
)
from facilitation.registration.manage_forms import (
    QUESTION_LABELS,
    Context,
    SettingsForm,
    action_form,
    actions_for,
    place_error,
)
from facilitation.registration.models import Registration
from facilitation.registration.pricing import format_money, pays_by_card
from facilitation.registration.states import Status

bp = Blueprint("registration_manage", __name__, url_prefix="/manage/gatherings")

NO_STORE = {"Cache-Control": "no-store"}
KINDS = "any('ticket-options', 'codes', 'questions', 'roles')"


def _managed(gathering_id: int) -> Gathering:
    gathering = db.session.get(Gathering, gathering_id)
    if gathering is None:
        abort(404)
    if not permissions.may_manage(current_user, gathering):
        abort(403)
    return gathering


def _context(gathering: Gathering) -> Context:
    return Context(options.read_settings(gathering).currency, gathering.timezone)


def _setup_url(gathering: Gathering) -> str:
    return url_for("registration_manage.edit_setup", gathering_id=gathering.id)


def _page(template: str, gathering: Gathering, status: int = 200, **values: Any) -> Any:
    return render_template(
        f"registration/manage/{template}",
        gathering=gathering,
        cards_on=card_payments_enabled(current_app.config),
        money=format_money,
        **values,
    ), status


# --- settings, and what the gathering offers ----------------------------------------------


@bp.route("/<int:gathering_id>/registration-setup", methods=["GET", "POST"])
@login_required
def edit_setup(gathering_id: int):  # type: ignore[no-untyped-def]
    """Show and change how a gathering takes registrations, with what it offers."""
    gathering = _managed(gathering_id)
    ctx = _context(gathering)
    form = SettingsForm()
    if request.method == "GET":
        form.fill(options.read_settings(gathering), ctx)
    if form.validate_on_submit():
        try:
            options.update_settings(current_user, gathering, form.to_input(ctx), now=utcnow())
        except DomainError as err:
            db.session.rollback()
            place_error(form, err)
        else:
            db.session.commit()
            flash("Registration settings saved.", "success")
            return redirect(_setup_url(gathering))
    now = utcnow()
    codes = options.codes_for(gathering)
    return _page(
        "setup.html",
        gathering,
        400 if form.errors else 200,
        form=form,
        ctx=_context(gathering),
        ticket_options=options.options_for(gathering, include_inactive=True),
        codes=[(code, options.code_uses(code, now)) for code in codes],
        questions=questions.questions_for(gathering),
        question_labels=QUESTION_LABELS,
        roles=questions.roles_for(gathering),
        role_taken=seats.room(gathering, now).role_taken,
        pays_by_card=lambda option: pays_by_card(option.kind, 1),
        post_form=PostForm(),
    )


def _item(editor: Editor, gathering: Gathering, item_id: int) -> Any:
    item = db.session.get(editor.model, item_id)
    if item is None or item.gathering_id != gathering.id:
        abort(404)
    return item


def _item_page(gathering_id: int, kind: str, item_id: int | None):  # type: ignore[no-untyped-def]
    gathering = _managed(gathering_id)
    editor = EDITORS[kind]
    item = _item(editor, gathering, item_id) if item_id is not None else None
    ctx = _context(gathering)
    form = editor.form()
    form.label_money(ctx)
    if item is not None and request.method == "GET":
        form.fill(item, ctx)
    if form.validate_on_submit():
        try:
            data = form.to_input(ctx)
            if item_id is None:
                editor.add(current_user, gathering, data, now=utcnow())
            else:
                editor.update(current_user, gathering, item_id, data, now=utcnow())
        except DomainError as err:
            db.session.rollback()
            place_error(form, err)
        else:
            db.session.commit()
            flash(
                f"{editor.noun.capitalize()} {'added' if item_id is None else 'saved'}.", "success"
            )
            return redirect(_setup_url(gathering))
    return _page(
        "item_form.html",
        gathering,
        400 if form.errors else 200,
        form=form,
        editor=editor,
        kind=kind,
        item_id=item_id,
    )


@bp.route(f"/<int:gathering_id>/<{KINDS}:kind>/new", methods=["GET", "POST"])
@login_required
def new_item(gathering_id: int, kind: str):  # type: ignore[no-untyped-def]
    """Add a ticket option, code, question or pairing role."""
    return _item_page(gathering_id, kind, None)


@bp.route(f"/<int:gathering_id>/<{KINDS}:kind>/<int:item_id>", methods=["GET", "POST"])
@login_required
def edit_item(gathering_id: int, kind: str, item_id: int):  # type: ignore[no-untyped-def]
    """Change a ticket option, code, question or pairing role."""
    return _item_page(gathering_id, kind, item_id)


@bp.route(f"/<int:gathering_id>/<{KINDS}:kind>/<int:item_id>/remove", methods=["POST"])
@login_required
def remove_item(gathering_id: int, kind: str, item_id: int):  # type: ignore[no-untyped-def]
    """Remove an item, or switch it off when registrations use it."""
    gathering = _managed(gathering_id)
    editor = EDITORS[kind]
    item = _item(editor, gathering, item_id)
    if not PostForm().validate_on_submit():
        flash("The form expired. Please try again.", "error")
        return redirect(_setup_url(gathering))
    try:
        editor.remove(current_user, gathering, item_id, now=utcnow())
    except DomainError as err:
        db.session.rollback()
        flash(err.message, "error")
        return redirect(_setup_url(gathering))
    deleted = sa.inspect(item).was_deleted
    db.session.commit()
    flash("Removed." if deleted else editor.kept, "success")
    return redirect(_setup_url(gathering))


# --- registrations -----------------------------------------------------------------------


@dataclass(frozen=True)
class Failed:
    """An action on one registration that was refused, to show again with its errors."""

    registration_id: int
    action: str
    form: FlaskForm


def _filters() -> dict[str, str]:
    found = {"status": request.args.get("status", ""), "q": request.args.get("q", "")[:200]}
    return {k: v for k, v in found.items() if v}


def _list_url(gathering: Gathering) -> str:
    return url_for(
        "registration_manage.list_registrations", gathering_id=gathering.id, **_filters()
    )


def _registrations_page(gathering: Gathering, failed: Failed | None = None):  # type: ignore[no-untyped-def]
    filters = _filters()
    problem = None
    try:
        rows = queries.registrations_for(
            current_user, gathering, status=filters.get("status"), search=filters.get("q", "")
        )
    except DomainError as err:
        rows, problem = [], err.message
    forms = {r.id: {action: action_form(action, r) for action in actions_for(r)} for r in rows}
    if failed is not None and failed.registration_id in forms:
        forms[failed.registration_id][failed.action] = failed.form
    now = utcnow()
    page, status = _page(
        "registrations.html",
        gathering,
        400 if failed is not None or problem else 200,
        rows=rows,
        forms=forms,
        failed=failed,
        problem=problem,
        filters=filters,
        statuses=list(Status),
        counts=queries.counts_by_status(gathering),
        seats_left=queries.seats_left(gathering, now),
        answers=queries.answers_for(current_user, gathering),
        positions={r.id: i for i, r in enumerate(seats.waitlist(gathering), start=1)},
        owed=ledger.refunds_outstanding(gathering.id),
        now=now,
        post_form=PostForm(formdata=None),
    )
    return page, status, NO_STORE


@bp.route("/<int:gathering_id>/registrations")
@login_required
def list_registrations(gathering_id: int):  # type: ignore[no-untyped-def]
    """List a gathering's registrations, by status and name or email."""
    return _registrations_page(_managed(gathering_id))


@bp.route("/<int:gathering_id>/registrations.csv")
@login_required
def export_registrations(gathering_id: int):  # type: ignore[no-untyped-def]
    """Download a gathering's registrations, answers included, as CSV."""
    gathering = _managed(gathering_id)
    buffer = io.StringIO()
    csv.writer(buffer).writerows(queries.export_rows(current_user, gathering))
    slug = re.sub(r"[^a-z0-9]+", "-", gathering.title.lower()).strip("-")[:60] or "gathering"
    day = local(gathering.starts_at, gathering.timezone).date().isoformat()
    # The byte-order mark makes spreadsheet programs read the file as UTF-8.
    return Response(
        "\ufeff" + buffer.getvalue(),
        mimetype="text/csv",
        headers={
            "Content-Disposition": f'attachment; filename="registrations-{day}-{slug}.csv"',
            **NO_STORE,
        },
    )


@bp.route("/<int:gathering_id>/refunds/send", methods=["POST"])
@login_required
def send_refunds(gathering_id: int):  # type: ignore[no-untyped-def]
    """Try again to send every refund still owed by card."""
    gathering = _managed(gathering_id)
    if not PostForm().validate_on_submit():
        flash("The form expired. Please try again.", "error")
        return redirect(_list_url(gathering))
    owed = [r.id for r in ledger.refunds_outstanding(gathering.id)]
    if not owed:
        flash("Nobody is owed money back.", "info")
    send_refunds_and_tell(owed)
    return redirect(_list_url(gathering))


ACTION_NAMES = ", ".join(f"'{name}'" for name in ACTIONS)


@bp.route(
    f"/<int:gathering_id>/registrations/<int:registration_id>/<any({ACTION_NAMES}):action>",
    methods=["POST"],
)
@login_required
def act_on_registration(gathering_id: int, registration_id: int, action: str):  # type: ignore[no-untyped-def]
    """Approve, decline, offer a seat, cancel, refund, or record money for one registration."""
    gathering = _managed(gathering_id)
    registration = db.session.get(Registration, registration_id)
    if registration is None or registration.gathering_id != gathering.id:
        abort(404)
    if action not in actions_for(registration):
        flash(
            "That is not possible for this registration now; the page shows where it stands.",
            "error",
        )
        return redirect(_list_url(gathering))
    form = action_form(action, registration, bound=True)
    if not form.validate_on_submit():
        return _registrations_page(gathering, Failed(registration_id, action, form))
    try:
        done = ACTIONS[action](current_user, registration, form)
    except DomainError as err:
        db.session.rollback()
        place_error(form, err)
        return _registrations_page(gathering, Failed(registration_id, action, form))
    db.session.commit()
    flash(done.message, "success")
    send_refunds_and_tell(done.refund_ids)
    return redirect(_list_url(gathering))

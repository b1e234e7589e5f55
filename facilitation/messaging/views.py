"""The outbox page: organisers read what the platform sent (or would have sent)."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, abort, current_app, flash, redirect, render_template, url_for

from facilitation.accounts.models import Role
from facilitation.core.web import PostForm, role_required
from facilitation.extensions import db
from facilitation.messaging import services
from facilitation.messaging.models import OutboxMessage

bp = Blueprint("messaging", __name__, url_prefix="/manage/outbox")


@bp.route("/")
@role_required(Role.ORGANISER)
def list_messages():  # type: ignore[no-untyped-def]
    """List the most recent emails."""
    messages = db.session.scalars(
        sa.select(OutboxMessage).order_by(OutboxMessage.id.desc()).limit(200)
    ).all()
    return render_template(
        "messaging/outbox.html",
        messages=messages,
        smtp_on=bool(current_app.config.get("MAIL_URL")),
        form=PostForm(),
    )


@bp.route("/<int:message_id>")
@role_required(Role.ORGANISER)
def show_message(message_id: int):  # type: ignore[no-untyped-def]
    """Show one email in full."""
    message = db.session.get(OutboxMessage, message_id)
    if message is None:
        abort(404)
    return render_template("messaging/message.html", message=message)


@bp.route("/retry", methods=["POST"])
@role_required(Role.ORGANISER)
def retry():  # type: ignore[no-untyped-def]
    """Try again to send what SMTP has not accepted."""
    if not PostForm().validate_on_submit() or not current_app.config.get("MAIL_URL"):
        abort(400)
    count = services.retry_unsent()
    flash(f"Tried {count} unsent message(s) again.", "success")
    return redirect(url_for("messaging.list_messages"))

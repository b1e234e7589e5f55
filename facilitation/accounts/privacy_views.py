"""My data: see what is held, download it, erase the account."""

from __future__ import annotations

import json

from flask import Blueprint, Response, flash, redirect, render_template, session, url_for
from flask_login import current_user, login_required, logout_user
from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired

from facilitation.accounts import attempts, privacy
from facilitation.core import limits
from facilitation.core.clock import utcnow
from facilitation.core.errors import DomainError
from facilitation.core.web import show_error
from facilitation.exercises import removal
from facilitation.extensions import db

bp = Blueprint("privacy", __name__)


class EraseForm(FlaskForm):
    """Confirm erasure with the password and a typed word."""

    password = PasswordField("Your password", validators=[DataRequired("Enter your password.")])
    confirm = StringField(
        f"Type {privacy.CONFIRM_WORD} to confirm",
        validators=[DataRequired(f"Type {privacy.CONFIRM_WORD} to confirm.")],
        description="In capital letters. This cannot be undone.",
    )


def _retention() -> str:
    return privacy.retention_text(privacy.retention_days())


@bp.route("/account/my-data")
@login_required
def my_data():  # type: ignore[no-untyped-def]
    """Explain what is held about the person, with how many records of each kind."""
    export = privacy.export_person(current_user, now=utcnow())
    counts = {name: len(rows) for name, rows in export["tables"].items() if rows}
    return render_template(
        "accounts/my_data.html",
        counts=counts,
        withheld=export["withheld"],
        retention=_retention(),
    )


@bp.route("/account/my-data.json")
@login_required
def download_my_data():  # type: ignore[no-untyped-def]
    """Download everything held about the logged-in person as JSON."""
    now = utcnow()
    body = json.dumps(privacy.export_person(current_user, now=now), indent=2, ensure_ascii=False)
    response = Response(body, mimetype="application/json")
    filename = f"gatherwell-my-data-{now.date().isoformat()}.json"
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/account/erase", methods=["GET", "POST"])
@login_required
def erase_account():  # type: ignore[no-untyped-def]
    """Say what erasure removes and keeps; erase after the password and a typed word."""
    form = EraseForm()
    user_id = current_user.id
    if form.validate_on_submit():
        try:
            attempt = privacy.count_erase_check(current_user, now=utcnow())
        except attempts.TooManyAttempts as err:
            db.session.rollback()
            return limits.refuse(err.retry_after_s)
        db.session.commit()  # the count stands whatever the check below says
        try:
            privacy.check_erase_request(
                current_user, form.password.data or "", form.confirm.data or "", attempt=attempt
            )
            privacy.erase_person(current_user, now=utcnow())
        except DomainError as err:
            db.session.rollback()
            show_error(form, err)
        else:
            db.session.commit()
            logout_user()
            session.clear()
            removal.disconnect_user(user_id, removal.SESSION_ENDED)
            flash(
                "Your account is erased and you are logged out. Signed agreements are kept "
                f"for {_retention()}, as explained, then deleted.",
                "success",
            )
            return redirect(url_for("gatherings.list_gatherings"))
    status = 400 if form.errors or form.form_errors else 200
    return render_template("accounts/erase.html", form=form, retention=_retention()), status

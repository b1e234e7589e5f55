"""The account page for personal API tokens: make one (its secret shown once), list, revoke."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from wtforms import BooleanField, IntegerField, StringField
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from facilitation.api import tokens
from facilitation.api.models import Scope
from facilitation.core.clock import utcnow
from facilitation.core.errors import DomainError
from facilitation.core.web import PostForm, show_error
from facilitation.extensions import db

bp = Blueprint("api_tokens", __name__, url_prefix="/account/api-tokens")


class TokenForm(FlaskForm):
    """Name a new token, say whether it may change things, and when it ends."""

    name = StringField("Name", validators=[DataRequired("Give the token a name."), Length(max=80)])
    write = BooleanField(
        "May change things (register, check in, control runs), not only read",
        description="Leave unticked for a read-only token.",
    )
    expires_in_days = IntegerField(
        "Expires after (days)",
        validators=[Optional(), NumberRange(min=1, max=tokens.MAX_EXPIRY_DAYS)],
        description="Leave empty for a token that lasts until you revoke it.",
    )


def _page(form: TokenForm, secret: str | None = None, status: int = 200):  # type: ignore[no-untyped-def]
    return render_template(
        "api/tokens.html",
        form=form,
        tokens=tokens.tokens_of(current_user),
        secret=secret,
        post_form=PostForm(),
        now=utcnow(),
    ), status


@bp.route("", methods=["GET", "POST"])
@login_required
def list_tokens():  # type: ignore[no-untyped-def]
    """List one's tokens and make a new one; the new secret is shown on this answer only."""
    form = TokenForm()
    if form.validate_on_submit():
        scopes = {Scope.READ.value} | ({Scope.WRITE.value} if form.write.data else set())
        try:
            issued = tokens.issue(
                current_user,
                form.name.data or "",
                scopes,
                now=utcnow(),
                expires_in_days=form.expires_in_days.data,
            )
        except DomainError as err:
            db.session.rollback()
            show_error(form, err)
        else:
            db.session.commit()
            response = _page(TokenForm(formdata=None), issued.secret)
            return response[0], 201, {"Cache-Control": "no-store"}
    return _page(form, status=400 if form.errors or form.form_errors else 200)


@bp.route("/<int:token_id>/revoke", methods=["POST"])
@login_required
def revoke_token(token_id: int):  # type: ignore[no-untyped-def]
    """Revoke one of one's tokens: it stops working at once."""
    if not PostForm().validate_on_submit():
        abort(400)
    try:
        token = tokens.revoke(current_user, token_id, now=utcnow())
    except DomainError:
        db.session.rollback()
        abort(404)
    db.session.commit()
    flash(f"Token “{token.name}” revoked; programs using it are refused from now on.", "success")
    return redirect(url_for(".list_tokens"))

"""Pages for accounts: sign up, log in and out, password reset, profile, people."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, abort, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_required, login_user, logout_user

from facilitation.accounts import attempts, services
from facilitation.accounts.forms import (
    ForgotPasswordForm,
    LoginForm,
    ProfileForm,
    ResetPasswordForm,
    RoleForm,
    SignUpForm,
)
from facilitation.accounts.models import Role, User
from facilitation.core import limits
from facilitation.core.clock import utcnow
from facilitation.core.errors import DomainError
from facilitation.core.web import PostForm, role_required, safe_next, show_error
from facilitation.exercises import consoles, removal
from facilitation.extensions import db

bp = Blueprint("accounts", __name__)


def _log_in(user: User) -> None:
    session.clear()  # a fresh session on log-in: no fixation
    session.permanent = True
    login_user(user)


@bp.route("/sign-up", methods=["GET", "POST"])
@limits.sign_up
def sign_up():  # type: ignore[no-untyped-def]
    """Create an account and log in."""
    if current_user.is_authenticated:
        return redirect(url_for("gatherings.list_gatherings"))
    form = SignUpForm()
    if form.validate_on_submit():
        try:
            user = services.sign_up(
                form.email.data or "",
                form.name.data or "",
                form.password.data or "",
                display_name=form.display_name.data,
                now=utcnow(),
            )
        except DomainError as err:
            db.session.rollback()
            show_error(form, err)
        else:
            db.session.commit()
            _log_in(user)
            flash("Welcome! Your account is ready.", "success")
            return redirect(
                safe_next(request.args.get("next"), url_for("gatherings.list_gatherings"))
            )
    return render_template("accounts/sign_up.html", form=form), 400 if form.errors else 200


@bp.route("/log-in", methods=["GET", "POST"])
@limits.log_in
def log_in():  # type: ignore[no-untyped-def]
    """Log in with email and password."""
    form = LoginForm()
    if form.validate_on_submit():
        email, now = form.email.data or "", utcnow()
        try:
            attempt = services.count_log_in(email, now=now)
        except attempts.TooManyAttempts as err:
            db.session.rollback()
            return limits.refuse(err.retry_after_s)
        db.session.commit()  # the count stands whatever the check below says
        try:
            user = services.authenticate(email, form.password.data or "", now=now, attempt=attempt)
        except DomainError as err:
            db.session.rollback()
            show_error(form, err)
        else:
            db.session.commit()
            _log_in(user)
            return redirect(
                safe_next(request.args.get("next"), url_for("gatherings.list_gatherings"))
            )
    status = 400 if (form.errors or request.method == "POST") else 200
    return render_template("accounts/log_in.html", form=form), status


@bp.route("/log-out", methods=["POST"])
def log_out():  # type: ignore[no-untyped-def]
    """Log out."""
    if PostForm().validate_on_submit():
        user_id = current_user.id if current_user.is_authenticated else None
        if current_user.is_authenticated:
            services.end_sessions(current_user)
            db.session.commit()
        logout_user()
        session.clear()
        if user_id is not None:
            removal.disconnect_user(user_id, removal.SESSION_ENDED)
        flash("You are logged out.", "success")
    return redirect(url_for("gatherings.list_gatherings"))


@bp.route("/forgot-password", methods=["GET", "POST"])
@limits.reset_request
def forgot_password():  # type: ignore[no-untyped-def]
    """Ask for a password reset link by email."""
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        services.request_password_reset(form.email.data or "")
        db.session.commit()
        flash(
            "If that address has an account, a reset link is on its way. It works for one hour.",
            "success",
        )
        return redirect(url_for("accounts.log_in"))
    return render_template("accounts/forgot_password.html", form=form), 400 if form.errors else 200


@bp.route("/reset-password/<token>", methods=["GET", "POST"])
@limits.reset_form
def reset_password(token: str):  # type: ignore[no-untyped-def]
    """Choose a new password with a reset link."""
    try:
        services.user_for_reset_token(token)
    except DomainError as err:
        flash(err.message, "error")
        return render_template("accounts/forgot_password.html", form=ForgotPasswordForm()), 400
    form = ResetPasswordForm()
    if form.validate_on_submit():
        try:
            user = services.reset_password(token, form.password.data or "")
        except DomainError as err:
            db.session.rollback()
            show_error(form, err)
        else:
            db.session.commit()
            removal.disconnect_user(user.id, removal.SESSION_ENDED)
            _log_in(user)
            flash("Your new password is set.", "success")
            return redirect(url_for("gatherings.list_gatherings"))
    return render_template("accounts/reset_password.html", form=form), 400 if form.errors else 200


@bp.route("/account", methods=["GET", "POST"])
@login_required
def profile():  # type: ignore[no-untyped-def]
    """Show and change one's own names."""
    form = ProfileForm(obj=current_user)
    if form.validate_on_submit():
        try:
            services.update_profile(
                current_user, form.name.data or "", form.display_name.data or ""
            )
        except DomainError as err:
            db.session.rollback()
            show_error(form, err)
        else:
            db.session.commit()
            flash("Saved.", "success")
            return redirect(url_for("accounts.profile"))
    return render_template("accounts/profile.html", form=form), 400 if form.errors else 200


@bp.route("/manage/people")
@role_required(Role.ORGANISER)
def list_people():  # type: ignore[no-untyped-def]
    """List accounts so an organiser can make someone a facilitator or organiser."""
    query = (request.args.get("q") or "").strip()[:100]
    stmt = sa.select(User).order_by(User.name)
    if query:
        like = f"%{query.lower()}%"
        stmt = stmt.where(sa.or_(sa.func.lower(User.name).like(like), User.email.like(like)))
    people = db.session.scalars(stmt.limit(200)).all()
    return render_template("accounts/people.html", people=people, query=query, form=RoleForm())


@bp.route("/manage/people/<int:user_id>/role", methods=["POST"])
@role_required(Role.ORGANISER)
def change_role(user_id: int):  # type: ignore[no-untyped-def]
    """Change someone's role."""
    form = RoleForm()
    if not form.validate_on_submit():
        flash("Choose participant, facilitator or organiser.", "error")
        return redirect(url_for("accounts.list_people"))
    person = db.session.get(User, user_id)
    before = person.session_generation if person is not None else None
    try:
        user = services.set_role(current_user, user_id, form.role.data or "")
    except DomainError as err:
        db.session.rollback()
        if err.status == 404:
            abort(404)
        flash(err.message, "error")
    else:
        db.session.commit()
        if user.session_generation != before:
            removal.disconnect_user(user.id, removal.SESSION_ENDED)
        # A facilitator demoted loses any open live console at once (docs/security.md).
        consoles.close_revoked(user.id)
        flash(f"{user.name} is now {user.role}.", "success")
    return redirect(url_for("accounts.list_people"))

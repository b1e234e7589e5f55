"""Small pieces every view uses: role checks, domain errors on forms, safe redirects."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar
from urllib.parse import urlsplit

from flask import abort, flash
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from werkzeug.urls import iri_to_uri

from facilitation.core.errors import DomainError

F = TypeVar("F", bound=Callable[..., Any])


def role_required(role: Any) -> Callable[[F], F]:
    """Let only logged-in people with ``role`` (or above) through; others get 403.

    ``role`` is an ``accounts.models.Role``; core imports no domain package, so the user
    model's ``has_role`` decides what it means.
    """

    def decorator(view: F) -> F:
        @wraps(view)
        @login_required
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            if not current_user.has_role(role):
                abort(403)
            return view(*args, **kwargs)

        return wrapped  # type: ignore[return-value]

    return decorator


def show_error(form: FlaskForm | None, error: DomainError) -> None:
    """Put a domain error next to its field, at the top of the form, or in a flash."""
    if form is None:
        flash(error.message, "error")
        return
    field = getattr(form, error.field, None) if error.field else None
    if field is not None:
        field.errors = [*list(field.errors), error.message]
    else:
        form.form_errors.append(error.message)


def safe_next(target: str | None, default: str) -> str:
    """Return ``target`` only if it is a path on this site; otherwise ``default``."""
    if not target:
        return default
    # Browsers drop tabs and newlines inside URLs ("/\t/evil" becomes "//evil"), and a
    # control character in a Location header is refused by the server: refuse them all.
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in target):
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return default
    if "\\" in target:
        return default
    # Percent-encode spaces and non-ASCII so the Location header is plain ASCII.
    return iri_to_uri(target)


class PostForm(FlaskForm):
    """A form with only the CSRF token, for buttons that post."""

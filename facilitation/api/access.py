"""The API's request boundary: who is asking (by token), what they may send, how errors read.

Every endpoint goes through :func:`endpoint`: it reads the bearer token, checks the write
scope and the door role, validates the body against the published schema, runs the view,
and turns any domain error into ``{"error": {"code", "message", "field"}}``. Nothing here
uses the session cookie: the API never logs anyone in.
"""

from __future__ import annotations

import contextlib
import json
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any, TypeVar

import jsonschema_rs
from flask import g, jsonify, request
from sqlalchemy.exc import InterfaceError, OperationalError
from werkzeug.exceptions import HTTPException

from facilitation.accounts.models import User
from facilitation.api import tokens
from facilitation.api.models import ApiToken, Scope
from facilitation.api.schemas import MAX_OFFSET, REQUEST_SCHEMAS
from facilitation.core.bad_input import MAX_ID
from facilitation.core.clock import utcnow
from facilitation.core.errors import DomainError
from facilitation.extensions import db

logger = logging.getLogger(__name__)

F = TypeVar("F", bound=Callable[..., Any])
_DIGITS = re.compile(r"[0-9]{1,9}")
#: Largest JSON body accepted, in bytes.
MAX_BODY = 256 * 1024


class Invalid(DomainError):
    """The request does not match the published document (422)."""

    status = 422


class BadBody(DomainError):
    """The body is not JSON at all (400)."""


def error_response(code: str, message: str, status: int, field: str | None = None):  # type: ignore[no-untyped-def]
    """Return the JSON error every API refusal uses."""
    response = jsonify(error={"code": code, "message": message, "field": field})
    response.status_code = status
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="gatherwell"'
    return response


def status_of(err: DomainError) -> int:
    """Return the HTTP status for a domain error: 401/403/404/409 by its kind, 400/422 ours."""
    if isinstance(err, Invalid):
        return 422
    if isinstance(err, BadBody):
        return 400
    if err.status in (401, 403, 404):
        return err.status
    # Well-formed requests that a rule refuses: a conflict with the state or the rules.
    return 409


_validators: dict[str, Any] = {}


def _validator(name: str) -> Any:
    if name not in _validators:
        _validators[name] = jsonschema_rs.validator_for(
            REQUEST_SCHEMAS[name], validate_formats=True
        )
    return _validators[name]


def _error_field(error: Any) -> str | None:
    path = [str(p) for p in getattr(error, "instance_path", [])]
    return ".".join(path) or None


def body(name: str, *, required: bool = True) -> dict[str, Any]:
    """Return the JSON body, validated against the named request schema; 400/422 otherwise."""
    raw = request.get_data(cache=True)
    if len(raw) > MAX_BODY:
        raise Invalid("too_large", "The body is too large.")
    if not raw.strip():
        if required:
            raise Invalid("body_required", "Send a JSON object.")
        data: Any = {}
    else:
        try:
            data = json.loads(raw, parse_constant=_no_constant)
        except (ValueError, RecursionError):
            raise BadBody("bad_json", "The body is not valid JSON.") from None
    validator = _validator(name)
    try:
        error = next(iter(validator.iter_errors(data)), None)
    except (ValueError, OverflowError):
        raise Invalid("invalid", "The body does not match the schema.") from None
    if error is not None:
        raise Invalid("invalid", f"{error.message}"[:300], _error_field(error))
    assert isinstance(data, dict)
    return data


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def int_arg(name: str, default: int, low: int, high: int) -> int:
    """Return an integer query parameter within [low, high]; 422 otherwise."""
    text = request.args.get(name)
    if text is None:
        return default
    if not _DIGITS.fullmatch(text) or not low <= int(text) <= high:
        raise Invalid("invalid", f"{name} must be a whole number from {low} to {high}.", name)
    return int(text)


#: The query parameters of every list.
PAGING = ("limit", "offset")


@dataclass(frozen=True)
class Page:
    """Which slice of a list to return."""

    limit: int
    offset: int


def page() -> Page:
    """Return the limit and offset asked for (20 and 0 by default)."""
    return Page(int_arg("limit", 20, 1, 100), int_arg("offset", 0, 0, MAX_OFFSET))


def paged(items: list[Any], total: int, at: Page) -> dict[str, Any]:
    """Return a page of items as the API sends lists."""
    return {"items": items, "total": total, "limit": at.limit, "offset": at.offset}


def _check_query(allowed: tuple[str, ...]) -> None:
    for name in request.args:
        if name not in allowed:
            raise Invalid("unknown_parameter", f"Unknown query parameter {name[:40]!r}.", name)
        if len(request.args.getlist(name)) > 1:
            raise Invalid("repeated_parameter", f"Give {name} once.", name)


def actor() -> User:
    """Return the person the current request's token acts for."""
    return g.api_token.user  # type: ignore[no-any-return]


def current_token() -> ApiToken:
    """Return the current request's token."""
    return g.api_token  # type: ignore[no-any-return]


def endpoint(
    *, write: bool = False, door: bool = False, query: tuple[str, ...] = ()
) -> Callable[[F], F]:
    """Authenticate by token, check scope and role, run the view, map errors to JSON.

    ``write``: the view changes something, so the token needs the write scope.
    ``door``: door volunteers may use it (they may otherwise only work the desk, as on the
    pages). ``query``: the query parameters it takes; any other, or one given twice, is 422.
    """

    def decorator(view: F) -> F:
        @wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            try:
                token = tokens.authenticate(request.headers.get("Authorization"), now=utcnow())
            except tokens.InvalidToken as err:
                db.session.rollback()
                return error_response(err.code, err.message, 401)
            if db.session.dirty:
                db.session.commit()  # keeps last_used_at (written at most once a minute)
            g.api_token = token
            if write and Scope.WRITE not in token.scope_set:
                return error_response(
                    "scope_required", "This token may only read; make one with write.", 403
                )
            if token.user.is_door and not door:
                return error_response("forbidden", "Door accounts can only work the desk.", 403)
            if any(isinstance(v, int) and not 1 <= v <= MAX_ID for v in kwargs.values()):
                return error_response("not_found", "No such thing.", 404)
            try:
                _check_query(query)
                return view(*args, **kwargs)
            except DomainError as err:
                db.session.rollback()
                return error_response(err.code, err.message, status_of(err), err.field)
            except (HTTPException, OperationalError, InterfaceError):
                # A database that is not answering gets the app's 503 (docs/faults.md).
                with contextlib.suppress(Exception):
                    db.session.rollback()
                raise
            except Exception:
                db.session.rollback()
                logger.exception("api view %s failed", view.__name__)
                return error_response(
                    "server_error", "Something went wrong on our side; nothing was saved.", 500
                )

        return wrapped  # type: ignore[return-value]

    return decorator

"""The JSON API, /api/v1: the blueprint, its document, who-am-I, JSON for unknown paths.

The endpoints of each domain live beside this module (``gathering_views``,
``registration_views``, ``desk_views``, ``run_views``) and register on this blueprint.
"""

from __future__ import annotations

from flask import Blueprint, jsonify, request
from werkzeug.exceptions import MethodNotAllowed, NotFound

from facilitation.api import access, openapi, serialize
from facilitation.extensions import csrf

bp = Blueprint("api", __name__, url_prefix="/api")
# Tokens, not cookies: a cross-site page cannot make a browser send a bearer token.
csrf.exempt(bp)


@bp.route("/openapi.json")
def openapi_document():  # type: ignore[no-untyped-def]
    """Serve the OpenAPI document (no token needed)."""
    return jsonify(openapi.document())


@bp.route("/v1/me")
@access.endpoint(door=True)
def show_me():  # type: ignore[no-untyped-def]
    """Say who the token acts for, and with which scopes."""
    return jsonify(serialize.me(access.actor(), access.current_token().scope_set))


@bp.before_app_request
def _json_routing_errors():  # type: ignore[no-untyped-def]
    """Answer an unknown /api path or method in JSON (404, or 405 with Allow), not HTML.

    Routing fails before any view runs, but Flask raises the error only after the
    before-request hooks, so this is the one place that can still answer for the API.
    """
    error = request.routing_exception
    if error is None or not request.path.startswith(bp.url_prefix or "/api"):
        return None
    if isinstance(error, MethodNotAllowed):
        response = access.error_response(
            "method_not_allowed", "That method is not available here.", 405
        )
        response.headers["Allow"] = ", ".join(sorted(error.valid_methods or []))
        return response
    if isinstance(error, NotFound):
        return access.error_response("not_found", "There is nothing at this address.", 404)
    return None


from facilitation.api import (  # noqa: E402  (they register routes on bp)
    desk_views,
    gathering_views,
    registration_views,
    run_views,
)

__all__ = ["bp", "desk_views", "gathering_views", "registration_views", "run_views"]

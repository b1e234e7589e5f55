"""The OpenAPI 3.1 document of /api/v1: paths and responses, around ``schemas``.

The request schemas it names are the ones the views validate bodies against, so the
document and the server cannot disagree about what a valid request is.
"""

from __future__ import annotations

from facilitation.api.schemas import (
    MAX_OFFSET,
    REQUEST_SCHEMAS,
    RESPONSE_SCHEMAS,
    Schema,
    integer_id,
    ref,
)
from facilitation.registration.states import Status

_ERRORS = {
    "400": "The body is not JSON, or the path, query or body holds a NUL character.",
    "401": "No valid token.",
    "403": "The token's owner may not do this, or the token lacks the write scope.",
    "404": "Not found (or not visible to the token's owner).",
    "409": "Well formed, but a rule refused it; error.code says which, error.field where.",
    "422": "The request does not match this document (types, ranges, unknown fields).",
}
_JSON = "application/json"


def _error_response(status: str) -> Schema:
    response: Schema = {
        "description": _ERRORS[status],
        "content": {_JSON: {"schema": ref("Error")}},
    }
    if status == "401":
        response["headers"] = {"WWW-Authenticate": {"required": True, "schema": {"type": "string"}}}
    return response


PAGING = [
    {
        "name": "limit",
        "in": "query",
        "schema": {"type": "integer", "minimum": 1, "maximum": 100, "default": 20},
    },
    {
        "name": "offset",
        "in": "query",
        "schema": {"type": "integer", "minimum": 0, "maximum": MAX_OFFSET, "default": 0},
    },
]


def _path_id(name: str) -> Schema:
    return {"name": name, "in": "path", "required": True, "schema": integer_id()}


def _op(
    summary: str,
    ok: str,
    schema: str,
    *,
    params: list[Schema] | None = None,
    body: str | None = None,
    body_required: bool = True,
    errors: tuple[str, ...] = ("401", "403", "404"),
    tag: str,
) -> Schema:
    responses: Schema = {
        ok: {"description": "Done.", "content": {_JSON: {"schema": ref(schema)}}},
    }
    codes = set(errors) | {"400"}  # a NUL anywhere in the request (core/bad_input.py)
    if body or any(p["in"] == "query" for p in params or []):
        codes |= {"422"}
    if body:
        codes |= {"400", "409"}
    for status in sorted(codes):
        responses[status] = _error_response(status)
    op: Schema = {"summary": summary, "tags": [tag], "responses": responses}
    if params:
        op["parameters"] = params
    if body:
        op["requestBody"] = {
            "required": body_required,
            "content": {_JSON: {"schema": ref(body)}},
        }
    return op


def _also(op: Schema, status: str, description: str, schema: str) -> Schema:
    """Add a second success answer to an operation."""
    op["responses"][status] = {
        "description": description,
        "content": {_JSON: {"schema": ref(schema)}},
    }
    return op


G = _path_id("gathering_id")
R = _path_id("registration_id")


def _paths() -> dict[str, Schema]:
    write = ("401", "403", "404", "409")
    return {
        "/api/v1/me": {
            "get": _op("Who the token acts as", "200", "Me", errors=("401",), tag="account")
        },
        "/api/v1/gatherings": {
            "get": _op(
                "Upcoming gatherings (organisers see drafts too)",
                "200",
                "GatheringPage",
                params=PAGING,
                errors=("401", "403"),
                tag="gatherings",
            ),
            "post": _op(
                "Create a draft gathering (organisers)",
                "201",
                "Gathering",
                body="GatheringCreate",
                errors=("401", "403"),
                tag="gatherings",
            ),
        },
        "/api/v1/gatherings/{gathering_id}": {
            "get": _op("One gathering", "200", "Gathering", params=[G], tag="gatherings"),
            "patch": _op(
                "Change a gathering (organisers)",
                "200",
                "Gathering",
                params=[G],
                body="GatheringPatch",
                errors=write,
                tag="gatherings",
            ),
        },
        "/api/v1/gatherings/{gathering_id}/publish": {
            "post": _op(
                "Publish a draft (organisers)",
                "200",
                "Gathering",
                params=[G],
                errors=write,
                tag="gatherings",
            )
        },
        "/api/v1/gatherings/{gathering_id}/cancel": {
            "post": _op(
                "Cancel a gathering and its registrations (organisers)",
                "200",
                "Gathering",
                params=[G],
                body="GatheringCancel",
                body_required=False,
                errors=write,
                tag="gatherings",
            )
        },
        "/api/v1/gatherings/{gathering_id}/registrations": {
            "get": _op(
                "A gathering's registrations (organisers, its facilitators)",
                "200",
                "RegistrationPage",
                params=[
                    G,
                    *PAGING,
                    {
                        "name": "status",
                        "in": "query",
                        "schema": {"type": "string", "enum": [s.value for s in Status]},
                    },
                ],
                tag="registrations",
            ),
            "post": _op(
                "Register oneself (free and pay-at-the-door options)",
                "201",
                "Registration",
                params=[G],
                body="RegistrationCreate",
                errors=write,
                tag="registrations",
            ),
        },
        "/api/v1/registrations/{registration_id}": {
            "get": _op(
                "One registration (its owner, organisers, the gathering's facilitators)",
                "200",
                "Registration",
                params=[R],
                tag="registrations",
            )
        },
        "/api/v1/registrations/{registration_id}/cancel": {
            "post": _op(
                "Cancel a registration (its owner by the refund policy; organisers, facilitators)",
                "200",
                "Registration",
                params=[R],
                body="RegistrationCancel",
                body_required=False,
                errors=write,
                tag="registrations",
            )
        },
        "/api/v1/me/registrations": {
            "get": _op(
                "One's own registrations, soonest gathering first",
                "200",
                "RegistrationPage",
                params=PAGING,
                errors=("401", "403"),
                tag="registrations",
            )
        },
        "/api/v1/gatherings/{gathering_id}/check-ins": {
            "get": _op(
                "A gathering's check-ins, undone ones included (the desk)",
                "200",
                "CheckInPage",
                params=[G, *PAGING],
                tag="check-ins",
            ),
            "post": _also(
                _op(
                    "Check someone in by ticket or registration (the desk); idempotent by "
                    "request_id",
                    "201",
                    "CheckInResult",
                    params=[G],
                    body="CheckInCreate",
                    errors=write,
                    tag="check-ins",
                ),
                "200",
                "Nothing added: the same request_id was seen before (replayed is true), or the "
                "person was already in (result is already_checked_in).",
                "CheckInResult",
            ),
        },
        "/api/v1/check-ins/{check_in_id}": {
            "delete": _op(
                "Undo a check-in (the desk); the row stays, stamped",
                "200",
                "CheckIn",
                params=[_path_id("check_in_id")],
                errors=write,
                tag="check-ins",
            )
        },
        "/api/v1/gatherings/{gathering_id}/headcount": {
            "get": _op(
                "Checked in against expected (the desk)",
                "200",
                "Headcount",
                params=[G],
                tag="check-ins",
            )
        },
        "/api/v1/gatherings/{gathering_id}/runs": {
            "get": _op(
                "A gathering's live exercise runs (its facilitators, organisers)",
                "200",
                "RunPage",
                params=[G, *PAGING],
                tag="runs",
            )
        },
        "/api/v1/runs/{run_id}": {
            "get": _op(
                "A run's state and the facilitators' view",
                "200",
                "RunDetail",
                params=[_path_id("run_id")],
                tag="runs",
            )
        },
        "/api/v1/runs/{run_id}/control": {
            "post": _op(
                "Control a run like the console does (its facilitators)",
                "200",
                "ControlResult",
                params=[_path_id("run_id")],
                body="RunControl",
                errors=write,
                tag="runs",
            )
        },
    }


def document() -> Schema:
    """Return the OpenAPI document."""
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Gatherwell API",
            "version": "1.0.0",
            "description": "Gatherings, registrations, check-ins and live runs for organisers' "
            "integrations. Every call needs a personal token (Authorization: Bearer gw_…), made "
            "on the account page; it acts as its owner with the same rules as the pages.",
        },
        "security": [{"bearer": []}],
        "paths": _paths(),
        "components": {
            "securitySchemes": {
                "bearer": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "A personal token, gw_…",
                }
            },
            "schemas": {**REQUEST_SCHEMAS, **RESPONSE_SCHEMAS},
        },
    }

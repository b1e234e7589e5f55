"""The OpenAPI 3.1 document of /api/v1, built here as data.

The request schemas below are the ones the views validate bodies against (``schemas``), so
the document and the server cannot disagree about what a valid request is.
"""

from __future__ import annotations

from typing import Any

from facilitation.attendance.rules import Verdict
from facilitation.exercises.engine.rounds import RunStatus
from facilitation.gatherings.models import GatheringKind, GatheringStatus
from facilitation.registration.pricing import OptionKind
from facilitation.registration.states import Status

MAX_ID = 2**31 - 1
MAX_OFFSET = 1_000_000
CONTROL_ACTIONS = [
    "start",
    "pause",
    "resume",
    "next_phase",
    "previous_phase",
    "add_time",
    "repair",
    "end",
]

Schema = dict[str, Any]


def _id(description: str = "") -> Schema:
    schema: Schema = {"type": "integer", "minimum": 1, "maximum": MAX_ID}
    if description:
        schema["description"] = description
    return schema


#: No NUL character: PostgreSQL cannot store one in text.
NO_NUL = "^[^\\u0000]*$"
#: Something besides spaces, and no NUL.
NOT_BLANK = "^[^\\u0000]*[^\\s\\u0000][^\\u0000]*$"


def _text(max_length: int, **extra: Any) -> Schema:
    return {"type": "string", "maxLength": max_length, "pattern": NO_NUL, **extra}


def _nullable(schema: Schema) -> Schema:
    return {"anyOf": [schema, {"type": "null"}]}


def _ref(name: str) -> Schema:
    return {"$ref": f"#/components/schemas/{name}"}


def _obj(properties: dict[str, Schema], required: list[str] | None = None) -> Schema:
    return {
        "type": "object",
        "properties": properties,
        "required": list(properties) if required is None else required,
    }


def _body(properties: dict[str, Schema], required: list[str]) -> Schema:
    """Return a request body schema: no other property is accepted."""
    return {
        "type": "object",
        "properties": properties,
        "required": required,
        "additionalProperties": False,
    }


DATE_TIME: Schema = {"type": "string", "format": "date-time"}
NULLABLE_DATE_TIME = _nullable(DATE_TIME)

_GATHERING_FIELDS: dict[str, Schema] = {
    "title": _text(200, minLength=1, pattern=NOT_BLANK),
    "timezone": _text(64, minLength=1, description="IANA name, such as Europe/London."),
    "capacity": {"type": "integer", "minimum": 0, "maximum": 10_000},
    "starts_at": {**DATE_TIME, "description": "RFC 3339 with an offset."},
    "ends_at": {**DATE_TIME, "description": "RFC 3339 with an offset; after starts_at."},
    "description_md": _text(20_000),
    "kind": {"type": "string", "enum": [k.value for k in GatheringKind]},
    "venue_name": _text(200),
    "venue_address": _text(1000),
    "online_url": _text(500),
    "accessibility_notes": _text(4000),
    "facilitator_ids": {"type": "array", "items": _id(), "maxItems": 50},
}

#: Request bodies, by name; the views validate against exactly these.
REQUEST_SCHEMAS: dict[str, Schema] = {
    "GatheringCreate": _body(
        _GATHERING_FIELDS, ["title", "timezone", "capacity", "starts_at", "ends_at"]
    ),
    "GatheringPatch": {**_body(_GATHERING_FIELDS, []), "minProperties": 1},
    "GatheringCancel": _body({"note": _text(2000)}, []),
    "RegistrationCreate": _body(
        {
            "option_id": _id("A ticket option of the gathering (free or pay at the door)."),
            "amount_minor": {"type": "integer", "minimum": 0, "maximum": 10_000_000},
            "code": _text(40),
            "role_id": _id(),
            "answers": {
                "type": "object",
                "description": "Answers by question id.",
                "propertyNames": {"pattern": "^[1-9][0-9]{0,8}$"},
                "additionalProperties": {
                    "anyOf": [
                        _text(5000),
                        {"type": "array", "items": _text(200), "maxItems": 50},
                    ]
                },
                "maxProperties": 50,
            },
        },
        ["option_id"],
    ),
    "RegistrationCancel": _body(
        {
            "reason": _text(2000, description="Organisers and facilitators only."),
            "refund": {"type": "boolean", "description": "Organisers and facilitators only."},
        },
        [],
    ),
    "CheckInCreate": {
        **_body(
            {
                "ticket": _text(500, minLength=1, description="What the QR code says: GW1:…"),
                "registration_id": _id(),
                "request_id": {
                    "type": "string",
                    "pattern": "^[A-Za-z0-9_.:-]{8,64}$",
                    "description": "A nonce made by the client; a retry with it changes nothing.",
                },
                "door_payment_minor": {"type": "integer", "minimum": 1, "maximum": 10_000_000},
            },
            ["request_id"],
        ),
        "oneOf": [{"required": ["ticket"]}, {"required": ["registration_id"]}],
    },
    "RunControl": _body(
        {
            "action": {"type": "string", "enum": CONTROL_ACTIONS},
            "seconds": {
                "type": "integer",
                "minimum": -3600,
                "maximum": 3600,
                "description": "For add_time: seconds to add (negative to remove).",
            },
            "command_id": {
                "type": "string",
                "pattern": "^[A-Za-z0-9_.:-]{8,64}$",
                "description": "A nonce; a retried command with it is applied once.",
            },
        },
        ["action"],
    ),
}

_PERSON = _obj({"id": _id(), "display_name": {"type": "string"}})
_OPTION = _obj(
    {
        "id": _id(),
        "name": {"type": "string"},
        "kind": {"type": "string", "enum": [k.value for k in OptionKind]},
        "price_minor": {"type": "integer"},
        "min_minor": {"type": "integer"},
        "suggested_minor": {"type": "integer"},
        "max_minor": {"type": "integer"},
        "pays_by_card": {"type": "boolean"},
    }
)

RESPONSE_SCHEMAS: dict[str, Schema] = {
    "Error": _obj(
        {
            "error": _obj(
                {
                    "code": {"type": "string"},
                    "message": {"type": "string"},
                    "field": _nullable({"type": "string"}),
                }
            )
        }
    ),
    "Me": _obj(
        {
            "id": _id(),
            "name": {"type": "string"},
            "display_name": {"type": "string"},
            "email": {"type": "string"},
            "role": {"type": "string", "enum": ["participant", "door", "facilitator", "organiser"]},
            "scopes": {"type": "array", "items": {"type": "string", "enum": ["read", "write"]}},
        }
    ),
    "Gathering": _obj(
        {
            "id": _id(),
            "title": {"type": "string"},
            "description_md": {"type": "string"},
            "kind": {"type": "string"},
            "status": {"type": "string", "enum": [s.value for s in GatheringStatus]},
            "timezone": {"type": "string"},
            "starts_at": DATE_TIME,
            "ends_at": DATE_TIME,
            "venue_name": {"type": "string"},
            "venue_address": {"type": "string"},
            "online_url": {"type": "string"},
            "capacity": {"type": "integer"},
            "accessibility_notes": {"type": "string"},
            "cancellation_note": {"type": "string"},
            "series_id": _nullable(_id()),
            "published_at": NULLABLE_DATE_TIME,
            "facilitators": {"type": "array", "items": _PERSON},
            "ticket_options": {"type": "array", "items": _OPTION},
            "currency": {"type": "string"},
        }
    ),
    "Registration": _obj(
        {
            "id": _id(),
            "gathering_id": _id(),
            "user_id": _id(),
            "status": {"type": "string", "enum": [s.value for s in Status]},
            "ticket_option": _obj(
                {"id": _id(), "name": {"type": "string"}, "kind": {"type": "string"}}
            ),
            "amount_minor": {"type": "integer"},
            "currency": {"type": "string"},
            "amount_paid_minor": {"type": "integer"},
            "amount_refunded_minor": {"type": "integer"},
            "pay_at_door_due_minor": {"type": "integer"},
            "created_at": DATE_TIME,
            "confirmed_at": NULLABLE_DATE_TIME,
            "cancelled_at": NULLABLE_DATE_TIME,
            "hold_expires_at": NULLABLE_DATE_TIME,
            "offer_expires_at": NULLABLE_DATE_TIME,
            "person": _nullable(
                _obj({"name": {"type": "string"}, "email": {"type": "string"}}),
            ),
        }
    ),
    "CheckIn": _obj(
        {
            "id": _id(),
            "gathering_id": _id(),
            "registration_id": _id(),
            "user_id": _id(),
            "name": {"type": "string"},
            "method": {"type": "string"},
            "checked_in_at": DATE_TIME,
            "undone_at": NULLABLE_DATE_TIME,
        }
    ),
    "CheckInResult": _obj(
        {
            "result": {"type": "string", "enum": ["checked_in", "already_checked_in"]},
            "replayed": {"type": "boolean"},
            "check_in": _ref("CheckIn"),
            "decision": _ref("DeskDecision"),
        }
    ),
    "DeskDecision": _obj(
        {
            "verdict": {"type": "string", "enum": [v.value for v in Verdict]},
            "code": {"type": "string"},
            "headline": {"type": "string"},
            "detail": {"type": "string"},
            "warnings": {"type": "array", "items": {"type": "string"}},
        }
    ),
    "Headcount": _obj(
        {
            "gathering_id": _id(),
            "checked_in": {"type": "integer", "minimum": 0},
            "expected": {"type": "integer", "minimum": 0},
            "walk_ins": {"type": "integer", "minimum": 0},
            "not_arrived": {"type": "integer", "minimum": 0},
        }
    ),
    "Run": _obj(
        {
            "id": _id(),
            "gathering_id": _id(),
            "title": {"type": "string"},
            "status": {"type": "string", "enum": [s.value for s in RunStatus]},
            "created_at": DATE_TIME,
            "ended_at": NULLABLE_DATE_TIME,
        }
    ),
    "RunDetail": _obj(
        {
            "run": _ref("Run"),
            "state": {"type": "object", "description": "The run_state snapshot sockets send."},
            "facilitator_view": {
                "type": "object",
                "description": "Presence, rests and support signals (no pairing preview).",
            },
        }
    ),
    "ControlResult": _obj(
        {
            "version": {"type": "integer"},
            "repeated": {"type": "boolean"},
            "state": {"type": "object"},
        }
    ),
}


def _page_of(item: str) -> Schema:
    return _obj(
        {
            "items": {"type": "array", "items": _ref(item)},
            "total": {"type": "integer", "minimum": 0},
            "limit": {"type": "integer"},
            "offset": {"type": "integer"},
        }
    )


for _name in ("Gathering", "Registration", "CheckIn", "Run"):
    RESPONSE_SCHEMAS[f"{_name}Page"] = _page_of(_name)

_ERRORS = {
    "400": "The body is not JSON.",
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
        "content": {_JSON: {"schema": _ref("Error")}},
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
    return {"name": name, "in": "path", "required": True, "schema": _id()}


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
        ok: {"description": "Done.", "content": {_JSON: {"schema": _ref(schema)}}},
    }
    codes = set(errors)
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
            "content": {_JSON: {"schema": _ref(body)}},
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
            "post": _op(
                "Check someone in by ticket or registration (the desk); idempotent by request_id",
                "201",
                "CheckInResult",
                params=[G],
                body="CheckInCreate",
                errors=write,
                tag="check-ins",
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

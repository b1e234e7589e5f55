"""The JSON schemas of the API: request bodies (validated by the views) and answers."""

from __future__ import annotations

from typing import Any

from facilitation.attendance.rules import Verdict
from facilitation.core.bad_input import MAX_ID
from facilitation.exercises.engine.rounds import RunStatus
from facilitation.gatherings.models import GatheringKind, GatheringStatus
from facilitation.registration.pricing import OptionKind
from facilitation.registration.states import Status

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


def integer_id(description: str = "") -> Schema:
    """Return the schema of a row id (1 to 2**31 - 1)."""
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


def ref(name: str) -> Schema:
    """Return a reference to a named schema of the document."""
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
    "facilitator_ids": {"type": "array", "items": integer_id(), "maxItems": 50},
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
            "option_id": integer_id("A ticket option of the gathering (free or pay at the door)."),
            "amount_minor": {"type": "integer", "minimum": 0, "maximum": 10_000_000},
            "code": _text(40),
            "role_id": integer_id(),
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
                "registration_id": integer_id(),
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

_PERSON = _obj({"id": integer_id(), "display_name": {"type": "string"}})
_OPTION = _obj(
    {
        "id": integer_id(),
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
            "id": integer_id(),
            "name": {"type": "string"},
            "display_name": {"type": "string"},
            "email": {"type": "string"},
            "role": {"type": "string", "enum": ["participant", "door", "facilitator", "organiser"]},
            "scopes": {"type": "array", "items": {"type": "string", "enum": ["read", "write"]}},
        }
    ),
    "Gathering": _obj(
        {
            "id": integer_id(),
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
            "series_id": _nullable(integer_id()),
            "published_at": NULLABLE_DATE_TIME,
            "facilitators": {"type": "array", "items": _PERSON},
            "ticket_options": {"type": "array", "items": _OPTION},
            "currency": {"type": "string"},
        }
    ),
    "Registration": _obj(
        {
            "id": integer_id(),
            "gathering_id": integer_id(),
            "user_id": integer_id(),
            "status": {"type": "string", "enum": [s.value for s in Status]},
            "ticket_option": _obj(
                {"id": integer_id(), "name": {"type": "string"}, "kind": {"type": "string"}}
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
            "id": integer_id(),
            "gathering_id": integer_id(),
            "registration_id": integer_id(),
            "user_id": integer_id(),
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
            "check_in": ref("CheckIn"),
            "decision": ref("DeskDecision"),
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
            "gathering_id": integer_id(),
            "checked_in": {"type": "integer", "minimum": 0},
            "expected": {"type": "integer", "minimum": 0},
            "walk_ins": {"type": "integer", "minimum": 0},
            "not_arrived": {"type": "integer", "minimum": 0},
        }
    ),
    "Run": _obj(
        {
            "id": integer_id(),
            "gathering_id": integer_id(),
            "title": {"type": "string"},
            "status": {"type": "string", "enum": [s.value for s in RunStatus]},
            "created_at": DATE_TIME,
            "ended_at": NULLABLE_DATE_TIME,
        }
    ),
    "RunDetail": _obj(
        {
            "run": ref("Run"),
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
            "items": {"type": "array", "items": ref(item)},
            "total": {"type": "integer", "minimum": 0},
            "limit": {"type": "integer"},
            "offset": {"type": "integer"},
        }
    )


for _name in ("Gathering", "Registration", "CheckIn", "Run"):
    RESPONSE_SCHEMAS[f"{_name}Page"] = _page_of(_name)

"""Who may call what: 401 without a valid token, 403/404 by role exactly as on the pages."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from tests.api.helpers import World, call, make_world

ANON = "anonymous"
ROLE_ORDER = [ANON, "participant", "other_participant", "door", "other_facilitator"]
ROLE_ORDER += ["facilitator", "organiser"]


@dataclass
class Endpoint:
    """One operation, how to call it, and the status each role gets."""

    method: str
    path: Callable[[World], str]
    expected: dict[str, int]
    body: Callable[[World], Any] | None = None


def _checkin_body(w: World) -> dict[str, object]:
    return {"registration_id": w.registration.id, "request_id": uuid.uuid4().hex}


G = "/api/v1/gatherings"
ENDPOINTS = {
    "me": Endpoint("GET", lambda w: "/api/v1/me", {}),
    "list gatherings": Endpoint("GET", lambda w: G, {}),
    "get gathering": Endpoint("GET", lambda w: f"{G}/{w.gathering.id}", {}),
    "get draft": Endpoint(
        "GET",
        lambda w: f"{G}/{w.draft.id}",
        {"participant": 404, "other_participant": 404, "door": 404, "other_facilitator": 404}
        | {"facilitator": 404},
    ),
    "create gathering": Endpoint(
        "POST",
        lambda w: G,
        {r: 403 for r in ROLE_ORDER[1:-1]} | {"organiser": 201},
        lambda w: {
            "title": "New",
            "timezone": "Europe/London",
            "capacity": 5,
            "starts_at": "2030-01-01T18:00:00Z",
            "ends_at": "2030-01-01T20:00:00Z",
        },
    ),
    "patch gathering": Endpoint(
        "PATCH",
        lambda w: f"{G}/{w.gathering.id}",
        {r: 403 for r in ROLE_ORDER[1:-1]},
        lambda w: {"capacity": 30},
    ),
    "publish draft": Endpoint(
        "POST",
        lambda w: f"{G}/{w.draft.id}/publish",
        {r: 404 for r in ROLE_ORDER[1:-1]} | {"door": 403},
    ),
    "cancel gathering": Endpoint(
        "POST", lambda w: f"{G}/{w.gathering.id}/cancel", {r: 403 for r in ROLE_ORDER[1:-1]}
    ),
    "list registrations": Endpoint(
        "GET",
        lambda w: f"{G}/{w.gathering.id}/registrations",
        {"participant": 403, "other_participant": 403, "door": 403, "other_facilitator": 403},
    ),
    "get registration": Endpoint(
        "GET",
        lambda w: f"/api/v1/registrations/{w.registration.id}",
        {"other_participant": 404, "door": 403, "other_facilitator": 404},
    ),
    "my registrations": Endpoint("GET", lambda w: "/api/v1/me/registrations", {"door": 403}),
    "register": Endpoint(
        "POST",
        lambda w: f"{G}/{w.gathering.id}/registrations",
        {"participant": 409, "door": 403} | {r: 201 for r in ROLE_ORDER[2:] if r != "door"},
        lambda w: {"option_id": w.free.id},
    ),
    "cancel registration": Endpoint(
        "POST",
        lambda w: f"/api/v1/registrations/{w.registration.id}/cancel",
        {"other_participant": 404, "door": 403, "other_facilitator": 404}
        # Its owner cancels it first; the managers then find it cancelled already.
        | {"facilitator": 409, "organiser": 409},
    ),
    "check in": Endpoint(
        "POST",
        lambda w: f"{G}/{w.gathering.id}/check-ins",
        {"participant": 403, "other_participant": 403, "other_facilitator": 403, "door": 201},
        _checkin_body,
    ),
    "list check-ins": Endpoint(
        "GET",
        lambda w: f"{G}/{w.gathering.id}/check-ins",
        {"participant": 403, "other_participant": 403, "other_facilitator": 403},
    ),
    "headcount": Endpoint(
        "GET",
        lambda w: f"{G}/{w.gathering.id}/headcount",
        {"participant": 403, "other_participant": 403, "other_facilitator": 403},
    ),
    "list runs": Endpoint(
        "GET",
        lambda w: f"{G}/{w.gathering.id}/runs",
        {"participant": 403, "other_participant": 403, "door": 403, "other_facilitator": 403},
    ),
    "get run": Endpoint(
        "GET",
        lambda w: f"/api/v1/runs/{w.run.id}",
        {"participant": 403, "other_participant": 403, "door": 403, "other_facilitator": 403},
    ),
    "control run": Endpoint(
        "POST",
        lambda w: f"/api/v1/runs/{w.run.id}/control",
        {"participant": 403, "other_participant": 403, "door": 403, "other_facilitator": 403}
        # The facilitator starts it; the organiser's start then conflicts.
        | {"organiser": 409},
        lambda w: {"action": "start"},
    ),
}
SUCCESS = {"GET": 200, "PATCH": 200, "POST": 200, "DELETE": 200}


def _secret(world: World, role: str) -> str | None:
    if role == ANON:
        return None
    return world.secrets[role]


@pytest.mark.parametrize("name", list(ENDPOINTS))
def test_each_role_gets_what_the_pages_give(client, name):
    world = make_world()
    endpoint = ENDPOINTS[name]
    seen = {}
    for role in ROLE_ORDER:
        body = endpoint.body(world) if endpoint.body else None
        response = call(
            client, endpoint.method, endpoint.path(world), _secret(world, role), json=body
        )
        seen[role] = response.status_code
        assert response.is_json, (role, response.get_data(as_text=True)[:200])
    expected = {ANON: 401}
    for role in ROLE_ORDER[1:]:
        expected[role] = endpoint.expected.get(role, SUCCESS[endpoint.method])
    if name == "check in":  # later roles find the person checked in already
        expected |= {"facilitator": 200, "organiser": 200}
    assert seen == expected


def test_undo_a_check_in_is_the_desks(client):
    world = make_world()
    made = call(
        client,
        "POST",
        f"{G}/{world.gathering.id}/check-ins",
        world.secrets["door"],
        json=_checkin_body(world),
    )
    check_in_id = made.get_json()["check_in"]["id"]
    path = f"/api/v1/check-ins/{check_in_id}"
    for role in ("participant", "other_participant", "other_facilitator"):
        assert call(client, "DELETE", path, world.secrets[role]).status_code == 403
    assert call(client, "DELETE", path).status_code == 401
    undone = call(client, "DELETE", path, world.secrets["door"])
    assert undone.status_code == 200 and undone.get_json()["undone_at"] is not None
    assert call(client, "DELETE", path, world.secrets["organiser"]).status_code == 200


def test_read_only_tokens_may_not_change_anything(client):
    from facilitation.extensions import db
    from tests.api.helpers import token_for

    world = make_world()
    reader = token_for(world.people["organiser"], "read")
    db.session.commit()
    assert call(client, "GET", f"{G}/{world.gathering.id}", reader).status_code == 200
    refused = call(client, "POST", f"{G}/{world.gathering.id}/cancel", reader)
    assert refused.status_code == 403
    assert refused.get_json()["error"]["code"] == "scope_required"
    assert call(client, "GET", f"{G}/{world.gathering.id}", reader).get_json()["status"] == (
        "published"
    )


REGS_PAGE = "/manage/gatherings/{g}/registrations"
REGS_API = "/api/v1/gatherings/{g}/registrations"


@pytest.mark.parametrize(
    ("role", "page", "api"),
    [
        ("participant", REGS_PAGE, REGS_API),
        ("other_facilitator", REGS_PAGE, REGS_API),
        ("facilitator", REGS_PAGE, REGS_API),
        ("participant", "/gatherings/{d}", "/api/v1/gatherings/{d}"),
        ("organiser", "/gatherings/{d}", "/api/v1/gatherings/{d}"),
        ("other_participant", "/registrations/{r}", "/api/v1/registrations/{r}"),
        ("participant", "/registrations/{r}", "/api/v1/registrations/{r}"),
        ("participant", "/desk/{g}", "/api/v1/gatherings/{g}/headcount"),
        ("other_facilitator", "/desk/{g}", "/api/v1/gatherings/{g}/headcount"),
        ("door", "/desk/{g}", "/api/v1/gatherings/{g}/headcount"),
        ("other_facilitator", "/gatherings/{g}/live", "/api/v1/gatherings/{g}/runs"),
        ("facilitator", "/gatherings/{g}/live", "/api/v1/gatherings/{g}/runs"),
    ],
)  # fmt: skip
def test_the_api_refuses_whom_the_page_refuses(client, auth, role, page, api):
    world = make_world()
    people = world.people | {f"other_{k}": v for k, v in world.others.items()}
    ids = {"g": world.gathering.id, "d": world.draft.id, "r": world.registration.id}
    auth.login(people[role])
    page_status = client.get(page.format(**ids)).status_code
    auth.logout()
    api_status = call(client, "GET", api.format(**ids), world.secrets[role]).status_code
    assert page_status == api_status

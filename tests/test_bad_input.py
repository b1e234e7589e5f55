"""Bad input gets a clear 4xx: huge ids, NUL bytes, oversized bodies, a huge socket run id.

tests/test_crawl_bad_input.py sends the same inputs to every route; these tests pin the
answers (status, message, page or JSON, headers) one case at a time.
"""

import pytest
from flask import request
from flask_socketio import ConnectionRefusedError

from facilitation.accounts.models import Role
from facilitation.core import bad_input
from facilitation.exercises import sockets
from facilitation.extensions import db, socketio
from facilitation.gatherings.models import Gathering
from tests.exercises.live_helpers import make_run
from tests.factories import PASSWORD, make_gathering, make_user

TOO_BIG = b"x=" + b"y" * (2 * 1024 * 1024)


@pytest.fixture
def organiser_client(app, client):
    organiser = make_user(Role.ORGANISER)
    db.session.commit()
    response = client.post("/log-in", data={"email": organiser.email, "password": PASSWORD})
    assert response.status_code == 302
    return client


def assert_error_page(response, status, text):
    assert response.status_code == status
    assert response.mimetype == "text/html"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
    assert text in response.get_data(as_text=True)


def assert_json_error(response, status, code):
    assert response.status_code == status
    assert response.is_json, response.get_data(as_text=True)[:200]
    assert response.get_json()["error"]["code"] == code
    assert response.headers["X-Content-Type-Options"] == "nosniff"


@pytest.mark.parametrize("huge", [2**31, 2**63])
def test_an_id_past_the_database_range_is_a_404_page(client, huge):
    make_gathering()
    db.session.commit()
    assert client.get("/gatherings/1").status_code == 200
    assert_error_page(client.get(f"/gatherings/{huge}"), 404, "We could not find that page.")
    assert_error_page(client.get(f"/gatherings/{huge}.ics"), 404, "We could not find that page.")


def test_the_largest_id_still_reaches_the_view(client):
    """The bound is the database's: 2**31 - 1 is routed (and is simply not there)."""
    response = client.get(f"/gatherings/{bad_input.MAX_ID}")
    assert_error_page(response, 404, "We could not find that page.")
    assert client.get(f"/gatherings/{bad_input.MAX_ID}/agreements").status_code != 500


def test_an_api_id_past_the_range_is_a_json_404(client):
    assert_json_error(client.get(f"/api/v1/gatherings/{2**63}"), 404, "not_found")


def test_a_nul_in_a_form_field_is_a_400_naming_the_field(client):
    response = client.post("/sign-up", data={"name": "Jo\x00", "email": "jo@example.org"})
    assert_error_page(response, 400, "form field “name” contains a NUL character")


def test_a_nul_in_the_query_is_a_400(organiser_client):
    response = organiser_client.get("/manage/people", query_string={"q": "a\x00b"})
    assert_error_page(response, 400, "query contains a NUL character")


def test_a_nul_in_an_api_form_body_is_a_json_400(client):
    response = client.post("/api/v1/gatherings", data={"title": "a\x00b"})
    assert_json_error(response, 400, "bad_request")
    assert "NUL" in response.get_json()["error"]["message"]


def test_a_nul_in_a_json_body_outside_the_api_is_a_json_400(client):
    response = client.post("/payments/stripe/webhook", json={"id": "evt\x00"})
    assert_json_error(response, 400, "bad_request")
    assert "JSON body contains a NUL" in response.get_json()["error"]["message"]


def test_a_nul_in_the_path_is_a_400(client):
    assert_error_page(client.get("/t/abc%00def"), 400, "address contains a NUL character")


def test_an_oversized_post_from_a_logged_in_user_gets_the_413_page(app, organiser_client):
    response = organiser_client.post(
        "/log-out", data=TOO_BIG, content_type="application/x-www-form-urlencoded"
    )
    assert_error_page(response, 413, "That upload is too large. The limit is 2 MB.")
    assert "no-store" in response.headers["Cache-Control"]


def test_an_oversized_api_body_is_a_json_413(client):
    response = client.post(
        "/api/v1/gatherings", data=TOO_BIG, content_type="application/x-www-form-urlencoded"
    )
    assert_json_error(response, 413, "too_large")


def test_a_huge_number_in_a_form_is_a_400_not_a_500(app, client, monkeypatch):
    """A number past the integer range that reaches the database is refused, and rolled back."""
    monkeypatch.setitem(app.config, "PROPAGATE_EXCEPTIONS", False)

    @app.route("/store-number", methods=["POST"])
    def store_number():  # type: ignore[no-untyped-def]
        return str(db.session.get(Gathering, int(request.form["n"])))

    response = client.post("/store-number", data={"n": str(2**63)})
    assert_error_page(response, 400, "too large")


@pytest.mark.parametrize("run_id", [2**31, 2**63, True, 0, -1])
def test_a_socket_connect_with_a_bad_run_id_is_refused_as_bad_request(app, run_id):
    run, _, _ = make_run(2)
    with app.test_request_context("/socket.io/"), pytest.raises(ConnectionRefusedError) as refused:
        sockets._identify({"run_id": run_id, "projector_token": run.projector_token})
    assert refused.value.args[1]["code"] == "bad_request"
    client = socketio.test_client(app, namespace="/live", auth={"run_id": run_id})
    assert not client.is_connected("/live")


def test_an_api_id_past_the_range_is_404_for_every_method_the_path_serves(client):
    # Not 405: a number past the range must not fall through to another rule of the same path.
    for method, path in [
        ("PATCH", "/api/v1/gatherings/3404205186"),
        ("GET", "/api/v1/gatherings/3404205186/check-ins"),
    ]:
        response = client.open(path, method=method, json={})
        assert response.status_code == 404, (method, path, response.status_code)

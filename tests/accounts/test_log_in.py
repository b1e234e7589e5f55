"""Log in and out; failures say one neutral thing; no open redirects."""

from facilitation.extensions import db
from tests.factories import PASSWORD, make_user


def test_log_in_then_log_out(client):
    user = make_user()
    db.session.commit()
    response = client.post("/log-in", data={"email": user.email, "password": PASSWORD})
    assert response.status_code == 302
    assert user.display_name in client.get("/").get_data(as_text=True)
    client.post("/log-out")
    assert "Log in" in client.get("/").get_data(as_text=True)


def test_wrong_password_and_unknown_email_get_the_same_message(client):
    user = make_user()
    db.session.commit()
    wrong = client.post("/log-in", data={"email": user.email, "password": "wrong password!"})
    unknown = client.post("/log-in", data={"email": "nobody@example.org", "password": PASSWORD})
    for response in (wrong, unknown):
        assert response.status_code == 400
        assert "That email and password do not match." in response.get_data(as_text=True)


def test_log_in_follows_a_local_next_only(client):
    user = make_user()
    db.session.commit()
    local = client.post("/log-in?next=/account", data={"email": user.email, "password": PASSWORD})
    assert local.headers["Location"] == "/account"
    client.post("/log-out")
    for evil in ("https://evil.example/", "//evil.example/x", "/\\evil.example"):
        response = client.post(
            "/log-in", query_string={"next": evil}, data={"email": user.email, "password": PASSWORD}
        )
        assert response.headers["Location"] == "/", evil
        client.post("/log-out")


def test_last_log_in_time_is_recorded(client):
    user = make_user()
    db.session.commit()
    assert user.last_login_at is None
    client.post("/log-in", data={"email": user.email, "password": PASSWORD})
    db.session.refresh(user)
    assert user.last_login_at is not None


def test_deactivated_account_cannot_log_in(client):
    user = make_user()
    user.is_active_account = False
    db.session.commit()
    response = client.post("/log-in", data={"email": user.email, "password": PASSWORD})
    assert response.status_code == 400
    assert "deactivated" in response.get_data(as_text=True)

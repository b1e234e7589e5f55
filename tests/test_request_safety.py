"""CSRF on every form, safe cookies, no 500 page that leaks or half-writes."""

import sqlalchemy as sa

from facilitation.accounts.models import User
from facilitation.extensions import db
from tests.factories import PASSWORD, make_user


def test_forms_without_csrf_token_are_refused(app, client):
    app.config["WTF_CSRF_ENABLED"] = True
    response = client.post(
        "/sign-up", data={"name": "Jo", "email": "jo@example.org", "password": "a long pass phrase"}
    )
    assert response.status_code == 400
    assert "This form expired" in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count(User.id))) == 0


def test_forms_with_the_csrf_token_work(app, client):
    app.config["WTF_CSRF_ENABLED"] = True
    page = client.get("/sign-up").get_data(as_text=True)
    token = page.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
    response = client.post(
        "/sign-up",
        data={
            "csrf_token": token,
            "name": "Jo",
            "email": "jo@example.org",
            "password": "a long pass phrase",
        },
    )
    assert response.status_code == 302


def session_cookie(response):
    (cookie,) = [c for c in response.headers.getlist("Set-Cookie") if c.startswith("session=")]
    return cookie


def test_session_cookie_is_httponly_and_lax_and_secure_only_over_tls(client):
    user = make_user()
    db.session.commit()
    plain = client.post("/log-in", data={"email": user.email, "password": PASSWORD})
    cookie = session_cookie(plain)
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie
    client.post("/log-out")
    tls = client.post(
        "/log-in",
        data={"email": user.email, "password": PASSWORD},
        base_url="https://gatherwell.test",
    )
    assert "Secure" in session_cookie(tls)


def test_unexpected_error_gives_a_friendly_500_and_rolls_back(app, client, monkeypatch):
    @app.route("/boom")
    def boom():
        db.session.add(
            User(
                email="half@example.org",
                name="Half",
                display_name="H",
                password_hash="x",
                role="participant",
                created_at=__import__("facilitation.core.clock", fromlist=["utcnow"]).utcnow(),
            )
        )
        db.session.flush()
        raise RuntimeError("kaboom")

    # Handled as in production, without leaving testing mode (outside it, the first request
    # would start the registration sweeper on the shared test database).
    monkeypatch.setitem(app.config, "PROPAGATE_EXCEPTIONS", False)
    response = client.get("/boom")
    assert response.status_code == 500
    body = response.get_data(as_text=True)
    assert "Nothing was saved" in body and "kaboom" not in body
    assert db.session.scalar(sa.select(sa.func.count(User.id))) == 0


def test_method_not_allowed_is_friendly(client):
    response = client.get("/log-out")
    assert response.status_code == 405
    assert "That action is not available here." in response.get_data(as_text=True)

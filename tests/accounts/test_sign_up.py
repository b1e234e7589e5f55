"""Anyone can sign up; bad input is explained and changes nothing."""

import sqlalchemy as sa

from facilitation.accounts.models import User
from facilitation.extensions import db
from tests.factories import make_user


def count_users():
    return db.session.scalar(sa.select(sa.func.count(User.id)))


def test_sign_up_creates_a_participant_and_logs_in(client):
    response = client.post(
        "/sign-up",
        data={"name": "Sam  Rivers", "email": "Sam@Example.org", "password": "a long pass phrase"},
    )
    assert response.status_code == 302
    user = db.session.scalar(sa.select(User))
    assert (user.email, user.name, user.display_name, user.role) == (
        "sam@example.org",
        "Sam Rivers",
        "Sam",
        "participant",
    )
    assert user.password_hash.startswith("$argon2id$")
    assert "Log out" in client.get("/").get_data(as_text=True)


def test_duplicate_email_is_refused_with_a_message(client):
    make_user(email="taken@example.org")
    db.session.commit()
    response = client.post(
        "/sign-up",
        data={"name": "Other", "email": "TAKEN@example.org", "password": "a long pass phrase"},
    )
    assert response.status_code == 400
    assert "already exists" in response.get_data(as_text=True)
    assert count_users() == 1


def test_weak_password_is_refused_next_to_the_field(client):
    response = client.post(
        "/sign-up", data={"name": "Jo", "email": "jo@example.org", "password": "short"}
    )
    body = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "at least 10 characters" in body
    assert 'id="password-error"' in body
    assert count_users() == 0


def test_malformed_email_is_refused(client):
    response = client.post(
        "/sign-up", data={"name": "Jo", "email": "not-an-email", "password": "a long pass phrase"}
    )
    assert response.status_code == 400
    assert "Enter an email address like" in response.get_data(as_text=True)
    assert count_users() == 0

"""Commands: the demo seed (idempotent, prints log-ins) and create-organiser."""

import json
from pathlib import Path

import sqlalchemy as sa

from facilitation.accounts.models import User
from facilitation.consent.models import Agreement
from facilitation.exercises.models import Run
from facilitation.extensions import db
from facilitation.gatherings.models import Gathering, Series
from facilitation.registration.models import (
    DiscountCode,
    Registration,
    RegistrationQuestion,
    TicketOption,
)
from tests.factories import make_user


def test_seed_demo_creates_the_demo_organisation_once(app):
    runner = app.test_cli_runner()
    first = runner.invoke(args=["seed-demo"])
    assert first.exit_code == 0, first.output
    assert "organiser@demo.gatherwell.local" in first.output
    logins = json.loads((Path(app.instance_path) / "demo_logins.json").read_text())
    assert {row["role"] for row in logins} == {"organiser", "facilitator", "participant"}
    users = db.session.scalar(sa.select(sa.func.count(User.id)))
    gatherings = db.session.scalar(sa.select(sa.func.count(Gathering.id)))
    assert db.session.scalar(sa.select(sa.func.count(Series.id))) == 1
    assert gatherings == 11
    assert db.session.scalar(sa.select(sa.func.count(Run.id))) == 1
    assert db.session.scalar(sa.select(sa.func.count(Agreement.id))) == 1
    second = runner.invoke(args=["seed-demo"])
    assert second.exit_code == 0
    assert logins[0]["password"] in second.output
    assert db.session.scalar(sa.select(sa.func.count(User.id))) == users
    assert db.session.scalar(sa.select(sa.func.count(Gathering.id))) == gatherings


def test_seed_demo_gives_the_evening_ticket_options_and_two_registrations(app):
    result = app.test_cli_runner().invoke(args=["seed-demo"])
    assert result.exit_code == 0, result.output
    options = db.session.scalars(sa.select(TicketOption).order_by(TicketOption.position)).all()
    assert [(o.name, o.kind) for o in options] == [
        ("Sliding scale", "sliding"),
        ("Pay at the door", "door"),
    ]
    assert options[0].guidance and options[0].suggested_minor == 2000
    code = db.session.scalar(sa.select(DiscountCode))
    assert (code.code, code.value, code.is_scholarship) == ("SCHOLARSHIP", 100, True)
    assert db.session.scalar(sa.select(sa.func.count(RegistrationQuestion.id))) == 1
    registrations = db.session.scalars(sa.select(Registration).order_by(Registration.id)).all()
    assert [(r.status, r.currency, r.amount_minor) for r in registrations] == [
        ("confirmed", "GBP", 1500),
        ("confirmed", "GBP", 0),
    ]
    assert registrations[0].pay_at_door_due_minor == 1500
    assert registrations[1].discount_code_id == code.id


def test_demo_logins_work(app, client):
    app.test_cli_runner().invoke(args=["seed-demo"])
    logins = json.loads((Path(app.instance_path) / "demo_logins.json").read_text())
    for row in logins[:2]:
        response = client.post("/log-in", data={"email": row["email"], "password": row["password"]})
        assert response.status_code == 302
        client.post("/log-out")


def test_create_organiser(app):
    runner = app.test_cli_runner()
    result = runner.invoke(
        args=["create-organiser", "--email", "Boss@Example.org", "--name", "Boss Person"],
        input="a strong passphrase\na strong passphrase\n",
    )
    assert result.exit_code == 0, result.output
    assert (
        db.session.scalar(sa.select(User.role).where(User.email == "boss@example.org"))
        == "organiser"
    )


def test_create_organiser_promotes_an_existing_account(app):
    user = make_user(email="p@example.org")
    db.session.commit()
    result = app.test_cli_runner().invoke(
        args=["create-organiser", "--email", "p@example.org", "--name", "P"],
        input="whatever pass 1\nwhatever pass 1\n",
    )
    assert result.exit_code == 0
    db.session.refresh(user)
    assert user.role == "organiser"


def test_create_organiser_with_a_weak_password_fails_clearly(app):
    result = app.test_cli_runner().invoke(
        args=["create-organiser", "--email", "x@example.org", "--name", "X"], input="short\nshort\n"
    )
    assert result.exit_code != 0
    assert "at least 10 characters" in result.output


def test_purge_signatures_command_runs(app):
    result = app.test_cli_runner().invoke(args=["purge-signatures"])
    assert result.exit_code == 0, result.output
    assert "Deleted 0 signature(s) older than 2555 days" in result.output

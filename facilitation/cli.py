"""Flask commands: seed-demo, create-organiser, send-unsent-mail."""

from __future__ import annotations

import json
import os
import secrets
from datetime import datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import click
from flask import Flask, current_app

from facilitation.accounts import services as accounts
from facilitation.accounts.models import Role, User
from facilitation.consent import services as consent
from facilitation.core.clock import utcnow
from facilitation.core.errors import DomainError
from facilitation.exercises import services as exercises
from facilitation.extensions import db
from facilitation.gatherings import services as gatherings
from facilitation.gatherings.models import Gathering
from facilitation.registration import options, questions
from facilitation.registration import services as registrations

DEMO_PEOPLE = [
    ("organiser", "Olivia Organiser", "organiser@demo.gatherwell.local", Role.ORGANISER),
    ("facilitator", "Farah Facilitator", "facilitator@demo.gatherwell.local", Role.FACILITATOR),
    ("participant", "Sam Rivers", "sam@demo.gatherwell.local", Role.PARTICIPANT),
    ("participant", "Alex Moreno", "alex@demo.gatherwell.local", Role.PARTICIPANT),
    ("participant", "Jo Park", "jo@demo.gatherwell.local", Role.PARTICIPANT),
    ("participant", "Kim Osei", "kim@demo.gatherwell.local", Role.PARTICIPANT),
    ("participant", "Lee Novak", "lee@demo.gatherwell.local", Role.PARTICIPANT),
]

DEMO_DESCRIPTION = """An evening of **eye-gazing** and **heart-sharing** in rotating pairs.

- Arrive, settle, meet the circle
- Three rounds of guided eye-gazing, with time for each partner to share
- Closing circle

No touch is involved. You can sit out any round, no reason needed.
"""


DEMO_AGREEMENT = """We meet with care. By signing I agree that:

1. **My no is welcome, and so is yours.** I can sit out any exercise or round, without giving a
   reason, and I respect anyone else who does.
2. **No touch without a clear yes.** Exercises say what contact they involve; I stay within my
   own boundaries and my partner's.
3. **What is shared here stays here.** I do not repeat others' stories or name them outside.
4. **I ask for support when I need it**, and the facilitators will come quietly.
5. **No photos or recordings** of anyone without their explicit consent.
"""


def register(app: Flask) -> None:
    """Attach the commands to ``app``."""
    app.cli.add_command(seed_demo)
    app.cli.add_command(create_organiser)
    app.cli.add_command(send_unsent_mail)
    app.cli.add_command(purge_signatures)


def _logins_path() -> Path:
    return Path(current_app.instance_path) / "demo_logins.json"


def _print_logins(logins: list[dict[str, str]]) -> None:
    click.echo("")
    click.echo("Demo log-ins (stored in instance/demo_logins.json):")
    for row in logins:
        click.echo(f"  {row['role']:<12} {row['email']:<38} {row['password']}")
    click.echo("")


def _seed_registration(
    organiser: User, gathering: Gathering, participants: list[User], now: datetime
) -> None:
    """Give the demo gathering ticket options, a scholarship code, a question, two people."""
    options.update_settings(organiser, gathering, options.SettingsInput(currency="GBP"), now=now)
    sliding = options.add_option(
        organiser,
        gathering,
        options.OptionInput(
            "Sliding scale",
            "sliding",
            min_minor=1000,
            suggested_minor=2000,
            max_minor=3500,
            guidance="£20 covers the room and the facilitators. Pay less if money is tight, "
            "more to help someone else come.",
        ),
        now=now,
    )
    door = options.add_option(
        organiser,
        gathering,
        options.OptionInput("Pay at the door", "door", price_minor=1500),
        now=now,
    )
    options.add_code(
        organiser,
        gathering,
        options.CodeInput("SCHOLARSHIP", "percent", 100, max_uses=3, is_scholarship=True),
        now=now,
    )
    question = questions.add_question(
        organiser,
        gathering,
        questions.QuestionInput("Is there anything the facilitators should know?", "long_text"),
        now=now,
    )
    registrations.register(
        participants[0],
        gathering,
        registrations.RegistrationInput(
            door.id, answers={question.id: "It is my first eye-gazing evening."}
        ),
        now=now,
    )
    registrations.register(
        participants[1],
        gathering,
        registrations.RegistrationInput(sliding.id, amount_minor=1000, code="scholarship"),
        now=now,
    )


@click.command("seed-demo")
def seed_demo() -> None:
    """Create a demo organisation once; print the demo log-ins every time."""
    path = _logins_path()
    if db.session.query(User).first() is not None:
        if path.exists():
            _print_logins(json.loads(path.read_text()))
        else:
            click.echo("The database already has accounts; no demo data added.")
        return
    now = utcnow()
    logins: list[dict[str, str]] = []
    users: dict[str, User] = {}
    participants: list[User] = []
    for label, name, email, role in DEMO_PEOPLE:
        password = "-".join(secrets.token_hex(3) for _ in range(3))
        user = accounts.sign_up(email, name, password, now=now, role=role)
        users.setdefault(label, user)
        if role is Role.PARTICIPANT:
            participants.append(user)
        logins.append({"role": label, "email": email, "password": password})
    organiser, facilitator = users["organiser"], users["facilitator"]
    tz = current_app.config["DEFAULT_TIMEZONE"]
    local_today = now.astimezone(ZoneInfo(tz)).date()
    start = datetime.combine(local_today + timedelta(days=3), time(19, 0))
    details = gatherings.Details(
        title="Eye-gazing evening: seeing and being seen",
        timezone=tz,
        capacity=24,
        description_md=DEMO_DESCRIPTION,
        kind="workshop",
        venue_name="The Quiet Room",
        venue_address="12 Garden Lane, Bristol",
        accessibility_notes="Step-free access. Chairs and floor cushions. Quiet room available.",
        facilitator_ids=[facilitator.id, organiser.id],
    )
    one = gatherings.create_gathering(
        organiser,
        details,
        gatherings.Timing(start, start + timedelta(hours=2, minutes=30)),
        now=now,
    )
    gatherings.publish(organiser, one, now=now)
    agreement = consent.create_agreement(
        organiser, "Consent and safety agreement", "consent_safety", DEMO_AGREEMENT, now=now
    )
    consent.set_required(organiser, one, [agreement.id])
    _seed_registration(organiser, one, participants, now)
    builtin = exercises.ensure_builtin_exercises(now=now)[0]
    exercises.create_run(facilitator, one, builtin, now=now, rounds_override=3)
    circle = gatherings.Details(
        title="Tuesday sharing circle",
        timezone=tz,
        capacity=16,
        description_md="A weekly circle: check-in round, a theme, listening without advice.",
        kind="circle",
        venue_name="Community Hall",
        venue_address="4 Mill Street, Bristol",
        facilitator_ids=[facilitator.id],
    )
    days_to_tuesday = (1 - local_today.weekday()) % 7 or 7
    gatherings.create_series(
        organiser,
        circle,
        gatherings.Recurrence(
            frequency="weekly",
            first_date=local_today + timedelta(days=days_to_tuesday),
            start_time=time(19, 30),
            duration_minutes=90,
            occurrence_count=10,
        ),
        publish_now=True,
        now=now,
    )
    db.session.commit()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        json.dump(logins, fh, indent=2)
    click.echo("Demo organisation created.")
    _print_logins(logins)


@click.command("create-organiser")
@click.option("--email", required=True)
@click.option("--name", required=True)
@click.password_option()
def create_organiser(email: str, name: str, password: str) -> None:
    """Create an organiser account, or promote an existing one."""
    existing = accounts.find_by_email(email)
    if existing is not None:
        existing.role = Role.ORGANISER.value
        db.session.commit()
        click.echo(f"{existing.email} is now an organiser.")
        return
    try:
        user = accounts.sign_up(email, name, password, now=utcnow(), role=Role.ORGANISER)
    except DomainError as err:
        db.session.rollback()
        raise click.ClickException(err.message) from None
    db.session.commit()
    click.echo(f"Organiser {user.email} created.")


@click.command("send-unsent-mail")
def send_unsent_mail() -> None:
    """Try again to send emails that SMTP has not accepted."""
    from facilitation.messaging.services import retry_unsent

    click.echo(f"Tried {retry_unsent()} message(s).")


@click.command("purge-signatures")
def purge_signatures() -> None:
    """Delete erased people's signatures older than the retention period (run daily)."""
    from facilitation.accounts.privacy import purge_expired_signatures

    days = int(current_app.config["SIGNATURE_RETENTION_DAYS"])
    count = purge_expired_signatures(utcnow(), days)
    db.session.commit()
    click.echo(f"Deleted {count} signature(s) older than {days} days of erased accounts.")

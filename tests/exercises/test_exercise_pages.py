"""Organisers' exercise editor, preparing runs, joining by code, and who may open which screen."""

import pytest
import sqlalchemy as sa

from facilitation.accounts.models import Role
from facilitation.exercises.models import Exercise, Run
from facilitation.extensions import db
from tests.exercises.live_helpers import eye_gazing, make_run
from tests.factories import make_gathering, make_user


def exercise_form(**overrides):
    data = {
        "title": "Hand-on-heart dyad",
        "description": "Gentle.",
        "grouping": "pairs",
        "contact": "1",
        "eye_contact": "1",
        "rounds": "3",
        "phases-0-name": "Arrive",
        "phases-0-duration_s": "20",
        "phases-0-active": "everyone",
        "phases-1-name": "A speaks",
        "phases-1-duration_s": "120",
        "phases-1-active": "a",
        "phases-1-instruction": "A speaks from the heart.",
    }
    data.update(overrides)
    return data


@pytest.fixture
def organiser(auth):
    user = make_user(Role.ORGANISER)
    db.session.commit()
    auth.login(user)
    return user


def test_organiser_creates_an_exercise_with_phases_in_order(client, organiser):
    response = client.post("/manage/exercises/new", data=exercise_form())
    assert response.status_code == 302
    exercise = db.session.scalar(sa.select(Exercise).where(Exercise.builtin_key.is_(None)))
    assert (exercise.contact, exercise.eye_contact, exercise.rounds) == (1, 1, 3)
    assert [(p.position, p.name, p.duration_s, p.active) for p in exercise.phases] == [
        (0, "Arrive", 20, "everyone"),
        (1, "A speaks", 120, "a"),
    ]


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"phases-0-name": "", "phases-1-name": ""}, "Add at least one phase with a name."),
        ({"phases-1-duration_s": "2"}, "Number must be between 5 and 7200."),
        ({"rounds": "0"}, "Number must be between 1 and 100."),
        ({"title": ""}, "Give it a title."),
        ({"grouping": "quartets"}, "Not a valid choice"),
    ],
)
def test_bad_exercise_is_explained_and_not_saved(client, organiser, overrides, message):
    response = client.post("/manage/exercises/new", data=exercise_form(**overrides))
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count(Exercise.id))) == 0


def test_editing_changes_phases_but_not_runs_already_prepared(client, organiser):
    client.post("/manage/exercises/new", data=exercise_form())
    exercise = db.session.scalar(sa.select(Exercise))
    gathering = make_gathering(organiser)
    from facilitation.core.clock import utcnow
    from facilitation.exercises import services

    run = services.create_run(organiser, gathering, exercise, now=utcnow())
    db.session.commit()
    response = client.post(
        f"/manage/exercises/{exercise.id}/edit",
        data=exercise_form(**{"phases-0-name": "Land", "phases-0-duration_s": "45"}),
    )
    assert response.status_code == 302
    db.session.expire_all()
    assert [p.name for p in db.session.get(Exercise, exercise.id).phases] == ["Land", "A speaks"]
    assert services.plan_of(db.session.get(Run, run.id)).phases[0].name == "Arrive"


def test_builtins_cannot_be_edited_but_can_be_copied(client, organiser):
    builtin = eye_gazing()
    db.session.commit()
    response = client.post(f"/manage/exercises/{builtin.id}/edit", data=exercise_form())
    assert response.status_code == 400
    assert "copy one instead" in response.get_data(as_text=True)
    copied = client.post(f"/manage/exercises/{builtin.id}/copy")
    assert copied.status_code == 302
    copy = db.session.scalar(sa.select(Exercise).where(Exercise.title.like("%(copy)")))
    assert [p.name for p in copy.phases] == [p.name for p in builtin.phases]


def test_facilitators_see_exercises_but_cannot_edit(client, auth):
    auth.login(make_user(Role.FACILITATOR))
    db.session.commit()
    assert client.get("/manage/exercises").status_code == 200
    assert client.get("/manage/exercises/new").status_code == 403


def test_facilitator_prepares_a_run_from_the_gathering(client, auth):
    facilitator = make_user(Role.FACILITATOR)
    gathering = make_gathering(facilitator_ids=[facilitator.id])
    exercise = eye_gazing()
    db.session.commit()
    auth.login(facilitator)
    assert client.get(f"/gatherings/{gathering.id}/live").status_code == 200
    response = client.post(
        f"/gatherings/{gathering.id}/live",
        data={"exercise_id": str(exercise.id), "rounds": "3", "odd_policy": "trio"},
    )
    assert response.status_code == 302
    run = db.session.scalar(sa.select(Run))
    assert response.headers["Location"].endswith(f"/live/{run.id}/console")
    assert (run.odd_policy, services_rounds(run)) == ("trio", 3)


def services_rounds(run):
    from facilitation.exercises.services import plan_of

    return plan_of(run).rounds


def test_other_facilitators_and_participants_cannot_prepare_or_open_the_console(client, auth):
    run, _, people = make_run(2)
    outsider = make_user(Role.FACILITATOR)
    db.session.commit()
    for person in (outsider, people[0]):
        auth.login(person)
        assert client.get(f"/gatherings/{run.gathering_id}/live").status_code == 403
        assert client.get(f"/live/{run.id}/console").status_code == 403
        auth.logout()


def test_projector_page_needs_its_token(client, app):
    run, _, _ = make_run(2)
    db.session.commit()
    assert client.get(f"/live/{run.id}/projector/wrong-token").status_code == 404
    page = client.get(f"/live/{run.id}/projector/{run.projector_token}")
    body = page.get_data(as_text=True)
    assert page.status_code == 200 and run.join_code in body and "<svg" in body


def test_join_by_code_sends_people_to_log_in_then_to_the_phone_screen(client, auth):
    run, _, people = make_run(2)
    db.session.commit()
    anonymous = client.get(f"/join?code={run.join_code.lower()}")
    assert anonymous.headers["Location"].endswith(f"/join/{run.join_code}")
    to_login = client.get(f"/join/{run.join_code}")
    assert (
        "/log-in" in to_login.headers["Location"]
        and f"live/{run.id}" in to_login.headers["Location"]
    )
    auth.login(people[0])
    assert client.get(f"/join/{run.join_code}").headers["Location"].endswith(f"/live/{run.id}")
    phone = client.get(f"/live/{run.id}")
    assert phone.status_code == 200 and 'id="support-btn"' in phone.get_data(as_text=True)


def test_unknown_join_code_is_explained(client):
    response = client.get("/join?code=NOPE42")
    assert response.status_code == 400
    assert "No exercise has that code" in response.get_data(as_text=True)
    assert client.get("/join/NOPE42").status_code == 404

"""Answers to the organiser's questions are encrypted in the database."""

import sqlalchemy as sa

from facilitation.extensions import db
from facilitation.registration.models import RegistrationAnswer
from tests.factories import make_user
from tests.registration.factories import make_option, make_question, register


def test_answers_are_stored_encrypted_and_read_back_as_written(gathering):
    question = make_question(gathering, "Anything we should know?", "long_text")
    register(
        make_user(),
        gathering,
        make_option(gathering, "free"),
        answers={question.id: "Recovering from a panic disorder"},
    )
    db.session.commit()
    raw = " ".join(
        str(v)
        for row in db.session.execute(sa.text("SELECT * FROM registration_answers"))
        for v in row
    )
    assert "panic" not in raw and "enc:v1:" in raw
    db.session.expire_all()
    assert db.session.scalar(sa.select(RegistrationAnswer.value)) == (
        "Recovering from a panic disorder"
    )

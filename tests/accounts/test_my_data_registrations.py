"""The "Download my data" export holds the person's registration answers, tickets and payments."""

from __future__ import annotations

from facilitation.accounts import privacy
from facilitation.attendance import tickets
from facilitation.extensions import db
from tests.factories import make_gathering, make_user
from tests.registration.factories import before_start, make_option, make_question, register


def test_answers_and_tickets_are_in_the_download(client, auth):
    gathering = make_gathering()
    question = make_question(gathering, "Anything we should know?")
    person, other = make_user(), make_user()
    option = make_option(gathering, "free")
    mine = register(person, gathering, option, answers={question.id: "I limp a bit"})
    theirs = register(other, gathering, option, answers={question.id: "No"})
    ticket = tickets.ticket_for(mine, before_start(gathering))
    tickets.ticket_for(theirs, before_start(gathering))
    db.session.commit()
    auth.login(person)
    export = client.get("/account/my-data.json").get_json()["tables"]
    [answer] = export["registration_answers"]
    assert answer["value"] == "I limp a bit"
    assert answer["question"] == "Anything we should know?"
    assert answer["registration_id"] == mine.id
    [own_ticket] = export["tickets"]
    assert own_ticket["token"] == ticket.token and own_ticket["registration_id"] == mine.id
    page = client.get("/account/my-data").get_data(as_text=True)
    assert "Your answers to registration questions: 1" in page
    assert "Your tickets: 1" in page


def test_someone_without_registrations_gets_none(app):
    person = make_user()
    db.session.commit()
    export = privacy.export_person(person)["tables"]
    assert export["registration_answers"] == [] and export["tickets"] == []

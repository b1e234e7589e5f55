"""Reports about an organiser or facilitator go to the safeguarding contact alone: the person
they are about never reads them (page, dashboard, outbox or API), nor is told of them."""

import re

import pytest
import sqlalchemy as sa

from facilitation.accounts.models import Role
from facilitation.api import openapi
from facilitation.consent import community, incidents
from facilitation.consent.models import IncidentReport
from facilitation.core.clock import utcnow
from facilitation.core.errors import Forbidden
from facilitation.extensions import db
from facilitation.messaging.models import OutboxMessage
from tests.api.helpers import bearer, token_for
from tests.factories import make_gathering, make_user

CONCERN = "The lead facilitator pressed people to hug after they said no."


def name_contact(organiser, contact):
    community.update(
        organiser,
        default_agreement_id=None,
        safeguarding_contact_id=contact.id if contact else None,
        now=utcnow(),
    )


def told():
    rows = db.session.scalars(
        sa.select(OutboxMessage).where(OutboxMessage.kind == "incident_reported")
    )
    return sorted(m.to_email for m in rows)


@pytest.fixture
def people(app):
    subject = make_user(Role.ORGANISER, name="Sam Subject")
    colleague = make_user(Role.ORGANISER, name="Olu Colleague")
    contact = make_user(Role.PARTICIPANT, name="Cass Contact")
    reporter = make_user(name="Rae Reporter")
    name_contact(colleague, contact)
    db.session.commit()
    return subject, colleague, contact, reporter


def file_from_page(client, auth, reporter, subject):
    auth.login(reporter)
    form = client.get("/report-a-concern").get_data(as_text=True)
    assert f'<option value="{subject.id}">Sam Subject</option>' in form
    assert "safeguarding contact, Cass Contact, alone" in form
    response = client.post("/report-a-concern", data={"body": CONCERN, "about_leader": subject.id})
    assert response.status_code == 302
    sent = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "safeguarding contact alone" in sent
    client.post("/log-out")
    return db.session.scalars(sa.select(IncidentReport)).one()


def test_a_report_about_an_organiser_reaches_only_the_safeguarding_contact(client, auth, people):
    subject, colleague, contact, reporter = people
    report = file_from_page(client, auth, reporter, subject)
    assert report.about_leader and report.routed_to_id == contact.id
    assert told() == [contact.email]
    assert CONCERN not in " ".join(
        m.body_text for m in db.session.scalars(sa.select(OutboxMessage))
    )

    for outsider in (subject, colleague):
        auth.login(outsider)
        listing = client.get("/manage/reports").get_data(as_text=True)
        assert f"Open report {report.id}<" not in listing
        assert client.get(f"/manage/reports/{report.id}").status_code == 404
        triage = client.post(f"/manage/reports/{report.id}", data={"status": "resolved"})
        assert triage.status_code == 404
        assert incidents.open_count(outsider) == 0
        client.post("/log-out")

    auth.login(contact)
    assert f"Open report {report.id}<" in client.get("/manage/reports").get_data(as_text=True)
    detail = client.get(f"/manage/reports/{report.id}").get_data(as_text=True)
    assert CONCERN in detail and "sent to the safeguarding contact alone" in detail
    done = client.post(f"/manage/reports/{report.id}", data={"status": "in_progress"})
    assert done.status_code == 302
    db.session.expire_all()
    assert db.session.get(IncidentReport, report.id).status == "in_progress"


def test_the_subject_cannot_reach_it_through_the_api(client, auth, people):
    subject, _, _, reporter = people
    gathering = make_gathering(subject)
    report = incidents.report_incident(
        reporter, CONCERN, now=utcnow(), gathering_id=gathering.id, subject_user_id=subject.id
    )
    headers = bearer(token_for(subject, "read"))
    db.session.commit()
    for path, operations in openapi.document()["paths"].items():
        if "get" not in operations:
            continue
        url = re.sub(r"\{gathering_id\}", str(gathering.id), path)
        url = re.sub(r"\{[a-z_]+\}", str(report.id), url)
        response = client.get(url, headers=headers)
        assert response.status_code < 500, url
        assert "pressed people to hug" not in response.get_data(as_text=True), url
    assert client.get(f"/api/v1/reports/{report.id}", headers=headers).status_code == 404


def test_a_facilitator_named_in_a_report_is_detected_as_a_leader(people):
    _, colleague, contact, reporter = people
    lead = make_user(Role.FACILITATOR)
    report = incidents.report_incident(reporter, CONCERN, now=utcnow(), subject_user_id=lead.id)
    assert report.about_leader and report.routed_to_id == contact.id
    assert not incidents.may_read(lead, report) and not incidents.may_read(colleague, report)
    with pytest.raises(Forbidden):
        incidents.triage(colleague, report, "resolved", "", now=utcnow())
    participant = make_user()
    plain = incidents.report_incident(
        reporter, CONCERN, now=utcnow(), subject_user_id=participant.id
    )
    assert not plain.about_leader and plain.routed_to_id is None
    assert incidents.may_read(colleague, plain) and not incidents.may_read(contact, plain)
    assert not incidents.may_read(participant, plain)


def test_without_a_contact_the_other_organisers_read_it_and_are_told(people):
    subject, colleague, _, reporter = people
    name_contact(colleague, None)
    report = incidents.report_incident(reporter, CONCERN, now=utcnow(), subject_user_id=subject.id)
    assert report.about_leader and report.routed_to_id is None
    assert [p.id for p in incidents.to_tell(report)] == [colleague.id]
    assert incidents.may_read(colleague, report) and not incidents.may_read(subject, report)
    assert [r.id for r in incidents.list_for(subject)] == []
    assert [r.id for r in incidents.list_for(colleague)] == [report.id]


def test_a_report_about_the_contact_goes_to_the_organisers_not_the_contact(people):
    subject, colleague, contact, reporter = people
    contact.role = Role.FACILITATOR
    report = incidents.report_incident(reporter, CONCERN, now=utcnow(), subject_user_id=contact.id)
    assert report.about_leader and report.routed_to_id is None
    assert not incidents.may_read(contact, report)
    assert incidents.may_read(subject, report) and incidents.may_read(colleague, report)
    assert {p.id for p in incidents.to_tell(report)} == {subject.id, colleague.id}


@pytest.mark.parametrize("value", [str(2**40), "abc", "\x00"])
def test_a_bad_person_on_the_form_is_refused(client, auth, people, value):
    *_, reporter = people
    auth.login(reporter)
    response = client.post("/report-a-concern", data={"body": CONCERN, "about_leader": value})
    assert response.status_code == 400
    assert db.session.scalars(sa.select(IncidentReport)).all() == []


def test_the_contact_finds_reports_in_the_menu_and_others_do_not(client, auth, people):
    _, _, contact, reporter = people
    auth.login(contact)
    assert 'href="/manage/reports"' in client.get("/account").get_data(as_text=True)
    auth.login(reporter)
    assert 'href="/manage/reports"' not in client.get("/account").get_data(as_text=True)
    assert client.get("/manage/reports").status_code == 403


def test_replacing_the_contact_tells_the_former_one(people):
    subject, _, contact, _ = people
    name_contact(subject, subject)
    messages = db.session.scalars(
        sa.select(OutboxMessage).where(OutboxMessage.kind == "safeguarding_contact_changed")
    ).all()
    assert [m.to_email for m in messages] == [contact.email]
    assert "Sam Subject changed" in messages[0].body_text

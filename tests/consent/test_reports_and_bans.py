"""Reporting a concern, organisers' triage, bans and taking a banned person out of live runs."""

import pytest
import sqlalchemy as sa

from facilitation.accounts.models import Role
from facilitation.consent import safety
from facilitation.consent.models import Ban, IncidentReport
from facilitation.core.clock import utcnow

# Imported before any app is created: create_app imports it after socketio.init_app, so a
# session whose first import happens there binds the live handlers to the first app only.
from facilitation.exercises import connections, pairings, removal, services
from facilitation.exercises.models import Run, RunParticipant
from facilitation.extensions import db, socketio
from facilitation.gatherings import permissions
from tests.exercises.live_helpers import command, make_run
from tests.factories import PASSWORD, make_gathering, make_user

NS = "/live"
CONCERN = "Someone kept touching people after they said no."


def reports():
    return db.session.scalars(sa.select(IncidentReport)).all()


def file_report(user, body="Something felt unsafe at the door.", anonymous=False):
    report = safety.report_incident(None if anonymous else user, body, now=utcnow())
    db.session.commit()
    return report


# --- reporting -------------------------------------------------------------------------


def test_a_named_report_keeps_the_reporter_and_the_person_inside_the_text(client, auth):
    person = make_user(name="Robin Reporter")
    gathering = make_gathering()
    db.session.commit()
    auth.login(person)
    form = client.get(f"/report-a-concern?gathering={gathering.id}").get_data(as_text=True)
    assert f'<option selected value="{gathering.id}">' in form
    response = client.post(
        "/report-a-concern",
        data={"body": CONCERN, "gathering_id": gathering.id, "about": "Sam from Tuesday"},
    )
    assert response.status_code == 302
    (report,) = reports()
    assert report.reporter_id == person.id and report.gathering_id == gathering.id
    assert report.subject_user_id is None
    assert "Sam from Tuesday" in report.body and CONCERN in report.body
    sent = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Only the community's organisers can read it" in sent
    assert "can see your name" in sent


def test_an_anonymous_report_stores_no_reporter(client, auth):
    person = make_user()
    db.session.commit()
    auth.login(person)
    response = client.post("/report-a-concern", data={"body": CONCERN, "anonymous": "y"})
    (report,) = reports()
    assert report.reporter_id is None
    sent = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "did not store who you are" in sent


@pytest.mark.parametrize("body", ["", "          ", "too short"])
def test_empty_or_short_concerns_are_refused_and_nothing_is_written(client, auth, body):
    person = make_user()
    db.session.commit()
    auth.login(person)
    response = client.post("/report-a-concern", data={"body": body})
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "Tell us what happened." in page or "at least 10 characters" in page
    assert reports() == []


def test_reporting_needs_a_login(client):
    response = client.get("/report-a-concern")
    assert response.status_code == 302 and "/log-in" in response.headers["Location"]


def test_a_draft_gathering_is_not_offered(client, auth):
    person = make_user()
    draft = make_gathering(publish=False, title="Secret draft")
    db.session.commit()
    auth.login(person)
    page = client.get(f"/report-a-concern?gathering={draft.id}").get_data(as_text=True)
    assert "Secret draft" not in page


# --- who sees reports ------------------------------------------------------------------


def test_the_organiser_never_sees_an_anonymous_reporters_name(client, auth):
    organiser = make_user(Role.ORGANISER)
    named, hidden = make_user(name="Named Person"), make_user(name="Hidden Person")
    file_report(named)
    anonymous = file_report(hidden, anonymous=True)
    auth.login(organiser)
    listing = client.get("/manage/reports").get_data(as_text=True)
    assert "Named Person" in listing and "Hidden Person" not in listing
    assert "Anonymous" in listing
    detail = client.get(f"/manage/reports/{anonymous.id}").get_data(as_text=True)
    assert "Something felt unsafe at the door." in detail
    assert "Hidden Person" not in detail and hidden.email not in detail


@pytest.mark.parametrize("role", [Role.PARTICIPANT, Role.FACILITATOR])
def test_only_organisers_reach_reports_and_bans(client, auth, role):
    report = file_report(make_user())
    person = make_user()
    record = safety.ban(make_user(Role.ORGANISER), make_user(), "", now=utcnow())
    viewer = make_user(role)
    db.session.commit()
    auth.login(viewer)
    for path in ("/manage/reports", f"/manage/reports/{report.id}", "/manage/bans"):
        assert client.get(path).status_code == 403, path
    assert (
        client.post(f"/manage/reports/{report.id}", data={"status": "resolved"}).status_code == 403
    )
    assert client.post(f"/manage/people/{person.id}/ban").status_code == 403
    assert client.post(f"/manage/bans/{record.id}/lift").status_code == 403
    assert safety.active_ban(user_id=person.id) is None
    assert db.session.get(Ban, record.id).lifted_at is None


# --- triage ----------------------------------------------------------------------------


def test_triage_saves_status_and_private_notes(client, auth):
    organiser = make_user(Role.ORGANISER)
    report = file_report(make_user())
    auth.login(organiser)
    response = client.post(
        f"/manage/reports/{report.id}",
        data={"status": "in_progress", "private_notes": "Spoke to the host."},
    )
    assert response.status_code == 302
    db.session.expire_all()
    report = db.session.get(IncidentReport, report.id)
    assert report.status == "in_progress" and report.private_notes == "Spoke to the host."
    raw = db.session.execute(sa.text("SELECT private_notes FROM incident_reports")).scalar_one()
    assert "Spoke to the host" not in raw


def test_a_bad_status_is_refused(client, auth):
    organiser = make_user(Role.ORGANISER)
    report = file_report(make_user())
    auth.login(organiser)
    response = client.post(
        f"/manage/reports/{report.id}", data={"status": "closed", "private_notes": "x"}
    )
    assert response.status_code == 400
    assert "Choose new, in progress or resolved." in response.get_data(as_text=True)
    db.session.expire_all()
    report = db.session.get(IncidentReport, report.id)
    assert report.status == "new" and report.private_notes is None


def test_the_status_filter_lists_only_that_status(client, auth):
    organiser = make_user(Role.ORGANISER)
    first, second = file_report(make_user()), file_report(make_user())
    safety.triage(organiser, second, "resolved", "", now=utcnow())
    db.session.commit()
    auth.login(organiser)
    page = client.get("/manage/reports?status=resolved").get_data(as_text=True)
    assert f"Open report {second.id}<" in page and f"Open report {first.id}<" not in page


# --- bans ------------------------------------------------------------------------------


def test_an_organiser_bans_from_the_people_page(client, auth):
    organiser = make_user(Role.ORGANISER)
    person = make_user(email="Ban.Me@example.org")
    db.session.commit()
    auth.login(organiser)
    response = client.post(
        f"/manage/people/{person.id}/ban", data={"reason": "harassment", "confirm": "y"}
    )
    assert response.status_code == 302
    record = safety.active_ban(user_id=person.id)
    assert record is not None and record.reason == "harassment"
    assert safety.active_ban(email="BAN.ME@example.org").id == record.id
    assert permissions.is_banned(person)
    assert person.email in client.get("/manage/bans").get_data(as_text=True)


def test_organisers_cannot_ban_themselves(client, auth):
    organiser = make_user(Role.ORGANISER)
    db.session.commit()
    auth.login(organiser)
    response = client.post(f"/manage/people/{organiser.id}/ban", follow_redirects=True)
    assert "You cannot ban yourself." in response.get_data(as_text=True)
    assert db.session.scalars(sa.select(Ban)).all() == []


def test_banning_nobody_is_not_found(client, auth):
    organiser = make_user(Role.ORGANISER)
    db.session.commit()
    auth.login(organiser)
    assert client.post("/manage/people/999999/ban").status_code == 404


def test_lifting_a_ban(client, auth):
    organiser, person = make_user(Role.ORGANISER), make_user()
    record = safety.ban(organiser, person, "", now=utcnow())
    db.session.commit()
    auth.login(organiser)
    assert client.post(f"/manage/bans/{record.id}/lift").status_code == 302
    assert not permissions.is_banned(person)
    assert safety.active_ban(person.email, person.id) is None
    page = client.get("/manage/bans").get_data(as_text=True)
    assert "Nobody is banned." in page and person.email in page


def test_a_ban_marks_them_gone_from_runs_not_yet_started(app):
    run, _, people = make_run(3)
    organiser = make_user(Role.ORGANISER)
    safety.ban(organiser, people[0], "", now=utcnow())
    outcomes = removal.remove_from_runs(people[0].id, now=utcnow())
    db.session.commit()
    assert [o.run_id for o in outcomes] == [run.id]
    rows = {p.user_id: p.left_at for p in db.session.scalars(sa.select(RunParticipant))}
    assert rows[people[0].id] is not None
    assert rows[people[1].id] is None and rows[people[2].id] is None


# --- the live room ---------------------------------------------------------------------


def connect(app, user, **auth):
    flask_client = app.test_client()
    response = flask_client.post("/log-in", data={"email": user.email, "password": PASSWORD})
    assert response.status_code == 302
    return socketio.test_client(app, namespace=NS, auth=auth, flask_test_client=flask_client)


def test_a_banned_phone_is_removed_and_the_round_re_paired_without_them(app, client, auth):
    run, facilitator, people = make_run(4)
    organiser = make_user(Role.ORGANISER)
    db.session.commit()
    services.control(run.id, facilitator, "start", command_id=command(), now=utcnow())
    db.session.commit()
    before = pairings.current_round(db.session.get(Run, run.id))
    banned = next(p for p in people if any(m.user_id == p.id for m in before.members))
    phone = connect(app, banned, run_id=run.id)
    other = connect(app, next(p for p in people if p.id != banned.id), run_id=run.id)
    assert phone.is_connected(NS)
    sid = socketio.server.manager.sid_from_eio_sid(phone.eio_sid, NS)
    assert connections._connections[sid].user_id == banned.id
    phone.get_received(NS)
    other.get_received(NS)

    auth.login(organiser)
    assert client.post(f"/manage/people/{banned.id}/ban", data={"confirm": "y"}).status_code == 302

    assert not phone.is_connected(NS)
    # get_received refuses once disconnected; what arrived before is still in the queue.
    received = [e for e in phone.queue if e["namespace"] == NS]
    assert {"name": "removed", "args": [{"reason": "banned"}], "namespace": NS} in received
    assert sid not in connections._connections
    assert any(e["name"] == "your_pairing" for e in other.get_received(NS))
    db.session.expire_all()
    after = pairings.current_round(db.session.get(Run, run.id))
    assert after.attempt == before.attempt + 1
    assert banned.id not in {m.user_id for m in after.members}
    assert {r.user_id: r.reason for r in after.rests}[banned.id] == "banned"
    presence = db.session.scalar(
        sa.select(RunParticipant).where(RunParticipant.user_id == banned.id)
    )
    assert presence.left_at is not None


def test_is_banned_is_false_for_nobody_and_anonymous(app):
    from flask_login import AnonymousUserMixin

    assert not permissions.is_banned(None)
    assert not permissions.is_banned(AnonymousUserMixin())
    assert not permissions.is_banned(make_user())

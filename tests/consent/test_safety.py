"""Boundaries and do-not-pair are honoured; notes are encrypted, gated and every read logged."""

import pytest
import sqlalchemy as sa

from facilitation.accounts.models import Role
from facilitation.consent import safety
from facilitation.consent import services as consent
from facilitation.consent.models import (
    BoundaryProfile,
    DoNotPairRequest,
    IncidentReport,
    SensitiveAccess,
    SensitiveNote,
)
from facilitation.core.clock import utcnow
from facilitation.core.errors import DomainError, Forbidden
from facilitation.exercises import pairings, services
from facilitation.exercises.models import Run, RunParticipant
from facilitation.extensions import db
from facilitation.gatherings.models import Gathering
from tests.consent.factories import make_agreement, sign
from tests.exercises.live_helpers import command, make_run
from tests.factories import make_user


def start_and_pairs(run, facilitator):
    services.control(run.id, facilitator, "start", command_id=command(), now=utcnow())
    db.session.commit()
    stored = pairings.current_round(db.session.get(Run, run.id))
    spots = {}
    for m in stored.members:
        spots.setdefault(m.spot, set()).add(m.user_id)
    return [frozenset(s) for s in spots.values()], {r.user_id: r.reason for r in stored.rests}


def boundaries(touch=0, eye=1, pref="any", gender=None, role=None, note=None):
    return safety.BoundaryInput(touch, eye, pref, gender, role, note)


def test_do_not_pair_is_never_broken(app):
    for seed in range(8):
        run, facilitator, people = make_run(2, seed=seed)
        safety.add_do_not_pair(people[0], people[1].email, now=utcnow())
        groups, rests = start_and_pairs(run, facilitator)
        assert groups == [] and set(rests.values()) == {"no_compatible_partner"}


def test_do_not_pair_by_email_binds_both_ways_among_many(app):
    run, facilitator, people = make_run(4, seed=3)
    safety.add_do_not_pair(people[2], people[3].email.upper(), now=utcnow())
    safety.add_do_not_pair(people[0], people[1].email, now=utcnow())
    groups, _ = start_and_pairs(run, facilitator)
    forbidden = {frozenset({people[2].id, people[3].id}), frozenset({people[0].id, people[1].id})}
    assert len(groups) == 2 and not (set(groups) & forbidden)


def test_boundaries_exclude_an_exercise_and_preferences_are_mutual(app):
    run, facilitator, people = make_run(4)
    safety.save_boundaries(people[0], boundaries(eye=0), now=utcnow())  # avoids eye contact
    safety.save_boundaries(people[1], boundaries(pref="same_gender", gender="woman"), now=utcnow())
    safety.save_boundaries(people[2], boundaries(gender="man"), now=utcnow())
    safety.save_boundaries(people[3], boundaries(gender="man"), now=utcnow())
    groups, rests = start_and_pairs(run, facilitator)
    assert rests[people[0].id] == "boundaries_exclude_exercise"
    assert rests[people[1].id] == "no_compatible_partner"
    assert groups == [frozenset({people[2].id, people[3].id})]


def test_a_gathering_override_wins_over_the_general_profile(app):
    run, facilitator, people = make_run(2)
    safety.save_boundaries(people[0], boundaries(eye=0), now=utcnow())
    safety.save_boundaries(
        people[0], boundaries(eye=2), now=utcnow(), gathering_id=run.gathering_id
    )
    groups, _ = start_and_pairs(run, facilitator)
    assert groups == [frozenset({people[0].id, people[1].id})]


def test_banned_and_unsigned_people_are_not_paired(app):
    run, facilitator, people = make_run(6)
    organiser = make_user(Role.ORGANISER)
    agreement = make_agreement(organiser)
    consent.set_required(organiser, db.session.get(Gathering, run.gathering_id), [agreement.id])
    for person in people[:5]:
        sign(person, agreement)
    safety.ban(organiser, people[0], "", now=utcnow())
    groups, rests = start_and_pairs(run, facilitator)
    assert rests[people[0].id] == "banned"
    assert rests[people[5].id] == "agreements_missing"
    assert all(people[0].id not in g and people[5].id not in g for g in groups)


def test_sensitive_fields_are_encrypted_at_rest(app):
    person = make_user()
    safety.save_sensitive(person, "Maria, +44 7700 900123", "Asthma; panic attacks", now=utcnow())
    safety.save_boundaries(person, boundaries(note="Please no hand on my back"), now=utcnow())
    safety.add_do_not_pair(person, "ex@example.org", now=utcnow(), reason="my ex")
    safety.report_incident(None, "Someone pressured me after the circle.", now=utcnow())
    db.session.commit()
    raw = []
    for table in (
        "sensitive_notes",
        "boundary_profiles",
        "do_not_pair_requests",
        "incident_reports",
    ):
        raw += [
            str(v) for row in db.session.execute(sa.text(f"SELECT * FROM {table}")) for v in row
        ]
    dump = " ".join(raw)
    for secret in ("Maria", "Asthma", "hand on my back", "ex@example.org", "my ex", "pressured"):
        assert secret not in dump
    assert "enc:v1:" in dump
    assert db.session.scalar(sa.select(SensitiveNote)).health_note == "Asthma; panic attacks"


def test_reading_notes_is_gated_and_logged_once_per_field(app):
    run, facilitator, people = make_run(2)
    subject = people[0]
    safety.save_sensitive(subject, "Maria", "Asthma", now=utcnow())
    db.session.commit()
    gathering = db.session.get(Gathering, run.gathering_id)
    shown = safety.read_sensitive(facilitator, subject.id, gathering, now=utcnow())
    assert shown == {"emergency_contact": "Maria", "health_note": "Asthma"}
    rows = db.session.scalars(sa.select(SensitiveAccess)).all()
    assert sorted(r.field for r in rows) == ["emergency_contact", "health_note"]
    assert {(r.viewer_id, r.subject_user_id) for r in rows} == {(facilitator.id, subject.id)}
    assert [r.field for r in safety.access_log_for(subject)].count("health_note") == 1

    other_facilitator = make_user(Role.FACILITATOR)
    for viewer in (people[1], other_facilitator):
        with pytest.raises(Forbidden):
            safety.read_sensitive(viewer, subject.id, gathering, now=utcnow())
    outsider = make_user()
    with pytest.raises(Forbidden):  # not attending this gathering
        safety.read_sensitive(facilitator, outsider.id, gathering, now=utcnow())
    assert db.session.scalar(sa.select(sa.func.count(SensitiveAccess.id))) == 2


def test_do_not_pair_is_shown_only_to_the_gatherings_facilitators_and_logged(app):
    run, facilitator, people = make_run(3)
    safety.add_do_not_pair(people[0], people[1].email, now=utcnow())
    gathering = db.session.get(Gathering, run.gathering_id)
    listed = safety.do_not_pair_for(facilitator, gathering, now=utcnow())
    assert listed == [{"asker": people[0].name, "other": people[1].name}]
    assert db.session.scalar(sa.select(SensitiveAccess.field)) == "do_not_pair"
    with pytest.raises(Forbidden):
        safety.do_not_pair_for(make_user(Role.FACILITATOR), gathering, now=utcnow())


def test_bad_boundaries_and_requests_are_refused(app):
    person = make_user()
    with pytest.raises(DomainError):
        safety.save_boundaries(person, boundaries(touch=7), now=utcnow())
    with pytest.raises(DomainError) as err:
        safety.save_boundaries(person, boundaries(pref="same_gender"), now=utcnow())
    assert err.value.code == "gender_needed"
    with pytest.raises(DomainError):
        safety.add_do_not_pair(person, person.email, now=utcnow())
    with pytest.raises(DomainError):
        safety.report_incident(person, "short", now=utcnow())
    assert db.session.scalar(sa.select(sa.func.count(BoundaryProfile.id))) == 0
    assert db.session.scalar(sa.select(sa.func.count(DoNotPairRequest.id))) == 0
    assert db.session.scalar(sa.select(sa.func.count(IncidentReport.id))) == 0


def test_a_ban_covers_the_email_too(app):
    organiser, person = make_user(Role.ORGANISER), make_user(email="ban@example.org")
    safety.ban(organiser, person, "harassment", now=utcnow())
    assert safety.active_ban(email="BAN@example.org") is not None
    record = safety.active_ban(user_id=person.id)
    safety.lift_ban(organiser, record, now=utcnow())
    assert safety.active_ban(email="ban@example.org") is None


def test_being_put_into_a_run_gives_no_one_access_to_a_persons_notes(app):
    # Today's hole: a facilitator added any account to a run, then read its notes.
    run, facilitator, _ = make_run(2)
    target = make_user(name="Not Registered")
    safety.save_sensitive(target, "Their mother", "Epilepsy", now=utcnow())
    db.session.add(
        RunParticipant(
            run_id=run.id, user_id=target.id, joined_at=utcnow(), added_by_id=facilitator.id
        )
    )
    db.session.commit()
    gathering = db.session.get(Gathering, run.gathering_id)
    with pytest.raises(Forbidden):
        safety.read_sensitive(facilitator, target.id, gathering, now=utcnow())
    assert safety.boundary_notes_for(facilitator, gathering, [target.id], now=utcnow()) == {}
    assert db.session.scalar(sa.select(sa.func.count(SensitiveAccess.id))) == 0


def test_notes_are_read_only_through_a_gathering_the_reader_facilitates(app):
    run, facilitator, people = make_run(1)
    subject = people[0]
    safety.save_sensitive(subject, "Maria", "Asthma", now=utcnow())
    elsewhere = db.session.get(Gathering, make_run(1)[0].gathering_id)
    db.session.commit()
    with pytest.raises(Forbidden):  # registered here, but the reader does not facilitate there
        safety.read_sensitive(facilitator, subject.id, elsewhere, now=utcnow())
    ours = db.session.get(Gathering, run.gathering_id)
    assert safety.read_sensitive(facilitator, subject.id, ours, now=utcnow())["health_note"]
    assert db.session.scalar(sa.select(sa.func.count(SensitiveAccess.id))) == 2

"""My data: the export holds every row about a person; erasure leaves only the retention set."""

import base64
import json
from datetime import date, time, timedelta
from types import SimpleNamespace

import pytest
import sqlalchemy as sa

from facilitation.accounts import privacy
from facilitation.accounts.models import Role, User
from facilitation.api import tokens as api_tokens
from facilitation.attendance import services as attendance
from facilitation.consent import community, safety
from facilitation.consent import services as consent
from facilitation.consent.models import BoundaryProfile, IncidentReport, Signature
from facilitation.core.clock import utcnow
from facilitation.core.errors import DomainError
from facilitation.exercises import exercise_services, participants
from facilitation.exercises import services as exercises
from facilitation.extensions import db
from facilitation.gatherings import services as gatherings
from facilitation.messaging import services as mail
from facilitation.registration import ledger
from tests.consent.factories import make_agreement, sign
from tests.exercises.live_helpers import admit, command, eye_gazing
from tests.factories import PASSWORD, details, make_gathering, make_user
from tests.registration.factories import make_option, register

NAME = "Zebulon Quimby-Fairweather"
EMAIL = "zq.fairweather@example.org"
BOUNDARY_NOTE = "Zq-boundary: no hands on my shoulders"
EMERGENCY = "Zq-emergency: Philippa Quimby +44 7700 900123"
HEALTH = "Zq-health: inhaler in the blue bag"
DNP_REASON = "Zq-dnp: history outside the group"
REPORT_BODY = "The venue door was locked during the closing circle."
#: Everything that identifies the person or is their private text.
NEEDLES = [NAME, EMAIL, "Zebulon", "Quimby", BOUNDARY_NOTE, EMERGENCY, HEALTH, DNP_REASON]


def rich_person(role: Role = Role.ORGANISER) -> SimpleNamespace:
    """Create a person with a row in as many tables as the services allow, and commit."""
    now = utcnow()
    facilitator = make_user(Role.FACILITATOR)
    organiser = make_user(Role.ORGANISER)
    person = make_user(role, name=NAME, email=EMAIL)
    others = [make_user() for _ in range(3)]
    # They take part in two live runs of a gathering: paired in one, sitting out in the other.
    attended = make_gathering(organiser, facilitator_ids=[facilitator.id])
    paired = exercises.create_run(facilitator, attended, eye_gazing(), now=now, seed=7)
    rested = exercises.create_run(facilitator, attended, eye_gazing(), now=now, seed=7)
    # They register for a gathering (the others too: its runs admit only its people).
    mine = register(person, attended, make_option(attended, "free"), now=now)
    admit(attended, *others)
    for run in (paired, rested):
        for someone in (person, *others):
            participants.join_run(run, someone, now=now)
    participants.set_sitting_out(rested, person, True)
    for run in (paired, rested):
        exercises.control(run.id, facilitator, "start", command_id=command(), now=now)
    signal = participants.signal_support(paired, person, now=now)
    participants.acknowledge_support(paired, facilitator, signal.id, now=now)
    # As an organiser they lead a gathering, a series, an exercise and an agreement.
    led = make_gathering(person, facilitator_ids=[person.id])
    gatherings.create_series(
        person,
        details(facilitator_ids=[person.id]),
        gatherings.Recurrence("weekly", date.today() + timedelta(days=3), time(19), 90, None, 2),
        publish_now=False,
        now=now,
    )
    phases = [exercise_services.PhaseInput("Listen", 60)]
    exercise = exercise_services.create_exercise(
        person,
        exercise_services.ExerciseInput("Quiet listening", "", "pairs", 0, 0, 1, phases),
        now=now,
    )
    own_run = exercises.create_run(person, led, exercise, now=now)
    theirs = register(others[0], led, make_option(led, "door"), now=now)
    participants.join_run(own_run, others[0], now=now, added_by=person)
    exercises.control(own_run.id, person, "start", command_id=command(), now=now)
    agreement = make_agreement(person)
    signature = sign(person, agreement)
    consent.withdraw(person, agreement, now=now)
    # Their consent and safety data, and others' about them.
    safety.save_boundaries(
        person, safety.BoundaryInput(1, 1, "any", None, None, BOUNDARY_NOTE), now=now
    )
    safety.save_sensitive(person, EMERGENCY, HEALTH, now=now)
    safety.save_sensitive(others[0], "Other contact", "Other health note", now=now)
    safety.read_sensitive(facilitator, person.id, attended, now=now)
    safety.read_sensitive(person, others[0].id, led, now=now)
    safety.add_do_not_pair(person, others[1].email, reason=DNP_REASON, now=now)
    safety.add_do_not_pair(others[2], person.email, reason="Someone else's reason", now=now)
    safety.report_incident(
        person, REPORT_BODY, now=now, gathering_id=attended.id, subject_user_id=others[1].id
    )
    safety.report_incident(
        others[2], "A concern about how this person behaved.", now=now, subject_user_id=person.id
    )
    safety.ban(person, others[1], "Ban reason written by the person", now=now)
    # They are the safeguarding contact (a report about another organiser goes to them) and
    # took the community's default agreement off their own gathering on purpose.
    community.update(
        person, default_agreement_id=agreement.id, safeguarding_contact_id=person.id, now=now
    )
    safety.report_incident(
        others[2], "A concern about another organiser.", now=now, subject_user_id=organiser.id
    )
    consent.set_required(person, led, [agreement.id], now=now)
    consent.set_required(person, led, [], remove_default=True, now=now)
    mail.queue(person.email, f"Hello {person.display_name}", f"Dear {NAME},", kind="test")
    # As its organiser they take a payment at the door.
    ledger.record_door_payment(person, theirs, 2000, now=now)
    # At the door they are checked in; at their own gathering's desk they check someone in,
    # undo it (a mistap), and register a walk-in.
    attendance.check_in(facilitator, attended, mine.id, "privacy-own", now)
    row = attendance.check_in(person, led, theirs.id, "privacy-desk", now).check_in
    attendance.undo_check_in(person, row.id, now)
    walk_in = attendance.WalkInInput("Wren Walker", "wren@example.org", None, 0, "privacy-walk")
    walk_in.option_id = make_option(led, "free").id
    attendance.walk_in(person, led, walk_in, now)
    api_tokens.issue(person, "Their spreadsheet", {"read"}, now=now)  # a personal API token
    db.session.commit()
    return SimpleNamespace(
        person=person, others=others, facilitator=facilitator, signature=signature
    )


def user_fk_tables() -> list[sa.Table]:
    return [t for t in db.metadata.sorted_tables if privacy.user_columns(t)]


def matching_rows(table: sa.Table, condition: sa.ColumnElement[bool]) -> list[dict]:
    return [dict(r) for r in db.session.execute(sa.select(table).where(condition)).mappings()]


# --- export: complete against the schema ---------------------------------------------------


def test_every_table_that_points_at_a_person_is_in_the_export(app):
    person = make_user()
    db.session.commit()
    exported = privacy.export_person(person)["tables"]
    for table in user_fk_tables():
        assert table.name in exported, f"{table.name} references users.id but is not exported"
    for table in privacy.EMAIL_COLUMNS:
        assert table in exported


def test_export_holds_every_row_that_points_at_the_person(app):
    s = rich_person()
    person = s.person
    exported = privacy.export_person(person)["tables"]
    populated = set()
    for table in user_fk_tables():
        pk = [c.name for c in table.primary_key.columns]
        own = [
            c
            for c in privacy.user_columns(table)
            if (table.name, c.name) not in set(privacy.ACTOR_COLUMNS) | privacy.NOT_EXPORTED
        ]
        ids = {tuple(row.get(k) for k in pk) for row in exported[table.name]}
        for row in matching_rows(table, sa.or_(sa.false(), *[c == person.id for c in own])):
            populated.add(table.name)
            assert tuple(row[k] for k in pk) in ids, (table.name, row)
        for column in privacy.user_columns(table):
            keep = privacy.ACTOR_COLUMNS.get((table.name, column.name))
            if keep is None:
                continue
            acted = [r for r in matching_rows(table, column == person.id)]
            acted = [r for r in acted if not any(r[c.name] == person.id for c in own)]
            populated.update([table.name] if acted else [])
            reduced = [r for r in exported[table.name] if set(r) == set(keep)]
            assert len(reduced) >= len(acted), table.name
    # The scenario is not vacuous: every table known today has a row about the person.
    known = set(privacy.ERASURE)
    assert known - populated == set()


def test_export_gives_the_persons_own_data_in_plain_text(app):
    s = rich_person()
    export = privacy.export_person(s.person)
    tables = export["tables"]
    assert export["person"]["email"] == EMAIL and "password_hash" not in export["person"]
    assert "$argon2" not in json.dumps(export)
    assert tables["boundary_profiles"][0]["note"] == BOUNDARY_NOTE
    assert tables["sensitive_notes"][0]["health_note"] == HEALTH
    assert tables["sensitive_notes"][0]["emergency_contact"] == EMERGENCY
    [mine] = tables["do_not_pair_requests"]
    assert mine["reason"] == DNP_REASON and mine["subject_ref"] == f"email:{s.others[1].email}"
    [report] = tables["incident_reports"]
    assert report["body"] == REPORT_BODY and "private_notes" not in report
    [signature] = tables["signatures"]
    assert base64.b64decode(signature["signature_png"]) == s.signature.signature_png
    assert signature["typed_name"] == NAME
    assert {m["to_email"] for m in tables["outbox_messages"]} == {EMAIL}
    assert tables["gathering_facilitators"] and tables["series_facilitators"]
    assert "T" in export["exported_at"] and export["withheld"]


def test_export_withholds_what_is_not_the_persons_to_see(app):
    s = rich_person()
    export = privacy.export_person(s.person)
    text = json.dumps(export)
    tables = export["tables"]
    assert "Someone else's reason" not in text  # a do-not-pair request about them
    assert "how this person behaved" not in text  # a report about them
    assert "Ban reason" not in text  # a ban they made: the banned person's details stay out
    assert [set(b) for b in tables["bans"]] == [{"id", "created_at", "lifted_at"}]
    viewed = [r for r in tables["sensitive_access_logs"] if "id" not in r]
    assert viewed and all(set(r) == {"field", "viewed_at", "gathering_id"} for r in viewed)
    about_them = [r for r in tables["sensitive_access_logs"] if "id" in r]
    assert about_them and {r["viewer_id"] for r in about_them} == {s.facilitator.id}


def test_a_ban_on_the_person_is_exported_without_its_reason(app):
    organiser = make_user(Role.ORGANISER)
    person = make_user(email=EMAIL)
    safety.ban(organiser, person, "Private reason", now=utcnow())
    db.session.commit()
    [ban] = privacy.export_person(person)["tables"]["bans"]
    assert ban["email"] == EMAIL and "reason" not in ban


# --- the pages ------------------------------------------------------------------------------


def test_downloading_needs_a_log_in(client):
    for url in ("/account/my-data", "/account/my-data.json", "/account/erase"):
        response = client.get(url)
        assert response.status_code == 302 and "/log-in" in response.headers["Location"]


def test_the_download_is_always_the_logged_in_persons_own(client, auth):
    someone = make_user(email="someone.else@example.org")
    safety.save_sensitive(someone, "Their contact", "Their note", now=utcnow())
    me = make_user()
    db.session.commit()
    auth.login(me)
    response = client.get("/account/my-data.json")
    assert response.status_code == 200
    assert response.headers["Content-Disposition"].startswith("attachment;")
    assert response.headers["Cache-Control"] == "no-store"
    data = json.loads(response.get_data(as_text=True))
    assert data["person"]["id"] == me.id
    assert "someone.else" not in response.get_data(as_text=True)
    assert "Their note" not in response.get_data(as_text=True)


def test_my_data_page_offers_the_download_and_erasure(client, auth):
    me = make_user()
    db.session.commit()
    auth.login(me)
    page = client.get("/account/my-data").get_data(as_text=True)
    assert "Download my data (JSON)" in page and "/account/my-data.json" in page
    assert "/account/erase" in page


def test_erase_page_says_what_is_kept_and_for_how_long(client, auth, app):
    app.config["SIGNATURE_RETENTION_DAYS"] = 30
    me = make_user()
    db.session.commit()
    auth.login(me)
    page = client.get("/account/erase").get_data(as_text=True)
    assert "30 days" in page and "Bans" in page and "ERASE" in page


def person_with_boundaries():
    person = make_user(email=EMAIL, name=NAME)
    boundaries = safety.BoundaryInput(1, 1, "any", None, None, BOUNDARY_NOTE)
    safety.save_boundaries(person, boundaries, now=utcnow())
    db.session.commit()
    return person


@pytest.mark.parametrize(
    ("form", "message"),
    [
        ({"password": "not my password", "confirm": "ERASE"}, "That is not your password."),
        ({"password": PASSWORD, "confirm": ""}, "Type ERASE to confirm."),
        ({"password": PASSWORD, "confirm": "erase"}, "Type ERASE in capital letters"),
    ],
)
def test_wrong_password_or_missing_word_changes_nothing(client, auth, form, message):
    person = person_with_boundaries()
    auth.login(person)
    response = client.post("/account/erase", data=form)
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(User, person.id).email == EMAIL
    assert db.session.scalar(sa.select(BoundaryProfile).where(BoundaryProfile.user_id == person.id))
    assert client.get("/account").status_code == 200  # still logged in


def test_after_erasure_the_person_is_logged_out_and_cannot_log_in(client, auth):
    person = person_with_boundaries()
    make_user(Role.ORGANISER)
    db.session.commit()
    auth.login(person)
    response = client.post("/account/erase", data={"password": PASSWORD, "confirm": "ERASE"})
    assert response.status_code == 302 and response.headers["Location"] == "/"
    assert "Your account is erased" in client.get("/").get_data(as_text=True)
    assert client.get("/account").status_code == 302
    again = client.post("/log-in", data={"email": EMAIL, "password": PASSWORD})
    assert again.status_code == 400
    db.session.expire_all()
    erased = db.session.get(User, person.id)
    assert erased.email == f"erased-{person.id}@erased.invalid"
    assert (erased.name, erased.display_name, erased.is_active_account) == (
        "Erased person",
        "Erased",
        False,
    )


def test_erasure_also_ends_the_persons_sessions_on_other_devices(app, client, auth):
    person = person_with_boundaries()
    make_user(Role.ORGANISER)
    db.session.commit()
    phone = app.test_client()
    phone.post("/log-in", data={"email": EMAIL, "password": PASSWORD})
    assert phone.get("/account").status_code == 200
    auth.login(person)
    client.post("/account/erase", data={"password": PASSWORD, "confirm": "ERASE"})
    assert phone.get("/account").status_code == 302


# --- erasure ---------------------------------------------------------------------------------


def test_erasure_has_a_decision_for_every_reference_to_a_person(app):
    assert privacy.unplanned_columns() == []
    planned = {(t, c) for t, cols in privacy.ERASURE.items() for c in cols}
    existing = {(t.name, c.name) for t in user_fk_tables() for c in privacy.user_columns(t)}
    assert planned == existing


def every_stored_text() -> dict[str, str]:
    """Return each table's rows as raw SQL gives them, and as the ORM decrypts them."""
    found: dict[str, list[str]] = {}
    for table in db.metadata.sorted_tables:
        for row in db.session.execute(sa.text(f'SELECT * FROM "{table.name}"')):
            found.setdefault(table.name, []).extend(_text(v) for v in row)
    for mapper in db.Model.registry.mappers:
        table = mapper.local_table.name
        keys = [p.key for p in mapper.column_attrs]
        for obj in db.session.scalars(sa.select(mapper.class_)):
            found.setdefault(table, []).extend(_text(getattr(obj, k)) for k in keys)
    return {table: "\n".join(values).lower() for table, values in found.items()}


def _text(value: object) -> str:
    if isinstance(value, bytes | memoryview):
        return bytes(value).decode("latin-1")
    return str(value)


def tables_holding(needle: str, texts: dict[str, str]) -> set[str]:
    return {table for table, text in texts.items() if needle.lower() in text}


def test_erasure_leaves_no_personal_data_outside_the_retention_set(app):
    s = rich_person()
    before = every_stored_text()
    assert tables_holding(HEALTH, before) == {"sensitive_notes"}  # the scan sees decrypted text
    privacy.erase_person(db.session.get(User, s.person.id), now=utcnow())
    db.session.commit()
    db.session.expire_all()
    texts = every_stored_text()
    for needle in NEEDLES:
        assert tables_holding(needle, texts) <= {"signatures"}, needle
    signature = db.session.get(Signature, s.signature.id)
    assert (signature.user_id, signature.typed_name, signature.signer_email) == (None, NAME, EMAIL)
    [report] = [r for r in db.session.scalars(sa.select(IncidentReport)) if r.body == REPORT_BODY]
    assert report.reporter_id is None  # kept for others' safety, no longer theirs


def test_a_banned_persons_address_stays_in_the_ban_after_erasure(app):
    organiser = make_user(Role.ORGANISER)
    person = make_user(email=EMAIL, name=NAME)
    safety.ban(organiser, person, "Reason", now=utcnow())
    privacy.erase_person(person, now=utcnow())
    db.session.commit()
    texts = every_stored_text()
    assert tables_holding(EMAIL, texts) == {"bans"}
    assert tables_holding(NAME, texts) == set()
    assert safety.active_ban(EMAIL) is not None


def test_the_only_organiser_cannot_erase_their_account(app):
    organiser = make_user(Role.ORGANISER)
    with pytest.raises(DomainError) as caught:
        privacy.erase_person(organiser, now=utcnow())
    assert caught.value.code == "last_organiser"


def test_purge_deletes_only_expired_signatures_of_erased_people(app):
    organiser = make_user(Role.ORGANISER)
    agreement = make_agreement(organiser)
    old_erased, recent_erased, old_kept = make_user(), make_user(), make_user()
    signatures = {p.id: sign(p, agreement) for p in (old_erased, recent_erased, old_kept)}
    long_ago = utcnow() - timedelta(days=100)
    for person in (old_erased, old_kept):
        signatures[person.id].viewed_at = signatures[person.id].signed_at = long_ago
    for person in (old_erased, recent_erased):
        privacy.erase_person(person, now=utcnow())
    db.session.commit()
    assert privacy.purge_expired_signatures(utcnow(), 30) == 1
    left = set(db.session.scalars(sa.select(Signature.id)))
    assert left == {signatures[recent_erased.id].id, signatures[old_kept.id].id}

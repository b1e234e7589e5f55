"""Consent pages: signing through the form, and who may open what (the authorization matrix)."""

import base64
import re

import pytest
import sqlalchemy as sa

from facilitation.accounts.models import Role
from facilitation.consent import safety
from facilitation.consent import services as consent
from facilitation.consent.models import SensitiveAccess, Signature
from facilitation.core.clock import utcnow
from facilitation.exercises import pairings, services
from facilitation.exercises.models import Run
from facilitation.extensions import db
from facilitation.gatherings.models import Gathering
from tests.consent.factories import make_agreement, sign
from tests.consent.signatures import png, signed
from tests.exercises.live_helpers import command, make_run
from tests.factories import make_gathering, make_user


def data_url(image: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(image).decode()


def sign_form(client, agreement, **overrides):
    page = client.get(f"/agreements/{agreement.id}/sign").get_data(as_text=True)
    hidden = dict(
        re.findall(
            r'name="(version_id|shown_sha256|viewed_token)" type="hidden" value="([^"]*)"', page
        )
    )
    data = {**hidden, "typed_name": "Sam Rivers", "signature": data_url(signed()), "consent": "y"}
    data.update(overrides)
    return client.post(
        f"/agreements/{agreement.id}/sign", data=data, headers={"X-Forwarded-For": "203.0.113.9"}
    )


@pytest.fixture
def signer(auth):
    person = make_user(name="Sam Rivers")
    db.session.commit()
    auth.login(person)
    return person


def test_signing_through_the_page_records_everything(client, signer):
    agreement = make_agreement()
    db.session.commit()
    response = sign_form(client, agreement)
    assert response.status_code == 302
    record = db.session.scalar(sa.select(Signature))
    assert record.user_id == signer.id and record.typed_name == "Sam Rivers"
    assert record.ip == "127.0.0.1"  # the forged X-Forwarded-For header is ignored
    assert record.viewed_at <= record.signed_at
    page = client.get(f"/signatures/{record.id}").get_data(as_text=True)
    assert "Verified" in page and record.sha256 in page


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"signature": ""}, "Draw your signature in the box."),
        ({"signature": data_url(png(strokes=[(1, 1, 5, 5)]))}, "too small"),
        ({"signature": "data:image/svg+xml;base64,PHN2Zz4="}, "must be drawn in the box"),
        ({"signature": "data:image/png;base64," + "A" * 400_000}, "must be drawn in the box"),
        ({"consent": ""}, "Tick the box to agree to sign electronically."),
        ({"typed_name": "Somebody Else"}, "differs from your account name"),
        ({"viewed_token": "forged"}, "This page expired."),
        ({"shown_sha256": "f" * 64}, "Read it again"),
    ],
)
def test_bad_signing_input_is_explained_and_nothing_is_saved(client, signer, overrides, message):
    agreement = make_agreement()
    db.session.commit()
    response = sign_form(client, agreement, **overrides)
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count(Signature.id))) == 0


def test_double_submit_records_one_signature(client, signer):
    agreement = make_agreement()
    db.session.commit()
    sign_form(client, agreement)
    sign_form(client, agreement)
    assert db.session.scalar(sa.select(sa.func.count(Signature.id))) == 1


def test_withdrawing_consent_takes_someone_out_of_live_pairing_at_once(client, auth):
    run, facilitator, people = make_run(4)
    organiser = make_user(Role.ORGANISER)
    agreement = make_agreement(organiser)
    consent.set_required(organiser, db.session.get(Gathering, run.gathering_id), [agreement.id])
    for person in people:
        sign(person, agreement)
    services.control(run.id, facilitator, "start", command_id=command(), now=utcnow())
    db.session.commit()
    auth.login(people[0])
    response = client.post(f"/account/agreements/{agreement.id}/withdraw")
    assert response.status_code == 302
    db.session.expire_all()
    stored = pairings.current_round(db.session.get(Run, run.id))
    assert stored.attempt == 1
    rests = {r.user_id: r.reason for r in stored.rests}
    assert rests[people[0].id] == "consent_withdrawn"
    assert people[0].id not in {m.user_id for m in stored.members}
    assert sorted(rests.values()) == ["consent_withdrawn", "odd_rest"]  # three left: one rests
    assert db.session.scalar(sa.select(sa.func.count(Signature.id))) == 4


# --- the authorization matrix ---------------------------------------------------------


@pytest.fixture
def world(app):
    """A gathering with a facilitator, an attendee with notes, and everyone else."""
    run, facilitator, people = make_run(2)
    attendee, other_participant = people
    organiser = make_user(Role.ORGANISER)
    other_facilitator = make_user(Role.FACILITATOR)
    make_gathering(organiser, facilitator_ids=[other_facilitator.id])
    safety.save_sensitive(attendee, "Mum 0700", "Asthma", now=utcnow())
    safety.add_do_not_pair(attendee, other_participant.email, now=utcnow())
    signature = sign(attendee, make_agreement(organiser))
    report = safety.report_incident(attendee, "Someone ignored my no at the circle.", now=utcnow())
    db.session.commit()
    return {
        "report_id": report.id,
        "gathering_id": run.gathering_id,
        "attendee": attendee,
        "signature_id": signature.id,
        "who": {
            "anonymous": None,
            "participant": attendee,
            "another participant": other_participant,
            "facilitator of another gathering": other_facilitator,
            "facilitator": facilitator,
            "organiser": organiser,
        },
    }


EVERYONE_LOGGED_IN = {
    "participant",
    "another participant",
    "facilitator of another gathering",
    "facilitator",
    "organiser",
}
ALLOWED = {
    # (method, path template): who may (others get 302 to log-in when anonymous, else 403/404)
    ("POST", "/manage/gatherings/{g}/participants/{a}/notes"): {"facilitator", "organiser"},
    ("POST", "/manage/gatherings/{g}/do-not-pair"): {"facilitator", "organiser"},
    ("GET", "/manage/gatherings/{g}/participants"): {"facilitator", "organiser"},
    ("GET", "/signatures/{s}"): {"participant", "organiser"},
    ("GET", "/manage/agreements"): {"organiser"},
    ("GET", "/manage/agreements/new"): {"organiser"},
    ("GET", "/manage/gatherings/{g}/agreements"): {"organiser"},
    ("GET", "/manage/reports"): {"organiser"},
    ("GET", "/manage/reports/{r}"): {"organiser"},
    ("GET", "/manage/bans"): {"organiser"},
    ("GET", "/report-a-concern"): EVERYONE_LOGGED_IN,
    ("GET", "/account/my-data"): EVERYONE_LOGGED_IN,
    ("GET", "/account/private-notes"): {
        "participant",
        "another participant",
        "facilitator of another gathering",
        "facilitator",
        "organiser",
    },
    ("GET", "/account/boundaries"): {
        "participant",
        "another participant",
        "facilitator of another gathering",
        "facilitator",
        "organiser",
    },
    ("GET", "/account/do-not-pair"): {
        "participant",
        "another participant",
        "facilitator of another gathering",
        "facilitator",
        "organiser",
    },
}


@pytest.mark.parametrize("route", sorted(ALLOWED), ids=lambda r: f"{r[0]} {r[1]}")
def test_authorization_matrix(client, auth, world, route):
    method, template = route
    path = template.format(
        g=world["gathering_id"],
        a=world["attendee"].id,
        s=world["signature_id"],
        r=world["report_id"],
    )
    for label, person in world["who"].items():
        if person is not None:
            auth.login(person)
        response = client.open(path, method=method)
        if label in ALLOWED[route]:
            assert response.status_code == 200, (label, path, response.status_code)
        elif person is None:
            assert response.status_code == 302 and "/log-in" in response.headers["Location"], label
        else:
            assert response.status_code in (403, 404), (label, path, response.status_code)
        if person is not None:
            auth.logout()


def test_only_allowed_reads_are_logged_and_secrets_never_leak(client, auth, world):
    path = f"/manage/gatherings/{world['gathering_id']}/participants/{world['attendee'].id}/notes"
    for label, person in world["who"].items():
        if person is not None:
            auth.login(person)
        body = client.post(path).get_data(as_text=True)
        if label not in ("facilitator", "organiser"):
            assert "Asthma" not in body and "Mum 0700" not in body, label
        if person is not None:
            auth.logout()
    rows = db.session.scalars(
        sa.select(SensitiveAccess).where(SensitiveAccess.field != "boundary_note")
    ).all()
    assert len(rows) == 4  # two fields, read by the facilitator and by the organiser
    for label in ("participant", "another participant"):
        auth.login(world["who"][label])
        page = client.get("/account/do-not-pair").get_data(as_text=True)
        if label == "another participant":
            assert world["attendee"].email not in page  # the other person is never told
        auth.logout()


def test_resigning_after_a_material_change_shows_what_changed(client, signer):
    organiser = make_user(Role.ORGANISER)
    agreement = make_agreement(organiser, body="Rule one.\nRule two.")
    db.session.commit()
    sign_form(client, agreement)
    consent.edit_agreement(
        organiser, agreement, "Consent", "Rule one.\nRule three.", "material", "Rule two replaced",
        now=utcnow(),
    )  # fmt: skip
    db.session.commit()
    page = client.get(f"/agreements/{agreement.id}/sign").get_data(as_text=True)
    assert "You signed version 1" in page and "Rule two replaced" in page
    assert '<li class="removed">' in page and "Rule three." in page


def test_no_route_edits_a_signed_version(client, auth):
    organiser = make_user(Role.ORGANISER)
    agreement = make_agreement(organiser, body="Original words.")
    sign(make_user(), agreement)
    db.session.commit()
    auth.login(organiser)
    form = {"title": "Consent", "kind": "consent_safety", "body_md": "Sneaky new words."}
    response = client.post(f"/manage/agreements/{agreement.id}", data=form)
    assert response.status_code == 400
    assert "Say whether the change is minor" in response.get_data(as_text=True)
    db.session.expire_all()
    versions = consent.latest_version(agreement), agreement.versions
    assert [v.body_md for v in versions[1]] == ["Original words."]
    minor = client.post(f"/manage/agreements/{agreement.id}", data={**form, "change_kind": "minor"})
    assert minor.status_code == 302
    db.session.expire_all()
    assert [v.body_md for v in agreement.versions] == ["Original words.", "Sneaky new words."]


def test_a_made_up_gathering_in_the_signing_link_is_ignored_safely(client, signer):
    agreement = make_agreement()
    db.session.commit()
    page = client.get(f"/agreements/{agreement.id}/sign?gathering=987654").get_data(as_text=True)
    hidden = dict(
        re.findall(
            r'name="(version_id|shown_sha256|viewed_token)" type="hidden" value="([^"]*)"', page
        )
    )
    response = client.post(
        f"/agreements/{agreement.id}/sign?gathering=987654",
        data={
            **hidden,
            "typed_name": "Sam Rivers",
            "signature": data_url(signed()),
            "consent": "y",
        },
    )
    assert response.status_code == 302
    assert db.session.scalar(sa.select(Signature.gathering_id)) is None

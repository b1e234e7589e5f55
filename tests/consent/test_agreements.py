"""Agreements hold up: exact versions, frozen once signed, material changes need re-signing."""

from datetime import timedelta

import pytest
import sqlalchemy as sa

from facilitation.accounts.models import Role
from facilitation.consent import rules, services
from facilitation.consent.models import AgreementVersion, Signature
from facilitation.core.clock import utcnow
from facilitation.core.errors import DomainError
from facilitation.extensions import db
from tests.consent.factories import make_agreement, sign
from tests.consent.signatures import png
from tests.factories import make_gathering, make_user


def test_signature_pins_version_hash_time_ip_and_image(app):
    person = make_user()
    agreement = make_agreement()
    signature = sign(person, agreement)
    version = services.latest_version(agreement)
    assert signature.sha256 == version.sha256 == rules.text_sha256(version.body_md)
    assert signature.viewed_at <= signature.signed_at
    assert (signature.ip, signature.user_agent, signature.typed_name) == (
        "192.0.2.10",
        "pytest",
        person.name,
    )
    assert signature.signature_png.startswith(b"\x89PNG") and signature.consented_electronic
    assert version.frozen_at is not None
    assert services.verify(signature)


def test_rehashing_every_version_reproduces_its_hash_and_a_changed_byte_is_caught(app):
    agreement = make_agreement()
    person = make_user()
    sign(person, agreement)
    db.session.commit()
    for version in db.session.scalars(sa.select(AgreementVersion)):
        assert rules.text_sha256(version.body_md) == version.sha256
    signature = db.session.scalar(sa.select(Signature))
    db.session.execute(sa.update(AgreementVersion).values(body_md=AgreementVersion.body_md + "!"))
    db.session.expire_all()
    assert not services.verify(db.session.get(Signature, signature.id))


def test_unsigned_version_is_edited_in_place(app):
    organiser = make_user(Role.ORGANISER)
    agreement = make_agreement(organiser)
    result = services.edit_agreement(
        organiser, agreement, "Consent", "New text.", "", "", now=utcnow()
    )
    assert not result.new_version and len(agreement.versions) == 1
    assert agreement.versions[0].sha256 == rules.text_sha256("New text.")


def test_signed_version_is_never_edited_a_change_makes_a_new_one(app):
    organiser = make_user(Role.ORGANISER)
    agreement = make_agreement(organiser)
    sign(make_user(), agreement)
    first = agreement.versions[0]
    body = first.body_md
    with pytest.raises(DomainError) as err:
        services.edit_agreement(organiser, agreement, "Consent", "Changed.", "", "", now=utcnow())
    assert err.value.code == "change_kind_required"
    result = services.edit_agreement(
        organiser, agreement, "Consent", "Changed.", "minor", "", now=utcnow()
    )
    assert result.new_version and first.body_md == body and len(agreement.versions) == 2


def test_minor_change_keeps_signatures_material_change_requires_resigning(app):
    organiser = make_user(Role.ORGANISER)
    agreement = make_agreement(organiser)
    gathering = make_gathering(organiser)
    services.set_required(organiser, gathering, [agreement.id])
    person = make_user()
    sign(person, agreement)
    assert services.missing_agreements(person.id, gathering.id) == []
    services.edit_agreement(
        organiser, agreement, "Consent", "Typo fixed.", "minor", "", now=utcnow()
    )
    assert services.missing_agreements(person.id, gathering.id) == []
    with pytest.raises(DomainError) as err:
        services.edit_agreement(
            organiser, agreement, "Consent", "New rule.", "material", "", now=utcnow()
        )
    assert err.value.code == "change_note_required"
    result = services.edit_agreement(
        organiser,
        agreement,
        "Consent",
        "New rule.",
        "material",
        "Added a rule on photos.",
        now=utcnow(),
    )
    assert result.resign_user_ids == [person.id]
    assert services.missing_agreements(person.id, gathering.id) == [agreement]
    sign(person, agreement)
    assert services.missing_agreements(person.id, gathering.id) == []


@pytest.mark.parametrize(
    "overrides, code",
    [
        ({"consented_electronic": False}, "consent_required"),
        ({"typed_name": "  "}, "name_required"),
        ({"typed_name": "Someone Else Entirely"}, "name_mismatch"),
        ({"signature_png": png()}, "empty_signature"),
        ({"signature_png": png(strokes=[(5, 5, 12, 12)])}, "signature_too_small"),
        ({"signature_png": b"<svg/>"}, "not_png"),
        ({"shown_sha256": "0" * 64}, "text_changed"),
    ],
)
def test_bad_signing_is_refused_and_nothing_is_written(app, overrides, code):
    person = make_user()
    agreement = make_agreement()
    with pytest.raises(DomainError) as err:
        sign(person, agreement, **overrides)
    assert err.value.code == code
    assert db.session.scalar(sa.select(sa.func.count(Signature.id))) == 0
    assert agreement.versions[0].frozen_at is None


def test_a_different_name_can_be_confirmed(app):
    person = make_user(name="Samantha Rivers")
    signature = sign(make_user(), make_agreement()) and sign(
        person, make_agreement(), typed_name="Sam Rivers-Okafor", name_confirmed=True
    )
    assert signature.typed_name == "Sam Rivers-Okafor"


def test_stale_version_and_double_submit(app):
    organiser = make_user(Role.ORGANISER)
    agreement = make_agreement(organiser)
    person = make_user()
    old = services.latest_version(agreement)
    first = sign(person, agreement)
    assert sign(person, agreement).id == first.id  # a double submit records nothing new
    services.edit_agreement(organiser, agreement, "Consent", "v2", "minor", "", now=utcnow())
    with pytest.raises(DomainError) as err:
        sign(make_user(), agreement, version_id=old.id, shown_sha256=old.sha256)
    assert err.value.code == "stale_version"


def test_withdrawal_is_its_own_record_and_voids_consent_until_signed_again(app):
    organiser = make_user(Role.ORGANISER)
    agreement = make_agreement(organiser)
    gathering = make_gathering(organiser)
    services.set_required(organiser, gathering, [agreement.id])
    person = make_user()
    sign(person, agreement)
    services.withdraw(person, agreement, now=utcnow() + timedelta(seconds=1))
    assert db.session.scalar(sa.select(sa.func.count(Signature.id))) == 1
    assert services.has_withdrawn(person.id, gathering.id)
    assert services.ineligibility([person.id], gathering.id) == {person.id: "consent_withdrawn"}

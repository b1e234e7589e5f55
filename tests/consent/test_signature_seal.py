"""Verifying a signature checks every field of the record, not only the agreement's text.

Each case changes one field of a stored signature straight in the database, as someone with
write access but without the app's key would, and the check must catch it.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from facilitation.accounts import privacy
from facilitation.accounts.models import Role, User
from facilitation.consent import rules, seals
from facilitation.consent import services as consent
from facilitation.consent.models import AgreementVersion, Signature
from facilitation.core.clock import utcnow
from facilitation.extensions import db
from tests.consent.factories import make_agreement, sign
from tests.consent.signatures import signed
from tests.factories import make_gathering, make_user

#: Field -> how the tampering changes it (given the row and a second person and gathering).
TAMPERINGS = {
    "id": lambda s, w: s.id + 1000,
    "user_id": lambda s, w: w["other"].id,
    "agreement_version_id": lambda s, w: w["other_version"].id,
    "gathering_id": lambda s, w: w["gathering"].id,
    "sha256": lambda s, w: "0" * 64,
    "typed_name": lambda s, w: "Somebody Else",
    "signature_png": lambda s, w: signed() + b"\0",
    "consented_electronic": lambda s, w: False,
    "viewed_at": lambda s, w: s.viewed_at - timedelta(minutes=5),
    "signed_at": lambda s, w: s.signed_at + timedelta(seconds=1),
    "ip": lambda s, w: "203.0.113.99",
    "user_agent": lambda s, w: "Forged/1.0",
    "signer_email": lambda s, w: w["other"].email,
}


def test_the_table_covers_every_field_of_a_signature():
    columns = {c.name for c in Signature.__table__.columns} - {"seal"}
    assert set(TAMPERINGS) == columns == set(rules.SEALED_FIELDS)


@pytest.fixture
def world(app):
    person, other = make_user(), make_user()
    signature = sign(person, make_agreement())
    other_agreement = make_agreement(body="Another text.")
    sign(other, other_agreement)  # freezes its version too
    world = {
        "signature": signature,
        "other": other,
        "other_version": db.session.scalars(
            sa.select(AgreementVersion).where(AgreementVersion.agreement_id == other_agreement.id)
        ).one(),
        "gathering": make_gathering(),
    }
    db.session.commit()
    return world


def organiser() -> User:
    found = make_user(Role.ORGANISER)
    db.session.commit()
    return found


def reloaded(signature_id: int) -> Signature:
    db.session.expire_all()
    found = db.session.get(Signature, signature_id)
    assert found is not None
    return found


def test_an_untouched_signature_verifies_after_a_reload(world):
    signature = reloaded(world["signature"].id)
    assert seals.check(signature) == seals.VERIFIED
    assert consent.verify(signature)


@pytest.mark.parametrize("field", list(TAMPERINGS))
def test_each_single_field_tampering_is_detected(world, field):
    signature = world["signature"]
    value = TAMPERINGS[field](signature, world)
    db.session.execute(
        sa.update(Signature).where(Signature.id == signature.id).values({field: value})
    )
    db.session.commit()
    found = reloaded(value if field == "id" else signature.id)
    assert seals.check(found) == seals.TAMPERED
    assert not consent.verify(found)


def test_a_changed_text_is_detected(world):
    version_id = world["signature"].agreement_version_id
    db.session.execute(
        sa.update(AgreementVersion)
        .where(AgreementVersion.id == version_id)
        .values(body_md=AgreementVersion.body_md + "!")
    )
    db.session.commit()
    assert seals.check(reloaded(world["signature"].id)) == seals.TAMPERED


def test_a_row_from_before_seals_is_text_checked_and_says_so(world, client, auth):
    signature = world["signature"]
    db.session.execute(sa.update(Signature).where(Signature.id == signature.id).values(seal=None))
    db.session.commit()
    assert seals.check(reloaded(signature.id)) == seals.UNSEALED
    assert not consent.verify(reloaded(signature.id))
    auth.login(organiser())
    page = client.get(f"/signatures/{signature.id}").get_data(as_text=True)
    assert "signed before records were sealed" in page


def test_the_record_page_says_when_a_detail_was_changed(world, client, auth):
    signature = world["signature"]
    db.session.execute(
        sa.update(Signature).where(Signature.id == signature.id).values(ip="203.0.113.99")
    )
    db.session.commit()
    auth.login(organiser())
    page = client.get(f"/signatures/{signature.id}").get_data(as_text=True)
    assert "Not verified" in page


def test_erasure_keeps_an_intact_signature_verified_and_a_tampered_one_broken(world):
    signature, other = world["signature"], world["other"]
    other_signature = db.session.scalars(
        sa.select(Signature).where(Signature.user_id == other.id)
    ).one()
    db.session.execute(
        sa.update(Signature).where(Signature.id == other_signature.id).values(ip="203.0.113.99")
    )
    for person_id in (signature.user_id, other.id):
        privacy.erase_person(db.session.get(User, person_id), now=utcnow())
    db.session.commit()
    kept, broken = reloaded(signature.id), reloaded(other_signature.id)
    assert kept.user_id is None and seals.check(kept) == seals.VERIFIED
    assert broken.user_id is None and seals.check(broken) == seals.TAMPERED

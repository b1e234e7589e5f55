"""Duplicate copies everything the docs promise, field by field, and no one's records."""

from datetime import timedelta

import sqlalchemy as sa

from facilitation.accounts.models import Role
from facilitation.attendance.models import CheckIn
from facilitation.consent import services as consent
from facilitation.consent.models import Signature
from facilitation.core.clock import utcnow
from facilitation.extensions import db
from facilitation.gatherings import services
from facilitation.gatherings.models import Gathering
from facilitation.registration.models import (
    DiscountCode,
    PairingRole,
    Registration,
    RegistrationQuestion,
    RegistrationSettings,
    TicketOption,
)
from tests.consent.factories import make_agreement, sign
from tests.factories import make_gathering, make_user
from tests.registration.factories import (
    make_code,
    make_option,
    make_question,
    make_role,
    make_settings,
    organiser_of,
    register,
)

WEEK = timedelta(days=7)
SKIPPED = {"id", "gathering_id"}


def _fields(row, shifted=(), stamped=()):
    """Return a row's columns but its own id and gathering, shifted dates moved back a week."""
    values = {}
    for column in sa.inspect(type(row)).columns:
        if column.key in SKIPPED or column.key in stamped:
            continue
        value = getattr(row, column.key)
        values[column.key] = value - WEEK if column.key in shifted and value else value
    return values


def _rows(model, gathering, active_only=False):
    stmt = sa.select(model).where(model.gathering_id == gathering.id).order_by(model.id)
    if active_only:
        stmt = stmt.where(model.is_active.is_(True))
    return list(db.session.scalars(stmt))


def _full_gathering():
    facilitator = make_user(Role.FACILITATOR)
    source = make_gathering(facilitator_ids=[facilitator.id], capacity=12)
    closes = source.starts_at - timedelta(hours=6)
    make_settings(
        source,
        requires_approval=True,
        hold_minutes=30,
        offer_hours=12,
        refund_policy="organiser_decides",
        refund_deadline_hours=72,
        currency="GBP",
        registration_closes_at=closes,
    )
    make_option(source, "fixed", name="Supporter", price_minor=3500, guidance="If you can.")
    make_option(source, "sliding", name="Sliding")
    make_option(source, "door", name="At the door")
    make_code(source, "SCHOLAR", value=100, max_uses=2, is_scholarship=True,
              expires_at=source.starts_at - timedelta(days=1))  # fmt: skip
    make_code(source, "FIVE", kind="amount", value=500)
    make_question(source, "Dietary needs?", "long_text", required=True)
    make_question(source, "Pick one", "single", ["Tea", "Coffee"])
    make_role(source, "Partner A", cap=6)
    make_role(source, "Partner B")
    first, second = make_agreement(), make_agreement(body="No photos.")
    consent.set_required(organiser_of(source), source, [first.id, second.id])
    db.session.flush()
    return source, [first, second]


def test_duplicate_copies_every_setting_option_code_question_role_and_agreement(app):
    source, agreements = _full_gathering()
    organiser = organiser_of(source)
    copy = services.duplicate(organiser, source, now=utcnow())
    db.session.commit()

    assert copy.starts_at == source.starts_at + WEEK and copy.status == "draft"
    assert [f.id for f in copy.facilitators] == [f.id for f in source.facilitators]
    assert [a.id for a in consent.required_agreements(copy.id)] == [a.id for a in agreements]

    (settings,) = _rows(RegistrationSettings, copy)
    (original,) = _rows(RegistrationSettings, source)
    assert settings.requires_approval is True
    assert _fields(settings, {"registration_closes_at"}, {"updated_at"}) == _fields(
        original, stamped={"updated_at"}
    )
    for model, shifted, stamped in (
        (TicketOption, (), ()),
        (DiscountCode, {"expires_at"}, {"created_at"}),
        (RegistrationQuestion, (), ()),
        (PairingRole, (), ()),
    ):
        copied, originals = _rows(model, copy), _rows(model, source)
        assert len(copied) == len(originals) > 0, model
        assert [_fields(c, shifted, stamped) for c in copied] == [
            _fields(o, stamped=stamped) for o in originals
        ], model


def test_duplicate_copies_no_registrations_signatures_or_check_ins_nor_removed_options(app):
    source = make_gathering()
    option = make_option(source, "free")
    gone = make_option(source, "free", name="Old option")
    agreement = make_agreement()
    consent.set_required(organiser_of(source), source, [agreement.id])
    person = make_user()
    sign(person, agreement)
    registration = register(person, source, option)
    from facilitation.registration import options

    options.remove_option(organiser_of(source), source, gone.id, now=utcnow())
    db.session.add(
        CheckIn(gathering_id=source.id, registration_id=registration.id, user_id=person.id,
                checked_in_at=utcnow(), by_id=organiser_of(source).id, method="search",
                request_id="dup-test-request-0001")
    )  # fmt: skip
    db.session.flush()
    copy = services.duplicate(organiser_of(source), source, now=utcnow())
    db.session.commit()
    assert _rows(Registration, copy) == []
    assert db.session.scalars(sa.select(CheckIn).where(CheckIn.gathering_id == copy.id)).all() == []
    assert (
        db.session.scalars(sa.select(Signature).where(Signature.gathering_id == copy.id)).all()
        == []
    )
    assert [o.name for o in _rows(TicketOption, copy)] == [option.name]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Gathering)) == 2

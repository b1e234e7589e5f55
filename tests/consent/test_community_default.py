"""A community-wide default agreement: every new gathering requires it unless removed on purpose."""

from datetime import date, time, timedelta

import pytest
import sqlalchemy as sa

from facilitation.accounts.models import Role
from facilitation.consent import community
from facilitation.consent import services as consent
from facilitation.consent.models import DefaultAgreementRemoval
from facilitation.core.clock import utcnow
from facilitation.core.errors import DomainError
from facilitation.extensions import db
from facilitation.gatherings import services as gatherings
from tests.consent.factories import make_agreement
from tests.factories import details, make_gathering, make_user


def required(gathering):
    return [a.id for a in consent.required_agreements(gathering.id)]


def set_default(organiser, agreement):
    community.update(
        organiser, default_agreement_id=agreement.id, safeguarding_contact_id=None, now=utcnow()
    )


def test_new_duplicated_and_series_gatherings_require_the_default(app):
    organiser = make_user(Role.ORGANISER)
    older = make_gathering(organiser)
    default = make_agreement(organiser)
    set_default(organiser, default)
    assert required(older) == []  # only gatherings created from now on
    assert required(make_gathering(organiser)) == [default.id]
    assert required(gatherings.duplicate(organiser, older, now=utcnow())) == [default.id]
    series = gatherings.create_series(
        organiser,
        details(),
        gatherings.Recurrence("weekly", date.today() + timedelta(days=3), time(19), 90,
                              occurrence_count=3),
        publish_now=False,
        now=utcnow(),
    )  # fmt: skip
    assert len(series.occurrences) == 3
    assert all(required(g) == [default.id] for g in series.occurrences)


def test_removing_the_default_needs_intent_and_stays_removed(app):
    organiser = make_user(Role.ORGANISER)
    default, other = make_agreement(organiser), make_agreement(organiser, body="No photos.")
    set_default(organiser, default)
    gathering = make_gathering(organiser)
    with pytest.raises(DomainError) as caught:
        consent.set_required(organiser, gathering, [other.id], now=utcnow())
    assert caught.value.code == "default_agreement_kept"
    assert required(gathering) == [default.id]

    consent.set_required(organiser, gathering, [other.id], remove_default=True, now=utcnow())
    assert required(gathering) == [other.id]
    assert community.removed_on_purpose(gathering.id, default.id)
    # Later changes and copies keep it removed.
    consent.set_required(organiser, gathering, [], now=utcnow())
    assert community.attach_default(gathering) is False
    assert required(gathering) == []
    copy = gatherings.duplicate(organiser, gathering, now=utcnow())
    assert required(copy) == []
    # Adding it back on purpose clears the removal.
    consent.set_required(organiser, gathering, [default.id], now=utcnow())
    assert not community.removed_on_purpose(gathering.id, default.id)


def test_the_pages_set_the_default_and_refuse_an_accidental_removal(client, auth):
    organiser = make_user(Role.ORGANISER)
    default, other = make_agreement(organiser), make_agreement(organiser, body="No photos.")
    db.session.commit()
    auth.login(organiser)
    response = client.post("/manage/community", data={"default_agreement_id": default.id})
    assert response.status_code == 302
    gathering = make_gathering(organiser)
    db.session.commit()
    url = f"/manage/gatherings/{gathering.id}/agreements"
    assert "default agreement" in client.get(url).get_data(as_text=True)
    refused = client.post(url, data={"agreement_ids": [other.id]})
    assert refused.status_code == 400
    assert "remove it on purpose" in refused.get_data(as_text=True)
    assert required(gathering) == [default.id]
    done = client.post(url, data={"agreement_ids": [other.id], "remove_default": "y"})
    assert done.status_code == 302
    assert required(gathering) == [other.id]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(DefaultAgreementRemoval)) == 1


@pytest.mark.parametrize("value", ["999999", str(2**40), "abc"])
def test_an_unknown_default_is_refused(client, auth, value):
    organiser = make_user(Role.ORGANISER)
    db.session.commit()
    auth.login(organiser)
    response = client.post("/manage/community", data={"default_agreement_id": value})
    assert response.status_code == 400
    assert community.default_agreement_id() is None


@pytest.mark.parametrize("role", [Role.PARTICIPANT, Role.DOOR, Role.FACILITATOR])
def test_only_organisers_change_community_settings(client, auth, role):
    person = make_user(role)
    agreement = make_agreement()
    db.session.commit()
    auth.login(person)
    assert client.get("/manage/community").status_code == 403
    response = client.post("/manage/community", data={"default_agreement_id": agreement.id})
    assert response.status_code == 403
    assert community.default_agreement_id() is None

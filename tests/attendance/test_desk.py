"""Tickets and the desk's look-ups: the confirmation email's ticket, scanning, searching."""

import pytest
import sqlalchemy as sa

from facilitation.attendance import services, tickets
from facilitation.attendance.models import CheckIn, Ticket
from facilitation.consent import services as consent_services
from facilitation.core.errors import DomainError, Forbidden, NotFound
from facilitation.extensions import db
from facilitation.registration import cancellation
from facilitation.registration.models import Payment
from tests.attendance.factories import (
    at_door,
    check_in,
    coming,
    door_volunteer,
    require_agreement,
)
from tests.consent.factories import make_agreement
from tests.consent.signatures import signed
from tests.factories import make_gathering, make_user
from tests.registration.factories import make_option
from tests.registration.helpers import sent


def ticket_of(registration) -> Ticket:
    return db.session.scalar(sa.select(Ticket).where(Ticket.registration_id == registration.id))


def test_a_confirmation_email_carries_the_ticket(gathering):
    registration = coming(gathering)
    ticket = ticket_of(registration)
    assert ticket is not None and len(ticket.token) == 24
    [email] = sent("registration_confirmed", registration.user.email)
    assert f"http://gatherwell.test/t/{ticket.token}" in email.body_text
    assert f"Ticket code: GW1:{ticket.token}" in email.body_text


def test_a_ticket_is_issued_once_and_only_for_a_confirmed_place(gathering):
    registration = coming(gathering)
    assert tickets.ticket_for(registration, at_door(gathering)).id == ticket_of(registration).id
    held = coming(gathering, option=make_option(gathering, "fixed"))
    assert ticket_of(held) is None
    with pytest.raises(DomainError) as caught:
        tickets.ticket_for(held, at_door(gathering))
    assert caught.value.code == "no_ticket"


def test_scanning_a_ticket_shows_the_person_and_writes_nothing(gathering):
    require_agreement(gathering)
    registration = coming(gathering, option=make_option(gathering, "door", price_minor=1200))
    token = ticket_of(registration).token
    before = [
        db.session.scalar(sa.select(sa.func.count()).select_from(m)) for m in (CheckIn, Payment)
    ]
    view = services.lookup_ticket(door_volunteer(), gathering, f"GW1:{token}", at_door(gathering))
    assert (view.registration_id, view.name, view.status) == (
        registration.id,
        registration.user.name,
        "confirmed",
    )
    assert view.decision.code == "agreements_missing"
    assert [title for _, title in view.agreements_to_sign] == ["Consent agreement"]
    assert (view.door_due_minor, view.currency, view.checked_in_at) == (1200, "EUR", None)
    after = [
        db.session.scalar(sa.select(sa.func.count()).select_from(m)) for m in (CheckIn, Payment)
    ]
    assert before == after == [0, 0]


def test_a_scan_after_check_in_shows_the_time_and_the_check_in_to_undo(gathering):
    registration, desk = coming(gathering), door_volunteer()
    row = check_in(desk, gathering, registration).check_in
    url = f"https://gatherwell.test/t/{ticket_of(registration).token}"
    view = services.lookup_ticket(desk, gathering, url, at_door(gathering, 1))
    assert view.decision.code == "already_checked_in" and view.check_in_id == row.id


def test_a_ticket_for_another_gathering_shows_only_its_name(gathering, organiser):
    other = make_gathering(organiser, title="Sunday sit", capacity=3)
    registration = coming(other)
    token = ticket_of(registration).token
    view = services.lookup_ticket(door_volunteer(), gathering, token, at_door(gathering))
    assert view.decision.code == "wrong_gathering" and "Sunday sit" in view.decision.headline
    assert (view.email, view.option, view.agreements_to_sign) == ("", "", ())


@pytest.mark.parametrize(
    ("scanned", "code"),
    [
        ("", "empty_code"),
        ("not a ticket", "unreadable_code"),
        ("GW1:AAAAAAAAAAAAAAAAAAAAAAAA", "unknown_ticket"),  # well formed, forged
        ("https://evil.example/t/AAAAAAAAAAAAAAAAAAAAAAAA", "unknown_ticket"),
        ("GW9:AAAAAAAAAAAAAAAAAAAAAAAA", "unknown_format"),
    ],
)
def test_unreadable_and_forged_codes_are_answered_clearly(gathering, scanned, code):
    coming(gathering)
    with pytest.raises(DomainError) as caught:
        services.lookup_ticket(door_volunteer(), gathering, scanned, at_door(gathering))
    assert caught.value.code == code and caught.value.message


def test_only_desk_workers_look_tickets_up(gathering):
    token = ticket_of(coming(gathering)).token
    with pytest.raises(Forbidden):
        services.lookup_ticket(make_user(), gathering, token, at_door(gathering))


def test_search_finds_people_by_part_of_name_or_email_once_each(gathering):
    ada = make_user(name="Ada Lovelace", email="ada@example.org")
    coming(gathering, person=ada)
    coming(gathering, person=make_user(name="Grace Hopper", email="grace@navy.example"))
    coming(make_gathering(capacity=3), person=make_user(name="Ada Elsewhere"))
    desk, now = door_volunteer(), at_door(gathering)
    assert [v.name for v in services.search(desk, gathering, "ada", now)] == ["Ada Lovelace"]
    assert [v.name for v in services.search(desk, gathering, "NAVY", now)] == ["Grace Hopper"]
    assert services.search(desk, gathering, "a", now) == []
    assert services.search(desk, gathering, "%", now) == []
    assert services.search(desk, gathering, "_a", now) == []


def test_search_shows_a_persons_live_registration_before_a_cancelled_one(gathering):
    person = make_user(name="Kim Osei")
    first = coming(gathering, person=person)
    cancellation.cancel_by_participant(person, first, now=at_door(gathering, 4000))
    again = coming(gathering, person=person)
    [view] = services.search(door_volunteer(), gathering, "kim", at_door(gathering))
    assert view.registration_id == again.id and view.decision.code == "admit"


def test_the_desk_view_holds_no_answers_or_notes(gathering):
    coming(gathering)
    [view] = services.search(door_volunteer(), gathering, "person", at_door(gathering))
    fields = set(view.__dataclass_fields__)
    assert not fields & {"answers", "registration", "user", "note", "health_note"}


def test_signing_at_the_desk_is_for_this_gatherings_agreements(gathering, organiser):
    agreement = require_agreement(gathering)
    registration, desk = coming(gathering), door_volunteer()
    version = consent_services.latest_version(agreement)

    def data(version_id):
        return consent_services.SignInput(
            version_id=version_id,
            shown_sha256=version.sha256,
            typed_name=registration.user.name,
            signature_png=signed(),
            consented_electronic=True,
            viewed_at=at_door(gathering, 2),
            ip="192.0.2.1",
            user_agent="desk tablet",
        )

    unrelated = consent_services.latest_version(make_agreement(organiser))
    with pytest.raises(NotFound):
        services.desk_sign(
            desk, gathering, registration.id, data(unrelated.id), now=at_door(gathering)
        )
    with pytest.raises(Forbidden):
        services.desk_sign(
            make_user(), gathering, registration.id, data(version.id), now=at_door(gathering)
        )
    signature = services.desk_sign(
        desk, gathering, registration.id, data(version.id), now=at_door(gathering)
    )
    assert (signature.user_id, signature.gathering_id) == (registration.user_id, gathering.id)
    assert check_in(desk, gathering, registration).result == "checked_in"

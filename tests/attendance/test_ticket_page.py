"""The ticket page: the owner and the desk see it with its QR code; others get 404."""

from __future__ import annotations

from facilitation.attendance import tickets
from facilitation.core.clock import utcnow
from facilitation.extensions import db
from tests.attendance.factories import coming, door_volunteer
from tests.factories import make_user


def test_the_owner_sees_the_gathering_name_qr_and_status(client, auth, gathering):
    registration = coming(gathering, person=make_user(name="Fay Moss"))
    token = tickets.ticket_for(registration, utcnow()).token
    db.session.commit()
    auth.login(registration.user)
    page = client.get(f"/t/{token}").get_data(as_text=True)
    assert "Thursday circle" in page and "Fay Moss" in page
    assert "<svg" in page and 'class="ticket-qr"' in page


def test_the_desk_sees_a_ticket_and_strangers_get_404(client, auth, gathering):
    registration = coming(gathering)
    token = tickets.ticket_for(registration, utcnow()).token
    stranger, door = make_user(), door_volunteer()
    db.session.commit()
    auth.login(stranger)
    assert client.get(f"/t/{token}").status_code == 404
    auth.logout()
    auth.login(door)
    assert client.get(f"/t/{token}").status_code == 200


def test_an_unknown_token_is_404(client, auth):
    person = make_user()
    db.session.commit()
    auth.login(person)
    assert client.get("/t/" + "B" * 24).status_code == 404


def test_the_confirmation_page_and_my_gatherings_carry_the_ticket(client, auth, gathering):
    registration = coming(gathering)
    db.session.commit()
    auth.login(registration.user)
    page = client.get(f"/registrations/{registration.id}").get_data(as_text=True)
    assert 'class="ticket-qr"' in page
    token = tickets.ticket_for(registration, utcnow()).token
    assert f"/t/{token}" in page
    assert f"/t/{token}" in client.get("/me/gatherings").get_data(as_text=True)

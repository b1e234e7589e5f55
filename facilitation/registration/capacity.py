"""Seat and role counting rules: who holds a seat, who gets the next one; pure.

The services count under a lock on the gathering and then ask these functions; nothing here
reads the database or the clock.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime

from facilitation.registration.states import Status

#: Pure core: no framework import, here or in what it imports (tests/core/test_pure_core.py).
__pure__ = True


#: The seat-hold deadline rule, the one place it is written: a confirmed registration keeps
#: its seat; a held or an offered one keeps it strictly before the deadline in the column named
#: here, and has lapsed from that moment on. ``holds_seat`` reads it, and so do the SQL
#: conditions built from it (``seats.seat_condition``, ``seats.lapsed_condition``).
SEAT_DEADLINES: Mapping[Status, str] = {
    Status.HELD: "hold_expires_at",
    Status.OFFERED: "offer_expires_at",
}


def kept_before(deadline: datetime | None, now: datetime) -> bool:
    """Return whether a seat with this deadline is still kept at ``now``."""
    return deadline is not None and now < deadline


def holds_seat(
    status: str, hold_expires_at: datetime | None, offer_expires_at: datetime | None, now: datetime
) -> bool:
    """Return whether a registration keeps a seat at ``now`` (see ``SEAT_DEADLINES``)."""
    if status == Status.CONFIRMED:
        return True
    values = {"hold_expires_at": hold_expires_at, "offer_expires_at": offer_expires_at}
    for deadline_status, column in SEAT_DEADLINES.items():
        if status == deadline_status:
            return kept_before(values[column], now)
    return False


@dataclass(frozen=True)
class Room:
    """The seats of one gathering as counted at one moment."""

    capacity: int
    taken: int
    #: Cap of each pairing role by id; None means the role has no cap.
    role_caps: Mapping[int, int | None] = field(default_factory=dict)
    #: Seats taken by people who chose each role.
    role_taken: Mapping[int, int] = field(default_factory=dict)

    @property
    def seats_left(self) -> int:
        """Return how many seats are free (never below zero, even if overbooked by an edit)."""
        return max(self.capacity - self.taken, 0)

    def role_left(self, role_id: int | None) -> int | None:
        """Return the free places in a role, or None when it is uncapped (or no role)."""
        if role_id is None:
            return None
        cap = self.role_caps.get(role_id)
        if cap is None:
            return None
        return max(cap - self.role_taken.get(role_id, 0), 0)

    def has_seat(self, role_id: int | None = None) -> bool:
        """Return whether one more person (in this role, if any) fits."""
        left = self.role_left(role_id)
        return self.seats_left > 0 and (left is None or left > 0)

    def take(self, role_id: int | None = None) -> Room:
        """Return the room with one more seat taken (in this role, if any)."""
        role_taken = dict(self.role_taken)
        if role_id is not None:
            role_taken[role_id] = role_taken.get(role_id, 0) + 1
        return replace(self, taken=self.taken + 1, role_taken=role_taken)


def _serve(room: Room, queue: Sequence[tuple[int, int | None]]) -> tuple[list[int], Room]:
    chosen: list[int] = []
    for registration_id, role_id in queue:
        if room.seats_left == 0:
            break
        if room.has_seat(role_id):
            chosen.append(registration_id)
            room = room.take(role_id)
    return chosen, room


def offers_for(room: Room, queue: Sequence[tuple[int, int | None]]) -> list[int]:
    """Return, in queue order, who gets a free seat now.

    ``queue`` is the waitlist, first come first: (registration id, role id). A person whose
    role is full keeps their place and is passed over; the next person in another role may
    have the seat. Stops when no seat is left.
    """
    return _serve(room, queue)[0]


def newcomer_has_seat(
    room: Room, queue: Sequence[tuple[int, int | None]], role_id: int | None
) -> bool:
    """Return whether a newcomer gets a seat without jumping the waitlist.

    The seats the waiting people could take now are theirs first; the newcomer has a seat only
    if one is left for their role after that.
    """
    return _serve(room, queue)[1].has_seat(role_id)

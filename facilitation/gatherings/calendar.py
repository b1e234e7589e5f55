"""iCalendar files: one gathering, or the public feed of all of them."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from datetime import datetime

from icalendar import Calendar, Event

from facilitation.gatherings.models import Gathering


def uid_domain(secret_key: str) -> str:
    """Return the domain of event UIDs: stable whatever host name a calendar used."""
    digest = hashlib.sha256(str(secret_key).encode()).hexdigest()[:12]
    return f"{digest}.gatherwell"


def _location(gathering: Gathering) -> str:
    parts = [gathering.venue_name, " ".join(gathering.venue_address.split())]
    place = ", ".join(p for p in parts if p)
    return place or gathering.online_url


def build_calendar(
    gatherings: Iterable[Gathering],
    *,
    org_name: str,
    uid_domain: str,
    url_for_gathering: Callable[[Gathering], str],
    now: datetime,
) -> bytes:
    """Return an iCalendar document listing the given gatherings."""
    cal = Calendar()
    cal.add("prodid", f"-//{org_name}//Gatherwell//EN")
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    cal.add("x-wr-calname", org_name)
    for gathering in gatherings:
        event = Event()
        event.add("uid", f"gathering-{gathering.id}@{uid_domain}")
        event.add("dtstamp", now)
        event.add("dtstart", gathering.starts_at)
        event.add("dtend", gathering.ends_at)
        event.add("summary", gathering.title)
        event.add("sequence", gathering.revision)
        event.add("url", url_for_gathering(gathering))
        description = gathering.description_md
        if gathering.online_url:
            description = f"{description}\n\nOnline: {gathering.online_url}".strip()
        if description:
            event.add("description", description)
        location = _location(gathering)
        if location:
            event.add("location", location)
        event.add("status", "CANCELLED" if gathering.is_cancelled else "CONFIRMED")
        cal.add_component(event)
    return cal.to_ical()

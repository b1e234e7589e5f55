"""Template filters that show times in the gathering's own time zone."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol, TypeVar
from zoneinfo import ZoneInfo

from flask import Flask
from markupsafe import Markup, escape


class Dated(Protocol):
    """Anything with a start time and a time zone (a gathering)."""

    @property
    def starts_at(self) -> datetime: ...

    @property
    def timezone(self) -> str: ...


D = TypeVar("D", bound=Dated)


def local(dt: datetime, tz: str) -> datetime:
    """Return ``dt`` in time zone ``tz``."""
    return dt.astimezone(ZoneInfo(tz))


def format_day(dt: datetime) -> str:
    """Format like 'Sat 5 Dec 2026'."""
    return f"{dt:%a} {dt.day} {dt:%b %Y}"


def format_when(start: datetime, end: datetime, tz: str) -> str:
    """Format a start and end in ``tz`` with the zone shown: 'Sat 5 Dec 2026, 19:00–21:30 GMT'."""
    s, e = local(start, tz), local(end, tz)
    if s.date() == e.date():
        text = f"{format_day(s)}, {s:%H:%M}–{e:%H:%M} {e:%Z}"
    else:
        text = f"{format_day(s)}, {s:%H:%M} {s:%Z} – {format_day(e)}, {e:%H:%M} {e:%Z}"
    return text


def when_html(start: datetime, end: datetime, tz: str) -> Markup:
    """Return the time range as <time> elements that the browser adds the visitor's time to."""
    text = escape(format_when(start, end, tz))
    return Markup(
        f'<time class="when" datetime="{start.isoformat()}" data-end="{end.isoformat()}" '
        f'data-tz="{escape(tz)}">{text}</time>'
    )


def group_by_month(gatherings: Sequence[D]) -> list[tuple[str, list[D]]]:
    """Group gatherings (already in start order) under 'December 2026'-style headings."""
    groups: list[tuple[str, list[D]]] = []
    for gathering in gatherings:
        label = f"{local(gathering.starts_at, gathering.timezone):%B %Y}"
        if not groups or groups[-1][0] != label:
            groups.append((label, []))
        groups[-1][1].append(gathering)
    return groups


def register(app: Flask) -> None:
    """Register the filters on ``app`` (each domain adds its own, e.g. ``kind_label``)."""
    app.jinja_env.filters["when"] = lambda g: when_html(g.starts_at, g.ends_at, g.timezone)
    app.jinja_env.filters["when_text"] = lambda g: format_when(g.starts_at, g.ends_at, g.timezone)
    app.jinja_env.filters["day"] = lambda dt, tz: format_day(local(dt, tz))
    app.jinja_env.filters["groupby_month"] = group_by_month
    app.jinja_env.filters["local_fmt"] = lambda dt, tz, fmt: local(dt, tz).strftime(fmt)
    app.jinja_env.filters["clock"] = lambda dt, tz: f"{local(dt, tz):%H:%M %Z}"

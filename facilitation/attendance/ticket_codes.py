"""What a ticket's QR code says, reading a scanned code back, and drawing the QR; pure.

A ticket's QR code holds ``GW1:<token>``: a version tag and the ticket's token, 28 characters
that scan quickly from a phone screen in a dim room. It holds no address on purpose: a
printed or saved ticket keeps working if the site moves, and the desk needs only the token.
The ticket page lives at ``<site>/t/<token>``; the desk also accepts that address (from a
QR code a phone's camera app made of the link, say) and a bare token typed by hand.

The token is the only secret: 144 random bits from ``secrets.token_urlsafe(18)``. A code the
desk cannot read, or one in the right shape that is no ticket of ours, is refused with a
reason; the text scanned is never repeated back.
"""

from __future__ import annotations

import io
import re
import secrets
from urllib.parse import urlsplit

import segno

from facilitation.core.errors import DomainError

#: Pure core: no framework import, here or in what it imports (tests/core/test_pure_core.py).
__pure__ = True

#: The tag in front of the token in a QR code; a later format gets a new number.
PREFIX = "GW1:"
#: Where the ticket page lives, followed by the token.
TICKET_PATH = "/t/"
#: Bytes of randomness in a token (24 characters once encoded).
TOKEN_BYTES = 18
TOKEN_PATTERN = re.compile(r"[A-Za-z0-9_-]{24}")
_OTHER_VERSION = re.compile(r"GW\d+:", re.IGNORECASE)
#: Longest text worth reading; a scanner pasting a page is not a ticket.
MAX_SCANNED = 500


class UnreadableCode(DomainError):
    """A scanned or typed code is not a ticket code at all."""


def new_token() -> str:
    """Return a fresh, unguessable ticket token."""
    return secrets.token_urlsafe(TOKEN_BYTES)


def qr_content(token: str) -> str:
    """Return what a ticket's QR code holds: ``GW1:<token>``."""
    return PREFIX + token


def ticket_path(token: str) -> str:
    """Return the path of a ticket's page, ``/t/<token>``."""
    return TICKET_PATH + token


def _from_url(text: str) -> str | None:
    parts = urlsplit(text)
    path = parts.path.rstrip("/")
    marker = path.rfind(TICKET_PATH)
    if marker < 0:
        return None
    return path[marker + len(TICKET_PATH) :]


def read_code(text: str) -> str:
    """Return the token in a scanned or typed code; raise ``UnreadableCode`` saying why not."""
    text = (text or "").strip()
    if not text:
        raise UnreadableCode("empty_code", "Nothing was scanned. Try again.")
    if len(text) > MAX_SCANNED:
        raise UnreadableCode("unreadable_code", "This is not a ticket code.")
    if text.upper().startswith(PREFIX):
        candidate: str | None = text[len(PREFIX) :]
    elif _OTHER_VERSION.match(text):
        raise UnreadableCode(
            "unknown_format", "This ticket code is in a format this desk does not know."
        )
    elif text.lower().startswith(("http://", "https://")):
        candidate = _from_url(text)
    else:
        candidate = text
    if candidate is None or not TOKEN_PATTERN.fullmatch(candidate):
        raise UnreadableCode("unreadable_code", "This is not a ticket code.")
    return candidate


def parse_scanned(text: str) -> str | None:
    """Return the token in a scanned or typed code, or None if it is not a ticket code."""
    try:
        return read_code(text)
    except UnreadableCode:
        return None


def _qr(token: str) -> segno.QRCode:
    return segno.make(qr_content(token), error="m", micro=False)


def qr_svg(token: str, *, scale: int = 8, title: str = "Ticket QR code") -> str:
    """Return the ticket's QR code as an inline SVG element (black on white, quiet zone kept)."""
    out = io.BytesIO()
    _qr(token).save(
        out,
        kind="svg",
        scale=scale,
        border=4,
        dark="#000",
        light="#fff",
        xmldecl=False,
        svgclass="ticket-qr",
        lineclass=None,
        title=title,
    )
    return out.getvalue().decode()


def qr_png(token: str, *, scale: int = 8) -> bytes:
    """Return the ticket's QR code as PNG bytes (for a download or an email attachment)."""
    out = io.BytesIO()
    _qr(token).save(out, kind="png", scale=scale, border=4, dark="#000", light="#fff")
    return out.getvalue()

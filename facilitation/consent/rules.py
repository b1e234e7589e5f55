"""Pure consent rules: text hashing, signature images, name matching. No framework import."""

from __future__ import annotations

import difflib
import hashlib
import json
import struct
import unicodedata
import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

MAX_SIGNATURE_BYTES = 200_000
MIN_INK_PIXELS = 150
MIN_INK_WIDTH = 60
MIN_INK_HEIGHT = 15
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


class SignatureImageError(ValueError):
    """The drawn signature cannot be accepted; ``code`` says why."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


def text_sha256(text: str) -> str:
    """Return the SHA-256 (hex) of the text exactly as shown, encoded as UTF-8."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


#: Every field of a signature record its seal covers: all of them.
SEALED_FIELDS = (
    "id",
    "user_id",
    "agreement_version_id",
    "gathering_id",
    "sha256",
    "typed_name",
    "signature_png",
    "consented_electronic",
    "viewed_at",
    "signed_at",
    "ip",
    "user_agent",
    "signer_email",
)


def _canonical(value: object) -> object:
    if isinstance(value, datetime):
        aware = value if value.tzinfo else value.replace(tzinfo=UTC)
        return aware.astimezone(UTC).isoformat(timespec="microseconds")
    if isinstance(value, bytes | bytearray | memoryview):
        return "sha256:" + hashlib.sha256(bytes(value)).hexdigest()
    return value


def signature_record(values: Mapping[str, object]) -> bytes:
    """Return the canonical bytes of a signature's fields: what its seal is made over.

    JSON with sorted keys, times in UTC to the microsecond, the image as its SHA-256;
    ``v1`` names this layout so that a later one can be told apart.
    """
    record = {name: _canonical(values[name]) for name in SEALED_FIELDS}
    return json.dumps(["v1", record], sort_keys=True, separators=(",", ":")).encode("utf-8")


@dataclass(frozen=True)
class Ink:
    """How much of a signature image is drawn on, and where."""

    width: int
    height: int
    pixels: int
    bbox_width: int
    bbox_height: int


def _paeth(a: int, b: int, c: int) -> int:
    p = a + b - c
    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
    if pa <= pb and pa <= pc:
        return a
    return b if pb <= pc else c


def _unfilter(raw: bytes, width: int, height: int, bpp: int) -> list[bytearray]:
    stride = width * bpp
    rows: list[bytearray] = []
    previous = bytearray(stride)
    pos = 0
    for _ in range(height):
        kind = raw[pos]
        line = bytearray(raw[pos + 1 : pos + 1 + stride])
        pos += 1 + stride
        for i in range(stride):
            left = line[i - bpp] if i >= bpp else 0
            up = previous[i]
            corner = previous[i - bpp] if i >= bpp else 0
            if kind == 1:
                line[i] = (line[i] + left) & 0xFF
            elif kind == 2:
                line[i] = (line[i] + up) & 0xFF
            elif kind == 3:
                line[i] = (line[i] + ((left + up) >> 1)) & 0xFF
            elif kind == 4:
                line[i] = (line[i] + _paeth(left, up, corner)) & 0xFF
            elif kind != 0:
                raise SignatureImageError("bad_image", "The signature image is damaged.")
        rows.append(line)
        previous = line
    return rows


def signature_ink(png: bytes) -> Ink:
    """Measure the ink in a canvas PNG (8-bit RGBA or RGB, not interlaced)."""
    if len(png) > MAX_SIGNATURE_BYTES:
        raise SignatureImageError("too_large", "The signature image is too large.")
    if not png.startswith(PNG_MAGIC):
        raise SignatureImageError("not_png", "The signature must be a drawn image (PNG).")
    pos, idat, header = len(PNG_MAGIC), bytearray(), None
    try:
        while pos < len(png):
            length, kind = struct.unpack(">I4s", png[pos : pos + 8])
            data = png[pos + 8 : pos + 8 + length]
            pos += 12 + length
            if kind == b"IHDR":
                header = struct.unpack(">IIBBBBB", data)
            elif kind == b"IDAT":
                idat += data
            elif kind == b"IEND":
                break
        if header is None:
            raise SignatureImageError("bad_image", "The signature image is damaged.")
        width, height, depth, colour, _, _, interlace = header
        if depth != 8 or colour not in (2, 6) or interlace:
            raise SignatureImageError("bad_image", "Draw the signature in the box provided.")
        if not (0 < width <= 2000 and 0 < height <= 1000):
            raise SignatureImageError("bad_image", "The signature image has an odd size.")
        bpp = 4 if colour == 6 else 3
        rows = _unfilter(zlib.decompress(bytes(idat)), width, height, bpp)
    except (struct.error, zlib.error, IndexError):
        raise SignatureImageError("bad_image", "The signature image is damaged.") from None
    pixels, xs, ys = 0, [], []
    for y, row in enumerate(rows):
        for x in range(width):
            px = row[x * bpp : x * bpp + bpp]
            opaque = px[3] > 64 if bpp == 4 else True
            dark = (px[0] + px[1] + px[2]) < 600
            if opaque and dark:
                pixels += 1
                xs.append(x)
                ys.append(y)
    bbox_w = (max(xs) - min(xs) + 1) if xs else 0
    bbox_h = (max(ys) - min(ys) + 1) if ys else 0
    return Ink(width, height, pixels, bbox_w, bbox_h)


def check_signature_image(png: bytes) -> Ink:
    """Accept a drawn signature only if there is enough of it."""
    ink = signature_ink(png)
    if ink.pixels == 0:
        raise SignatureImageError("empty_signature", "Draw your signature in the box.")
    if (
        ink.pixels < MIN_INK_PIXELS
        or ink.bbox_width < MIN_INK_WIDTH
        or ink.bbox_height < MIN_INK_HEIGHT
    ):
        raise SignatureImageError(
            "signature_too_small", "Your signature is too small; draw it larger across the box."
        )
    return ink


def _normal(name: str) -> str:
    decomposed = unicodedata.normalize("NFKD", name)
    letters = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(letters.lower().replace("-", " ").replace(".", " ").split())


def names_match(typed: str, account_name: str) -> bool:
    """Return whether a typed name is close enough to the account's name (accents, case, order)."""
    a, b = _normal(typed), _normal(account_name)
    if not a:
        return False
    if a == b or sorted(a.split()) == sorted(b.split()):
        return True
    return difflib.SequenceMatcher(None, a, b).ratio() >= 0.85


def valid_preference(text: str) -> bool:
    """Return whether a partner preference is ``any``, ``same_gender`` or ``role:<name>``."""
    if text in {"any", "same_gender"}:
        return True
    return text.startswith("role:") and 0 < len(text[5:].strip()) <= 40


def changed_lines(old: str, new: str) -> list[tuple[str, str]]:
    """Return the lines that differ between two texts as ('-' or '+', line) pairs, in order."""
    result = []
    for line in difflib.ndiff(old.splitlines(), new.splitlines()):
        if line[:2] in ("- ", "+ ") and line[2:].strip():
            result.append((line[0], line[2:]))
    return result

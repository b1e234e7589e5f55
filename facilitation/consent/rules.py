"""Pure consent rules: text hashing, signature images, name matching. No framework import."""

from __future__ import annotations

import difflib
import hashlib
import io
import json
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from PIL import Image, ImageMath

#: Pure core: no framework import, here or in what it imports (tests/core/test_pure_core.py).
__pure__ = True

MAX_SIGNATURE_BYTES = 200_000
MIN_INK_PIXELS = 150
MIN_INK_WIDTH = 60
MIN_INK_HEIGHT = 15
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
MAX_WIDTH, MAX_HEIGHT = 2000, 1000
#: Ink is a pixel whose red + green + blue is under this and whose alpha is over that.
DARK_BELOW, OPAQUE_ABOVE = 600, 64


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


def signature_ink(png: bytes) -> Ink:
    """Measure the ink in a canvas PNG: dark, mostly opaque pixels and the box around them.

    Pillow decodes the image (any PNG the pad or another browser makes: RGBA, RGB, grey,
    palette, interlaced); the size is checked before any pixel is decoded, so a small file
    cannot unpack into a huge image.
    """
    if len(png) > MAX_SIGNATURE_BYTES:
        raise SignatureImageError("too_large", "The signature image is too large.")
    if not png.startswith(PNG_MAGIC):
        raise SignatureImageError("not_png", "The signature must be a drawn image (PNG).")
    damaged = SignatureImageError("bad_image", "The signature image is damaged.")
    try:
        image = Image.open(io.BytesIO(png), formats=["PNG"])
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        raise damaged from None
    with image:
        width, height = image.size
        if not (0 < width <= MAX_WIDTH and 0 < height <= MAX_HEIGHT):
            raise SignatureImageError("bad_image", "The signature image has an odd size.")
        try:
            red, green, blue, alpha = image.convert("RGBA").split()
        except (OSError, SyntaxError, ValueError, EOFError):
            raise damaged from None
    ink = ImageMath.lambda_eval(
        lambda b: ((b["r"] + b["g"] + b["b"]) < DARK_BELOW) * (b["a"] > OPAQUE_ABOVE),
        r=red,
        g=green,
        b=blue,
        a=alpha,
    ).convert("L")
    box = ink.getbbox()
    pixels = ink.histogram()[1]
    bbox_w, bbox_h = (box[2] - box[0], box[3] - box[1]) if box else (0, 0)
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

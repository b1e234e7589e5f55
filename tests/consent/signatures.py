"""Make PNG images like a signature canvas does (RGBA, 8-bit), with or without ink."""

from __future__ import annotations

import struct
import zlib


def png(
    width: int = 400, height: int = 150, strokes: list[tuple[int, int, int, int]] | None = None
) -> bytes:
    """Return an RGBA PNG with dark rectangles (x0, y0, x1, y1) drawn on a transparent canvas."""
    rows = []
    for y in range(height):
        row = bytearray([0])
        for x in range(width):
            ink = any(x0 <= x < x1 and y0 <= y < y1 for x0, y0, x1, y1 in strokes or [])
            row += bytes((20, 20, 30, 255)) if ink else bytes((0, 0, 0, 0))
        rows.append(bytes(row))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"".join(rows)))
        + chunk(b"IEND", b"")
    )


def signed() -> bytes:
    """Return a believable signature: a long stroke and a loop."""
    return png(strokes=[(40, 70, 300, 76), (120, 40, 128, 110), (200, 50, 260, 58)])

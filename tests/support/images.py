"""Images for tests that a camera would never make."""

from __future__ import annotations

import struct
import zlib


def png_bomb(width: int = 9400, height: int = 9400) -> bytes:
    """A valid PNG header for a huge image, with a little of its (all-zero) pixel data: a few
    hundred bytes that would take gigabytes to decode."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    rows = zlib.compress(b"\0" * (width * 3 + 1) * 4)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", rows) + chunk(b"IEND", b""))

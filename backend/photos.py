"""Photos people upload (from a visit, or with a fault report): checked, cleaned, bounded.

The phone downscales to JPEG before upload (frontend/static/js/photo.js); the server still
decodes every upload, refuses what is not a JPEG or PNG image, and re-encodes it, so no
metadata (EXIF: GPS position, camera owner) is ever stored and nothing oversized is kept.

Decoding is the one costly step: a small file can describe a huge image (a 335 KiB PNG of
9400×9400 pixels took a worker from 137 to 941 MiB). So the pixel count is read from the
header and refused before anything is decoded, the decode runs in a thread (the event loop
keeps answering), and only a few decodes run at once in a process.
"""

from __future__ import annotations

import asyncio
import io
import warnings
import weakref
from dataclasses import dataclass

from PIL import Image, ImageOps, UnidentifiedImageError

from backend.errors import DomainError

MAX_UPLOAD_BYTES = 8 * 1024 * 1024  # what the phone sends is ~0.3 MB; this allows an unscaled photo
MAX_SIDE = 2048  # pixels on the longer side once stored
# A 24-megapixel camera's photo (6000×4000) fits; decoded it is ~100 MB, a quarter of Pillow's
# own bomb limit (~89 MP, where it only warns).
MAX_PIXELS = 25_000_000
MAX_DECODES = 2  # decodes at once per process: bounds the memory photos can take together
ACCEPTED_FORMATS = {"JPEG": "image/jpeg", "PNG": "image/png"}

NOT_AN_IMAGE = "Filen är ingen bild som går att visa. Välj ett foto i JPEG- eller PNG-format."
_UNREADABLE = (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombWarning,
               Image.DecompressionBombError)


class PhotoRejected(DomainError):
    """The upload is not a usable photo (the photo field of the form it came with)."""

    def __init__(self, message: str, field: str = "photo") -> None:
        super().__init__(message, field)


@dataclass(frozen=True)
class Photo:
    content: bytes
    content_type: str
    width: int
    height: int


async def clean_photo(data: bytes) -> Photo:
    """The upload checked and re-encoded (downscaled, without metadata), or PhotoRejected.

    Size, format and pixel count are checked from the header first; only then is the image
    decoded, in a thread, at most MAX_DECODES at once in this process."""
    fmt = _checked_header(data)
    async with _decode_slot():
        return await asyncio.to_thread(_decoded, data, fmt)


def _checked_header(data: bytes) -> str:
    """The image's format, read from its header alone (nothing is decoded)."""
    if not data:
        raise PhotoRejected("Välj en bild att ladda upp.")
    if len(data) > MAX_UPLOAD_BYTES:
        raise PhotoRejected(
            f"Bilden är för stor. Största tillåtna storlek är {MAX_UPLOAD_BYTES // (1024 * 1024)} MB.")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as image:
                fmt, (width, height) = image.format, image.size
    except _UNREADABLE:
        raise PhotoRejected(NOT_AN_IMAGE) from None
    if fmt not in ACCEPTED_FORMATS:
        raise PhotoRejected("Bilden måste vara en JPEG- eller PNG-bild (ett foto från kameran).")
    if width * height > MAX_PIXELS:
        raise PhotoRejected(f"Bilden har för många bildpunkter ({width} × {height}). Välj en bild på högst "
                            f"{MAX_PIXELS // 1_000_000} megapixel, till exempel ett foto direkt från kameran.")
    return fmt


def _decoded(data: bytes, fmt: str) -> Photo:
    """Decode and re-encode (in a worker thread: this is the slow part)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
            if image.format != fmt or image.width * image.height > MAX_PIXELS:  # the header was read above
                raise PhotoRejected(NOT_AN_IMAGE)
            image.load()
            image = ImageOps.exif_transpose(image)  # keep the orientation the camera meant, then drop EXIF
            image.thumbnail((MAX_SIDE, MAX_SIDE))
            out = io.BytesIO()
            if fmt == "PNG":
                image.save(out, format="PNG", optimize=True)
            else:
                image.convert("RGB").save(out, format="JPEG", quality=82, optimize=True)
    except PhotoRejected:
        raise
    except _UNREADABLE:  # a truncated file, or metadata that does not parse
        raise PhotoRejected(NOT_AN_IMAGE) from None
    return Photo(out.getvalue(), ACCEPTED_FORMATS[fmt], image.width, image.height)


# One semaphore per event loop (an asyncio.Semaphore belongs to the loop it first waits on);
# a server process has one loop, so this is MAX_DECODES per process.
_slots: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore] = weakref.WeakKeyDictionary()


def _decode_slot() -> asyncio.Semaphore:
    loop = asyncio.get_running_loop()
    slot = _slots.get(loop)
    if slot is None:
        slot = _slots[loop] = asyncio.Semaphore(MAX_DECODES)
    return slot

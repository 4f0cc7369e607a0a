"""Photos people upload (from a visit, or with a fault report): checked, cleaned, bounded.

The phone downscales to JPEG before upload (frontend/static/js/photo.js); the server still
decodes every upload, refuses what is not a JPEG or PNG image, and re-encodes it, so no
metadata (EXIF: GPS position, camera owner) is ever stored and nothing oversized is kept.
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass

from PIL import Image, ImageOps, UnidentifiedImageError

from backend.errors import DomainError

MAX_UPLOAD_BYTES = 8 * 1024 * 1024  # what the phone sends is ~0.3 MB; this allows an unscaled photo
MAX_SIDE = 2048  # pixels on the longer side once stored
ACCEPTED_FORMATS = {"JPEG": "image/jpeg", "PNG": "image/png"}


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


def clean_photo(data: bytes) -> Photo:
    if not data:
        raise PhotoRejected("Välj en bild att ladda upp.")
    if len(data) > MAX_UPLOAD_BYTES:
        raise PhotoRejected(f"Bilden är för stor. Största tillåtna storlek är {MAX_UPLOAD_BYTES // (1024 * 1024)} MB.")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
            fmt = image.format
            if fmt not in ACCEPTED_FORMATS:
                raise PhotoRejected("Bilden måste vara en JPEG- eller PNG-bild (ett foto från kameran).")
            image.load()
    except PhotoRejected:
        raise
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombWarning,
            Image.DecompressionBombError):
        raise PhotoRejected("Filen är ingen bild som går att visa. Välj ett foto i JPEG- eller PNG-format.") from None
    image = ImageOps.exif_transpose(image)  # keep the orientation the camera meant, then drop EXIF
    image.thumbnail((MAX_SIDE, MAX_SIDE))
    out = io.BytesIO()
    if fmt == "PNG":
        image.save(out, format="PNG", optimize=True)
    else:
        image.convert("RGB").save(out, format="JPEG", quality=82, optimize=True)
    return Photo(out.getvalue(), ACCEPTED_FORMATS[fmt], image.width, image.height)

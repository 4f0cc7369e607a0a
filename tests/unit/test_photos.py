"""Uploaded photos: only real JPEG/PNG images are kept, downscaled, without metadata."""

import io

import pytest
from PIL import Image

from backend.photos import MAX_SIDE, MAX_UPLOAD_BYTES, PhotoRejected, clean_photo


def jpeg(width=640, height=480, exif: bytes | None = None) -> bytes:
    out = io.BytesIO()
    image = Image.new("RGB", (width, height), (200, 30, 30))
    if exif:
        image.save(out, format="JPEG", exif=exif)
    else:
        image.save(out, format="JPEG")
    return out.getvalue()


def test_a_jpeg_is_kept_as_jpeg_with_its_size():
    photo = clean_photo(jpeg())
    assert (photo.content_type, photo.width, photo.height) == ("image/jpeg", 640, 480)
    assert Image.open(io.BytesIO(photo.content)).format == "JPEG"


def test_a_large_photo_is_downscaled():
    photo = clean_photo(jpeg(4000, 3000))
    assert max(photo.width, photo.height) == MAX_SIDE


def test_metadata_such_as_gps_is_not_stored():
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    exif[0x8825] = {2: (59.0, 36.0, 0.0)}  # GPSInfo
    photo = clean_photo(jpeg(exif=exif.tobytes()))
    assert not Image.open(io.BytesIO(photo.content)).getexif()


@pytest.mark.parametrize("data", [b"", b"%PDF-1.4 not an image", b"\xff\xd8\xff\xe0 truncated jpeg"])
def test_what_is_not_an_image_is_refused_in_swedish(data):
    with pytest.raises(PhotoRejected) as refused:
        clean_photo(data)
    assert "bild" in refused.value.message


def test_other_image_formats_are_refused():
    out = io.BytesIO()
    Image.new("RGB", (10, 10)).save(out, format="GIF")
    with pytest.raises(PhotoRejected, match="JPEG- eller PNG"):
        clean_photo(out.getvalue())


def test_an_oversize_upload_is_refused_before_decoding():
    with pytest.raises(PhotoRejected, match="för stor"):
        clean_photo(b"\xff" * (MAX_UPLOAD_BYTES + 1))

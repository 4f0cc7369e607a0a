"""Uploaded photos: only real JPEG/PNG images are kept, downscaled, without metadata; an
image too large to decode safely is refused from its header, and decodes run off the event
loop, a few at a time."""

import asyncio
import io
import time

import pytest
from PIL import Image, ImageFile

from backend import photos
from backend.photos import MAX_DECODES, MAX_PIXELS, MAX_SIDE, MAX_UPLOAD_BYTES, PhotoRejected, clean_photo
from tests.support.images import png_bomb


def jpeg(width=640, height=480, exif: bytes | None = None) -> bytes:
    out = io.BytesIO()
    image = Image.new("RGB", (width, height), (200, 30, 30))
    if exif:
        image.save(out, format="JPEG", exif=exif)
    else:
        image.save(out, format="JPEG")
    return out.getvalue()


async def test_a_jpeg_is_kept_as_jpeg_with_its_size():
    photo = await clean_photo(jpeg())
    assert (photo.content_type, photo.width, photo.height) == ("image/jpeg", 640, 480)
    assert Image.open(io.BytesIO(photo.content)).format == "JPEG"


async def test_a_large_photo_is_downscaled():
    photo = await clean_photo(jpeg(4000, 3000))
    assert max(photo.width, photo.height) == MAX_SIDE


async def test_metadata_such_as_gps_is_not_stored():
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    exif[0x8825] = {2: (59.0, 36.0, 0.0)}  # GPSInfo
    photo = await clean_photo(jpeg(exif=exif.tobytes()))
    assert not Image.open(io.BytesIO(photo.content)).getexif()


@pytest.mark.parametrize("data", [b"", b"%PDF-1.4 not an image", b"\xff\xd8\xff\xe0 truncated jpeg"])
async def test_what_is_not_an_image_is_refused_in_swedish(data):
    with pytest.raises(PhotoRejected) as refused:
        await clean_photo(data)
    assert "bild" in refused.value.message and refused.value.field == "photo"


async def test_other_image_formats_are_refused():
    out = io.BytesIO()
    Image.new("RGB", (10, 10)).save(out, format="GIF")
    with pytest.raises(PhotoRejected, match="JPEG- eller PNG"):
        await clean_photo(out.getvalue())


async def test_an_oversize_upload_is_refused_before_decoding():
    with pytest.raises(PhotoRejected, match="för stor"):
        await clean_photo(b"\xff" * (MAX_UPLOAD_BYTES + 1))


def test_the_pixel_limit_is_well_under_pillows_own():
    assert MAX_PIXELS <= Image.MAX_IMAGE_PIXELS // 2


async def test_a_small_file_of_too_many_pixels_is_refused_from_its_header_without_decoding(monkeypatch):
    decoded = []
    monkeypatch.setattr(ImageFile.ImageFile, "load", lambda image: decoded.append(image))
    bomb = png_bomb()
    assert len(bomb) < 2048
    started = time.perf_counter()
    with pytest.raises(PhotoRejected, match="för många bildpunkter") as refused:
        await clean_photo(bomb)
    assert time.perf_counter() - started < 0.1
    assert decoded == [] and refused.value.field == "photo"


async def test_a_photo_just_under_the_pixel_limit_is_accepted():
    side = int(MAX_PIXELS ** 0.5)
    out = io.BytesIO()
    Image.new("L", (side, side)).save(out, format="PNG")
    assert (await clean_photo(out.getvalue())).width == MAX_SIDE


async def test_decodes_run_in_threads_a_few_at_a_time(monkeypatch):
    running, most, loop_threads = 0, 0, set()

    def slow_decode(data, fmt):
        nonlocal running, most
        running += 1
        most = max(most, running)
        try:
            loop_threads.add(_in_loop_thread())
            time.sleep(0.05)
        finally:
            running -= 1
        return photos.Photo(b"", "image/jpeg", 1, 1)

    monkeypatch.setattr(photos, "_decoded", slow_decode)
    await asyncio.gather(*(clean_photo(jpeg(8, 8)) for _ in range(6)))
    assert most == MAX_DECODES
    assert loop_threads == {False}


def _in_loop_thread() -> bool:
    try:
        asyncio.get_running_loop()
        return True
    except RuntimeError:
        return False

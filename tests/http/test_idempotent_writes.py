"""Writes from the outbox carry an Idempotency-Key: each is applied at most once, a repeat gets
the first answer, a refused write that met a changed order is kept in full as a conflict."""

from __future__ import annotations

import asyncio
import io
import json
import uuid
from datetime import date

import pytest

from PIL import Image

from backend import db
from backend.photos import MAX_UPLOAD_BYTES
from tests.support.factories import (
    add_conflict,
    add_device,
    add_patient,
    add_work_order,
    delete_world,
    jpeg_bytes,
    make_world,
)
from tests.support.http import csrf


@pytest.fixture(scope="module")
async def world(database):
    world = await make_world()
    patient = await add_patient(world)
    world.device = await add_device(world, holder=patient)
    world.order = await add_work_order(world, world.device, assignee=world.staff["technician"], planned=date.today(),
                                       patient=patient)
    await db.execute("INSERT INTO article (organisation, article_number, name, manufacturer) "
                     "VALUES ($1, '910001', 'Däck 3.00-8', 'Permobil')", world.organisation)
    yield world
    await delete_world(world)


async def keyed_post(client, url: str, data: dict, key: str, files=None):
    headers = {"idempotency-key": key, "x-csrftoken": await csrf(client)}
    return await client.post(url, data=data, files=files, headers=headers)


async def count(table: str, order: int) -> int:
    return await db.fetchval(f"SELECT count(*) FROM {table} WHERE work_order = $1", order)


async def test_a_repeated_key_is_applied_once_and_gets_the_first_answer(world, technician):
    key, url = str(uuid.uuid4()), f"/besok/{world.order}/delar"
    before = await count("part_used", world.order)
    first = await keyed_post(technician, url, {"article": "910001", "quantity": "2"}, key)
    again = await keyed_post(technician, url, {"article": "910001", "quantity": "2"}, key)
    assert first.status_code == again.status_code == 303
    assert again.headers["location"] == first.headers["location"]
    assert again.headers["idempotent-replayed"] == "true"
    assert await count("part_used", world.order) == before + 1
    assert await db.fetchval("SELECT work_order FROM write_receipt WHERE key = $1::uuid", key) == world.order


async def test_the_same_key_with_another_body_is_refused(world, technician):
    key, url = str(uuid.uuid4()), f"/besok/{world.order}/tid"
    assert (await keyed_post(technician, url, {"minutes": "30"}, key)).status_code == 303
    other = await keyed_post(technician, url, {"minutes": "45"}, key)
    assert other.status_code == 422
    assert "redan använts" in other.text
    assert await db.fetchval("SELECT count(*) FROM time_entry WHERE work_order = $1 AND minutes = 45",
                             world.order) == 0


async def test_simultaneous_deliveries_of_one_key_apply_it_once(world, technician):
    key, url = str(uuid.uuid4()), f"/besok/{world.order}/anteckning"
    before = await count("work_note", world.order)
    answers = await asyncio.gather(*(keyed_post(technician, url, {"note": "Samma anteckning"}, key)
                                     for _ in range(6)))
    assert {a.status_code for a in answers} == {303}
    assert await count("work_note", world.order) == before + 1


async def test_a_refused_input_stores_no_receipt_so_a_corrected_retry_is_applied(world, technician):
    key, url = str(uuid.uuid4()), f"/besok/{world.order}/tid"
    assert (await keyed_post(technician, url, {"minutes": "-5"}, key)).status_code == 400
    assert await db.fetchval("SELECT count(*) FROM write_receipt WHERE key = $1::uuid", key) == 0
    assert (await keyed_post(technician, url, {"minutes": "5"}, key)).status_code == 303


async def test_a_photo_sent_twice_is_stored_once(world, technician):
    key, url = str(uuid.uuid4()), f"/besok/{world.order}/foton"
    before = await count("work_photo", world.order)
    for _ in range(2):  # each send has its own multipart boundary
        response = await keyed_post(technician, url, {"caption": "Däcket"}, key,
                                    files={"photo": ("a.jpg", jpeg_bytes(), "image/jpeg")})
        assert response.status_code == 303
    assert await count("work_photo", world.order) == before + 1


async def test_a_malformed_key_is_a_clear_400(world, technician):
    response = await keyed_post(technician, f"/besok/{world.order}/tid", {"minutes": "5"}, "not-a-uuid")
    assert response.status_code == 400 and "UUID" in response.text


async def test_a_write_on_a_changed_order_is_kept_in_full_as_a_conflict(app, world, technician):
    order = await add_work_order(world, world.device, assignee=world.staff["technician"], planned=date.today())
    seen = str(await db.fetchval("SELECT version FROM work_order WHERE id = $1", order))
    await db.execute("UPDATE work_order SET status = 'cancelled', cancel_reason = 'Dubblett', version = version + 1 "
                     "WHERE id = $1", order)
    key = str(uuid.uuid4())
    form = {"version": seen, "reason": "not_home", "message_to_orderer": "Ingen hemma"}
    first = await keyed_post(technician, f"/besok/{order}/ej-utford", form, key)
    again = await keyed_post(technician, f"/besok/{order}/ej-utford", form, key)
    assert first.status_code == again.status_code == 409
    conflicts = await db.fetch("SELECT fields, message, base_version FROM sync_conflict WHERE work_order = $1", order)
    assert len(conflicts) == 1
    assert json.loads(conflicts[0]["fields"]) == form
    assert conflicts[0]["base_version"] == int(seen)
    note_key = str(uuid.uuid4())
    photo = await keyed_post(technician, f"/besok/{order}/foton", {"caption": "Efter"}, note_key,
                             files={"photo": ("b.jpg", jpeg_bytes(), "image/jpeg")})
    assert photo.status_code == 409
    kept = await db.fetchrow("SELECT photo FROM sync_conflict WHERE key = $1::uuid", note_key)
    assert Image.open(io.BytesIO(kept["photo"])).format == "JPEG"


async def moved_on_order(world) -> tuple[int, str]:
    """An order of the technician's that a coordinator cancelled after the phone last saw it."""
    order = await add_work_order(world, world.device, assignee=world.staff["technician"], planned=date.today())
    seen = str(await db.fetchval("SELECT version FROM work_order WHERE id = $1", order))
    await db.execute("UPDATE work_order SET status = 'cancelled', cancel_reason = 'Dubblett', version = version + 1 "
                     "WHERE id = $1", order)
    return order, seen


def jpeg_with_gps() -> bytes:
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    exif[0x8825] = {1: "N", 2: (59.0, 36.0, 12.0), 3: "E", 4: (16.0, 33.0, 0.0)}  # GPSInfo
    out = io.BytesIO()
    Image.new("RGB", (64, 48), (30, 90, 160)).save(out, format="JPEG", exif=exif.tobytes())
    assert Image.open(io.BytesIO(out.getvalue())).getexif().get_ifd(0x8825)
    return out.getvalue()


async def test_a_photo_kept_with_a_conflict_is_cleaned_of_its_exif_position(world, technician):
    order, seen = await moved_on_order(world)
    key = str(uuid.uuid4())
    response = await keyed_post(technician, f"/besok/{order}/foton", {"caption": "Hallen", "version": seen}, key,
                                files={"photo": ("gps.jpg", jpeg_with_gps(), "image/jpeg")})
    assert response.status_code == 409
    kept = await db.fetchrow("SELECT photo, fields FROM sync_conflict WHERE key = $1::uuid", key)
    image = Image.open(io.BytesIO(kept["photo"]))
    assert image.format == "JPEG" and image.size == (64, 48)
    assert not image.getexif() and b"PhoneMaker" not in bytes(kept["photo"])


async def test_a_kept_photo_that_is_no_image_is_left_out_and_the_conflict_says_so(world):
    # The visit action refuses such a photo (400) before it meets the order, so this is the
    # safety net of record_conflict itself: the fields are kept, the bytes are not.
    order, seen = await moved_on_order(world)
    form = {"caption": "Dörren", "version": seen}
    conflict = await add_conflict(world, order, "foton", form, photo=b"%PDF-1.4 not a photo")
    kept = await db.fetchrow("SELECT photo, fields, message FROM sync_conflict WHERE id = $1", conflict)
    assert kept["photo"] is None
    assert json.loads(kept["fields"]) == form
    assert "Fotot kunde inte sparas" in kept["message"] and "JPEG- eller PNG" in kept["message"]


class CountingBody:
    """A streamed request body of `chunks` × 1 MiB that counts how much of it was read."""

    def __init__(self, chunks: int) -> None:
        self.chunks, self.read = chunks, 0

    async def __aiter__(self):
        for _ in range(self.chunks):
            self.read += 1
            yield b"x" * (1024 * 1024)


async def test_a_keyed_post_over_the_routes_size_limit_is_refused_before_it_is_all_read(world, technician):
    limit_mib = (MAX_UPLOAD_BYTES + 2 * 1024 * 1024) // (1024 * 1024)
    body = CountingBody(100)
    headers = {"idempotency-key": str(uuid.uuid4()), "x-csrftoken": await csrf(technician),
               "content-type": "multipart/form-data; boundary=x"}
    response = await technician.post(f"/besok/{world.order}/foton", content=body, headers=headers)
    assert response.status_code == 413 and "för stor" in response.text
    assert body.read <= limit_mib + 1


async def test_a_keyed_post_declaring_a_body_over_the_limit_is_refused_unread(world, technician):
    body = CountingBody(20)
    headers = {"idempotency-key": str(uuid.uuid4()), "x-csrftoken": await csrf(technician),
               "content-type": "application/x-www-form-urlencoded", "content-length": str(20 * 1024 * 1024)}
    before = await count("time_entry", world.order)
    response = await technician.post(f"/besok/{world.order}/tid", content=body, headers=headers)
    assert response.status_code == 413 and "för stor" in response.text
    assert body.read <= 1
    assert await count("time_entry", world.order) == before

"""Writes from the outbox carry an Idempotency-Key: each is applied at most once, a repeat gets
the first answer, a refused write that met a changed order is kept in full as a conflict."""

from __future__ import annotations

import asyncio
import uuid
from datetime import date

import pytest

from backend import db
from tests.support.factories import add_device, add_patient, add_work_order, delete_world, jpeg_bytes, make_world
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
    import json

    assert json.loads(conflicts[0]["fields"]) == form
    assert conflicts[0]["base_version"] == int(seen)
    note_key = str(uuid.uuid4())
    photo = await keyed_post(technician, f"/besok/{order}/foton", {"caption": "Efter"}, note_key,
                             files={"photo": ("b.jpg", jpeg_bytes(), "image/jpeg")})
    assert photo.status_code == 409
    kept = await db.fetchrow("SELECT photo FROM sync_conflict WHERE key = $1::uuid", note_key)
    assert bytes(kept["photo"]) == jpeg_bytes()

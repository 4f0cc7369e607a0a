"""Image bombs: a small file that describes a huge image is refused from its header, on the
public form and on a visit, and while photos are decoded the server keeps answering."""

from __future__ import annotations

import asyncio
import io
import time
from datetime import date

import pytest
from PIL import Image

from backend import db
from backend.faults import service as faults
from tests.support.factories import add_device, add_patient, add_work_order, delete_world, device_token, make_world
from tests.support.http import csrf, new_client
from tests.support.images import png_bomb

ANSWERS = {"problems": ["no_drive"], "description": "Den står still", "where_on_device": "", "usable": "no",
           "can_bring_in": "no", "needs_replacement": "no", "location": "usual", "contact_name": "Kim Anhörigsson",
           "contact_phone": "070-123 45 67", "call_times": ""}


@pytest.fixture(scope="module")
async def world(database):
    world = await make_world()
    patient = await add_patient(world)
    world.device = await add_device(world, holder=patient)
    world.token = await device_token(world, world.device)
    world.order = await add_work_order(world, world.device, assignee=world.staff["technician"], planned=date.today(),
                                       patient=patient)
    yield world
    await delete_world(world)


def heavy_png() -> bytes:
    """Within every limit, but a real decode: 6 megapixels, downscaled and re-encoded."""
    out = io.BytesIO()
    Image.linear_gradient("L").resize((3000, 2000)).convert("RGB").save(out, format="PNG", compress_level=1)
    return out.getvalue()


async def post_photo(client, order: int, name: str, content: bytes):
    return await client.post(f"/besok/{order}/foton", data={"caption": name, "_csrf_token": await csrf(client)},
                             files={"photo": (name, content, "image/png")})


async def test_a_bomb_through_the_public_form_is_refused_next_to_the_photo_field(app, world):
    async with new_client(app) as client:
        response = await client.post(f"/f/{world.token}/anmal", files={"photo": ("bomb.png", png_bomb(), "image/png")},
                                     data={**ANSWERS, "submission": faults.new_token(),
                                           "_csrf_token": await csrf(client)})
    assert response.status_code == 400
    assert 'id="photo-error"' in response.text and "för många bildpunkter" in response.text
    assert await db.fetchval("SELECT count(*) FROM fault_report WHERE device = $1", world.device) == 0


async def test_healthz_answers_fast_while_bombs_and_large_photos_are_processed(app, world, technician):
    heavy = heavy_png()
    # Compiling the visit page's templates (once per process) is not what is measured here.
    assert (await technician.get(f"/besok/{world.order}")).status_code == 200
    before = await db.fetchval("SELECT count(*) FROM work_photo WHERE work_order = $1", world.order)
    done = asyncio.Event()
    latencies: list[float] = []

    async def watch() -> None:
        async with new_client(app) as probe:
            while not done.is_set():
                started = time.perf_counter()
                assert (await probe.get("/healthz")).status_code == 200
                latencies.append(time.perf_counter() - started)
                await asyncio.sleep(0.005)

    async def upload() -> list:
        try:
            return await asyncio.gather(*(post_photo(technician, world.order, f"bomb{i}.png", png_bomb())
                                          for i in range(3)),
                                        *(post_photo(technician, world.order, f"stor{i}.png", heavy) for i in range(3)))
        finally:
            done.set()

    answers, _ = await asyncio.gather(upload(), watch())
    assert [a.status_code for a in answers] == [400] * 3 + [303] * 3
    assert all("för många bildpunkter" in a.text for a in answers[:3])
    assert await db.fetchval("SELECT count(*) FROM work_photo WHERE work_order = $1", world.order) == before + 3
    assert len(latencies) >= 5
    # Decoding on the event loop blocked it for 0.7 s here (1.9 s for the original bomb); off the
    # loop /healthz answers in tens of ms. The bound leaves room for a busy CI machine (speed
    # itself is measured in `make bench`, not here), while still failing on a decode in the loop.
    assert max(latencies) < 0.4, f"/healthz took up to {max(latencies) * 1000:.0f} ms"

"""What a response tells caches and browsers, and what reading a photo leaves in the audit log:
staff pages are never stored, a sticker's landing page may be, HSTS over https, the calendar
feed is plain and sessionless, and Back + Send on the public form shows the first receipt."""

from __future__ import annotations

import dataclasses
import re

import pytest

from backend import db
from backend.app import create_app
from backend.faults import service as faults
from tests.support.factories import (
    FAULT_ANSWERS,
    add_device,
    add_fault_report,
    add_patient,
    add_photo,
    add_work_order,
    delete_world,
    device_token,
    jpeg_bytes,
    make_world,
)
from tests.support.http import csrf, new_client, post_form, signed_in_client


@pytest.fixture
async def world(database):
    world = await make_world()
    world.patient = await add_patient(world, given="Hedda", family="Hemfoto")
    world.device = await add_device(world, holder=world.patient)
    world.token = await device_token(world, world.device)
    yield world
    await delete_world(world)


async def audit_rows(world, what: str) -> int:
    return await db.fetchval("SELECT count(*) FROM audit_log WHERE patient = $1 AND what = $2", world.patient, what)


async def test_staff_pages_are_private_no_store_unless_the_route_chose(app, world):
    order = await add_work_order(world, world.device, assignee=world.staff["technician"], patient=world.patient)
    photo = await add_photo(world, order)
    client = await signed_in_client(app, world.organisation, world.staff["coordinator"])
    try:
        for path in ("/", f"/patienter/{world.patient}"):
            page = await client.get(path)
            assert page.headers["cache-control"] == "private, no-store", path
        kept = await client.get(f"/foton/{photo}")
        assert kept.status_code == 200 and kept.headers["cache-control"].startswith("private, max-age=")
    finally:
        await client.aclose()


async def test_the_sticker_page_may_be_cached_but_the_receipt_never(app, world):
    _, status_token = await add_fault_report(world, world.device)
    async with new_client(app) as anonymous:
        landing = await anonymous.get(f"/f/{world.token}")
        assert landing.status_code == 200 and landing.headers["cache-control"] == "public, max-age=300"
        for path in (f"/arende/{status_token}", f"/arende/{status_token}/kvitto"):
            page = await anonymous.get(path)
            assert page.status_code == 200 and page.headers["cache-control"] == "private, no-store", path
        assert "strict-transport-security" not in landing.headers  # plain-http localhost


async def test_hsts_is_sent_when_the_public_origin_is_https(settings, world):
    https_app = create_app(dataclasses.replace(settings, public_origin="https://runda.example.se"))
    async with new_client(https_app) as client:
        page = await client.get(f"/f/{world.token}")
    assert page.headers["strict-transport-security"] == "max-age=31536000"


async def test_reading_a_visit_photo_or_a_report_photo_is_audited(app, world):
    order = await add_work_order(world, world.device, assignee=world.staff["technician"], patient=world.patient)
    photo = await add_photo(world, order)
    report, _ = await add_fault_report(world, world.device)
    await db.execute("UPDATE fault_report SET photo = $1, photo_content_type = 'image/jpeg' WHERE id = $2",
                     jpeg_bytes(), report)
    client = await signed_in_client(app, world.organisation, world.staff["coordinator"])
    try:
        assert (await client.get(f"/foton/{photo}")).status_code == 200
        assert await audit_rows(world, "photo") == 1
        assert (await client.get(f"/felanmalningar/{report}/bild")).status_code == 200
        assert await audit_rows(world, "fault_report_photo") == 1
    finally:
        await client.aclose()


async def test_the_calendar_feed_has_one_charset_and_sets_no_cookie(app, world):
    prescriber = await signed_in_client(app, world.organisation, world.staff["prescriber"])
    try:
        created = await post_form(prescriber, "/utprovningar/kalender")
        link = re.search(r'id="feed-link">([^<]+)<', created.text).group(1)
    finally:
        await prescriber.aclose()
    async with new_client(app) as calendar_app:
        feed = await calendar_app.get(link.replace("http://localhost:8000", ""))
    assert feed.status_code == 200
    assert feed.headers["content-type"] == "text/calendar; charset=utf-8"
    assert "set-cookie" not in feed.headers, feed.headers.get_list("set-cookie")


async def test_back_and_send_again_with_a_new_key_shows_the_first_receipt(app, world):
    answers = {k: (list(v) if isinstance(v, tuple) else v) for k, v in FAULT_ANSWERS.items()}
    async with new_client(app) as phone:
        sent = []
        for _ in range(2):  # the form fetched anew after Back: a new key, the same answers typed in
            form = await phone.get(f"/f/{world.token}/anmal")
            key = re.search(r'name="submission" value="([^"]+)"', form.text).group(1)
            sent.append(await phone.post(f"/f/{world.token}/anmal", data={**answers, "submission": key,
                                                                           "_csrf_token": await csrf(phone)}))
        other = await phone.post(f"/f/{world.token}/anmal", data={
            **answers, "description": "Nu har även bromsen slutat fungera", "submission": faults.new_token()})
    assert sent[0].status_code == sent[1].status_code == other.status_code == 303
    assert sent[0].headers["location"] == sent[1].headers["location"] != other.headers["location"]
    assert await db.fetchval("SELECT count(*) FROM fault_report WHERE device = $1", world.device) == 2

"""Back + Send again on the public fault form, in Chromium: the browser fetches the form anew
and fills in what was typed (but not its hidden key); the same report is shown, not a second."""

from __future__ import annotations

import secrets

import pytest

from backend import db
from tests.support.factories import add_device, add_patient, delete_world, device_token, make_world


@pytest.fixture
async def world(database):
    world = await make_world()
    patient = await add_patient(world, given="Gunborg", family="Tjäderström")
    world.device = await add_device(world, holder=patient)
    world.token = await device_token(world, world.device)
    yield world
    await delete_world(world)


async def test_back_and_send_again_shows_the_first_receipt(browser, live_server, world):
    address = f"127.{secrets.randbelow(250)}.{secrets.randbelow(250)}.{secrets.randbelow(250) + 1}"
    context = await browser.new_context(locale="sv-SE", extra_http_headers={"X-Forwarded-For": address})
    page = await context.new_page()
    try:
        await page.goto(f"{live_server}/f/{world.token}/anmal")
        await page.locator('input[name="problems"]').first.check()
        for question, answer in (("usable", "no"), ("can_bring_in", "no"), ("needs_replacement", "unsure")):
            await page.locator(f'input[name="{question}"][value="{answer}"]').check()
        await page.fill("#contact_name", "Kim Anhörigsson")
        await page.fill("#contact_phone", "070-123 45 67")
        receipts = []
        for _ in range(2):
            await page.locator('button[type="submit"]').click()
            await page.get_by_role("heading", name="Tack! Felanmälan är skickad").wait_for()
            receipts.append((await page.locator("strong").first.inner_text()).strip())
            await page.go_back()
            await page.locator('button[type="submit"]').wait_for()
    finally:
        await context.close()
    assert receipts[0] == receipts[1]
    assert await db.fetchval("SELECT count(*) FROM fault_report WHERE device = $1", world.device) == 1

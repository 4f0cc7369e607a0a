"""A conflict in Chromium on a 320 px phone: time recorded offline meets an order the coordinator
cancelled meanwhile; the outbox's line links to the technician's conflicts, where the change is
shown beside the order now and let go of. axe-core (bundled, nothing fetched) checks the page."""

from __future__ import annotations

from datetime import date

import pytest
from axe_playwright_python.async_playwright import Axe

from backend import db
from tests.e2e.conftest import sign_in_with_passkey
from tests.support.factories import add_device, add_patient, add_work_order, delete_world, make_world

WIDTH = 320


@pytest.fixture
async def world(database):
    world = await make_world()
    patient = await add_patient(world)
    world.order = await add_work_order(world, await add_device(world, holder=patient), patient=patient,
                                       assignee=world.staff["technician"], planned=date.today())
    yield world
    await delete_world(world)


@pytest.fixture
async def phone(browser):
    context = await browser.new_context(locale="sv-SE", viewport={"width": WIDTH, "height": 640})
    page = await context.new_page()
    yield page
    await context.close()


async def test_a_change_that_met_a_cancelled_order_is_found_from_the_outbox_and_let_go(phone, live_server, world):
    page = phone
    await sign_in_with_passkey(page, live_server, world, "technician", "/min-dag")
    await page.goto(f"{live_server}/besok/{world.order}")
    await page.context.set_offline(True)
    await page.get_by_label("Arbetad tid i minuter").fill("35")
    await page.get_by_role("button", name="Spara tid").click()
    await page.get_by_text("Sparad på telefonen: Tid.").wait_for()
    await db.execute("UPDATE work_order SET status = 'cancelled', cancel_reason = 'Dubblett', version = version + 1 "
                     "WHERE id = $1", world.order)

    await page.context.set_offline(False)  # delivered: 409, kept on the server as a conflict
    link = page.locator("#outbox-queue li").get_by_role("link", name="Mina konflikter")
    await link.wait_for()
    await link.click()
    await page.wait_for_url(f"{live_server}/besok/konflikter")
    await page.get_by_role("link", name="Tid ·").click()

    await page.get_by_role("heading", name="Din ändring", exact=True).wait_for()
    assert "Makulerad" in await page.locator("#now").locator("..").inner_text()
    results = await Axe().run(page)
    assert results.violations_count == 0, results.generate_report()
    assert await page.evaluate("document.documentElement.scrollWidth") <= WIDTH

    await page.get_by_role("button", name="Släpp min ändring").click()
    await page.get_by_text("Du har släppt ändringen.").wait_for()
    kept = await db.fetchrow("SELECT resolution, fields FROM sync_conflict WHERE work_order = $1", world.order)
    assert kept["resolution"] == "dismissed" and "35" in kept["fields"]
    assert await db.fetchval("SELECT count(*) FROM time_entry WHERE work_order = $1", world.order) == 0

"""Route pictures in a real browser: Min dag with its arrival times, the day's sketch and "Körda km
idag" (saved through the outbox like every technician write), the week's timeline and sketches,
and the distance page, each without an axe violation at a phone's and a desktop's width. (The
audit of every page runs on an empty world, where there is no picture to check.)"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from axe_playwright_python.async_playwright import Axe

from backend import db
from backend.routing import kpi, views
from backend.workdays import today
from tests.e2e.conftest import sign_in_with_passkey
from tests.support.factories import add_device, add_patient, add_work_order, delete_world, make_world


@pytest.fixture
async def world(database):
    world = await make_world()
    home = await add_patient(world)
    hidden = await add_patient(world, given="Hemlig", street="Hemliga gatan 1", protected=True)
    far = await add_patient(world, given="Karl")
    await db.execute("UPDATE patient SET latitude = 59.514, longitude = 15.9926, city = 'Köping' WHERE id = $1", far)
    device = await add_device(world, holder=home)
    for day in (today(), today() - timedelta(days=1)):
        for n, patient in enumerate((home, hidden, far), start=1):
            await add_work_order(world, device, assignee=world.staff["technician"], planned=day, patient=patient,
                                 position=n)
    await kpi.record_route_days(world.organisation, today() - timedelta(days=1), today() - timedelta(days=1))
    yield world
    await delete_world(world)


async def no_violations(page, axe: Axe) -> list[str]:
    found = []
    for width in (390, 1280):
        await page.set_viewport_size({"width": width, "height": 800})
        results = await axe.run(page)
        if results.violations_count:
            found.append(f"{page.url} at {width} px:\n{results.generate_report()}")
    return found


async def test_the_route_pages_are_accessible_and_km_are_entered_through_the_outbox(browser, live_server, world):
    axe, found = Axe(), []
    phone = await browser.new_context(locale="sv-SE", viewport={"width": 390, "height": 800})
    page = await phone.new_page()
    try:
        await sign_in_with_passkey(page, live_server, world, "technician", "/min-dag")
        await page.get_by_text("Ankomst ca").first.wait_for()
        await page.get_by_text("Dagens rutt som skiss").click()
        await page.locator("svg.route-sketch").wait_for()
        found += await no_violations(page, axe)
        await page.get_by_label("Km enligt bilens mätare").fill("84,5")
        await page.get_by_role("button", name="Spara körda km").click()
        await page.get_by_text("Sparad på telefonen").first.wait_for()
        for _ in range(50):
            if await kpi.mileage(world.staff["technician"], today()) is not None:
                break
            await page.wait_for_timeout(100)
        assert await kpi.mileage(world.staff["technician"], today()) == Decimal("84.5")
    finally:
        await phone.close()

    desk = await browser.new_context(locale="sv-SE", viewport={"width": 1280, "height": 800})
    page = await desk.new_page()
    try:
        monday = today() - timedelta(days=today().weekday())
        await sign_in_with_passkey(page, live_server, world, "coordinator", "/arbetsordrar")
        await page.goto(f"{live_server}/planering/vecka?vecka={views.week_name(monday)}"
                        f"&tekniker={world.staff['technician']}")
        await page.locator("svg.week-timeline").wait_for()
        found += await no_violations(page, axe)
        await page.goto(f"{live_server}/planering/korstracka?manad={today() - timedelta(days=1):%Y-%m}")
        await page.locator("svg.kpi-chart").wait_for()
        found += await no_violations(page, axe)
    finally:
        await desk.close()
    assert not found, "\n\n".join(found)

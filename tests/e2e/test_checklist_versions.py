"""Acceptance: an admin publishes a new checklist version through the pages; the next FU order
(made after publishing) shows the new version in the technician's visit, while an older order
(made before) keeps its version."""

from __future__ import annotations

from datetime import time

import pytest
from axe_playwright_python.async_playwright import Axe

from backend.accounts.routes import START_PAGES
from backend.accounts.service import Actor
from backend.accounts.tables import Role
from backend.maintenance import service as maintenance
from backend.workdays import today
from backend.workorders import planning
from backend.workorders import service as workorders
from tests.e2e.conftest import sign_in_with_passkey
from tests.support.factories import WHEELCHAIR_FU, add_device, add_patient, delete_world, make_world


@pytest.fixture
async def world(database):
    world = await make_world()
    world.first = await maintenance.publish_checklist(world.category, WHEELCHAIR_FU)
    world.patient = await add_patient(world, given="Astrid", family="Lindqvist")
    world.device = await add_device(world, holder=world.patient, individnummer=f"C{world.organisation:06d}")
    yield world
    await delete_world(world)


async def fu_order_for_today(world, position: int) -> int:
    """A generated FU order, made through the work-order service and planned for the technician."""
    order = await workorders.create_work_order(organisation_id=world.organisation, type="maintenance",
                                               device_id=world.device, description="Årlig FU", channel="generated")
    coordinator = Actor(id=world.staff["coordinator"], organisation=world.organisation, name="Test coordinator",
                        role=Role.coordinator, care_unit=None)
    await planning.plan_order(coordinator, order["id"], order["version"], technician_id=world.staff["technician"],
                              day=today(), window_start=time(8 + position), window_end=time(9 + position),
                              today=today())
    return order["id"]


async def no_axe_violations(page) -> None:
    """axe finds nothing at a phone's and a desktop's width (the accessibility suite sees one
    version page per route; the published one and the draft are different templates)."""
    for width in (390, 1280):
        await page.set_viewport_size({"width": width, "height": 800})
        results = await Axe().run(page)
        assert not results.violations_count, f"{page.url} at {width} px:\n{results.generate_report()}"
    await page.set_viewport_size({"width": 360, "height": 740})


async def test_a_published_version_is_used_by_the_next_fu_order_and_an_older_order_keeps_its_own(
        browser, page, live_server, world):
    older = await fu_order_for_today(world, 1)

    await sign_in_with_passkey(page, live_server, world, "admin", START_PAGES[Role.admin])
    await page.goto(f"{live_server}/admin/checklistor")
    await no_axe_violations(page)
    await page.get_by_role("link", name="Version 1 av Förebyggande underhåll").click()
    await page.get_by_role("heading", name="Förebyggande underhåll, version 1").wait_for()
    await no_axe_violations(page)
    await page.get_by_role("button", name="Gör ett nytt utkast").click()
    await page.get_by_role("heading", name="Förebyggande underhåll, utkast till version 2").wait_for()

    # A measurement with its limits the wrong way round is refused next to the field (htmx swaps the editor).
    new_item = page.locator("section", has=page.get_by_role("heading", name="Lägg till en punkt"))
    await new_item.get_by_label("Vad teknikern kontrollerar").fill("Batterispänning under last")
    await new_item.get_by_label("Typ av punkt").select_option("measurement")
    await new_item.get_by_label("Enhet").select_option("V")
    await new_item.get_by_label("Lägsta godkända värde").fill("27")
    await new_item.get_by_label("Högsta godkända värde").fill("23")
    await new_item.get_by_role("button", name="Lägg till punkten").click()
    await page.locator("#ny-lower-error", has_text="Lägsta godkända värde är större än det högsta.").wait_for()
    new_item = page.locator("section", has=page.get_by_role("heading", name="Lägg till en punkt"))
    await new_item.get_by_label("Lägsta godkända värde").fill("21,5")
    await new_item.get_by_role("button", name="Lägg till punkten").click()
    await page.locator("#punkt-batterispanning_under_last").wait_for()
    await page.get_by_role("button", name="Flytta upp punkten ”Batterispänning under last”").click()
    await page.get_by_text("Ändringen är sparad i utkastet.").wait_for()
    await no_axe_violations(page)

    await page.get_by_role("link", name="Förhandsvisa som teknikern ser den").click()
    await page.get_by_role("heading", name="Förhandsvisning: Förebyggande underhåll").wait_for()
    assert await page.get_by_role("button", name="Spara checklistan").is_disabled()
    await no_axe_violations(page)
    await page.go_back()
    await page.get_by_role("button", name="Publicera version 2").click()
    await page.get_by_text("Versionen är publicerad.").wait_for()

    newer = await fu_order_for_today(world, 2)

    context = await browser.new_context(locale="sv-SE", viewport={"width": 360, "height": 740})
    phone = await context.new_page()
    try:
        await sign_in_with_passkey(phone, live_server, world, "technician", START_PAGES[Role.technician])
        await phone.goto(f"{live_server}/besok/{newer}")
        await phone.get_by_role("heading", name="Checklista FU (version 2)").wait_for()
        assert await phone.locator("fieldset.check-item", has_text="Batterispänning under last").count() == 1
        await phone.goto(f"{live_server}/besok/{older}")
        await phone.get_by_role("heading", name="Checklista FU (version 1)").wait_for()
        assert await phone.locator("fieldset.check-item", has_text="Batterispänning under last").count() == 0
        assert await phone.locator("fieldset.check-item", has_text="Ram och sits hela").count() == 1
    finally:
        await context.close()

"""The device register in Chromium, as a coordinator on a phone 320 px wide: find a device in the
list, find a patient (htmx swaps the lending form in), lend the device, take it back. axe-core
checks each page on the way: the list, a new device refused, the page with the search's results,
the page of a lent device."""

from __future__ import annotations

import secrets

import pytest
from axe_playwright_python.async_playwright import Axe

from backend import db
from tests.e2e.conftest import sign_in_with_passkey
from tests.support.factories import add_device, add_patient, delete_world, make_world

WIDTH = 320


@pytest.fixture
async def world(database):
    world = await make_world()
    world.patient = await add_patient(world, given="Gunborg", family="Tjäderström")
    world.device = await add_device(world, holder=None, individnummer="E000001")
    yield world
    await delete_world(world)


@pytest.fixture
async def phone(browser):
    address = f"127.{secrets.randbelow(250)}.{secrets.randbelow(250)}.{secrets.randbelow(250) + 1}"
    context = await browser.new_context(locale="sv-SE", viewport={"width": WIDTH, "height": 640},
                                        extra_http_headers={"X-Forwarded-For": address})
    page = await context.new_page()
    yield page
    await context.close()


async def assert_accessible(page) -> None:
    results = await Axe().run(page)
    assert results.violations_count == 0, results.generate_report()
    width = await page.evaluate("document.documentElement.scrollWidth")
    assert width <= WIDTH, f"{page.url} scrolls sideways at {WIDTH} px ({width} px wide)"


async def test_a_coordinator_lends_a_device_and_takes_it_back_on_a_phone(phone, live_server, world):
    page = phone
    await sign_in_with_passkey(page, live_server, world, "coordinator", "/arbetsordrar")

    await page.goto(f"{live_server}/admin/hjalpmedel")
    await page.get_by_label("Sök").fill("e000001")
    await page.get_by_role("button", name="Sök", exact=True).click()
    await page.wait_for_url("**/admin/hjalpmedel?sok=e000001*")
    await assert_accessible(page)
    await page.get_by_role("link", name="E000001").click()

    await page.get_by_label("Sök patient").fill("Tjäderström")
    await page.get_by_role("button", name="Sök patient").click()
    # htmx swaps the lending form in without leaving the page.
    choice = page.get_by_label("Tjäderström, Gunborg", exact=False)
    await choice.wait_for()
    assert page.url.endswith("/admin/hjalpmedel/E000001")
    await assert_accessible(page)
    await choice.check()
    await page.get_by_role("button", name="Låna ut").click()
    await page.wait_for_url("**/admin/hjalpmedel/E000001?klart=utlanad")
    assert "Utlånad till Gunborg Tjäderström" in await page.locator("main").inner_text()
    await assert_accessible(page)
    assert await db.fetchval("SELECT holder FROM device WHERE id = $1", world.device) == world.patient

    await page.get_by_label("I förråd").check()
    await page.get_by_role("button", name="Registrera återlämning").click()
    await page.wait_for_url("**/admin/hjalpmedel/E000001?klart=aterlamnad")
    assert await db.fetchval("SELECT holder FROM device WHERE id = $1", world.device) is None


async def test_a_refused_new_device_is_accessible_with_its_messages(phone, live_server, world):
    page = phone
    await sign_in_with_passkey(page, live_server, world, "admin", "/admin/inbjudningar")
    await page.goto(f"{live_server}/admin/hjalpmedel/ny")
    await assert_accessible(page)
    await page.get_by_label("Individnummer").fill("E000001")
    await page.get_by_label("UDI").fill("åäö")
    await page.get_by_role("button", name="Registrera").click()
    await page.wait_for_selector(".error-summary")
    summary = await page.locator(".error-summary").inner_text()
    assert "Välj artikel" in summary and "Skriv UDI" in summary
    assert await page.get_by_label("Individnummer").input_value() == "E000001"
    await assert_accessible(page)

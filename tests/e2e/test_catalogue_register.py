"""The catalogue in Chromium, as a coordinator on a phone 320 px wide: give a category its own
self-checks (the public fault page shows them instead of the built-in ones), give a device its own
FU interval (its card shows it), refused input shown next to its field. axe-core checks each page
on the way, and none scrolls sideways."""

from __future__ import annotations

import secrets

import pytest
from axe_playwright_python.async_playwright import Axe

from backend.maintenance import service as maintenance
from tests.e2e.conftest import sign_in_with_passkey
from tests.support.factories import add_device, delete_world, device_token, make_world

WIDTH = 320


@pytest.fixture
async def world(database):
    world = await make_world()
    await maintenance.publish_checklist(world.category, [
        {"key": "brakes", "text": "Motorbromsar håller", "safety_critical": True, "measurement": None}])
    world.token = await device_token(world, await add_device(world, holder=None, individnummer="C000001"))
    yield world
    await delete_world(world)


async def new_page(browser):
    address = f"127.{secrets.randbelow(250)}.{secrets.randbelow(250)}.{secrets.randbelow(250) + 1}"
    context = await browser.new_context(locale="sv-SE", viewport={"width": WIDTH, "height": 640},
                                        extra_http_headers={"X-Forwarded-For": address})
    return context, await context.new_page()


async def assert_accessible(page) -> None:
    results = await Axe().run(page)
    assert results.violations_count == 0, results.generate_report()
    width = await page.evaluate("document.documentElement.scrollWidth")
    assert width <= WIDTH, f"{page.url} scrolls sideways at {WIDTH} px ({width} px wide)"


async def test_a_coordinator_sets_a_categorys_self_checks_and_a_devices_own_interval(browser, live_server, world):
    context, page = await new_page(browser)
    try:
        await sign_in_with_passkey(page, live_server, world, "coordinator", "/arbetsordrar")
        await page.get_by_role("link", name="Register").click()
        await page.get_by_role("link", name="Hjälpmedelskategorier").click()
        await assert_accessible(page)
        await page.get_by_role("link", name="Elrullstol").click()
        await page.fill("#iso_code", "12 23 6")
        await page.fill("#self_checks", "Är stolen laddad?\nLyser lampan på styrboxen?")
        await page.get_by_role("button", name="Spara").click()
        assert await page.locator("#iso_code-error").inner_text() == (
            "Skriv ISO 9999-koden som två, fyra eller sex siffror i par, till exempel 12 23 06.")
        assert await page.input_value("#self_checks") == "Är stolen laddad?\nLyser lampan på styrboxen?"
        await assert_accessible(page)
        await page.fill("#iso_code", "122306")
        await page.get_by_role("button", name="Spara").click()
        await page.wait_for_selector("text=Ändringarna är sparade.")
        assert await page.input_value("#iso_code") == "12 23 06"
        assert "Egenkontroller" in await page.locator(".change-history").inner_text()

        await page.goto(f"{live_server}/admin/hjalpmedel/C000001/fu")
        await assert_accessible(page)
        await page.get_by_label("Eget intervall (dagar) för Förebyggande underhåll").fill("200")
        await page.get_by_role("button", name="Spara eget intervall för Förebyggande underhåll").click()
        await page.wait_for_selector("text=Hjälpmedlets eget intervall är sparat.")
        await page.goto(f"{live_server}/enheter/C000001")
        assert "Förebyggande underhåll: var 200:e dag" in await page.locator(".facts").first.inner_text()
    finally:
        await context.close()

    context, public = await new_page(browser)
    try:
        await public.goto(f"{live_server}/f/{world.token}")
        checks = await public.locator("ul.checks li").all_inner_texts()
        assert checks == ["Är stolen laddad?", "Lyser lampan på styrboxen?"]
    finally:
        await context.close()

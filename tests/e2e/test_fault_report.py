"""The public fault report in Chromium, as a relative with a phone 320 px wide would make it,
with the keyboard alone; axe-core (bundled by axe-playwright-python, nothing fetched) checks
the device page, the form with errors, the receipt and the status page."""

from __future__ import annotations

import secrets

import pytest
from axe_playwright_python.async_playwright import Axe

from tests.support.factories import add_device, add_patient, delete_world, device_token, make_world

WIDTH = 320


@pytest.fixture
async def world(database):
    world = await make_world()
    patient = await add_patient(world, given="Gunborg", family="Tjäderström", street="Vinkelgränd 77")
    world.token = await device_token(world, await add_device(world, holder=patient))
    yield world
    await delete_world(world)


@pytest.fixture
async def phone(browser):
    # The server trusts X-Forwarded-For from loopback (uvicorn behind a proxy): this "phone" gets
    # an address of its own, so the per-address limit of the other browser tests is not shared.
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


async def tab_to(page, selector: str, limit: int = 80) -> None:
    """Press Tab until the element matching `selector` has the focus, as a keyboard user would."""
    for _ in range(limit):
        await page.keyboard.press("Tab")
        if await page.evaluate("(s) => document.activeElement && document.activeElement.matches(s)", selector):
            return
    raise AssertionError(f"{selector} cannot be reached with Tab")


async def test_report_a_fault_on_a_narrow_phone_with_the_keyboard_alone(phone, live_server, world):
    page = phone
    await page.goto(f"{live_server}/f/{world.token}")
    assert await page.locator("h1").inner_text() == "Felanmälan: Elrullstol"
    await assert_accessible(page)

    await tab_to(page, 'a[href$="/anmal"]')
    await page.keyboard.press("Enter")
    await page.wait_for_url(f"{live_server}/f/{world.token}/anmal")

    # Send with a name typed but the rest missing: errors, with the name kept.
    await tab_to(page, "#contact_name")
    await page.keyboard.type("Kim Anhörigsson")
    await tab_to(page, 'button[type="submit"]')
    await page.keyboard.press("Enter")
    await page.locator(".error-summary").wait_for()
    assert await page.title() == "Fel i formuläret – Felanmälan: Elrullstol – Runda"
    assert await page.locator("#contact_name").input_value() == "Kim Anhörigsson"
    await assert_accessible(page)

    # The summary's first link takes the focus to the question it is about.
    await tab_to(page, '.error-summary a[href="#problems"]')
    await page.keyboard.press("Enter")
    assert await page.evaluate("document.activeElement.id") == "problems"
    await page.keyboard.press("Space")  # the first fault for a powered wheelchair: it cannot be driven
    for question, answer in (("usable", "no"), ("can_bring_in", "no"), ("needs_replacement", "unsure")):
        await tab_to(page, f'input[name="{question}"]')
        while await page.evaluate("document.activeElement.value") != answer:
            await page.keyboard.press("ArrowDown")  # arrows move between a group's radio buttons
    await tab_to(page, "#contact_phone")
    await page.keyboard.type("070-123 45 67")
    await tab_to(page, 'button[type="submit"]')
    await page.keyboard.press("Enter")

    await page.get_by_role("heading", name="Tack! Felanmälan är skickad").wait_for()
    await assert_accessible(page)
    link = await page.locator(".case-link a").inner_text()
    assert link.startswith(f"{live_server}/arende/")
    number = (await page.locator("strong").first.inner_text()).strip()

    await page.goto(link)
    assert await page.locator("h1").inner_text() == f"Felanmälan {number}"
    assert "Status: Mottagen" in await page.locator("main").inner_text()
    await assert_accessible(page)
    for page_text in [await page.content()]:
        assert "Tjäderström" not in page_text and "Vinkelgränd" not in page_text

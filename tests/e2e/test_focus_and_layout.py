"""Small things a browser shows: a refused form puts the focus on what to fix, and the
technician's sync bar has its place from the first paint, so nothing on the page moves."""

from __future__ import annotations

import secrets
from datetime import date

import pytest

from tests.e2e.conftest import sign_in_with_passkey
from tests.support.factories import add_device, add_patient, add_work_order, delete_world, device_token, make_world


@pytest.fixture
async def world(database):
    world = await make_world()
    patient = await add_patient(world)
    device = await add_device(world, holder=patient)
    world.token = await device_token(world, device)
    world.order = await add_work_order(world, device, assignee=world.staff["technician"], planned=date.today(),
                                       patient=patient, description="Joysticken svarar inte")
    yield world
    await delete_world(world)


async def test_a_refused_form_moves_the_focus_to_the_error_summary(browser, live_server, world):
    address = f"127.{secrets.randbelow(250)}.{secrets.randbelow(250)}.{secrets.randbelow(250) + 1}"
    context = await browser.new_context(locale="sv-SE", viewport={"width": 390, "height": 800},
                                        extra_http_headers={"X-Forwarded-For": address})
    page = await context.new_page()
    try:
        await page.goto(f"{live_server}/f/{world.token}/anmal")
        assert await page.evaluate("document.activeElement === document.body")
        await page.locator('button[type="submit"]').click()
        await page.locator(".error-summary").wait_for()
        await page.wait_for_function("() => document.activeElement.classList.contains('error-summary')", timeout=5000)
    finally:
        await context.close()


async def test_the_sync_bar_does_not_push_the_page_down(page, live_server, world):
    await sign_in_with_passkey(page, live_server, world, "technician", "/min-dag")
    await page.goto(f"{live_server}/besok/{world.order}")
    await page.wait_for_function("() => !document.querySelector('#sync-state .sync-text').textContent.includes('Kontrollerar')")
    shift = await page.evaluate("""() => new Promise(resolve => {
        new PerformanceObserver(list => resolve(list.getEntries().filter(e => !e.hadRecentInput)
            .reduce((sum, e) => sum + e.value, 0))).observe({type: "layout-shift", buffered: true});
        setTimeout(() => resolve(0), 500);
    })""")
    assert shift < 0.01, f"layout shift {shift:.3f} while the page loaded"

"""Runda installs as an app: Chromium's own installability check finds nothing missing, and
pages a technician opened still open without a network."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS, sign_in_with_passkey
from tests.support.factories import delete_world, make_world


@pytest.fixture
async def world(database):
    world = await make_world()
    yield world
    await delete_world(world)


async def test_chromium_finds_the_app_installable_and_the_shell_works_offline(live_server, world, tmp_path):
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        context = await playwright.chromium.launch_persistent_context(
            str(tmp_path / "profile"), executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS, locale="sv-SE",
            viewport={"width": 360, "height": 740})
        page = context.pages[0] if context.pages else await context.new_page()
        try:
            await sign_in_with_passkey(page, live_server, world, "technician", "/min-dag")
            assert await page.evaluate("async () => !!(await navigator.serviceWorker.ready).active")
            await page.reload()  # now controlled by the service worker

            cdp = await context.new_cdp_session(page)
            errors = (await cdp.send("Page.getInstallabilityErrors"))["installabilityErrors"]
            assert errors == []
            manifest = await cdp.send("Page.getAppManifest")
            assert not manifest.get("errors")

            await context.set_offline(True)
            await page.goto(f"{live_server}/en-sida-som-aldrig-hamtats")
            await page.get_by_role("heading", name="Ingen anslutning just nu").wait_for()
            await context.set_offline(False)
        finally:
            await context.close()

"""Deactivating a technician in the staff register ends their open session on their own phone at
once: two browsers, the technician signed in on one, the admin on the other. axe-core checks the
register's pages as the admin sees them, on a 320 px phone."""

from __future__ import annotations

import pytest
from axe_playwright_python.async_playwright import Axe

from backend import db
from backend.accounts.routes import START_PAGES
from backend.accounts.tables import Role
from tests.e2e.conftest import sign_in_with_passkey
from tests.support.factories import delete_world, make_world

WIDTH = 320


@pytest.fixture
async def world(database):
    world = await make_world()
    yield world
    await delete_world(world)


@pytest.fixture
async def two_browsers(browser):
    contexts = [await browser.new_context(locale="sv-SE", viewport={"width": WIDTH, "height": 640})
                for _ in range(2)]
    yield [await context.new_page() for context in contexts]
    for context in contexts:
        await context.close()


async def test_deactivating_a_technician_ends_their_open_session_on_another_browser(two_browsers, live_server,
                                                                                    world):
    phone, desk = two_browsers
    await sign_in_with_passkey(phone, live_server, world, "technician", START_PAGES[Role.technician])
    await sign_in_with_passkey(desk, live_server, world, "admin", START_PAGES[Role.admin])

    await desk.goto(f"{live_server}/admin/personal")
    await desk.get_by_role("link", name="Test technician", exact=True).click()
    await desk.get_by_role("heading", name="Test technician", level=1).wait_for()
    assert "Testdator technician" in await desk.locator("main").inner_text()  # the passkey the phone made
    results = await Axe().run(desk)
    assert results.violations_count == 0, results.generate_report()
    assert await desk.evaluate("document.documentElement.scrollWidth") <= WIDTH

    await desk.get_by_role("button", name="Inaktivera Test technician").click()
    await desk.get_by_text("Alla personens inloggningar är avslutade.").wait_for()
    assert await db.fetchval("SELECT active FROM staff_user WHERE id = $1", world.staff["technician"]) is False

    await phone.reload()
    await phone.wait_for_url(f"{live_server}/logga-in**")
    assert await phone.get_by_role("button", name="Logga in med passkey").is_visible()

    # The register lists them as inactive, with their history kept.
    await desk.goto(f"{live_server}/admin/personal?status=inactive")
    row = desk.get_by_role("row").filter(has_text="Test technician")
    assert "Inaktiv" in await row.inner_text()
    results = await Axe().run(desk)
    assert results.violations_count == 0, results.generate_report()

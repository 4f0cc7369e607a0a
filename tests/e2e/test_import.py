"""An admin imports devices in Chromium: the dry run shows the refused lines with their line numbers
and writes nothing; confirmed, the import's progress shows while it runs (also after a reload) and
the page shows the result when it is done. axe-core checks each state of the page."""

from __future__ import annotations

import asyncio

import pytest
from axe_playwright_python.async_playwright import Axe

from backend import db
from backend.accounts.routes import START_PAGES
from backend.accounts.tables import Role
from tests.e2e.conftest import sign_in_with_passkey
from tests.support.factories import delete_world, make_world

DEVICES = ("Individnummer;Artikelnummer;Serienummer;Status;I bruk sedan;Senaste FU\n"
           "E100001;100200;PM-1;I förråd;2024-03-01;2025-03-01\n"
           "E100002;100200;PM-2;I förråd;2024-03-01;\n"
           "E100003;424242;PM-3;I förråd;2024-03-01;\n"
           "E100004;100200;PM-4;I förråd;2024-03-01;\n"
           "E100005;100200;PM-5;Borttappad;2024-03-01;\n")


@pytest.fixture
async def world(database):
    world = await make_world()
    yield world
    await delete_world(world)


async def assert_accessible(page) -> None:
    results = await Axe().run(page)
    assert results.violations_count == 0, results.generate_report()


async def devices(world) -> int:
    return await db.fetchval("SELECT count(*) FROM device WHERE organisation = $1", world.organisation)


async def test_an_import_with_refused_lines_shows_them_and_applies_nothing_until_confirmed(page, live_server, world):
    await sign_in_with_passkey(page, live_server, world, "admin", START_PAGES[Role.admin])
    await page.get_by_role("link", name="Register").click()
    await page.get_by_role("link", name="Import").click()
    await page.wait_for_url(f"{live_server}/admin/import")
    await page.get_by_label("Filen innehåller").select_option(label="Hjälpmedel")
    await page.locator("input#file").set_input_files(
        files=[{"name": "hjalpmedel.csv", "mimeType": "text/csv", "buffer": DEVICES.encode("cp1252")}])
    await page.get_by_role("button", name="Provkör").click()
    await page.wait_for_url(f"{live_server}/admin/import/*")

    refused = page.get_by_role("region", name="Avvisade rader").locator("tbody tr")
    assert await refused.all_inner_texts() == [
        "4\tArtikelnumret 424242 finns inte i sortimentet. Importera artiklarna först.",
        "6\tStatus: borttappad är ingen status Runda känner (I bruk, I förråd, Ur bruk, På reparation, "
        "Rekonditioneras, Utdömd).",
    ]
    assert "3\nnya" in await page.locator(".stats").inner_text()
    await assert_accessible(page)
    assert await devices(world) == 0  # the dry run wrote nothing

    # Another import of the organisation holds it up, so this one is seen while it runs.
    holding, release = asyncio.Event(), asyncio.Event()

    async def another_import() -> None:
        async with db.transaction():
            await db.execute("SELECT pg_advisory_xact_lock(hashtext('import'), $1)", world.organisation)
            holding.set()
            await release.wait()

    blocker = asyncio.create_task(another_import())
    await holding.wait()
    try:
        await page.get_by_role("button", name="Bekräfta och importera 3 rader").click()
        status = page.get_by_role("status").filter(has_text="Förlopp")
        await status.get_by_text("Väntar på att andra importer ska bli klara").wait_for(timeout=15_000)
        await assert_accessible(page)
        await page.reload()  # the state is the server's: a reload shows the same
        await status.get_by_text("Väntar på att andra importer ska bli klara").wait_for(timeout=15_000)
        assert await devices(world) == 0
    finally:
        release.set()
        await blocker
    # The page polls; when the import is done it shows the result.
    await page.get_by_text("Importen är klar").wait_for(timeout=20_000)
    assert "3\nnya" in await page.locator(".stats").inner_text()
    assert await page.get_by_role("button", name="Bekräfta och importera 3 rader").count() == 0
    await assert_accessible(page)
    assert await devices(world) == 3

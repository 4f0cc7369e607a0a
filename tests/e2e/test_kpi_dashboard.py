"""The coordinator's KPI dashboard in a real browser: at a phone's 390 px and a desktop's 1280 px
with no axe violations, every chart an image with a name and the same numbers in a table, and the
board report written with a comment, made and downloaded as a PDF that names every indicator."""

from __future__ import annotations

import io
import re

import pytest
from axe_playwright_python.async_playwright import Axe
from pypdf import PdfReader

from backend import db
from backend.reports import board, facts
from backend.workdays import add_months, month_start
from backend.reports.kpi import INDICATORS
from backend.workdays import add_working_days, today
from tests.e2e.conftest import sign_in_with_passkey
from tests.http.test_kpi_pages import PATIENTS, repair
from tests.support.factories import add_patient, delete_world, make_world


@pytest.fixture
async def region(database):
    world = await make_world()
    received = add_working_days(add_months(month_start(today()), -1), 1)
    for n, (year, sex, unit) in enumerate(PATIENTS):
        p = await add_patient(world, care_unit=world.care_unit if unit == "own" else world.other_care_unit)
        await db.execute("UPDATE patient SET birth_year = $2, sex = $3 WHERE id = $1", p, year, sex)
        await repair(world, p, received, 3 if n < 5 else 9)
    await facts.refresh(world.organisation, today())
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


async def test_the_dashboard_and_a_split_are_accessible_and_the_board_report_names_every_indicator(
        browser, live_server, region):
    context = await browser.new_context(locale="sv-SE", viewport={"width": 390, "height": 800}, accept_downloads=True)
    page = await context.new_page()
    axe, found = Axe(), []
    try:
        await sign_in_with_passkey(page, live_server, region, "coordinator", "/arbetsordrar")
        await page.goto(f"{live_server}/oversikt")
        for ind in INDICATORS:
            assert await page.get_by_role("link", name=ind.name).count() >= 1, ind.name
        found += await no_violations(page, axe)

        await page.get_by_role("link", name="Reparation klar inom 5 arbetsdagar").first.click()
        await page.wait_for_url(re.compile(r".*/oversikt/kpi/reparation"))
        await page.get_by_label("Fördela på").select_option("alder")
        await page.get_by_role("button", name="Visa").click()
        await page.wait_for_url(re.compile(r".*fordelning=alder.*"))
        charts = page.locator("svg.kpi-chart")
        assert await charts.count() == 2
        for n in range(2):
            assert await charts.nth(n).get_attribute("role") == "img"
            assert (await charts.nth(n).locator("title").text_content()).strip()
        # The split's table: 65–79 has one patient here: suppressed.
        assert await page.get_by_role("row", name=re.compile(r"65–79 år\s+< 5")).count() == 1
        found += await no_violations(page, axe)

        await page.goto(f"{live_server}/oversikt/rapport")
        await page.get_by_label("Reparation klar inom 5 arbetsdagar").fill("Två tekniker sjuka vecka 12.")
        await page.get_by_role("button", name="Spara kommentarer").click()
        await page.wait_for_url(re.compile(r".*sparat=1.*"))
        found += await no_violations(page, axe)
        month = add_months(month_start(today()), -1).strftime("%Y-%m")
        await page.get_by_label("Från månad").fill(month)
        await page.get_by_label("Till månad").fill(month)
        await page.get_by_role("button", name="Skapa PDF").click()
        await page.wait_for_url(re.compile(r".*/oversikt/rapport/\d+$"))
        found += await no_violations(page, axe)
        async with page.expect_download() as download_info:
            await page.get_by_role("link", name="Hämta rapporten (PDF)").click()
        download = await download_info.value
        pdf = open(await download.path(), "rb").read()
    finally:
        await context.close()
    assert not found, "\n\n".join(found)
    text = re.sub(r"\s+", " ", "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages))
    for ind in INDICATORS:
        assert re.sub(r"\s+", " ", board.latin1(ind.name)) in text, ind.name
    assert "Två tekniker sjuka vecka 12." in text

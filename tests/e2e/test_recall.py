"""A safety notice in Chromium, as a coordinator on a phone 320 px wide: enter a recall by serial
range, see exactly the units it names (and none of a patient's details), make their orders, and
make them again: nothing new. axe-core checks each page on the way."""

from __future__ import annotations

import re
import secrets
from datetime import date, timedelta

import pytest

from backend import db
from tests.e2e.conftest import sign_in_with_passkey
from tests.e2e.test_device_register import assert_accessible
from tests.integration.recalls.conftest import set_identity
from tests.support.factories import add_device, add_patient, delete_world, make_world
from tests.support.protected import assert_no_protected_details

WIDTH = 320


@pytest.fixture
async def world(database):
    world = await make_world()
    world.protected = await add_patient(world, given="Sigrid", family="Skyddsdal", street="Gömda stigen 4",
                                        phone="070-777 66 55", door_code="5566", protected=True)
    world.units = {}
    for number, holder, serial in [("E100001", world.protected, "ROL-2012-0005"), ("E100002", None, "ROL-2012-0400"),
                                   ("E100003", None, "ROL-2012-0401"), ("E100004", None, "ROL-2013-0100")]:
        world.units[number] = await add_device(world, holder=holder, individnummer=number)
        await set_identity(world.units[number], serial)
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


async def orders(world) -> int:
    return await db.fetchval("SELECT count(*) FROM work_order WHERE organisation = $1", world.organisation)


async def test_a_coordinator_enters_a_recall_by_serial_range_and_makes_its_orders_once(phone, live_server, world):
    page = phone
    await sign_in_with_passkey(page, live_server, world, "coordinator", "/arbetsordrar")
    await page.get_by_role("link", name="Säkerhetsmeddelanden").first.click()
    await page.wait_for_url("**/sakerhetsmeddelanden")
    await assert_accessible(page)
    await page.get_by_role("link", name="Registrera ett säkerhetsmeddelande").click()

    await page.get_by_label("Rubrik").fill("Ramen kan spricka vid svetsfog")
    await page.get_by_label("Tillverkare", exact=True).fill("Permobil")
    await page.get_by_label("Tillverkarens referens").fill("FSN-2026-014")
    await page.get_by_label("Artiklar").select_option(str(world.article))
    await page.get_by_label("Serienummer från").fill("ROL-2012-0001")
    await page.get_by_label("Serienummer till").fill("ROL-2012-0400")
    await page.get_by_label("Hämtning och karantän").check()
    # A deadline already passed is refused, next to its field, with the rest kept.
    await page.get_by_label("Klart senast").fill("2020-01-01")
    await page.get_by_role("button", name="Registrera och visa berörda hjälpmedel").click()
    await page.wait_for_url("**/sakerhetsmeddelanden/ny")
    assert "Sista dagen för åtgärden har redan passerat." in await page.locator("main").inner_text()
    await assert_accessible(page)
    await page.get_by_label("Klart senast").fill((date.today() + timedelta(days=14)).isoformat())
    await page.get_by_role("button", name="Registrera och visa berörda hjälpmedel").click()
    await page.wait_for_url(re.compile(r".*/sakerhetsmeddelanden/\d+\?klart=skapat"))

    units = page.locator("#recall-units tbody tr td:first-child")
    assert sorted(await units.all_inner_texts()) == ["E100001", "E100002"]
    assert "2 hjälpmedel berörs" in await page.locator("#recall-total").inner_text()
    await assert_accessible(page)
    await assert_no_protected_details(await page.content(), world.protected)
    assert "Skyddsdal" not in await page.content()

    before = await orders(world)
    await page.get_by_role("button", name="Skapa arbetsordrar").click()
    await page.wait_for_url("**klart=ordrar&skapade=2")
    assert "2 arbetsordrar skapades." in await page.locator("main").inner_text()
    assert await orders(world) == before + 2
    await assert_accessible(page)

    await page.get_by_role("button", name="Skapa arbetsordrar").click()
    await page.wait_for_url("**klart=ordrar&skapade=0")
    assert "Inga nya arbetsordrar" in await page.locator("main").inner_text()
    assert await orders(world) == before + 2
    described = await db.fetch("SELECT description, device FROM work_order WHERE organisation = $1", world.organisation)
    assert {r["device"] for r in described} == {world.units["E100001"], world.units["E100002"]}
    assert all(r["description"].startswith("Hämtning och karantän enligt säkerhetsmeddelande FSN-2026-014")
               for r in described)

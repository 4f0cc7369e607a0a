"""The catalogue registers over HTTP: categories, articles and FU schedules through their forms
(a refusal answers 400 with the message next to its field, what was typed kept and nothing
written), the lists' search, filter and paging at a fixed number of queries, a device's own
interval, and the history on every page."""

from __future__ import annotations

import asyncio
import re

import pytest

from backend import db
from backend.maintenance import service as maintenance
from tests.support.factories import add_device, delete_world, make_world
from tests.support.http import post_form, signed_in_client


@pytest.fixture(scope="module")
async def world(database):
    world = await make_world()
    await maintenance.publish_checklist(world.category, [
        {"key": "brakes", "text": "Motorbromsar håller", "safety_critical": True, "measurement": None}])
    await db.execute("INSERT INTO checklist_template (category, code, name, version, items, published_at) "
                     "VALUES ($1, 'sling', 'Selkontroll', 50, '[]', now())", world.category)
    world.device = await add_device(world, holder=None, individnummer="K000001")
    world.default = await db.fetchval("SELECT id FROM fu_schedule WHERE category = $1", world.category)
    yield world
    await delete_world(world)


@pytest.fixture(scope="module")
async def coordinator(app, world):
    client = await signed_in_client(app, world.organisation, world.staff["coordinator"])
    yield client
    await client.aclose()


async def queries_for(client, url: str) -> int:
    await client.get(url)  # the session's first use after sign-in does its own book-keeping once
    with db.counting_queries() as counted:
        response = await client.get(url)
        await asyncio.sleep(0)
    assert response.status_code == 200, response.text
    return counted[0]


async def count(table: str, organisation: int) -> int:
    return await db.fetchval(f"SELECT count(*) FROM {table} WHERE organisation = $1", organisation)


def created_id(response, base: str) -> int:
    assert response.status_code == 303, response.text
    match = re.fullmatch(rf"{base}/(\d+)\?klart=skapad", response.headers["location"])
    assert match, response.headers["location"]
    return int(match.group(1))


async def test_a_category_is_created_and_edited_through_its_form_with_its_history_on_the_page(world, coordinator):
    assert (await coordinator.get("/admin/kategorier/ny")).status_code == 200
    created = await post_form(coordinator, "/admin/kategorier/ny", {
        "name": "Taklyft", "iso_code": "123612", "expected_life_years": "10",
        "self_checks": "Är lyften laddad?\n\n  Är nödstoppet   utdraget?  "})
    category = created_id(created, "/admin/kategorier")
    page = await coordinator.get(created.headers["location"])
    assert "Sparat." in page.text and "12 36 12" in page.text and "Skapad" in page.text
    assert "Är lyften laddad?\nÄr nödstoppet utdraget?" in page.text  # one check a line, spaces tidied
    saved = await post_form(coordinator, f"/admin/kategorier/{category}", {
        "name": "Taklyft", "iso_code": "12 36", "expected_life_years": "12", "self_checks": ""})
    assert saved.headers["location"] == f"/admin/kategorier/{category}?klart=sparad"
    page = await coordinator.get(saved.headers["location"])
    assert "Ändrad" in page.text and "<del>12 36 12</del>" in page.text
    found = await coordinator.get("/admin/kategorier?q=takl")
    assert f'href="/admin/kategorier/{category}"' in found.text and "Elrullstol" not in found.text


async def test_a_refused_category_answers_400_next_to_the_field_keeping_what_was_typed(world, coordinator):
    before = await count("device_category", world.organisation)
    refused = await post_form(coordinator, "/admin/kategorier/ny", {
        "name": "Gåbord", "iso_code": "12-06", "expected_life_years": "många", "self_checks": ""})
    assert refused.status_code == 400
    assert "Skriv livslängden i hela år." in refused.text
    refused = await post_form(coordinator, "/admin/kategorier/ny", {
        "name": "Gåbord", "iso_code": "12-06", "expected_life_years": "8", "self_checks": ""})
    assert refused.status_code == 400
    assert re.search(r'id="iso_code-error">Skriv ISO 9999-koden', refused.text)
    assert re.search(r'id="iso_code" name="iso_code" type="text" value="12-06"[^>]*aria-invalid="true"', refused.text)
    assert 'value="Gåbord"' in refused.text
    assert await count("device_category", world.organisation) == before


async def test_an_article_is_created_searched_filtered_deactivated_and_deleted(world, coordinator):
    created = await post_form(coordinator, "/admin/artiklar/ny", {
        "article_number": "185671", "name": "Liko Viking M", "manufacturer": "Liko",
        "category": str(world.category), "expected_life_years": ""})
    article = created_id(created, "/admin/artiklar")
    taken = await post_form(coordinator, "/admin/artiklar/ny", {
        "article_number": "185671", "name": "Annan", "manufacturer": "", "category": "", "expected_life_years": ""})
    assert taken.status_code == 400 and "Artikelnumret finns redan." in taken.text
    for url in ("/admin/artiklar?q=viking", "/admin/artiklar?q=liko", "/admin/artiklar?q=18567",
                f"/admin/artiklar?kategori={world.category}"):
        assert f'href="/admin/artiklar/{article}"' in (await coordinator.get(url)).text, url
    spare = await coordinator.get("/admin/artiklar?kategori=reservdelar")
    assert f'href="/admin/artiklar/{article}"' not in spare.text
    off = await post_form(coordinator, f"/admin/artiklar/{article}/inaktivera")
    assert off.headers["location"] == f"/admin/artiklar/{article}?klart=inaktiverad"
    page = await coordinator.get(off.headers["location"])
    assert "Inaktiv: erbjuds inte för nya hjälpmedel" in page.text and "Inaktiverad" in page.text
    gone = await post_form(coordinator, f"/admin/artiklar/{article}/ta-bort")
    assert gone.headers["location"] == "/admin/artiklar?klart=borttagen"
    assert (await coordinator.get(f"/admin/artiklar/{article}")).status_code == 404


async def test_an_article_with_devices_is_not_deleted(world, coordinator):
    refused = await post_form(coordinator, f"/admin/artiklar/{world.article}/ta-bort")
    assert refused.status_code == 400
    assert "Artikeln har hjälpmedel och kan inte tas bort. Inaktivera den i stället." in refused.text
    assert await db.fetchval("SELECT active FROM article WHERE id = $1", world.article)


async def test_schedules_are_added_edited_and_deactivated_on_an_article(world, coordinator):
    base = f"/admin/artiklar/{world.article}"
    page = await coordinator.get(base)
    assert '<option value="sling">Selkontroll</option>' in page.text
    refused = await post_form(coordinator, f"{base}/fu", {"schedule_name": "", "interval_days": "0",
                                                          "checklist_code": "battery"})
    assert refused.status_code == 400
    assert {"Skriv schemats namn, till exempel Förebyggande underhåll.", "Intervallet är 1–3650 dagar.",
            "Välj en av kategorins checklistor."} <= set(re.findall(r'class="field-error" id="[a-z_]+-error">([^<]+)<',
                                                                   refused.text))
    added = await post_form(coordinator, f"{base}/fu", {"schedule_name": "Selkontroll", "interval_days": "182",
                                                        "checklist_code": "sling", "before_new_user": "ja"})
    assert added.headers["location"] == f"{base}?klart=schema-tillagt"
    schedule = await db.fetchval("SELECT id FROM fu_schedule WHERE article = $1 AND name = 'Selkontroll'",
                                 world.article)
    saved = await post_form(coordinator, f"{base}/fu/{schedule}", {"schedule_name": "Selkontroll halvår",
                                                                   "interval_days": "180", "checklist_code": "sling"})
    assert saved.headers["location"] == f"{base}/fu/{schedule}?klart=sparad"
    page = await coordinator.get(saved.headers["location"])
    assert "Selkontroll halvår" in page.text and "<del>182</del>" in page.text and "<del>Ja</del>" in page.text
    off = await post_form(coordinator, f"{base}/fu/{schedule}/inaktivera")
    assert off.headers["location"] == f"{base}/fu/{schedule}?klart=inaktiverad"
    assert not await db.fetchval("SELECT active FROM fu_schedule WHERE id = $1", schedule)
    # A schedule is reached only through its own owner.
    assert (await coordinator.get(f"/admin/kategorier/{world.category}/fu/{schedule}")).status_code == 404


async def test_a_device_gets_its_own_interval_for_an_inherited_schedule_on_its_fu_page(world, coordinator):
    page = await coordinator.get("/admin/hjalpmedel/k000001/fu")
    assert page.status_code == 200 and "Det här gäller" in page.text
    refused = await post_form(coordinator, "/admin/hjalpmedel/K000001/fu",
                              {"overrides": str(world.default), "override_interval": "0"})
    assert refused.status_code == 400
    assert re.search(r'id="override_interval-error">Intervallet är 1–3650 dagar.', refused.text)
    done = await post_form(coordinator, "/admin/hjalpmedel/K000001/fu",
                           {"overrides": str(world.default), "override_interval": "200"})
    assert done.headers["location"] == "/admin/hjalpmedel/K000001/fu?klart=intervall"
    page = await coordinator.get(done.headers["location"])
    assert "(eget; ärvt 365)" in page.text
    card = await coordinator.get("/enheter/K000001")
    assert "var 200:e dag" in card.text
    own = await post_form(coordinator, "/admin/hjalpmedel/K000001/fu", {
        "schedule_name": "Batterikontroll", "interval_days": "90", "checklist_code": "sling"})
    assert own.headers["location"] == "/admin/hjalpmedel/K000001/fu?klart=schema-tillagt"
    assert (await coordinator.get("/admin/hjalpmedel/X999999/fu")).status_code == 404


async def test_the_lists_run_a_fixed_number_of_queries_whatever_their_length(world, coordinator):
    few = [await queries_for(coordinator, url) for url in ("/admin/kategorier", "/admin/artiklar")]
    for n in range(6):
        category = await db.fetchval(
            "INSERT INTO device_category (organisation, code, name, iso_code, expected_life_years) "
            "VALUES ($1, $2, $3, '09 12', 8) RETURNING id", world.organisation, f"k{n}", f"Kategori {n}")
        await db.execute("INSERT INTO fu_schedule (organisation, category, name, interval_days) "
                         "VALUES ($1, $2, 'FU', 365)", world.organisation, category)
        await db.execute("INSERT INTO article (organisation, article_number, name, category) "
                         "VALUES ($1, $2, 'Artikel', $3)", world.organisation, f"A{n}", category)
    many = [await queries_for(coordinator, url) for url in ("/admin/kategorier", "/admin/artiklar")]
    assert few == many and max(many) <= 4


async def test_the_lists_page_through_the_matches(world, coordinator):
    for n in range(55):
        await db.execute("INSERT INTO article (organisation, article_number, name) VALUES ($1, $2, 'Sida-artikel')",
                         world.organisation, f"P{n:03d}")
    first = await coordinator.get("/admin/artiklar?q=sida-artikel")
    assert "55 artiklar" in first.text and "Sida 1 av 2" in first.text and "sida=2" in first.text
    second = await coordinator.get("/admin/artiklar?q=sida-artikel&sida=2")
    assert second.text.count("Sida-artikel</td>") == 5 and "Föregående" in second.text

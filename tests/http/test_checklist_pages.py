"""The checklists register over HTTP: a list made and edited through its forms (with and without
htmx), refusals next to the field with nothing written, the preview as the technician's form, a
published version read-only with its history, and a list page whose queries do not grow."""

from __future__ import annotations

import asyncio
import json
import re

import pytest

from backend import db
from backend.maintenance import service as maintenance
from tests.support.factories import delete_world, make_world
from tests.support.http import csrf, post_form, signed_in_client


@pytest.fixture(scope="module")
async def world(database):
    world = await make_world()
    yield world
    await delete_world(world)


@pytest.fixture(scope="module")
async def admin(app, world):
    client = await signed_in_client(app, world.organisation, world.staff["admin"])
    yield client
    await client.aclose()


@pytest.fixture(scope="module")
async def coordinator(app, world):
    client = await signed_in_client(app, world.organisation, world.staff["coordinator"])
    yield client
    await client.aclose()


def revision(html: str) -> str:
    return re.search(r'name="seen" value="([0-9a-f]+)"', html).group(1)


async def items(template_id: int) -> list[dict]:
    return json.loads(await db.fetchval("SELECT items FROM checklist_template WHERE id = $1", template_id))


async def new_list(client, world, code: str) -> int:
    response = await post_form(client, "/admin/checklistor", {"category": str(world.category), "code": code,
                                                              "name": f"Lista {code}"})
    assert response.status_code == 303, response.text
    return int(re.search(r"/admin/checklistor/(\d+)\?klart=skapad", response.headers["location"]).group(1))


async def test_a_list_is_made_edited_and_published_through_its_forms(admin, world):
    draft = await new_list(admin, world, "fu")
    page = await admin.get(f"/admin/checklistor/{draft}?klart=skapad")
    assert page.status_code == 200 and "utkast till version 1" in page.text
    added = await post_form(admin, f"/admin/checklistor/{draft}/punkter", {
        "seen": revision(page.text), "text": "Skyddsjordsresistans", "kind": "measurement", "safety_critical": "1",
        "unit": "Ω", "lower": "", "upper": "0,3", "standard": "SS-EN 62353"})
    assert added.status_code == 303
    assert added.headers["location"].endswith("?klart=sparad#punkt-skyddsjordsresistans")
    page = await admin.get(f"/admin/checklistor/{draft}")
    assert "högst 0,3 Ω (SS-EN 62353)" in page.text
    published = await post_form(admin, f"/admin/checklistor/{draft}/publicera", {"seen": revision(page.text)})
    assert published.status_code == 303
    version = await admin.get(published.headers["location"])
    assert "Version 1" in version.text and "Versionen är publicerad" in version.text
    assert "Publicerad" in version.text and "Gör ett nytt utkast" in version.text  # its history, and what is next
    assert 'name="seen"' not in version.text  # nothing of it to edit
    stored = await items(draft)
    assert stored[0]["measurement"] == {"unit": "Ω", "min": None, "max": 0.3, "lowest": 0, "highest": 100,
                                        "standard": "SS-EN 62353"}


async def test_a_refused_item_is_shown_next_to_its_field_with_what_was_typed_and_nothing_is_written(admin, world):
    draft = await new_list(admin, world, "refused")
    page = await admin.get(f"/admin/checklistor/{draft}")
    response = await post_form(admin, f"/admin/checklistor/{draft}/punkter", {
        "seen": revision(page.text), "text": "Batterispänning", "kind": "measurement", "unit": "V",
        "lower": "27", "upper": "23,5"})
    assert response.status_code == 400
    assert re.search(r'id="ny-lower-error">Lägsta godkända värde är större än det högsta\.<', response.text)
    assert 'href="#ny-lower"' in response.text and 'value="23,5"' in response.text
    assert await items(draft) == []
    bad_unit = await post_form(admin, f"/admin/checklistor/{draft}/punkter", {
        "seen": revision(page.text), "text": "Tryck", "kind": "measurement", "unit": "psi", "upper": "3"})
    assert bad_unit.status_code == 400 and "Enheten ”psi” finns inte i listan" in bad_unit.text
    empty = await post_form(admin, f"/admin/checklistor/{draft}/punkter", {"seen": revision(page.text), "kind": "check"})
    assert empty.status_code == 400 and 'id="ny-text-error">Skriv vad teknikern ska kontrollera.<' in empty.text
    assert await items(draft) == []


async def test_with_htmx_the_editor_part_comes_back_and_an_item_moves(coordinator, world):
    draft = await new_list(coordinator, world, "htmx")
    seen = revision((await coordinator.get(f"/admin/checklistor/{draft}")).text)
    headers = {"hx-request": "true"}
    for text in ("Första", "Andra"):
        response = await coordinator.post(f"/admin/checklistor/{draft}/punkter", headers=headers, data={
            "seen": seen, "text": text, "kind": "check", "_csrf_token": await csrf(coordinator)})
        assert response.status_code == 200 and response.text.lstrip().startswith("<div id=\"utkast\">")
        assert "<html" not in response.text
        seen = revision(response.text)
    moved = await coordinator.post(f"/admin/checklistor/{draft}/punkter/andra/flytta", headers=headers, data={
        "seen": seen, "direction": "upp", "_csrf_token": await csrf(coordinator)})
    assert moved.status_code == 200
    assert [i["key"] for i in await items(draft)] == ["andra", "forsta"]
    stale = await coordinator.post(f"/admin/checklistor/{draft}/punkter/andra/ta-bort", headers=headers, data={
        "seen": seen, "_csrf_token": await csrf(coordinator)})
    assert stale.status_code == 400 and "Utkastet har ändrats sedan sidan visades" in stale.text
    assert len(await items(draft)) == 2
    # Published meanwhile (in another tab): the editor's part is gone, so htmx loads the version's page.
    seen = revision((await coordinator.get(f"/admin/checklistor/{draft}")).text)
    assert (await post_form(coordinator, f"/admin/checklistor/{draft}/publicera", {"seen": seen})).status_code == 303
    late = await coordinator.post(f"/admin/checklistor/{draft}/punkter/andra/ta-bort", headers=headers, data={
        "seen": seen, "_csrf_token": await csrf(coordinator)})
    assert late.headers["hx-redirect"] == f"/admin/checklistor/{draft}" and late.text == ""
    assert len(await items(draft)) == 2


async def test_the_preview_is_the_technicians_form_with_nothing_to_fill_in(admin, world):
    draft = await new_list(admin, world, "preview")
    seen = revision((await admin.get(f"/admin/checklistor/{draft}")).text)
    await post_form(admin, f"/admin/checklistor/{draft}/punkter", {
        "seen": seen, "text": "Motorbromsar håller", "kind": "check", "safety_critical": "1"})
    preview = await admin.get(f"/admin/checklistor/{draft}/forhandsvisning")
    assert preview.status_code == 200
    assert '<fieldset disabled class="preview">' in preview.text
    assert 'name="item-motorbromsar_haller"' in preview.text and "Säkerhetspunkt" in preview.text
    assert "Spara checklistan" in preview.text and "Checklista FU" in preview.text


async def test_a_second_draft_and_another_organisations_version_are_refused(admin, world):
    published = await maintenance.publish_checklist(world.category, [
        {"key": "frame", "text": "Ram hel", "safety_critical": False, "measurement": None}], code="second")
    first = await post_form(admin, f"/admin/checklistor/{published.id}/nytt-utkast")
    assert first.status_code == 303
    again = await post_form(admin, f"/admin/checklistor/{published.id}/nytt-utkast")
    assert again.status_code == 400 and "Listan har redan ett utkast" in again.text
    other = await make_world("Annan region")
    try:
        theirs = await maintenance.publish_checklist(other.category, [
            {"key": "frame", "text": "Ram hel", "safety_critical": False, "measurement": None}])
        assert (await admin.get(f"/admin/checklistor/{theirs.id}")).status_code == 404
        assert (await post_form(admin, f"/admin/checklistor/{theirs.id}/nytt-utkast")).status_code == 404
    finally:
        await delete_world(other)


async def test_a_new_list_needs_a_category_and_a_free_code(admin, world):
    before = await db.fetchval("SELECT count(*) FROM checklist_template")
    response = await post_form(admin, "/admin/checklistor", {"category": "", "code": "Fel kod!", "name": ""})
    assert response.status_code == 400
    for field, message in (("category", "Välj en hjälpmedelskategori."), ("code", "små bokstäver"),
                           ("name", "Skriv checklistans namn.")):
        assert re.search(rf'id="{field}-error">[^<]*{message}', response.text), field
    assert await db.fetchval("SELECT count(*) FROM checklist_template") == before


async def test_the_list_page_makes_as_many_queries_for_many_lists_as_for_one(admin, world):
    async def queries() -> int:
        await admin.get("/admin/checklistor")
        with db.counting_queries() as counted:
            response = await admin.get("/admin/checklistor")
            await asyncio.sleep(0)
        assert response.status_code == 200
        return counted[0]

    few = await queries()
    for n in range(5):
        category = await db.fetchval(
            "INSERT INTO device_category (organisation, code, name, iso_code, expected_life_years) "
            "VALUES ($1, $2, $3, '12 36 12', 10) RETURNING id", world.organisation, f"lift{n}", f"Lyft {n}")
        for code in ("fu", "sele"):
            await maintenance.publish_checklist(category, [
                {"key": "a", "text": "A", "safety_critical": False, "measurement": None}], code=code)
    many = await queries()
    assert few == many
    page = await admin.get("/admin/checklistor?q=lyft+3")
    assert ">12 36 12 Lyft 3</th>" in page.text and ">12 36 12 Lyft 2</th>" not in page.text

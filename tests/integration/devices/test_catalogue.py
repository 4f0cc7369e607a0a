"""The catalogue register: categories (ISO 9999 code, name, lifetime, the public self-checks) and
articles (unique number, spare parts, lifetime, active or not); each change recorded, and an
article with devices never deleted."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from backend import db
from backend.accounts.service import Actor
from backend.accounts.tables import Role
from backend.changes import service as changes
from backend.devices import catalogue
from backend.devices.catalogue import ArticleNotFound, CatalogueError, CategoryNotFound
from backend.faults import tokens
from tests.support.factories import add_device, add_work_order, delete_world, device_token, make_world


@pytest.fixture
async def region(database):
    world = await make_world()
    coordinator = Actor(id=world.staff["coordinator"], organisation=world.organisation, name="Kim Koordinator",
                        role=Role.coordinator, care_unit=None)
    yield SimpleNamespace(world=world, org=world.organisation, coordinator=coordinator)
    await delete_world(world)


async def new_category(region, name="Taklyft", iso="123612", life=10, checks=()) -> int:
    return await catalogue.create_category(region.coordinator, name=name, iso_code=iso, expected_life_years=life,
                                           self_checks=list(checks))


async def test_a_new_category_gets_its_iso_code_in_pairs_a_key_from_its_name_and_a_history(region):
    category_id = await new_category(region, name="Taklyft med våg")
    found = await catalogue.category(region.org, category_id)
    assert (found["code"], found["iso_code"], found["expected_life_years"], found["self_checks"]) == (
        "taklyft_med_vag", "12 36 12", 10, [])
    history = await changes.history(region.org, "category", category_id)
    assert [c.action for c in history] == ["created"] and history[0].actor_name == "Kim Koordinator"
    assert history[0].fields["iso_code"] == (None, "12 36 12")
    # The same key from another name gets a number of its own.
    other = await new_category(region, name="Taklyft, med våg!")
    assert (await catalogue.category(region.org, other))["code"] == "taklyft_med_vag_2"


async def test_a_category_is_refused_field_by_field_and_nothing_is_written(region):
    before = await db.fetchval("SELECT count(*) FROM device_category WHERE organisation = $1", region.org)
    with pytest.raises(CatalogueError) as refused:
        await catalogue.create_category(region.coordinator, name="elrullstol", iso_code="12-23-06",
                                        expected_life_years=0, self_checks=["x" * 201])
    assert dict(refused.value.errors) == {
        "name": "Det finns redan en kategori med det namnet.",
        "iso_code": "Skriv ISO 9999-koden som två, fyra eller sex siffror i par, till exempel 12 23 06.",
        "expected_life_years": "Livslängden är 1–50 år.",
        "self_checks": "Varje kontroll får vara högst 200 tecken.",
    }
    with pytest.raises(CatalogueError, match="Högst 10 kontroller"):
        await new_category(region, checks=[f"Kontroll {n}" for n in range(11)])
    assert await db.fetchval("SELECT count(*) FROM device_category WHERE organisation = $1", region.org) == before
    assert await db.fetchval("SELECT count(*) FROM register_change WHERE organisation = $1", region.org) == 0


async def test_saving_a_category_records_what_changed_and_nothing_when_nothing_did(region):
    category_id = await new_category(region)
    kept = dict(name="Taklyft", iso_code="12 36 12", expected_life_years=10, self_checks=[])
    assert not await catalogue.update_category(region.coordinator, category_id, **kept)
    assert await catalogue.update_category(region.coordinator, category_id, **{
        **kept, "iso_code": "12 36", "self_checks": ["Är lyften laddad?", "Är nödstoppet utdraget?"]})
    history = await changes.history(region.org, "category", category_id)
    assert [c.action for c in history] == ["changed", "created"]
    assert history[0].fields == {"iso_code": ("12 36 12", "12 36"),
                                 "self_checks": ("", "Är lyften laddad?; Är nödstoppet utdraget?")}
    with pytest.raises(CatalogueError, match="redan en kategori"):
        await catalogue.update_category(region.coordinator, category_id, **{**kept, "name": "Elrullstol"})
    with pytest.raises(CategoryNotFound):
        await catalogue.update_category(region.coordinator, 0, **kept)


async def test_the_public_fault_page_shows_the_categorys_own_self_checks_and_else_the_built_in_ones(region):
    device = await add_device(region.world, holder=None)
    token = await device_token(region.world, device)
    built_in = (await tokens.public_device(token)).checks
    assert built_in and "huvudströmbrytaren" in " ".join(built_in)  # the powered wheelchair's
    await catalogue.update_category(region.coordinator, region.world.category, name="Elrullstol",
                                    iso_code="12 23 06", expected_life_years=5,
                                    self_checks=["Är stolen laddad?", "Lyser lampan på styrboxen?"])
    assert (await tokens.public_device(token)).checks == ("Är stolen laddad?", "Lyser lampan på styrboxen?")
    await catalogue.update_category(region.coordinator, region.world.category, name="Elrullstol",
                                    iso_code="12 23 06", expected_life_years=5, self_checks=[])
    assert (await tokens.public_device(token)).checks == built_in


async def test_the_category_list_searches_name_and_iso_code_and_pages(region):
    await new_category(region, name="Taklyft", iso="123612")
    await new_category(region, name="Mobil lyft", iso="123603")
    assert [c["name"] for c in await catalogue.categories(region.org, query="1236")] == ["Mobil lyft", "Taklyft"]
    assert [c["name"] for c in await catalogue.categories(region.org, query="12 36 0")] == ["Mobil lyft"]
    found = await catalogue.categories(region.org, query="rullstol")
    assert [(c["name"], c["articles"], c["total"]) for c in found] == [("Elrullstol", 1, 1)]
    assert found[0]["schedules"] == [{"name": "Förebyggande underhåll", "interval_days": 365}]
    assert await catalogue.categories(region.org, query="%") == []
    assert await catalogue.categories(region.org, page=2) == []


async def new_article(region, number="300100", category=None, life=None, name="Liko Viking M") -> int:
    return await catalogue.create_article(region.coordinator, article_number=number, name=name,
                                          manufacturer="Liko", category_id=category, expected_life_years=life)


async def test_an_article_number_is_unique_in_the_organisation(region):
    with pytest.raises(CatalogueError) as refused:
        await new_article(region, number="100200")  # the world's
    assert refused.value.field == "article_number"
    article_id = await new_article(region, category=region.world.category, life=7)
    found = await catalogue.article(region.org, article_id)
    assert (found["category_name"], found["life_years"], found["active"], found["devices"]) == ("Elrullstol", 7, True, 0)
    with pytest.raises(CatalogueError, match="finns redan"):
        await catalogue.update_article(region.coordinator, article_id, article_number="100200", name="X",
                                       manufacturer="", category_id=None, expected_life_years=None)


async def test_an_articles_lifetime_is_its_categorys_unless_it_has_its_own(region):
    article_id = await new_article(region, category=region.world.category)
    assert (await catalogue.article(region.org, article_id))["life_years"] == 5


async def test_an_article_refuses_a_category_of_another_organisation(region):
    other = await make_world("Annan region")
    try:
        with pytest.raises(CatalogueError) as refused:
            await new_article(region, category=other.category)
        assert refused.value.field == "category"
    finally:
        await delete_world(other)


async def test_an_article_with_devices_keeps_a_category_and_is_deactivated_not_deleted(region):
    await add_device(region.world, holder=None)
    article = region.world.article
    with pytest.raises(CatalogueError, match="måste ha en kategori"):
        await catalogue.update_article(region.coordinator, article, article_number="100200",
                                       name="Permobil M3 Corpus", manufacturer="Permobil", category_id=None,
                                       expected_life_years=None)
    with pytest.raises(CatalogueError, match="Inaktivera den i stället"):
        await catalogue.delete_article(region.coordinator, article)
    assert await catalogue.set_article_active(region.coordinator, article, False)
    assert not await catalogue.set_article_active(region.coordinator, article, False)
    assert article not in {a["id"] for a in await catalogue.active_articles(region.org)}
    assert await catalogue.set_article_active(region.coordinator, article, True)
    assert article in {a["id"] for a in await catalogue.active_articles(region.org)}
    assert [c.action for c in await changes.history(region.org, "article", article)] == [
        "reactivated", "deactivated"]


async def test_an_article_nothing_points_at_is_deleted_with_its_schedules_and_the_deletion_recorded(region):
    article_id = await new_article(region, category=region.world.category)
    await db.execute("INSERT INTO fu_schedule (organisation, article, name, interval_days) VALUES ($1, $2, 'FU', 100)",
                     region.org, article_id)
    await catalogue.delete_article(region.coordinator, article_id)
    with pytest.raises(ArticleNotFound):
        await catalogue.article(region.org, article_id)
    assert [c.action for c in await changes.history(region.org, "article", article_id)] == ["deleted", "created"]


async def test_a_spare_part_used_on_a_work_order_is_not_deleted(region):
    part = await new_article(region, number="900001", name="Batteri 12 V")
    device = await add_device(region.world, holder=None)
    order = await add_work_order(region.world, device)
    await db.execute("INSERT INTO part_used (work_order, article, quantity, added_by) VALUES ($1, $2, 1, $3)",
                     order, part, region.world.staff["technician"])
    with pytest.raises(CatalogueError, match="Inaktivera den i stället"):
        await catalogue.delete_article(region.coordinator, part)
    assert (await catalogue.article(region.org, part))["active"]


async def test_the_article_list_searches_number_name_and_maker_and_filters_by_category(region):
    part = await new_article(region, number="900001", name="Batteri 12 V")
    lift = await new_article(region, number="185671", category=region.world.category)
    assert {a["id"] for a in await catalogue.articles(region.org, query="liko")} == {part, lift}
    assert [a["id"] for a in await catalogue.articles(region.org, query="9000")] == [part]
    assert [a["id"] for a in await catalogue.articles(region.org, spare_parts=True)] == [part]
    in_category = await catalogue.articles(region.org, category_id=region.world.category)
    assert {a["id"] for a in in_category} == {lift, region.world.article}
    assert in_category[0]["total"] == 2

"""Keeping a category's checklists: a new list starts as a draft, a draft is edited item by item
against the revision the editor saw, items keep their keys across versions, publishing makes the
next version, published versions never change, and every change is in the history."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from backend import db
from backend.accounts.service import Actor
from backend.accounts.tables import Role
from backend.changes import service as changes
from backend.maintenance import service as maintenance
from backend.maintenance.service import ChecklistError, ChecklistNotFound, ChecklistRefused, DraftChanged, ItemFields
from tests.support.factories import delete_world, make_world

BRAKES = ItemFields(text="Motorbromsar håller", kind="check", safety_critical=True)
BATTERY = ItemFields(text="Batterispänning i vila", kind="measurement", unit="V", lower=Decimal(23),
                     upper=Decimal("26.5"), standard="Tillverkarens anvisning")


@pytest.fixture
async def world(database):
    world = await make_world()
    world.admin = Actor(id=world.staff["admin"], organisation=world.organisation, name="Test admin",
                        role=Role.admin, care_unit=None)
    yield world
    await delete_world(world)


async def seen(template_id: int, organisation: int) -> str:
    return (await maintenance.version_page(organisation, template_id)).revision


async def draft_with(world, *items: ItemFields) -> int:
    draft = await maintenance.create_checklist(world.admin, category_id=world.category, code="fu",
                                               name="Förebyggande underhåll")
    for fields in items:
        await maintenance.add_item(world.admin, draft, await seen(draft, world.organisation), fields)
    return draft


async def items_of(template_id: int) -> list[dict]:
    return json.loads(await db.fetchval("SELECT items FROM checklist_template WHERE id = $1", template_id))


async def test_a_new_list_is_a_draft_of_version_one_without_items(world):
    draft = await maintenance.create_checklist(world.admin, category_id=world.category, code="sele",
                                               name="Selkontroll")
    page = await maintenance.version_page(world.organisation, draft)
    assert page.checklist.draft and page.checklist.version == 1 and page.checklist.items == []
    assert (page.checklist.code, page.checklist.name) == ("sele", "Selkontroll")
    assert [c.action for c in page.history] == ["created"]


@pytest.mark.parametrize("code, name, field, message", [
    ("", "Namn", "code", "Skriv en kod"),
    ("Sele kontroll", "Namn", "code", "små bokstäver a–z"),
    ("sele", " ", "name", "Skriv checklistans namn."),
])
async def test_a_list_needs_a_code_and_a_name(world, code, name, field, message):
    with pytest.raises(ChecklistRefused) as caught:
        await maintenance.create_checklist(world.admin, category_id=world.category, code=code, name=name)
    assert message in caught.value.for_field(field)
    assert await db.fetchval("SELECT count(*) FROM checklist_template WHERE category = $1", world.category) == 0


async def test_a_category_has_one_list_per_code_and_only_its_own_organisations_categories(world):
    await maintenance.create_checklist(world.admin, category_id=world.category, code="fu", name="FU")
    with pytest.raises(ChecklistRefused) as caught:
        await maintenance.create_checklist(world.admin, category_id=world.category, code="fu", name="FU igen")
    assert "har redan en checklista med koden ”fu”" in caught.value.for_field("code")
    other = await make_world("Annan region")
    try:
        with pytest.raises(ChecklistRefused) as caught:
            await maintenance.create_checklist(world.admin, category_id=other.category, code="fu", name="FU")
        assert caught.value.for_field("category") == "Välj en hjälpmedelskategori."
    finally:
        await delete_world(other)


async def test_items_are_added_changed_moved_and_removed_and_keep_their_keys(world):
    draft = await draft_with(world, BRAKES, BATTERY)
    assert [i["key"] for i in await items_of(draft)] == ["motorbromsar_haller", "batterispanning_i_vila"]
    await maintenance.change_item(world.admin, draft, await seen(draft, world.organisation), "motorbromsar_haller",
                                  ItemFields(text="Motorbromsar håller i backe", kind="check", safety_critical=True))
    await maintenance.move_item(world.admin, draft, await seen(draft, world.organisation), "batterispanning_i_vila", "up")
    items = await items_of(draft)
    assert [(i["key"], i["text"]) for i in items] == [("batterispanning_i_vila", "Batterispänning i vila"),
                                                      ("motorbromsar_haller", "Motorbromsar håller i backe")]
    assert items[0]["measurement"]["standard"] == "Tillverkarens anvisning"
    await maintenance.move_item(world.admin, draft, await seen(draft, world.organisation), "batterispanning_i_vila", "up")
    assert [i["key"] for i in await items_of(draft)][0] == "batterispanning_i_vila"  # already first: stays
    await maintenance.remove_item(world.admin, draft, await seen(draft, world.organisation), "batterispanning_i_vila")
    assert [i["key"] for i in await items_of(draft)] == ["motorbromsar_haller"]


async def test_a_change_made_to_an_older_view_of_the_draft_is_refused_and_nothing_is_written(world):
    draft = await draft_with(world, BRAKES)
    stale = await seen(draft, world.organisation)
    await maintenance.add_item(world.admin, draft, stale, BATTERY)  # someone else's change
    with pytest.raises(DraftChanged):
        await maintenance.remove_item(world.admin, draft, stale, "motorbromsar_haller")
    assert len(await items_of(draft)) == 2


async def test_a_refused_item_writes_nothing(world):
    draft = await draft_with(world, BRAKES)
    with pytest.raises(ChecklistRefused) as caught:
        await maintenance.add_item(world.admin, draft, await seen(draft, world.organisation), ItemFields(
            text="Spänning", kind="measurement", unit="V", lower=Decimal(30), upper=Decimal(20)))
    assert caught.value.for_field("lower") == "Lägsta godkända värde är större än det högsta."
    assert len(await items_of(draft)) == 1


async def test_publishing_makes_the_next_version_and_a_published_version_never_changes(world):
    draft = await draft_with(world, BRAKES)
    revision = await seen(draft, world.organisation)
    assert await maintenance.publish_draft(world.admin, draft, revision) == 1
    with pytest.raises(ChecklistError, match="Version 1 är publicerad och ändras inte"):
        await maintenance.add_item(world.admin, draft, revision, BATTERY)
    second = await maintenance.start_draft(world.admin, draft)
    assert (await maintenance.version_page(world.organisation, second)).checklist.version == 2
    await maintenance.add_item(world.admin, second, await seen(second, world.organisation), BRAKES)
    assert await maintenance.publish_draft(world.admin, second, await seen(second, world.organisation)) == 2
    # The same text again gets a key of its own; the first item's key is the same in both versions.
    assert [i["key"] for i in await items_of(second)] == ["motorbromsar_haller", "motorbromsar_haller_2"]
    assert [i["key"] for i in await items_of(draft)] == ["motorbromsar_haller"]
    current = await maintenance.current_checklist(world.category)
    assert (current.id, current.version) == (second, 2)


async def test_an_empty_draft_is_not_published(world):
    draft = await draft_with(world)
    with pytest.raises(ChecklistError, match="minst en punkt"):
        await maintenance.publish_draft(world.admin, draft, await seen(draft, world.organisation))
    assert await maintenance.current_checklist(world.category) is None


async def test_a_list_has_one_draft_at_a_time(world):
    published = await maintenance.publish_checklist(world.category, [
        {"key": "frame", "text": "Ram hel", "safety_critical": False, "measurement": None}])
    await maintenance.start_draft(world.admin, published.id)
    with pytest.raises(ChecklistError, match="redan ett utkast"):
        await maintenance.start_draft(world.admin, published.id)


async def test_a_version_published_from_code_meanwhile_comes_before_the_open_draft(world):
    published = await maintenance.publish_checklist(world.category, [
        {"key": "frame", "text": "Ram hel", "safety_critical": False, "measurement": None}])
    draft = await maintenance.start_draft(world.admin, published.id)
    meanwhile = await maintenance.publish_checklist(world.category, [
        {"key": "frame", "text": "Ram och sits hela", "safety_critical": False, "measurement": None}])
    assert meanwhile.version == 3  # past the draft's number
    assert await maintenance.publish_draft(world.admin, draft, await seen(draft, world.organisation)) == 4


async def test_every_change_is_in_the_history_and_publishing_says_so(world):
    draft = await draft_with(world, BRAKES)
    await maintenance.rename_draft(world.admin, draft, await seen(draft, world.organisation), "Årlig service")
    await maintenance.publish_draft(world.admin, draft, await seen(draft, world.organisation))
    history = await changes.history(world.organisation, "checklist", draft)
    assert [c.action for c in history] == ["published", "changed", "changed", "created"]
    assert history[0].fields == {"version": (None, 1)} and history[0].actor_name == "Test admin"
    assert history[1].fields == {"name": ("Förebyggande underhåll", "Årlig service")}
    assert history[2].fields == {"item:motorbromsar_haller": (None, "Motorbromsar håller · Godkänd/underkänd · "
                                                                    "säkerhetspunkt")}


async def test_a_draft_may_be_thrown_away_but_not_a_published_version(world):
    published = await maintenance.publish_checklist(world.category, [
        {"key": "frame", "text": "Ram hel", "safety_critical": False, "measurement": None}])
    with pytest.raises(ChecklistError, match="publicerad"):
        await maintenance.discard_draft(world.admin, published.id, await seen(published.id, world.organisation))
    draft = await maintenance.start_draft(world.admin, published.id)
    await maintenance.discard_draft(world.admin, draft, await seen(draft, world.organisation))
    assert await db.fetchval("SELECT count(*) FROM checklist_template WHERE category = $1", world.category) == 1


async def test_another_organisations_version_is_not_found(world):
    other = await make_world("Annan region")
    try:
        theirs = await maintenance.publish_checklist(other.category, [
            {"key": "frame", "text": "Ram hel", "safety_critical": False, "measurement": None}])
        with pytest.raises(ChecklistNotFound):
            await maintenance.version_page(world.organisation, theirs.id)
        with pytest.raises(ChecklistNotFound):
            await maintenance.start_draft(world.admin, theirs.id)
    finally:
        await delete_world(other)


async def test_the_overview_lists_each_categorys_lists_with_versions_and_draft(world):
    published = await maintenance.publish_checklist(world.category, [
        {"key": "frame", "text": "Ram hel", "safety_critical": False, "measurement": None}])
    draft = await maintenance.start_draft(world.admin, published.id)
    await maintenance.create_checklist(world.admin, category_id=world.category, code="sele", name="Selkontroll")
    found = await maintenance.overview(world.organisation)
    [category] = found["categories"]
    assert [(x["code"], [v["version"] for v in x["versions"]], x["draft"]["id"]) for x in category["lists"]][0] == (
        "fu", [1], draft)
    assert [x["code"] for x in category["lists"]] == ["fu", "sele"]
    assert (await maintenance.overview(world.organisation, query="selkon"))["categories"][0]["id"] == world.category
    assert (await maintenance.overview(world.organisation, query="finns inte"))["categories"] == []
